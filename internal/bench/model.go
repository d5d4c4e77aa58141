package bench

import (
	"fmt"
	"math"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// Model is the timing model of the cloud, in model seconds, and the health monitor every
// benchmark pool carries. Every floor is computed from it.
type Model struct {
	// ServerSchedule and ServerBuild add up to the time from Nova's create request to ACTIVE.
	ServerSchedule time.Duration
	ServerBuild    time.Duration
	// LBUpdate is one Octavia update cycle: PENDING_UPDATE until the amphora applied the change.
	LBUpdate     time.Duration
	LBCreate     time.Duration
	ServerDelete time.Duration
	// MonitorDelay is the pool's health monitor delay: a member is ONLINE one delay after the
	// cycle that added it was applied.
	MonitorDelay time.Duration
}

// Realistic is the model operators compare against: a Nova build of 30 s (2 s scheduling, 28 s
// spawning), a 5 s Octavia update cycle, a 60 s load balancer create, a 5 s server delete and a
// health monitor checking every 5 s.
var Realistic = Model{
	ServerSchedule: 2 * time.Second,
	ServerBuild:    28 * time.Second,
	LBUpdate:       5 * time.Second,
	LBCreate:       60 * time.Second,
	ServerDelete:   5 * time.Second,
	MonitorDelay:   5 * time.Second,
}

// ServerReady is the time from a server's create request to ACTIVE.
func (m Model) ServerReady() time.Duration { return m.ServerSchedule + m.ServerBuild }

// Timing is the model as devcloud's timing at the given time scale.
func (m Model) Timing(scale float64) devcloud.Timing {
	return devcloud.Timing{TimeScale: scale, Delays: map[string]time.Duration{
		"server_schedule": m.ServerSchedule,
		"server_build":    m.ServerBuild,
		"lb_update":       m.LBUpdate,
		"lb_create":       m.LBCreate,
		"server_delete":   m.ServerDelete,
	}}
}

// String states the model the way docs/benchmarks.md does.
func (m Model) String() string {
	return fmt.Sprintf("Nova build %s (schedule %s + spawn %s), Octavia update cycle %s, LB create %s, server delete %s, health monitor delay %s",
		secs(m.ServerReady()), secs(m.ServerSchedule), secs(m.ServerBuild), secs(m.LBUpdate), secs(m.LBCreate), secs(m.ServerDelete), secs(m.MonitorDelay))
}

// ScaleOutFloor is what the cloud needs to bring n new nodes into service when at most
// parallel servers build at once: the builds in waves (each wave the full build time, a new
// build starting the moment one ends), the update cycle joining the last wave (the earlier
// waves join while later ones build), and one monitor delay until the last joined member is
// ONLINE.
func (m Model) ScaleOutFloor(n, parallel int) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(waves(n, parallel))*m.ServerReady() + m.LBUpdate + m.MonitorDelay
}

// ScaleInFloor is what the cloud needs for the operator's staggered scale-back of n nodes,
// batch by batch and never two batches at once: an update cycle setting the batch's weights to
// 0, the drain time, an update cycle removing the batch's members, and the servers' delete. The
// health check of the remaining tier answers at once in the model. The provider deletes a
// batch's servers, out of the pool, while the next batch drains, so it may end below this floor;
// the shortest sequence that overlap allows, ⌈n ÷ batch⌉ × (2 cycles + drain) + one delete, is
// the floor its note compares the health gate's time to.
func (m Model) ScaleInFloor(n, batch int, drain time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(waves(n, batch)) * (2*m.LBUpdate + drain + m.ServerDelete)
}

// RollingFloor is what the cloud needs to replace n nodes batch by batch, each new batch in
// service before the old one drains: per batch, the builds (in waves of parallel), a cycle
// joining them, a monitor delay, then the old batch's scale-back (ScaleInFloor of one batch).
func (m Model) RollingFloor(n, batch, parallel int, drain time.Duration) time.Duration {
	var total time.Duration
	for left := n; left > 0; left -= batch {
		b := min(batch, left)
		total += m.ScaleOutFloor(b, parallel) + m.ScaleInFloor(b, b, drain)
	}
	return total
}

func waves(n, size int) int {
	if size <= 0 {
		size = 1
	}
	return (n + size - 1) / size
}

// secs renders a model duration in seconds: "35 s", "2.5 s".
func secs(d time.Duration) string {
	s := d.Seconds()
	if s == math.Trunc(s) {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}
