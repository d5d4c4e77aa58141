package scaling_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func live(ord int, image string, created int) scaling.Node {
	name := scaling.NodeName("web", ord)
	return scaling.Node{Ordinal: ord, Name: name, ServerID: "srv-" + name, MemberID: "mem-" + name,
		Address: fmt.Sprintf("10.0.0.%d", ord), ImageID: image, Status: "ACTIVE",
		Created: time.Date(2026, 1, 1, 0, created, 0, 0, time.UTC), Weight: 1}
}

func input(nodes []scaling.Node, desired int) scaling.PlanInput {
	return scaling.PlanInput{Nodes: nodes, Desired: desired, NamePrefix: "web", ImageID: "img-1", BatchSize: 1,
		Order: scaling.NewestFirst, DrainMethod: scaling.DrainWeight, DrainTimeout: time.Minute}
}

func stepStrings(steps []scaling.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.String())
	}
	return out
}

func TestPlan_ScaleOutCreatesJoinsOnceAndWaits(t *testing.T) {
	in := input([]scaling.Node{live(1, "img-1", 0)}, 3)
	in.RebootCheck = true
	got := stepStrings(scaling.Plan(in))
	want := []string{
		"create 2 server(s) web-02, web-03 from image img-1",
		"join web-02, web-03 to the pool in one member update",
		"wait until web-02, web-03 are healthy",
		"reboot web-02 and wait until it is healthy again",
		"reboot web-03 and wait until it is healthy again",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlan_ScaleInDrainsNewestFirstOneBatchAtATime(t *testing.T) {
	in := input([]scaling.Node{live(1, "img-1", 0), live(2, "img-1", 1), live(3, "img-1", 2)}, 1)
	in.Webhook = true
	in.HealthCheckURL = "http://vip/health"
	got := stepStrings(scaling.Plan(in))
	want := []string{
		"drain web-03 with weight 0 (scale in)",
		"wait 1m0s for open connections to web-03 to finish, then call the pre-delete webhook",
		"remove member(s) web-03 from the pool",
		"delete server(s) web-03 and wait until gone (scale in)",
		"health gate after removing web-03: remaining members healthy, http://vip/health answers",
		"drain web-02 with weight 0 (scale in)",
		"wait 1m0s for open connections to web-02 to finish, then call the pre-delete webhook",
		"remove member(s) web-02 from the pool",
		"delete server(s) web-02 and wait until gone (scale in)",
		"health gate after removing web-02: remaining members healthy, http://vip/health answers",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlan_OldestFirstWithBatchSizeTwoDrainsPairsByCreationTime(t *testing.T) {
	// web-03 is the oldest although its ordinal is highest.
	in := input([]scaling.Node{live(1, "img-1", 5), live(2, "img-1", 6), live(3, "img-1", 1), live(4, "img-1", 7)}, 1)
	in.Order, in.BatchSize, in.DrainMethod = scaling.OldestFirst, 2, scaling.DrainDisable
	var drains []string
	for _, s := range scaling.Plan(in) {
		if s.Kind == scaling.StepDrain {
			drains = append(drains, s.String())
		}
	}
	want := []string{"drain web-03, web-01 with admin_state_up=false (scale in)", "drain web-02 with admin_state_up=false (scale in)"}
	if !slices.Equal(drains, want) {
		t.Fatalf("drains = %q, want %q", drains, want)
	}
}

func TestPlan_RemovesOrphanMemberAndRecreatesItsNode(t *testing.T) {
	orphan := live(2, "img-1", 1)
	orphan.ServerID, orphan.Status = "", ""
	got := stepStrings(scaling.Plan(input([]scaling.Node{live(1, "img-1", 0), orphan}, 2)))
	want := []string{
		"remove member(s) web-02: their server is gone",
		"create 1 server(s) web-02 from image img-1",
		"join web-02 to the pool in one member update",
		"wait until web-02 are healthy",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlan_JoinsServerWithoutMemberInsteadOfCreating(t *testing.T) {
	lone := live(2, "img-1", 1)
	lone.MemberID = ""
	got := stepStrings(scaling.Plan(input([]scaling.Node{live(1, "img-1", 0), lone}, 2)))
	want := []string{"join web-02 to the pool in one member update", "wait until web-02 are healthy"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan = %q, want %q", got, want)
	}
}

func TestPlan_DeletesErrorServerBeforeCreatingReplacement(t *testing.T) {
	broken := live(2, "img-1", 1)
	broken.MemberID, broken.Status = "", "ERROR"
	got := stepStrings(scaling.Plan(input([]scaling.Node{live(1, "img-1", 0), broken}, 2)))
	want := []string{
		"delete server(s) web-02 and wait until gone (server in ERROR)",
		"create 1 server(s) web-02 from image img-1",
		"join web-02 to the pool in one member update",
		"wait until web-02 are healthy",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlan_RollingReplacementBringsNewBatchOnlineBeforeDrainingOld(t *testing.T) {
	in := input([]scaling.Node{live(1, "img-0", 0), live(2, "img-0", 1)}, 2)
	got := stepStrings(scaling.Plan(in))
	want := []string{
		"create 1 server(s) web-03 from image img-1",
		"join web-03 to the pool in one member update",
		"wait until web-03 are healthy",
		"drain web-02 with weight 0 (image replaced)",
		"wait 1m0s for open connections to web-02 to finish",
		"remove member(s) web-02 from the pool",
		"delete server(s) web-02 and wait until gone (image replaced)",
		"health gate after removing web-02: remaining members healthy",
		"create 1 server(s) web-02 from image img-1",
		"join web-02 to the pool in one member update",
		"wait until web-02 are healthy",
		"drain web-01 with weight 0 (image replaced)",
		"wait 1m0s for open connections to web-01 to finish",
		"remove member(s) web-01 from the pool",
		"delete server(s) web-01 and wait until gone (image replaced)",
		"health gate after removing web-01: remaining members healthy",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlan_ScaleInRemovesOldImageNodesFirst(t *testing.T) {
	in := input([]scaling.Node{live(1, "img-0", 0), live(2, "img-1", 1), live(3, "img-1", 2)}, 2)
	steps := scaling.Plan(in)
	if steps[0].Kind != scaling.StepDrain || steps[0].Nodes[0] != "web-01" {
		t.Fatalf("first step = %s, want draining the old-image web-01", steps[0])
	}
	for _, s := range steps {
		if s.Kind == scaling.StepCreate {
			t.Fatalf("unexpected create %s: removing the old node already reaches the image", s)
		}
	}
}

func TestPlan_RestoresNodeLeftDrained(t *testing.T) {
	d := live(1, "img-1", 0)
	d.Drained = true
	got := stepStrings(scaling.Plan(input([]scaling.Node{d}, 1)))
	if want := []string{"put web-01 back in service (left drained by an earlier run)"}; !slices.Equal(got, want) {
		t.Fatalf("plan = %q, want %q", got, want)
	}
}

// A scale-in stopped after draining a node leaves that node drained; the next, smaller plan
// removes it, not a serving node that happens to be newer.
func TestPlan_ScaleInRemovesTheNodeLeftDrainedBeforeNewerServingOnes(t *testing.T) {
	nodes := []scaling.Node{live(1, "img-1", 0), live(2, "img-1", 2), live(3, "img-1", 1)}
	nodes[2].Drained = true
	in := input(nodes, 2)
	in.Order = scaling.NewestFirst
	steps := scaling.Plan(in)
	if len(steps) == 0 || steps[0].Kind != scaling.StepDrain || !slices.Equal(steps[0].Nodes, []string{"web-03"}) {
		t.Fatalf("plan = %q, want web-03 (left drained) drained and removed first", stepStrings(steps))
	}
	for _, s := range steps {
		if s.Kind == scaling.StepRestore || slices.Contains(s.Nodes, "web-02") {
			t.Fatalf("plan = %q touches web-02 or restores a node; only the drained web-03 goes", stepStrings(steps))
		}
	}
}

func TestPlan_NothingToDoWhenAtDesiredState(t *testing.T) {
	if steps := scaling.Plan(input([]scaling.Node{live(1, "img-1", 0), live(2, "img-1", 1)}, 2)); len(steps) != 0 {
		t.Fatalf("plan = %q, want none", stepStrings(steps))
	}
}

func TestOutcome_KeepsExistingNodesAndAddsNewOnesByName(t *testing.T) {
	nodes := []scaling.Node{
		{Ordinal: 1, Name: "web-01", ServerID: "s1", MemberID: "m1", Status: "ACTIVE", ImageID: "img"},
		{Ordinal: 2, Name: "web-02", ServerID: "s2", MemberID: "m2", Status: "ACTIVE", ImageID: "img"},
	}
	out := scaling.Outcome(nodes, scaling.Plan(scaling.PlanInput{Nodes: nodes, Desired: 4, NamePrefix: "web", ImageID: "img"}))
	var got []string
	for _, p := range out {
		got = append(got, fmt.Sprintf("%s:%v", p.Name, p.Existing != nil))
	}
	if want := "web-01:true web-02:true web-03:false web-04:false"; strings.Join(got, " ") != want {
		t.Fatalf("outcome = %v, want %s", got, want)
	}
	if out[0].Existing.ServerID != "s1" {
		t.Fatalf("kept node lost its server id: %+v", out[0].Existing)
	}
}

func TestOutcome_ScaleInLeavesTheNodesThePlanDoesNotDrain(t *testing.T) {
	var nodes []scaling.Node
	for i := 1; i <= 4; i++ {
		nodes = append(nodes, scaling.Node{Ordinal: i, Name: scaling.NodeName("web", i), ServerID: fmt.Sprint("s", i),
			MemberID: fmt.Sprint("m", i), Status: "ACTIVE", ImageID: "img"})
	}
	out := scaling.Outcome(nodes, scaling.Plan(scaling.PlanInput{Nodes: nodes, Desired: 2, NamePrefix: "web", ImageID: "img", Order: scaling.NewestFirst}))
	if len(out) != 2 || out[0].Name != "web-01" || out[1].Name != "web-02" || out[1].Existing == nil {
		t.Fatalf("outcome = %+v, want web-01 and web-02 kept", out)
	}
}

func TestOutcome_ImageChangeReplacesEveryNodeUnderItsName(t *testing.T) {
	nodes := []scaling.Node{
		{Ordinal: 1, Name: "web-01", ServerID: "s1", MemberID: "m1", Status: "ACTIVE", ImageID: "old"},
		{Ordinal: 2, Name: "web-02", ServerID: "s2", MemberID: "m2", Status: "ACTIVE", ImageID: "old"},
	}
	out := scaling.Outcome(nodes, scaling.Plan(scaling.PlanInput{Nodes: nodes, Desired: 2, NamePrefix: "web", ImageID: "new", BatchSize: 1}))
	for _, p := range out {
		if p.Existing != nil {
			t.Fatalf("outcome keeps %s although its image is replaced: %+v", p.Name, out)
		}
	}
	if len(out) != 2 {
		t.Fatalf("outcome = %+v, want 2 new nodes", out)
	}
}
