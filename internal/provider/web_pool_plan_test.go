package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func TestPlanWarning_ShrinkListsNodesToDrainInOrder(t *testing.T) {
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var known []scaling.Node
	for i := 1; i <= 4; i++ {
		known = append(known, scaling.Node{Ordinal: i, Name: scaling.NodeName("web", i), ServerID: "srv", MemberID: "mem",
			Address: "10.0.0.1", ImageID: "img", Status: "ACTIVE", Created: created.Add(time.Duration(i) * time.Minute)})
	}
	m := &webPoolModel{Name: types.StringValue("web"), ImageID: types.StringValue("img"),
		ScaleIn: &scaleInModel{DrainTimeout: types.StringValue("90s")}}
	var resp resource.ModifyPlanResponse
	(&webPoolResource{}).warnScaleBack(context.Background(), m, known, 2, &resp)
	if resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("want one warning, got %v", resp.Diagnostics)
	}
	detail := resp.Diagnostics.Warnings()[0].Detail()
	i04, i03 := strings.Index(detail, "drain web-04"), strings.Index(detail, "drain web-03")
	if i04 < 0 || i03 < 0 || i04 > i03 {
		t.Fatalf("warning does not list web-04 then web-03 for draining:\n%s", detail)
	}
	if !strings.Contains(detail, "1m30s") || strings.Contains(detail, "drain web-02") {
		t.Fatalf("warning misses the drain timeout or drains a node that stays:\n%s", detail)
	}
}

func TestWebPoolOptions_AnExplicitZeroDrainTimeoutWaitsNotAndAnUnsetOneTakesTheDefault(t *testing.T) {
	for _, c := range []struct {
		name    string
		drain   types.String
		noWait  bool
		inForce time.Duration
	}{
		{"explicit 0s", types.StringValue("0s"), true, 0},
		{"unset", types.StringNull(), false, 60 * time.Second},
		{"90s", types.StringValue("90s"), false, 90 * time.Second},
	} {
		m := &webPoolModel{Name: types.StringValue("web"), ScaleIn: &scaleInModel{DrainTimeout: c.drain}}
		var diags diag.Diagnostics
		o := m.options(context.Background(), &diags)
		if diags.HasError() {
			t.Fatalf("%s: %v", c.name, diags)
		}
		steps := scaling.Preview(scaling.PoolSpec{NamePrefix: "web"}, o, []scaling.Node{
			{Ordinal: 1, Name: "web-01", ServerID: "s1", MemberID: "m1", Status: "ACTIVE"},
			{Ordinal: 2, Name: "web-02", ServerID: "s2", MemberID: "m2", Status: "ACTIVE"},
		}, 1)
		var wait time.Duration = -1
		for _, s := range steps {
			if s.Kind == scaling.StepDrainWait {
				wait = s.DrainTimeout
			}
		}
		if o.NoDrainWait != c.noWait || wait != c.inForce {
			t.Errorf("%s: NoDrainWait %v and a drain wait of %s, want %v and %s", c.name, o.NoDrainWait, wait, c.noWait, c.inForce)
		}
	}
}

func TestPlanWarning_GrowingWarnsNothing(t *testing.T) {
	m := &webPoolModel{Name: types.StringValue("web"), ImageID: types.StringValue("img")}
	var resp resource.ModifyPlanResponse
	(&webPoolResource{}).warnScaleBack(context.Background(), m, nil, 3, &resp)
	if resp.Diagnostics.WarningsCount() != 0 {
		t.Fatalf("growing the pool warned: %v", resp.Diagnostics)
	}
}

// The plan-time preview works from state: the order it shows must be the order apply drains.
func TestPlanWarning_FromStateDrainsNewestFirstLikeApply(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var nodes []scaling.Node
	for i := 1; i <= 12; i++ {
		nodes = append(nodes, scaling.Node{Ordinal: i, Name: scaling.NodeName("launch-web", i), ServerID: "s", MemberID: "m",
			ImageID: "img", Status: "ACTIVE", Created: created.Add(time.Duration(i) * time.Second)})
	}
	var diags diag.Diagnostics
	fromState := nodesFromState(ctx, "launch-web", nodesToState(nodes), &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	m := &webPoolModel{Name: types.StringValue("launch-web"), ImageID: types.StringValue("img")}
	var resp resource.ModifyPlanResponse
	(&webPoolResource{}).warnScaleBack(ctx, m, fromState, 0, &resp)
	detail := resp.Diagnostics.Warnings()[0].Detail()
	if first, last := strings.Index(detail, "drain launch-web-12"), strings.Index(detail, "drain launch-web-01"); first < 0 || last < first {
		t.Fatalf("preview from state does not drain launch-web-12 first and launch-web-01 last:\n%s", detail)
	}
	// Ordinals alone decide when creation times are missing (state written by an older version).
	for i := range nodes {
		nodes[i].Created = time.Time{}
	}
	fromState = nodesFromState(ctx, "launch-web", nodesToState(nodes), &diags)
	resp = resource.ModifyPlanResponse{}
	(&webPoolResource{}).warnScaleBack(ctx, m, fromState, 11, &resp)
	if detail := resp.Diagnostics.Warnings()[0].Detail(); !strings.Contains(detail, "drain launch-web-12") || strings.Contains(detail, "drain launch-web-01") {
		t.Fatalf("without creation times the preview must still pick launch-web-12:\n%s", detail)
	}
}
