package scaling_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// recorder collects Progress events and OnChange snapshots.
type recorder struct {
	mu       sync.Mutex
	events   []scaling.Progress
	changes  [][]scaling.Node
	onEvent  func(scaling.Progress)
	onChange func([]scaling.Node)
}

func (r *recorder) progress(p scaling.Progress) {
	r.mu.Lock()
	r.events = append(r.events, p)
	f := r.onEvent
	r.mu.Unlock()
	if f != nil {
		f(p)
	}
}

func (r *recorder) change(ns []scaling.Node) {
	r.mu.Lock()
	r.changes = append(r.changes, ns)
	f := r.onChange
	r.mu.Unlock()
	if f != nil {
		f(ns)
	}
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Message)
	}
	return out
}

func (r *recorder) lastChange() []scaling.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.changes) == 0 {
		return nil
	}
	return r.changes[len(r.changes)-1]
}

type fixture struct {
	cloud *scalingtest.Cloud
	rec   *recorder
	pool  *scaling.Pool
}

// newFixture builds a pool on a fresh fake cloud; tweak edits the options.
func newFixture(t *testing.T, tweak func(*scaling.Options)) *fixture {
	t.Helper()
	c := scalingtest.NewCloud()
	return newFixtureOn(t, c, nil, tweak)
}

func newFixtureOn(t *testing.T, c *scalingtest.Cloud, known []scaling.Node, tweak func(*scaling.Options)) *fixture {
	t.Helper()
	rec := &recorder{}
	opts := scaling.Options{Progress: rec.progress, OnChange: rec.change}
	if tweak != nil {
		tweak(&opts)
	}
	c.LB.BatchSize = max(1, opts.BatchSize)
	switch {
	case opts.NoDrainWait || opts.DrainTimeout < 0:
		c.LB.DrainTimeout = 0
	case opts.DrainTimeout > 0:
		c.LB.DrainTimeout = opts.DrainTimeout
	}
	p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-1"), Options: opts,
		Compute: c.Compute, LB: c.LB, Clock: c.Clock, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cloud: c, rec: rec, pool: p}
}

func (f *fixture) withImage(t *testing.T, image string, tweak func(*scaling.Options)) *fixture {
	t.Helper()
	return f.withSpec(t, func(s *scaling.PoolSpec) { s.ImageID = image }, tweak)
}

// withAdapters is a new Pool with the same spec, options and nodes, calling the cloud through
// compute and lb (wrappers that inject a failure).
func (f *fixture) withAdapters(t *testing.T, compute scaling.Compute, lb scaling.LoadBalancer) {
	t.Helper()
	p, err := scaling.New(scaling.Config{Spec: f.pool.Spec(), Options: f.pool.Options(), Compute: compute, LB: lb,
		Clock: f.cloud.Clock, Known: f.pool.Nodes()})
	if err != nil {
		t.Fatal(err)
	}
	f.pool = p
}

// withSpec is a new Pool on the same cloud and nodes, with the spec changed.
func (f *fixture) withSpec(t *testing.T, change func(*scaling.PoolSpec), tweak func(*scaling.Options)) *fixture {
	t.Helper()
	rec := &recorder{}
	opts := f.pool.Options()
	opts.Progress, opts.OnChange = rec.progress, rec.change
	if tweak != nil {
		tweak(&opts)
	}
	f.cloud.LB.BatchSize = opts.BatchSize
	spec := f.pool.Spec()
	change(&spec)
	p, err := scaling.New(scaling.Config{Spec: spec, Options: opts,
		Compute: f.cloud.Compute, LB: f.cloud.LB, Clock: f.cloud.Clock, Known: f.pool.Nodes()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cloud: f.cloud, rec: rec, pool: p}
}

// apply runs Apply with a wall-time bound and checks the audit and the returned state.
func (f *fixture) apply(t *testing.T, ctx context.Context, desired int) ([]scaling.Node, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	nodes, err := f.pool.Apply(ctx, desired)
	f.check(t, nodes)
	return nodes, err
}

func (f *fixture) mustApply(t *testing.T, desired int) []scaling.Node {
	t.Helper()
	nodes, err := f.apply(t, context.Background(), desired)
	if err != nil {
		t.Fatalf("Apply(%d): %v", desired, err)
	}
	return nodes
}

// check fails on any invariant violation and on a node list that differs from the cloud.
func (f *fixture) check(t *testing.T, nodes []scaling.Node) {
	t.Helper()
	if v := f.cloud.Violations(); len(v) > 0 {
		t.Errorf("invariant violations:\n%s\naudit log:\n%s", strings.Join(v, "\n"), strings.Join(f.cloud.LB.Log(), "\n"))
	}
	if d := f.cloud.CheckNodes(nodes); d != "" {
		t.Errorf("returned nodes differ from the cloud: %s", d)
	}
}

func nodeNames(ns []scaling.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

func contains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
