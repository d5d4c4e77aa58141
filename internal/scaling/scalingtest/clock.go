// Package scalingtest holds in-memory fakes of Nova, Octavia and Trove and a model-time
// clock, realistic enough to exercise the scaling library's invariants: servers build and
// fail, load balancers go PENDING_UPDATE after each change, members report health.
package scalingtest

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is a model-time clock. Sleep does not take wall time: once every sleeper has been
// waiting for a short quiet period (no new Sleep, no wake-up), the clock jumps to the
// earliest wake-up time. Parallel sleepers therefore overlap in model time as they would
// in real time, and a 60 s drain costs about a millisecond.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	gen     uint64
	running bool
	// Quiet is how long (wall time) all sleepers must be idle before time jumps.
	Quiet time.Duration
}

type waiter struct {
	until time.Time
	ch    chan struct{}
}

// NewClock starts at a fixed date so tests are reproducible.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), Quiet: 2 * time.Millisecond}
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep waits d of model time or until ctx ends.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	w := &waiter{until: c.now.Add(d), ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.gen++
	if !c.running {
		c.running = true
		go c.advance()
	}
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.waiters {
			if x == w {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				break
			}
		}
		c.gen++
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock forward by d at once, waking the sleepers that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.wakeLocked()
	c.mu.Unlock()
}

func (c *Clock) wakeLocked() {
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.until.After(c.now) {
			close(w.ch)
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.gen++
}

func (c *Clock) advance() {
	for {
		c.mu.Lock()
		g := c.gen
		quiet := c.Quiet
		c.mu.Unlock()
		time.Sleep(quiet)
		c.mu.Lock()
		if len(c.waiters) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		if c.gen != g {
			c.mu.Unlock()
			continue
		}
		sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].until.Before(c.waiters[j].until) })
		if next := c.waiters[0].until; next.After(c.now) {
			c.now = next
		}
		c.wakeLocked()
		c.mu.Unlock()
	}
}
