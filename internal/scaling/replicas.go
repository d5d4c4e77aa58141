package scaling

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ReplicaSetSpec describes the Trove read replicas of one primary.
type ReplicaSetSpec struct {
	PrimaryID  string
	NamePrefix string // replicas are "<prefix>-01", "<prefix>-02", ...
	FlavorID   string
	VolumeGB   int
}

// ReplicasConfig is what NewReplicas needs.
type ReplicasConfig struct {
	Spec        ReplicaSetSpec
	DB          Database
	MaxParallel int // default 10
	Progress    func(Progress)
	// OnChange receives the replica list whenever an instance id becomes known or an
	// instance is gone. Calls are serialised.
	OnChange func([]Instance)
	Clock    Clock      // for Progress timestamps; default wall clock
	Known    []Instance // replicas from the caller's state
}

// Replicas manages the read replicas of a primary. The primary is never modified.
type Replicas struct {
	cfg ReplicasConfig

	mu         sync.Mutex
	items      map[string]Instance // by name
	notifyMu   sync.Mutex
	progressMu sync.Mutex
}

// NewReplicas validates the configuration.
func NewReplicas(cfg ReplicasConfig) (*Replicas, error) {
	if cfg.Spec.PrimaryID == "" || cfg.Spec.NamePrefix == "" || cfg.DB == nil {
		return nil, errors.New("replicas: primary id, name prefix and database client are required")
	}
	if cfg.MaxParallel <= 0 {
		cfg.MaxParallel = 10
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	r := &Replicas{cfg: cfg, items: map[string]Instance{}}
	for _, in := range cfg.Known {
		if in.ID != cfg.Spec.PrimaryID && in.Name != "" {
			r.items[in.Name] = in
		}
	}
	return r, nil
}

// Instances returns the replicas as last known, by name.
func (r *Replicas) Instances() []Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshotLocked()
}

func (r *Replicas) snapshotLocked() []Instance {
	out := make([]Instance, 0, len(r.items))
	for _, in := range r.items {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *Replicas) set(name string, in *Instance) {
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	r.mu.Lock()
	if in == nil {
		delete(r.items, name)
	} else {
		r.items[name] = *in
	}
	snap := r.snapshotLocked()
	r.mu.Unlock()
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(snap)
	}
}

func (r *Replicas) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		ev := Progress{At: r.cfg.Clock.Now(), Step: StepReplicas, Message: fmt.Sprintf(format, args...)}
		r.progressMu.Lock()
		defer r.progressMu.Unlock()
		r.cfg.Progress(ev)
	}
}

// discover lists the instances once and keeps those that are ours: replicas of the
// primary with a deterministic name (a lost create is adopted), and known ids (a replica
// detached by an interrupted removal is still ours to delete).
func (r *Replicas) discover(ctx context.Context) error {
	all, err := r.cfg.DB.ListInstances(ctx)
	if err != nil {
		return fmt.Errorf("listing database instances: %w", err)
	}
	known := map[string]bool{}
	for _, in := range r.Instances() {
		known[in.ID] = true
	}
	items := map[string]Instance{}
	for _, in := range all {
		if in.ID == r.cfg.Spec.PrimaryID {
			continue
		}
		_, named := OrdinalFromName(r.cfg.Spec.NamePrefix, in.Name)
		switch {
		case known[in.ID]:
		case named && in.ReplicaOf == r.cfg.Spec.PrimaryID:
		case named:
			return fmt.Errorf("instance %s (%s) has a replica name of this set but is not a replica of primary %s: rename or remove it", in.Name, in.ID, r.cfg.Spec.PrimaryID)
		default:
			continue
		}
		items[in.Name] = in
	}
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	r.mu.Lock()
	r.items = items
	snap := r.snapshotLocked()
	r.mu.Unlock()
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(snap)
	}
	return nil
}

