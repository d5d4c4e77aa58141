package scalingtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// DB is an in-memory Trove. Replicas are BUILD for BuildTime, a detach takes DetachTime
// (status DETACH), a deletion DeleteTime. It records violations: any call that changes a
// primary, deleting a replica that was not detached first.
type DB struct {
	Clock                                           *Clock
	BuildTime, DetachTime, DeleteTime, PollInterval time.Duration

	mu         sync.Mutex
	instances  map[string]*finst
	seq        int
	faults     map[string]string
	lose       map[string]int
	primaries  map[string]bool
	violations []string
	creates    int
}

type finst struct {
	scaling.Instance
	readyAt time.Time
	goneAt  time.Time
}

// NewDB returns a Trove with BuildTime 5m, DetachTime 30s, DeleteTime 30s, polls every 10s.
func NewDB(c *Clock) *DB {
	return &DB{Clock: c, BuildTime: 5 * time.Minute, DetachTime: 30 * time.Second, DeleteTime: 30 * time.Second,
		PollInterval: 10 * time.Second, instances: map[string]*finst{}, faults: map[string]string{},
		lose: map[string]int{}, primaries: map[string]bool{}}
}

// AddPrimary inserts an ACTIVE primary instance and returns its id.
func (d *DB) AddPrimary(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	id := fmt.Sprintf("db-%03d", d.seq)
	d.instances[id] = &finst{Instance: scaling.Instance{ID: id, Name: name, Status: "ACTIVE"}, readyAt: d.Clock.Now()}
	d.primaries[id] = true
	return id
}

// FailBuild makes the next create of the named replica end in ERROR with the fault.
func (d *DB) FailBuild(name, fault string) { d.mu.Lock(); d.faults[name] = fault; d.mu.Unlock() }

// LoseCreateResponse makes the next n creates of the named replica succeed but answer an error.
func (d *DB) LoseCreateResponse(name string, n int) { d.mu.Lock(); d.lose[name] += n; d.mu.Unlock() }

// Creates counts CreateReplica calls.
func (d *DB) Creates() int { d.mu.Lock(); defer d.mu.Unlock(); return d.creates }

// Violations lists every invariant broken so far.
func (d *DB) Violations() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.violations)
}

// Instances returns the instances that exist now.
func (d *DB) Instances() []scaling.Instance {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []scaling.Instance
	for _, in := range d.instances {
		if v, ok := d.viewLocked(in); ok {
			out = append(out, v)
		}
	}
	return out
}

func (d *DB) viewLocked(in *finst) (scaling.Instance, bool) {
	now := d.Clock.Now()
	if !in.goneAt.IsZero() && !now.Before(in.goneAt) {
		return scaling.Instance{}, false
	}
	v := in.Instance
	switch {
	case now.Before(in.readyAt) && v.Status != "DETACH":
		v.Status = "BUILD"
	case now.Before(in.readyAt):
	case v.Fault != "":
		v.Status = "ERROR"
	default:
		v.Status = "ACTIVE"
	}
	return v, true
}

func (d *DB) CreateReplica(ctx context.Context, spec scaling.ReplicaSpec) (scaling.Instance, error) {
	if err := ctx.Err(); err != nil {
		return scaling.Instance{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.creates++
	p, ok := d.instances[spec.PrimaryID]
	if !ok || !d.primaries[spec.PrimaryID] {
		return scaling.Instance{}, fmt.Errorf("primary %s: %w", spec.PrimaryID, scaling.ErrNotFound)
	}
	_ = p
	d.seq++
	in := &finst{Instance: scaling.Instance{ID: fmt.Sprintf("db-%03d", d.seq), Name: spec.Name, ReplicaOf: spec.PrimaryID,
		FlavorID: spec.FlavorID, VolumeGB: spec.VolumeGB, Fault: d.faults[spec.Name]}, readyAt: d.Clock.Now().Add(d.BuildTime)}
	delete(d.faults, spec.Name)
	d.instances[in.ID] = in
	if d.lose[spec.Name] > 0 {
		d.lose[spec.Name]--
		return scaling.Instance{}, errors.New("POST /instances: connection reset by peer")
	}
	v, _ := d.viewLocked(in)
	return v, nil
}

func (d *DB) GetInstance(ctx context.Context, id string) (scaling.Instance, error) {
	if err := ctx.Err(); err != nil {
		return scaling.Instance{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if in, ok := d.instances[id]; ok {
		if v, ok := d.viewLocked(in); ok {
			return v, nil
		}
	}
	return scaling.Instance{}, fmt.Errorf("instance %s: %w", id, scaling.ErrNotFound)
}

func (d *DB) ListInstances(ctx context.Context) ([]scaling.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.Instances(), nil
}

func (d *DB) WaitInstanceActive(ctx context.Context, id string) (scaling.Instance, error) {
	for {
		in, err := d.GetInstance(ctx, id)
		if err != nil {
			return in, err
		}
		switch in.Status {
		case "ACTIVE":
			return in, nil
		case "ERROR":
			return in, fmt.Errorf("instance %s (%s) went to ERROR: %s", in.Name, in.ID, in.Fault)
		}
		if err := d.Clock.Sleep(ctx, d.PollInterval); err != nil {
			return in, err
		}
	}
}

func (d *DB) DetachReplica(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.primaries[id] {
		d.violations = append(d.violations, "detach called on primary "+id)
	}
	in, ok := d.instances[id]
	if !ok {
		return fmt.Errorf("instance %s: %w", id, scaling.ErrNotFound)
	}
	if in.ReplicaOf == "" {
		return fmt.Errorf("instance %s is not a replica (HTTP 400)", id)
	}
	in.ReplicaOf, in.Status = "", "DETACH"
	in.readyAt = d.Clock.Now().Add(d.DetachTime)
	return nil
}

func (d *DB) DeleteInstance(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.primaries[id] {
		d.violations = append(d.violations, "delete called on primary "+id)
	}
	in, ok := d.instances[id]
	if !ok {
		return nil
	}
	if in.ReplicaOf != "" && in.Fault == "" {
		d.violations = append(d.violations, fmt.Sprintf("replica %s (%s) deleted without being detached", in.Name, id))
	}
	if in.goneAt.IsZero() {
		in.goneAt = d.Clock.Now().Add(d.DeleteTime)
	}
	return nil
}

func (d *DB) WaitInstanceGone(ctx context.Context, id string) error {
	for {
		_, err := d.GetInstance(ctx, id)
		if errors.Is(err, scaling.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := d.Clock.Sleep(ctx, d.PollInterval); err != nil {
			return err
		}
	}
}
