package scalingtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// LB is an in-memory Octavia load balancer with one pool. Every mutation puts the load
// balancer in PENDING_UPDATE for UpdateTime; a mutation sent meanwhile meets Octavia's
// 409 and, as the adapters do, waits for ACTIVE and is sent again (counted in Conflicts).
// Members report health from their backend server once HealthDelay has passed.
//
// The LB audits the scaling invariants as they happen: see Violations.
type LB struct {
	Clock       *Clock
	ID, PoolID  string
	UpdateTime  time.Duration
	HealthDelay time.Duration
	Monitor     bool   // a health monitor exists; false: members report NO_MONITOR
	Provider    string // "amphora" (weight 0 shows DRAINING) or "ovn"

	// Audit settings: the pool's drain timeout and batch size.
	DrainTimeout time.Duration
	BatchSize    int

	mu        sync.Mutex
	members   []*fmember
	busyUntil time.Time
	seq       int
	cycles    int
	conflicts int
	// backend reports whether a server exists at an address, serves, and since when.
	backend func(address string) (exists, up bool, since time.Time)

	drainedAt map[string]time.Time
	// leaving is when the removal of a member at an address takes effect: Octavia applies a
	// removal in the update cycle it starts, and until then the member may still carry
	// connections (PENDING_DELETE), so its server must not be deleted.
	leaving    map[string]time.Time
	maxDrained int
	violations []string
	log        []string
}

type fmember struct {
	scaling.Member
	joined time.Time
}

// NewLB returns an amphora load balancer with a health monitor, UpdateTime 5s,
// HealthDelay 10s, auditing drain timeout 60s and batch size 1.
func NewLB(c *Clock) *LB {
	return &LB{Clock: c, ID: "lb-1", PoolID: "pool-1", UpdateTime: 5 * time.Second, HealthDelay: 10 * time.Second,
		Monitor: true, Provider: "amphora", DrainTimeout: 60 * time.Second, BatchSize: 1,
		drainedAt: map[string]time.Time{}, leaving: map[string]time.Time{},
		backend: func(string) (bool, bool, time.Time) { return true, true, time.Time{} }}
}

// AddMember inserts a member directly (setup of unmanaged members such as web01); it
// costs no update cycle and is not audited.
func (l *LB) AddMember(m scaling.Member) scaling.Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if m.ID == "" {
		m.ID = fmt.Sprintf("mem-%03d", l.seq)
	}
	l.members = append(l.members, &fmember{Member: m, joined: l.Clock.Now().Add(-time.Hour)})
	return m
}

// RemoveMemberOutside deletes a member at once, as an operator would behind our back.
func (l *LB) RemoveMemberOutside(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.members = slices.DeleteFunc(l.members, func(m *fmember) bool { return m.ID == id })
}

// Cycles is the number of update cycles (mutations applied).
func (l *LB) Cycles() int { l.mu.Lock(); defer l.mu.Unlock(); return l.cycles }

// HealthMonitorDelay is the pool's monitor delay as an adapter reads it: HealthDelay, the time a
// member joined takes to be reported ONLINE.
func (l *LB) HealthMonitorDelay(ctx context.Context, poolID string) (time.Duration, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if poolID != l.PoolID {
		return 0, false, fmt.Errorf("pool %s: %w", poolID, scaling.ErrNotFound)
	}
	return l.HealthDelay, l.Monitor, nil
}

// Conflicts counts mutations that met a PENDING_UPDATE load balancer (409 retried).
func (l *LB) Conflicts() int { l.mu.Lock(); defer l.mu.Unlock(); return l.conflicts }

// MaxDrained is the most managed members seen drained at once.
func (l *LB) MaxDrained() int { l.mu.Lock(); defer l.mu.Unlock(); return l.maxDrained }

// Violations lists every invariant broken so far.
func (l *LB) Violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.violations)
}

// Log is the audit log: every mutation with its model time.
func (l *LB) Log() []string { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.log) }

// Members returns the members now, with their statuses.
func (l *LB) Members() []scaling.Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.listLocked()
}

func managed(m scaling.Member) bool {
	for _, t := range m.Tags {
		if strings.HasPrefix(t, "eventscale:pool=") {
			return true
		}
	}
	return false
}

func (l *LB) violate(format string, args ...any) {
	l.violations = append(l.violations, l.Clock.Now().Format("15:04:05")+" "+fmt.Sprintf(format, args...))
}

func (l *LB) operating(m *fmember, now time.Time) string {
	if !m.AdminStateUp {
		return "OFFLINE"
	}
	if !l.Monitor {
		return "NO_MONITOR"
	}
	exists, up, since := l.backend(m.Address)
	if !exists || !up {
		return "ERROR"
	}
	if m.joined.After(since) {
		since = m.joined
	}
	if now.Before(since.Add(l.HealthDelay)) {
		return "OFFLINE"
	}
	if m.Weight == 0 && l.Provider == "amphora" {
		return "DRAINING"
	}
	return "ONLINE"
}