// Apply brings the set to desired ACTIVE replicas. Replicas in ERROR and detached leftovers
// are removed; missing ones are created in parallel, their ids recorded at once; surplus
// ones are detached, then deleted, highest ordinal first. The instances returned are the
// ones that exist, error or not.
func (r *Replicas) Apply(ctx context.Context, desired int) ([]Instance, error) {
	if err := r.discover(ctx); err != nil {
		return r.Instances(), err
	}
	var keep, drop []Instance
	for _, in := range r.Instances() {
		if in.Status == "ERROR" || in.ReplicaOf != r.cfg.Spec.PrimaryID {
			drop = append(drop, in)
		} else {
			keep = append(keep, in)
		}
	}
	ord := func(in Instance) int { o, _ := OrdinalFromName(r.cfg.Spec.NamePrefix, in.Name); return o }
	sort.Slice(keep, func(i, j int) bool { return ord(keep[i]) < ord(keep[j]) })
	if len(keep) > desired {
		surplus := keep[desired:]
		keep = keep[:desired]
		for i := len(surplus) - 1; i >= 0; i-- {
			drop = append(drop, surplus[i])
		}
	}
	for _, in := range drop {
		if err := ctx.Err(); err != nil {
			return r.Instances(), err
		}
		if err := r.remove(ctx, in); err != nil {
			return r.Instances(), err
		}
	}
	used := map[int]bool{}
	for _, in := range keep {
		used[ord(in)] = true
	}
	missing := nextOrdinals(used, max(0, desired-len(keep)))
	errs := make([]error, len(missing))
	lost := make([]bool, len(missing))
	_ = parallel(ctx, len(missing), r.cfg.MaxParallel, func(i int) error {
		lost[i], errs[i] = r.create(ctx, missing[i])
		return nil
	})
	for _, in := range keep {
		if in.Status != "ACTIVE" {
			if err := r.wait(ctx, in); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Creates whose answer was lost: one listing per round; an instance found is adopted, one
	// the listing proves was never made is created again.
	for resend := 1; ctx.Err() == nil; resend++ {
		var retry []int
		for i := range missing {
			if lost[i] {
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 {
			break
		}
		all, err := r.cfg.DB.ListInstances(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing instances to find creates whose answer was lost: %w", err))
			break
		}
		byName := map[string]Instance{}
		for _, in := range all {
			if in.ReplicaOf == r.cfg.Spec.PrimaryID {
				byName[in.Name] = in
			}
		}
		_ = parallel(ctx, len(retry), r.cfg.MaxParallel, func(j int) error {
			i := retry[j]
			lost[i] = false
			name := NodeName(r.cfg.Spec.NamePrefix, missing[i])
			if in, ok := byName[name]; ok {
				r.progress("create of %s answered with an error but the instance exists (%s): adopting it", in.Name, in.ID)
				r.set(in.Name, &in)
				errs[i] = r.wait(ctx, in)
				return nil
			}
			if resend > createResends {
				return nil
			}
			r.progress("create of %s failed (%v) and no such instance exists: creating it again", name, errs[i])
			lost[i], errs[i] = r.create(ctx, missing[i])
			return nil
		})
	}
	return r.Instances(), errors.Join(errs...)
}

// createResends bounds how often a replica create that failed without a trace is sent again.
const createResends = 2

// Destroy removes every replica (detach, then delete).
func (r *Replicas) Destroy(ctx context.Context) ([]Instance, error) { return r.Apply(ctx, 0) }

func (r *Replicas) create(ctx context.Context, ord int) (lost bool, err error) {
	name := NodeName(r.cfg.Spec.NamePrefix, ord)
	in, err := r.cfg.DB.CreateReplica(ctx, ReplicaSpec{Name: name, PrimaryID: r.cfg.Spec.PrimaryID,
		FlavorID: r.cfg.Spec.FlavorID, VolumeGB: r.cfg.Spec.VolumeGB})
	if err != nil || in.ID == "" {
		if err == nil {
			err = errors.New("no instance id in Trove's answer")
		}
		return ctx.Err() == nil && !errors.Is(err, ErrRefused), fmt.Errorf("creating replica %s of %s: %w", name, r.cfg.Spec.PrimaryID, err)
	}
	if in.Name == "" {
		in.Name = name
	}
	if in.ReplicaOf == "" {
		in.ReplicaOf = r.cfg.Spec.PrimaryID
	}
	r.set(name, &in)
	r.progress("replica %s created (%s), building", name, in.ID)
	return false, r.wait(ctx, in)
}

func (r *Replicas) wait(ctx context.Context, in Instance) error {
	got, err := r.cfg.DB.WaitInstanceActive(ctx, in.ID)
	if err != nil {
		fault := ""
		if g, gerr := r.cfg.DB.GetInstance(context.WithoutCancel(ctx), in.ID); gerr == nil && g.Fault != "" {
			fault = " (Trove fault: " + g.Fault + ")"
			r.set(in.Name, &g)
		}
		return fmt.Errorf("replica %s (%s) did not become ACTIVE%s: %w", in.Name, in.ID, fault, err)
	}
	if got.Name == "" {
		got.Name = in.Name
	}
	r.set(in.Name, &got)
	r.progress("replica %s (%s) is ACTIVE", in.Name, in.ID)
	return nil
}

// remove detaches a replica (so the primary stops shipping to it) and deletes it.
func (r *Replicas) remove(ctx context.Context, in Instance) error {
	if in.ID == r.cfg.Spec.PrimaryID {
		return fmt.Errorf("refusing to touch primary %s", in.ID)
	}
	if in.ReplicaOf != "" {
		if in.ReplicaOf != r.cfg.Spec.PrimaryID {
			return fmt.Errorf("refusing to remove %s (%s): it replicates %s, not primary %s", in.Name, in.ID, in.ReplicaOf, r.cfg.Spec.PrimaryID)
		}
		if in.Status == "ACTIVE" {
			r.progress("detaching replica %s (%s) from %s", in.Name, in.ID, in.ReplicaOf)
			if err := r.cfg.DB.DetachReplica(ctx, in.ID); err != nil {
				return fmt.Errorf("detaching replica %s (%s): %w", in.Name, in.ID, err)
			}
			got, err := r.cfg.DB.WaitInstanceActive(ctx, in.ID)
			if err != nil {
				return fmt.Errorf("waiting for replica %s (%s) after detaching: %w", in.Name, in.ID, err)
			}
			got.Name = in.Name
			r.set(in.Name, &got)
		}
	}
	if err := r.cfg.DB.DeleteInstance(ctx, in.ID); err != nil {
		return fmt.Errorf("deleting instance %s (%s): %w", in.Name, in.ID, err)
	}
	if err := r.cfg.DB.WaitInstanceGone(ctx, in.ID); err != nil {
		return fmt.Errorf("waiting for instance %s (%s) to be gone: %w", in.Name, in.ID, err)
	}
	r.set(in.Name, nil)
	r.progress("replica %s (%s) deleted", in.Name, in.ID)
	return nil
}
