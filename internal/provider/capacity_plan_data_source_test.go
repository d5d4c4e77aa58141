package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/eventscale/terraform-provider-eventscale/internal/event"
)

func TestCapacityPlanModel_AppliesDocumentedDefaults(t *testing.T) {
	m := capacityPlanModel{NodeCapacityRPS: types.Float64Value(100), CurrentPeakRPS: types.Float64Value(50),
		ExpectedMultiplier: types.Float64Null(), TargetUtilization: types.Float64Null(), MinNodes: types.Int64Null(),
		DBReadShare: types.Float64Null(), ReplicaCapacityQPS: types.Float64Null(), QueriesPerRequest: types.Float64Null()}
	in := m.inputs()
	want := event.CapacityInputs{NodeCapacityRPS: 100, CurrentPeakRPS: 50, ExpectedMultiplier: 10, TargetUtilization: 0.7,
		MinNodes: 2, DBReadShare: 0.3, QueriesPerRequest: 1}
	if in != want {
		t.Fatalf("inputs() = %+v, want %+v", in, want)
	}
	for _, d := range []string{"Default `10`", "Default `0.7`", "Default `2`", "Default `0.3`", "Default `1`"} {
		if !strings.Contains(capacityDocs(t), d) {
			t.Errorf("schema descriptions do not document %q", d)
		}
	}
}

func capacityDocs(t *testing.T) string {
	t.Helper()
	var sb strings.Builder
	s := dataSourceSchema(t, NewCapacityPlanDataSource())
	sb.WriteString(s.MarkdownDescription)
	for _, a := range s.Attributes {
		sb.WriteString(a.GetMarkdownDescription())
	}
	return sb.String()
}

func TestCapacityPlanSchema_DocumentsTheFormula(t *testing.T) {
	s := dataSourceSchema(t, NewCapacityPlanDataSource())
	for _, line := range []string{
		"web_nodes         = max(min_nodes, ceil(expected_peak_rps / (node_capacity_rps × target_utilization)))",
		"replicas          = ceil(db_read_qps / (replica_capacity_qps × target_utilization))",
	} {
		if !strings.Contains(s.MarkdownDescription, line) {
			t.Errorf("MarkdownDescription lacks %q", line)
		}
	}
}

func TestValidateCapacityConfig_RejectsNonPositiveDivisors(t *testing.T) {
	m := capacityPlanModel{NodeCapacityRPS: types.Float64Value(0), CurrentPeakRPS: types.Float64Value(100),
		ExpectedMultiplier: types.Float64Null(), TargetUtilization: types.Float64Value(0), MinNodes: types.Int64Null(),
		DBReadShare: types.Float64Null(), ReplicaCapacityQPS: types.Float64Value(-5), QueriesPerRequest: types.Float64Null()}
	diags := validateCapacityConfig(m)
	if diags.ErrorsCount() != 3 {
		t.Fatalf("want 3 errors (node_capacity_rps, target_utilization, replica_capacity_qps), got %v", diags)
	}
	m.NodeCapacityRPS, m.TargetUtilization, m.ReplicaCapacityQPS = types.Float64Unknown(), types.Float64Value(0.5), types.Float64Null()
	if diags := validateCapacityConfig(m); diags.HasError() {
		t.Fatalf("unknown and null inputs must pass plan-time validation, got %v", diags)
	}
}

func TestAccCapacityPlanDataSource_ComputesThePlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: offlineProviderHCL + `
data "eventscale_capacity_plan" "event" {
  node_capacity_rps = 0
  current_peak_rps  = 700
}`,
				ExpectError: regexp.MustCompile(`node_capacity_rps must be greater than 0`),
			},
			{
				Config: offlineProviderHCL + `
data "eventscale_capacity_plan" "event" {
  node_capacity_rps  = 1000
  current_peak_rps   = 700
  target_utilization = 1.5
}`,
				ExpectError: regexp.MustCompile(`target_utilization value must be at most 1`),
			},
			{
				Config: offlineProviderHCL + `
data "eventscale_capacity_plan" "event" {
  node_capacity_rps    = 1000
  current_peak_rps     = 700.1
  replica_capacity_qps = 1000
}`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.eventscale_capacity_plan.event", "expected_peak_rps", "7001"),
					resource.TestCheckResourceAttr("data.eventscale_capacity_plan.event", "web_nodes", "11"),
					resource.TestCheckResourceAttr("data.eventscale_capacity_plan.event", "db_read_qps", "2100.3"),
					resource.TestCheckResourceAttr("data.eventscale_capacity_plan.event", "replicas", "4"),
					resource.TestCheckResourceAttr("data.eventscale_capacity_plan.event", "headroom_percent", "57.1"),
					resource.TestMatchResourceAttr("data.eventscale_capacity_plan.event", "formula", regexp.MustCompile(`= 11;`)),
				),
			},
		},
	})
}