func (l *LB) listLocked() []scaling.Member {
	now := l.Clock.Now()
	prov := "ACTIVE"
	if now.Before(l.busyUntil) {
		prov = "PENDING_UPDATE"
	}
	out := make([]scaling.Member, 0, len(l.members))
	for _, m := range l.members {
		v := m.Member
		v.Tags = slices.Clone(m.Tags)
		v.OperatingStatus = l.operating(m, now)
		v.ProvisioningStatus = prov
		out = append(out, v)
	}
	return out
}

// mutate waits out a pending update (the 409 retry), applies f as one update cycle,
// then audits the result.
func (l *LB) mutate(ctx context.Context, what string, f func(now, applied time.Time)) error {
	l.mu.Lock()
	for {
		now := l.Clock.Now()
		if !now.Before(l.busyUntil) {
			break
		}
		l.conflicts++
		wait := l.busyUntil.Sub(now)
		l.mu.Unlock()
		if err := l.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
		l.mu.Lock()
	}
	defer l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.Clock.Now()
	l.busyUntil = now.Add(l.UpdateTime)
	l.cycles++
	l.log = append(l.log, now.Format("15:04:05")+" "+what)
	f(now, l.busyUntil)
	drained := 0
	for _, m := range l.members {
		if managed(m.Member) && (m.Weight == 0 || !m.AdminStateUp) {
			drained++
		}
	}
	l.maxDrained = max(l.maxDrained, drained)
	if drained > l.BatchSize {
		l.violate("%d managed members drained at once, batch size %d (%s)", drained, l.BatchSize, what)
	}
	return nil
}

// checkRemoval audits the removal of a member at now, applied when the update cycle ends.
func (l *LB) checkRemoval(m *fmember, now, applied time.Time) {
	l.leaving[m.Address] = applied
	if !managed(m.Member) {
		l.violate("unmanaged member %s (%s) removed", m.Name, m.ID)
		return
	}
	if exists, _, _ := l.backend(m.Address); !exists {
		return // nothing behind it, nothing to drain
	}
	at, ok := l.drainedAt[m.ID]
	switch {
	case !ok:
		l.violate("member %s (%s) removed without being drained", m.Name, m.ID)
	case now.Sub(at) < l.DrainTimeout:
		l.violate("member %s (%s) removed before its drain time (drained at %v, removed at %v, drain timeout %s)",
			m.Name, m.ID, at.Format("15:04:05"), now.Format("15:04:05"), l.DrainTimeout)
	}
	delete(l.drainedAt, m.ID)
}

// checkServerDelete audits a server deletion: it must not be a member any more, and the
// removal of its member must have been applied.
func (l *LB) checkServerDelete(s scaling.Server) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.leaving[s.Address]; ok && s.Address != "" && l.Clock.Now().Before(at) {
		l.violate("server %s (%s) deleted while the removal of its member was not applied yet (load balancer busy until %s)",
			s.Name, s.ID, at.Format("15:04:05"))
	}
	for _, m := range l.members {
		if s.Address != "" && m.Address == s.Address {
			l.violate("server %s (%s) deleted while it is member %s (weight %d, admin_state_up %v)", s.Name, s.ID, m.ID, m.Weight, m.AdminStateUp)
		}
	}
}

