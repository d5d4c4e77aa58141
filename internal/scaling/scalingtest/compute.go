package scalingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Compute is an in-memory Nova: servers are BUILD for BuildTime, then ACTIVE (or ERROR
// with a fault), a deleted server stays listed (ACTIVE, task deleting) for DeleteTime, a
// rebooted one is REBOOT for RebootTime.
type Compute struct {
	Clock                                           *Clock
	BuildTime, DeleteTime, RebootTime, PollInterval time.Duration

	mu         sync.Mutex
	servers    map[string]*fakeServer
	seq        int
	faults     map[string][]string
	lose       map[string]int
	failCreate map[string]error
	failTimes  map[string]int
	calls      map[string]int
	maxBuild   int
	specs      []scaling.ServerSpec

	// onDelete is called (outside the lock) with each server a DeleteServer call targets.
	onDelete func(scaling.Server)
}

type fakeServer struct {
	scaling.Server
	readyAt     time.Time
	fault       string
	goneAt      time.Time
	rebootUntil time.Time
}

// NewCompute returns a Nova with BuildTime 30s, DeleteTime 10s, RebootTime 20s, polls every 5s.
func NewCompute(c *Clock) *Compute {
	return &Compute{Clock: c, BuildTime: 30 * time.Second, DeleteTime: 10 * time.Second,
		RebootTime: 20 * time.Second, PollInterval: 5 * time.Second,
		servers: map[string]*fakeServer{}, faults: map[string][]string{}, lose: map[string]int{},
		failCreate: map[string]error{}, failTimes: map[string]int{}, calls: map[string]int{}}
}

// CreateSpecs returns every server spec CreateServer was called with, in call order.
func (c *Compute) CreateSpecs() []scaling.ServerSpec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]scaling.ServerSpec(nil), c.specs...)
}

// FailBuild makes the next len(messages) creates of the named server end in ERROR with
// those fault messages.
func (c *Compute) FailBuild(name string, messages ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[name] = append(c.faults[name], messages...)
}

// LoseCreateResponse makes the next n creates of the named server create it but answer
// with an error, as when the connection drops after Nova accepted the request.
func (c *Compute) LoseCreateResponse(name string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lose[name] += n
}

// FailCreate makes creates of the named server fail without creating anything.
func (c *Compute) FailCreate(name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failCreate[name] = err
}

// FailCreateTimes makes the next n creates of the named server fail with err without
// creating anything, as a 503 from an API node that never reached the scheduler would.
func (c *Compute) FailCreateTimes(name string, n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failCreate[name] = err
	c.failTimes[name] = n
}

// Break puts an ACTIVE server in ERROR with a fault, as a failed hypervisor would.
func (c *Compute) Break(id, fault string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.servers[id]; ok {
		s.fault = fault
	}
}

// DeleteOutside removes a server at once, as an operator would behind our back.
func (c *Compute) DeleteOutside(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.servers, id)
}

// AddServer inserts an existing server (for example an unmanaged web01); it is ACTIVE.
func (c *Compute) AddServer(s scaling.Server) scaling.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	if s.ID == "" {
		s.ID = fmt.Sprintf("srv-%03d", c.seq)
	}
	if s.Created.IsZero() {
		s.Created = c.Clock.Now()
	}
	c.servers[s.ID] = &fakeServer{Server: s, readyAt: c.Clock.Now()}
	return s
}

// Calls returns how many times a method was called ("CreateServer", "ListServers", ...).
func (c *Compute) Calls(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

// MaxBuilding is the largest number of servers seen in BUILD at once.
func (c *Compute) MaxBuilding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxBuild
}

// Servers returns the servers that exist now (deleting ones included).
func (c *Compute) Servers() []scaling.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Clock.Now()
	var out []scaling.Server
	for _, s := range c.servers {
		if v, ok := c.viewLocked(s, now); ok {
			out = append(out, v)
		}
	}
	return out
}

// backend reports whether a server with the address exists and serves, and since when.
func (c *Compute) backend(address string) (exists, up bool, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Clock.Now()
	for _, s := range c.servers {
		v, ok := c.viewLocked(s, now)
		if !ok || v.Address != address {
			continue
		}
		if !s.goneAt.IsZero() || v.Status != "ACTIVE" {
			return true, false, time.Time{}
		}
		since = s.readyAt
		if s.rebootUntil.After(since) {
			since = s.rebootUntil
		}
		return true, true, since
	}
	return false, false, time.Time{}
}

// viewLocked computes a server's state at now; ok is false once it is gone.
func (c *Compute) viewLocked(s *fakeServer, now time.Time) (scaling.Server, bool) {
	if !s.goneAt.IsZero() && !now.Before(s.goneAt) {
		return scaling.Server{}, false
	}
	v := s.Server
	v.Metadata = copyMap(s.Metadata)
	switch {
	case now.Before(s.readyAt):
		v.Status, v.Address = "BUILD", ""
	case s.fault != "":
		v.Status, v.Fault, v.Address = "ERROR", s.fault, ""
	case now.Before(s.rebootUntil):
		v.Status = "REBOOT"
	default:
		v.Status = "ACTIVE"
	}
	return v, true
}

