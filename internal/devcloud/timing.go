package devcloud

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// defaultDelays are the unscaled durations of every simulated status transition.
var defaultDelays = map[string]time.Duration{
	"server_schedule": 2 * time.Second,
	"server_build":    30 * time.Second,
	"server_delete":   5 * time.Second,
	"server_reboot":   10 * time.Second,
	"image_save":      10 * time.Second,
	"lb_create":       10 * time.Second,
	"lb_update":       3 * time.Second,
	"lb_delete":       5 * time.Second,
	"fip_update":      1 * time.Second,
	"db_build":        60 * time.Second,
	"db_delete":       10 * time.Second,
	"db_detach":       10 * time.Second,

	"server_stop":      5 * time.Second,
	"server_start":     5 * time.Second,
	"zone_update":      5 * time.Second,
	"db_backup":        30 * time.Second,
	"db_backup_delete": 5 * time.Second,
}

// Timing is the delay table and the global time scale.
type Timing struct {
	// Delays are unscaled; names missing from a SetTiming call keep their value.
	Delays map[string]time.Duration
	// TimeScale multiplies every delay; 0 keeps the current scale.
	TimeScale float64
	// TokenTTL is the lifetime of Keystone tokens, not scaled; 0 keeps the current value.
	TokenTTL time.Duration
}

type timingState struct {
	mu     sync.Mutex
	delays map[string]time.Duration
	scale  float64
	ttl    time.Duration
}

func (t *timingState) init(scale float64) {
	t.delays = map[string]time.Duration{}
	for k, v := range defaultDelays {
		t.delays[k] = v
	}
	t.scale = scale
	t.ttl = time.Hour
}

// Timing returns the current delays (unscaled) and scale.
func (c *Cloud) Timing() Timing {
	c.timing.mu.Lock()
	defer c.timing.mu.Unlock()
	out := Timing{Delays: map[string]time.Duration{}, TimeScale: c.timing.scale, TokenTTL: c.timing.ttl}
	for k, v := range c.timing.delays {
		out.Delays[k] = v
	}
	return out
}

// SetTiming changes delays and/or the time scale for transitions started afterwards.
func (c *Cloud) SetTiming(t Timing) {
	c.timing.mu.Lock()
	defer c.timing.mu.Unlock()
	for k, v := range t.Delays {
		if v >= 0 {
			c.timing.delays[k] = v
		}
	}
	if t.TimeScale > 0 {
		c.timing.scale = t.TimeScale
	}
	if t.TokenTTL > 0 {
		c.timing.ttl = t.TokenTTL
	}
}

// Delay is the scaled duration of the named transition plus any slow-down fault for it.
// Unknown names are 0 so that a typo shows up as an instant transition, not a hang.
func (c *Cloud) Delay(name string) time.Duration {
	c.timing.mu.Lock()
	base := c.timing.delays[name]
	scale := c.timing.scale
	c.timing.mu.Unlock()
	base += c.faults.extraDelay(name)
	return time.Duration(float64(base) * scale)
}

// timingDoc is the control API's JSON form of Timing, in seconds.
type timingDoc struct {
	TimeScale float64            `json:"time_scale"`
	Delays    map[string]float64 `json:"delays_seconds"`
	TokenTTL  float64            `json:"token_ttl_seconds"`
}

func (t Timing) doc() timingDoc {
	d := timingDoc{TimeScale: t.TimeScale, Delays: map[string]float64{}, TokenTTL: t.TokenTTL.Seconds()}
	for k, v := range t.Delays {
		d.Delays[k] = v.Seconds()
	}
	return d
}

func (d timingDoc) timing() (Timing, error) {
	t := Timing{TimeScale: d.TimeScale, Delays: map[string]time.Duration{}, TokenTTL: time.Duration(d.TokenTTL * float64(time.Second))}
	if d.TimeScale < 0 {
		return t, fmt.Errorf("time_scale must be positive, got %v", d.TimeScale)
	}
	names := make([]string, 0, len(d.Delays))
	for k := range d.Delays {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := d.Delays[k]
		if v < 0 {
			return t, fmt.Errorf("delay %s must not be negative, got %v", k, v)
		}
		t.Delays[k] = time.Duration(v * float64(time.Second))
	}
	return t, nil
}
