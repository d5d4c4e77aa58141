package scaling_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

func TestNew_RejectsMissingSpecFieldsAndBadOptions(t *testing.T) {
	c := scalingtest.NewCloud()
	_, err := scaling.New(scaling.Config{Spec: scaling.PoolSpec{Key: "k"}, Compute: c.Compute, LB: c.LB})
	if err == nil || !strings.Contains(err.Error(), "load_balancer_id") || !strings.Contains(err.Error(), "pool_id") {
		t.Fatalf("err = %v, want the missing fields named", err)
	}
	_, err = scaling.New(scaling.Config{Spec: c.Spec("web", "img"), Compute: c.Compute, LB: c.LB,
		Options: scaling.Options{DrainMethod: "sleep"}})
	if err == nil || !strings.Contains(err.Error(), `"sleep"`) {
		t.Fatalf("err = %v, want the bad drain method named", err)
	}
}

func TestApply_CreatingNeedsImageAndFlavorButReadingDoesNot(t *testing.T) {
	c := scalingtest.NewCloud()
	spec := c.Spec("web", "img")
	spec.ImageID, spec.FlavorID = "", ""
	p, err := scaling.New(scaling.Config{Spec: spec, Compute: c.Compute, LB: c.LB, Clock: c.Clock})
	if err != nil {
		t.Fatalf("a pool without image and flavor must still be readable: %v", err)
	}
	if err := p.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "image_id and flavor_id") {
		t.Fatalf("err = %v, want creation refused naming image_id and flavor_id", err)
	}
	if got := c.Compute.Calls("CreateServer"); got != 0 {
		t.Fatalf("CreateServer called %d times", got)
	}
}

func TestNew_FillsDocumentedDefaults(t *testing.T) {
	c := scalingtest.NewCloud()
	p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img"), Compute: c.Compute, LB: c.LB})
	if err != nil {
		t.Fatal(err)
	}
	o := p.Options()
	if o.MaxParallel != 10 || o.BatchSize != 1 || o.Order != scaling.NewestFirst || o.DrainMethod != scaling.DrainWeight ||
		o.DrainTimeout.Seconds() != 60 || len(o.HealthyStatuses) != 1 || o.HealthyStatuses[0] != "ONLINE" ||
		o.CreateRetries != 2 || o.HealthCheckSuccesses != 3 {
		t.Fatalf("defaults = %+v", o)
	}
}

func TestPlanApply_ShowsWhichNodesDrainInWhichOrderWithoutChangingAnything(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	cycles := f.cloud.LB.Cycles()
	steps, err := f.pool.PlanApply(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var drains []string
	for _, s := range steps {
		if s.Kind == scaling.StepDrain {
			drains = append(drains, s.Nodes...)
		}
	}
	// Newest first: by creation time, then by ordinal. Built in parallel, the nodes' creation
	// times follow the goroutines (the model clock may move between two creates), not the names.
	nodes := f.pool.Nodes()
	sort.SliceStable(nodes, func(i, j int) bool {
		if !nodes[i].Created.Equal(nodes[j].Created) {
			return nodes[i].Created.After(nodes[j].Created)
		}
		return nodes[i].Ordinal > nodes[j].Ordinal
	})
	if want := nodes[0].Name + "," + nodes[1].Name; strings.Join(drains, ",") != want {
		t.Fatalf("drain order = %v, want %s (newest first)", drains, want)
	}
	if f.cloud.LB.Cycles() != cycles {
		t.Fatal("planning changed the load balancer")
	}
	if got := f.pool.PlanFromState(f.pool.Nodes(), 1); len(got) != len(steps) {
		t.Fatalf("PlanFromState gives %d steps, PlanApply %d", len(got), len(steps))
	}
}

func TestNodeName_ZeroPadsAndParsesBack(t *testing.T) {
	for _, c := range []struct {
		ord  int
		name string
	}{{1, "web-01"}, {9, "web-09"}, {10, "web-10"}, {123, "web-123"}} {
		if got := scaling.NodeName("web", c.ord); got != c.name {
			t.Errorf("NodeName(%d) = %s, want %s", c.ord, got, c.name)
		}
		if o, ok := scaling.OrdinalFromName("web", c.name); !ok || o != c.ord {
			t.Errorf("OrdinalFromName(%s) = %d, %v", c.name, o, ok)
		}
	}
	for _, bad := range []string{"web01", "web-1", "web-001", "api-01", "web-x1"} {
		if _, ok := scaling.OrdinalFromName("web", bad); ok {
			t.Errorf("OrdinalFromName(%s) accepted", bad)
		}
	}
}

func TestDiscover_PoolThatIsGoneMeansNoMembersAndDestroyDeletesTheServers(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	g := f.withSpec(t, func(s *scaling.PoolSpec) { s.PoolID = "no-such-pool" }, nil)
	nodes, err := g.pool.Destroy(context.Background())
	if err != nil {
		t.Fatalf("destroy of a pool whose Octavia pool is gone: %v", err)
	}
	if len(nodes) != 0 || len(f.cloud.Compute.Servers()) != 0 {
		t.Fatalf("nodes %v, %d servers left; want every server deleted", nodeNames(nodes), len(f.cloud.Compute.Servers()))
	}
}
