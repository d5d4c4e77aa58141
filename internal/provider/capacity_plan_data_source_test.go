package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestPlanCapacity_PinsTheFormula(t *testing.T) {
	base := capacityInputs{NodeCapacityRPS: 1000, CurrentPeakRPS: 700, ExpectedMultiplier: 10, TargetUtilization: 0.7,
		MinNodes: 2, DBReadShare: 0.3, QueriesPerRequest: 1}
	with := func(f func(*capacityInputs)) capacityInputs { in := base; f(&in); return in }
	tests := []struct {
		name         string
		in           capacityInputs
		peak         float64
		webNodes     int64
		dbReadQPS    float64
		replicas     int64
		headroomPerc float64
	}{
		{"exact quotient is not rounded up", base, 7000, 10, 2100, 0, 42.9},
		{"one request above the boundary buys a node", with(func(i *capacityInputs) { i.CurrentPeakRPS = 700.1 }), 7001, 11, 2100.3, 0, 57.1},
		{"float noise on a whole quotient is not a node (300×0.7)", with(func(i *capacityInputs) { i.NodeCapacityRPS = 300; i.CurrentPeakRPS = 210 }), 2100, 10, 630, 0, 42.9},
		{"min_nodes wins for a small peak", with(func(i *capacityInputs) { i.CurrentPeakRPS = 10 }), 100, 2, 30, 0, 1900},
		{"full utilization", with(func(i *capacityInputs) {
			i.TargetUtilization = 1
			i.NodeCapacityRPS = 500
			i.CurrentPeakRPS = 100
			i.MinNodes = 1
		}), 1000, 2, 300, 0, 0},
		{"replicas at an exact boundary", with(func(i *capacityInputs) { i.ReplicaCapacityQPS = 1000 }), 7000, 10, 2100, 3, 42.9},
		{"replicas just above the boundary", with(func(i *capacityInputs) { i.ReplicaCapacityQPS = 1000; i.CurrentPeakRPS = 700.1 }), 7001, 11, 2100.3, 4, 57.1},
		{"queries per request multiply the read rate", with(func(i *capacityInputs) { i.ReplicaCapacityQPS = 1000; i.QueriesPerRequest = 2 }), 7000, 10, 4200, 6, 42.9},
		{"no database reads plan no replica", with(func(i *capacityInputs) { i.ReplicaCapacityQPS = 1000; i.DBReadShare = 0 }), 7000, 10, 0, 0, 42.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planCapacity(tt.in)
			if p.ExpectedPeakRPS != tt.peak || p.WebNodes != tt.webNodes || p.DBReadQPS != tt.dbReadQPS ||
				p.Replicas != tt.replicas || p.HeadroomPercent != tt.headroomPerc {
				t.Fatalf("planCapacity(%+v) = peak %v, web %d, db %v, replicas %d, headroom %v; want %v, %d, %v, %d, %v",
					tt.in, p.ExpectedPeakRPS, p.WebNodes, p.DBReadQPS, p.Replicas, p.HeadroomPercent,
					tt.peak, tt.webNodes, tt.dbReadQPS, tt.replicas, tt.headroomPerc)
			}
		})
	}
}

func TestPlanCapacity_FormulaShowsTheNumbers(t *testing.T) {
	p := planCapacity(capacityInputs{NodeCapacityRPS: 1000, CurrentPeakRPS: 700, ExpectedMultiplier: 10, TargetUtilization: 0.7,
		MinNodes: 2, DBReadShare: 0.3, QueriesPerRequest: 1, ReplicaCapacityQPS: 1000})
	want := "expected_peak_rps = 700 × 10 = 7000; web_nodes = max(2, ceil(7000 / (1000 × 0.7))) = 10; " +
		"db_read_qps = 7000 × 0.3 × 1 = 2100; replicas = ceil(2100 / (1000 × 0.7)) = 3; " +
		"headroom_percent = (10 × 1000 / 7000 − 1) × 100 = 42.9"
	if p.Formula != want {
		t.Fatalf("formula:\n got %s\nwant %s", p.Formula, want)
	}
}

func TestCapacityPlanModel_AppliesDocumentedDefaults(t *testing.T) {
	m := capacityPlanModel{NodeCapacityRPS: types.Float64Value(100), CurrentPeakRPS: types.Float64Value(50),
		ExpectedMultiplier: types.Float64Null(), TargetUtilization: types.Float64Null(), MinNodes: types.Int64Null(),
		DBReadShare: types.Float64Null(), ReplicaCapacityQPS: types.Float64Null(), QueriesPerRequest: types.Float64Null()}
	in := m.inputs()
	want := capacityInputs{NodeCapacityRPS: 100, CurrentPeakRPS: 50, ExpectedMultiplier: 10, TargetUtilization: 0.7,
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
