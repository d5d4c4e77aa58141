package scaling_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func TestRolling_NewBatchOnlineBeforeOldDrainsAndCapacityHeld(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.BatchSize = 2 })
	f.mustApply(t, 4)
	g := f.withImage(t, "img-2", nil)
	var drains, low atomic.Int32
	g.rec.onEvent = func(p scaling.Progress) {
		if !strings.Contains(p.Message, ") drained (") {
			return
		}
		drains.Add(1)
		online := 0
		for _, m := range f.cloud.ManagedMembers() {
			if m.OperatingStatus == "ONLINE" && m.Weight > 0 {
				online++
			}
		}
		// A batch of 2 drains in one member update: while it drains, the new batch and
		// the rest must keep 4 members ONLINE.
		if online < 4 {
			low.Add(1)
			t.Errorf("%s: only %d members ONLINE in service, want >= 4", p.Message, online)
		}
	}
	nodes := g.mustApply(t, 4)
	if drains.Load() != 4 {
		t.Fatalf("drains = %d, want 4", drains.Load())
	}
	if len(nodes) != 4 {
		t.Fatalf("nodes = %v, want 4", nodeNames(nodes))
	}
	for _, s := range f.cloud.Compute.Servers() {
		if s.ImageID != "img-2" {
			t.Errorf("server %s still on %s", s.Name, s.ImageID)
		}
	}
}

func TestRolling_MinHealthyPercentLetsBatchProceedWithOneSlowNode(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	g := f.withImage(t, "img-2", func(o *scaling.Options) { o.BatchSize = 2; o.MinHealthyPercent = 50 })
	g.cloud.SetDown("10.0.0.5", true) // the first replacement server
	_, err := g.apply(t, t.Context(), 2)
	// 50% of the new batch is enough to start draining; the health gate then insists on
	// every remaining member, so the run stops naming the unhealthy node.
	if err == nil || !strings.Contains(err.Error(), "health gate") || !strings.Contains(err.Error(), "is ERROR") {
		t.Fatalf("err = %v, want the health gate to stop on the ERROR member", err)
	}
}

func TestRolling_ReplacementThatFailsToBuildStopsBeforeAnyDrain(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	g := f.withImage(t, "img-2", func(o *scaling.Options) { o.CreateRetries = -1 })
	g.cloud.Compute.FailBuild("web-03", "Image img-2 is not active")
	nodes, err := g.apply(t, t.Context(), 2)
	if err == nil || !strings.Contains(err.Error(), "Image img-2 is not active") || !strings.Contains(err.Error(), "stopped before") {
		t.Fatalf("err = %v, want a stop naming the fault", err)
	}
	if got := nodeNames(nodes); len(got) != 2 || got[0] != "web-01" || got[1] != "web-02" {
		t.Fatalf("nodes = %v, want both old nodes still in service", got)
	}
	if contains(g.rec.messages(), "drained") {
		t.Fatal("an old node was drained although its replacement failed")
	}
}

func TestRolling_FlavorChangeReplacesNodesBatchByBatchLikeAnImageChange(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	g := f.withSpec(t, func(s *scaling.PoolSpec) { s.FlavorID, s.FlavorName = "m1.large", "m1.large" }, nil)
	steps, err := g.pool.PlanApply(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	drains := 0
	for _, st := range steps {
		if st.Kind == scaling.StepDrain {
			drains++
			if st.Reason != "flavor replaced" {
				t.Errorf("drain %v has reason %q, want flavor replaced", st.Nodes, st.Reason)
			}
		}
	}
	if drains != 3 {
		t.Fatalf("plan drains %d nodes, want 3:\n%v", drains, steps)
	}
	nodes := g.mustApply(t, 3)
	for _, s := range f.cloud.Compute.Servers() {
		if s.Flavor != "m1.large" {
			t.Errorf("server %s still on flavor %s", s.Name, s.Flavor)
		}
	}
	if len(nodes) != 3 || len(f.cloud.Violations()) > 0 {
		t.Fatalf("nodes = %v, violations %v", nodeNames(nodes), f.cloud.Violations())
	}
}