func (c *Compute) CreateServer(ctx context.Context, spec scaling.ServerSpec) (scaling.Server, error) {
	if err := ctx.Err(); err != nil {
		return scaling.Server{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls["CreateServer"]++
	c.specs = append(c.specs, spec)
	if err := c.failCreate[spec.Name]; err != nil {
		if n, counted := c.failTimes[spec.Name]; counted {
			if n <= 1 {
				delete(c.failCreate, spec.Name)
				delete(c.failTimes, spec.Name)
			} else {
				c.failTimes[spec.Name] = n - 1
			}
		}
		return scaling.Server{}, err
	}
	now := c.Clock.Now()
	c.seq++
	s := &fakeServer{Server: scaling.Server{
		ID: fmt.Sprintf("srv-%03d", c.seq), Name: spec.Name, ImageID: spec.ImageID, Flavor: spec.FlavorID,
		Address:  fmt.Sprintf("10.0.%d.%d", c.seq/250, c.seq%250+2),
		Metadata: copyMap(spec.Metadata), Created: now,
	}, readyAt: now.Add(c.BuildTime)}
	if q := c.faults[spec.Name]; len(q) > 0 {
		s.fault, c.faults[spec.Name] = q[0], q[1:]
	}
	c.servers[s.ID] = s
	building := 0
	for _, x := range c.servers {
		if v, ok := c.viewLocked(x, now); ok && v.Status == "BUILD" {
			building++
		}
	}
	c.maxBuild = max(c.maxBuild, building)
	if c.lose[spec.Name] > 0 {
		c.lose[spec.Name]--
		return scaling.Server{}, errors.New("POST /servers: connection reset by peer")
	}
	v, _ := c.viewLocked(s, now)
	return v, nil
}

func (c *Compute) ListServers(ctx context.Context, match map[string]string) ([]scaling.Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls["ListServers"]++
	now := c.Clock.Now()
	var out []scaling.Server
	for _, s := range c.servers {
		v, ok := c.viewLocked(s, now)
		if !ok {
			continue
		}
		all := true
		for k, want := range match {
			if v.Metadata[k] != want {
				all = false
			}
		}
		if all {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *Compute) GetServer(ctx context.Context, id string) (scaling.Server, error) {
	if err := ctx.Err(); err != nil {
		return scaling.Server{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls["GetServer"]++
	if s, ok := c.servers[id]; ok {
		if v, ok := c.viewLocked(s, c.Clock.Now()); ok {
			return v, nil
		}
	}
	return scaling.Server{}, fmt.Errorf("server %s: %w", id, scaling.ErrNotFound)
}

func (c *Compute) DeleteServer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.calls["DeleteServer"]++
	s, ok := c.servers[id]
	var v scaling.Server
	if ok {
		v, ok = c.viewLocked(s, c.Clock.Now())
	}
	if ok && s.goneAt.IsZero() {
		s.goneAt = c.Clock.Now().Add(c.DeleteTime)
	}
	hook := c.onDelete
	c.mu.Unlock()
	if ok && hook != nil {
		hook(v)
	}
	return nil
}

func (c *Compute) RebootServer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls["RebootServer"]++
	s, ok := c.servers[id]
	now := c.Clock.Now()
	v, exists := scaling.Server{}, false
	if ok {
		v, exists = c.viewLocked(s, now)
	}
	if !exists {
		return fmt.Errorf("server %s: %w", id, scaling.ErrNotFound)
	}
	if v.Status != "ACTIVE" {
		return fmt.Errorf("server %s is %s: cannot reboot (HTTP 409)", id, v.Status)
	}
	s.rebootUntil = now.Add(c.RebootTime)
	return nil
}

func (c *Compute) WaitServerActive(ctx context.Context, id string) (scaling.Server, error) {
	for {
		s, err := c.GetServer(ctx, id)
		if err != nil {
			return s, err
		}
		switch s.Status {
		case "ACTIVE":
			return s, nil
		case "ERROR":
			return s, &scaling.ServerFaultError{ServerID: s.ID, Name: s.Name, Message: s.Fault}
		}
		if err := c.Clock.Sleep(ctx, c.PollInterval); err != nil {
			return s, err
		}
	}
}

func (c *Compute) WaitServerGone(ctx context.Context, id string) error {
	for {
		_, err := c.GetServer(ctx, id)
		if errors.Is(err, scaling.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.Clock.Sleep(ctx, c.PollInterval); err != nil {
			return err
		}
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