func (l *LB) ListMembers(ctx context.Context, poolID string) ([]scaling.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if poolID != l.PoolID {
		return nil, fmt.Errorf("pool %s: %w", poolID, scaling.ErrNotFound)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.listLocked(), nil
}

func (l *LB) BatchUpdateMembers(ctx context.Context, poolID string, specs []scaling.MemberSpec) error {
	if poolID != l.PoolID {
		return fmt.Errorf("pool %s: %w", poolID, scaling.ErrNotFound)
	}
	// As the adapters do: a list refused while busy is not sent again, the caller rebuilds it.
	l.mu.Lock()
	busy := l.Clock.Now().Before(l.busyUntil)
	if busy {
		l.conflicts++
	}
	wait := l.busyUntil.Sub(l.Clock.Now())
	l.mu.Unlock()
	if busy {
		if err := l.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
		return fmt.Errorf("batch update of pool %s: %w", poolID, scaling.ErrStale)
	}
	return l.mutate(ctx, fmt.Sprintf("batch update, %d members", len(specs)), func(now, applied time.Time) {
		key := func(addr string, port int) string { return fmt.Sprintf("%s:%d", addr, port) }
		want := map[string]scaling.MemberSpec{}
		for _, s := range specs {
			want[key(s.Address, s.ProtocolPort)] = s
		}
		var next []*fmember
		seen := map[string]bool{}
		for _, m := range l.members {
			k := key(m.Address, m.ProtocolPort)
			s, ok := want[k]
			if !ok {
				l.checkRemoval(m, now, applied)
				continue
			}
			seen[k] = true
			if !managed(m.Member) && (s.Name != m.Name || s.Weight != m.Weight || s.AdminStateUp != m.AdminStateUp ||
				s.SubnetID != m.SubnetID || !slices.Equal(s.Tags, m.Tags)) {
				l.violate("unmanaged member %s (%s) changed by a batch update", m.Name, m.ID)
			}
			l.applyDrainAudit(m, s.Weight, s.AdminStateUp, applied)
			m.Name, m.Weight, m.AdminStateUp, m.SubnetID, m.Tags = s.Name, s.Weight, s.AdminStateUp, s.SubnetID, slices.Clone(s.Tags)
			next = append(next, m)
		}
		for _, s := range specs {
			if seen[key(s.Address, s.ProtocolPort)] {
				continue
			}
			l.seq++
			m := &fmember{Member: scaling.Member{ID: fmt.Sprintf("mem-%03d", l.seq), Name: s.Name, Address: s.Address,
				ProtocolPort: s.ProtocolPort, SubnetID: s.SubnetID, Weight: s.Weight, AdminStateUp: s.AdminStateUp,
				Tags: slices.Clone(s.Tags)}, joined: applied}
			next = append(next, m)
		}
		l.members = next
	})
}

// applyDrainAudit records when a member starts draining (the change takes effect when
// the update cycle completes) and forgets it when the member is back in service.
func (l *LB) applyDrainAudit(m *fmember, weight int, up bool, applied time.Time) {
	if weight == 0 || !up {
		if _, ok := l.drainedAt[m.ID]; !ok {
			l.drainedAt[m.ID] = applied
		}
	} else {
		delete(l.drainedAt, m.ID)
	}
}

func (l *LB) UpdateMember(ctx context.Context, poolID, memberID string, weight *int, adminStateUp *bool) error {
	if poolID != l.PoolID {
		return fmt.Errorf("pool %s: %w", poolID, scaling.ErrNotFound)
	}
	var notFound bool
	err := l.mutate(ctx, "update member "+memberID, func(now, applied time.Time) {
		i := slices.IndexFunc(l.members, func(m *fmember) bool { return m.ID == memberID })
		if i < 0 {
			notFound = true
			return
		}
		m := l.members[i]
		if !managed(m.Member) {
			l.violate("unmanaged member %s (%s) updated", m.Name, m.ID)
		}
		w, up := m.Weight, m.AdminStateUp
		if weight != nil {
			w = *weight
		}
		if adminStateUp != nil {
			up = *adminStateUp
		}
		l.applyDrainAudit(m, w, up, applied)
		m.Weight, m.AdminStateUp = w, up
	})
	if err == nil && notFound {
		return fmt.Errorf("member %s: %w", memberID, scaling.ErrNotFound)
	}
	return err
}

func (l *LB) DeleteMember(ctx context.Context, poolID, memberID string) error {
	if poolID != l.PoolID {
		return fmt.Errorf("pool %s: %w", poolID, scaling.ErrNotFound)
	}
	l.mu.Lock()
	exists := slices.ContainsFunc(l.members, func(m *fmember) bool { return m.ID == memberID })
	l.mu.Unlock()
	if !exists {
		return nil
	}
	return l.mutate(ctx, "delete member "+memberID, func(now, applied time.Time) {
		l.members = slices.DeleteFunc(l.members, func(m *fmember) bool {
			if m.ID == memberID {
				l.checkRemoval(m, now, applied)
				return true
			}
			return false
		})
	})
}

func (l *LB) WaitActive(ctx context.Context, loadBalancerID string) error {
	if loadBalancerID != l.ID {
		return fmt.Errorf("load balancer %s: %w", loadBalancerID, scaling.ErrNotFound)
	}
	for {
		l.mu.Lock()
		wait := l.busyUntil.Sub(l.Clock.Now())
		l.mu.Unlock()
		if wait <= 0 {
			return ctx.Err()
		}
		if err := l.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (l *LB) MemberOperatingStatuses(ctx context.Context, loadBalancerID, poolID string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loadBalancerID != l.ID || poolID != l.PoolID {
		return nil, fmt.Errorf("load balancer %s pool %s: %w", loadBalancerID, poolID, scaling.ErrNotFound)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, m := range l.listLocked() {
		out[m.ID] = m.OperatingStatus
	}
	return out, nil
}
