package scaling_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// countEvents runs a scenario once to learn how many progress events it emits.
func countEvents(t *testing.T, prepare func(*fixture), desired int, tweak func(*scaling.Options)) int {
	f := newFixture(t, tweak)
	prepare(f)
	f.rec.events = nil
	f.mustApply(t, desired)
	return len(f.rec.events)
}

func TestScaleIn_CancelAtEveryEventLeavesExactStateAndWholeNodes(t *testing.T) {
	prepare := func(f *fixture) { f.mustApply(t, 3) }
	tweak := func(o *scaling.Options) { o.BatchSize = 2 }
	n := countEvents(t, prepare, 0, tweak)
	for k := 1; k <= n; k++ {
		f := newFixture(t, tweak)
		prepare(f)
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		f.rec.onEvent = func(scaling.Progress) {
			if seen++; seen == k {
				cancel()
			}
		}
		nodes, err := f.apply(t, ctx, 0) // apply checks invariants and exact state
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel at event %d: err = %v", k, err)
		}
		for _, nd := range nodes {
			if nd.ServerID == "" || nd.MemberID == "" || nd.Drained {
				t.Errorf("cancel at event %d: node %+v is neither fully in service nor gone", k, nd)
			}
		}
		for _, m := range f.cloud.ManagedMembers() {
			if m.Weight != 1 || !m.AdminStateUp {
				t.Errorf("cancel at event %d: member %s left with weight %d admin %v", k, m.Name, m.Weight, m.AdminStateUp)
			}
		}
	}
}

func TestScaleOut_CancelAtEveryEventReturnsExactState(t *testing.T) {
	prepare := func(f *fixture) { f.cloud.Compute.FailBuild("web-02", "No valid host") }
	n := countEvents(t, prepare, 3, nil)
	for k := 1; k <= n; k++ {
		f := newFixture(t, nil)
		prepare(f)
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		f.rec.onEvent = func(scaling.Progress) {
			if seen++; seen == k {
				cancel()
			}
		}
		_, err := f.apply(t, ctx, 3)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel at event %d: err = %v", k, err)
		}
		// Whatever was left, a new Apply completes it without creating twice.
		g := newFixtureOn(t, f.cloud, nil, nil)
		g.mustApply(t, 3)
		if s := len(f.cloud.Compute.Servers()); s != 3 {
			t.Fatalf("cancel at event %d: %d servers after resuming, want 3", k, s)
		}
	}
}

func TestScaleIn_ServerBrokenInServiceIsDrainedRemovedAndReplaced(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 3)
	f.cloud.Compute.Break(nodes[1].ServerID, "hypervisor lost")
	g := newFixtureOn(t, f.cloud, nodes, nil)
	nodes = g.mustApply(t, 3)
	if len(nodes) != 3 {
		t.Fatalf("nodes = %v", nodeNames(nodes))
	}
	for _, n := range nodes {
		if n.Status != "ACTIVE" || n.MemberID == "" {
			t.Errorf("node %+v not in service", n)
		}
	}
	if !contains(g.rec.messages(), "drain web-02 with weight 0 (server in ERROR)") {
		t.Fatalf("broken web-02 not drained first: %s", strings.Join(g.rec.messages(), "\n"))
	}
}
