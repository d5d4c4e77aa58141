package provider

import (
	"context"
	"strings"
	"testing"
	"time"

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

func TestPlanWarning_GrowingWarnsNothing(t *testing.T) {
	m := &webPoolModel{Name: types.StringValue("web"), ImageID: types.StringValue("img")}
	var resp resource.ModifyPlanResponse
	(&webPoolResource{}).warnScaleBack(context.Background(), m, nil, 3, &resp)
	if resp.Diagnostics.WarningsCount() != 0 {
		t.Fatalf("growing the pool warned: %v", resp.Diagnostics)
	}
}
