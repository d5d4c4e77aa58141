package provider

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ datasource.DataSource                   = (*capacityPlanDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*capacityPlanDataSource)(nil)
)

// NewCapacityPlanDataSource is the factory registered in the provider.
func NewCapacityPlanDataSource() datasource.DataSource { return &capacityPlanDataSource{} }

type capacityPlanDataSource struct{}

// Defaults of the optional inputs; the schema descriptions quote them.
const (
	defaultExpectedMultiplier = 10.0
	defaultTargetUtilization  = 0.7
	defaultMinNodes           = 2
	defaultDBReadShare        = 0.3
	defaultQueriesPerRequest  = 1.0
)

const capacityFormulaMarkdown = "Sizes the web pool and the database read replicas for an expected peak.\n\n" +
	"The arithmetic, exactly as computed:\n\n" +
	"```\n" +
	"expected_peak_rps = current_peak_rps × expected_multiplier\n" +
	"web_nodes         = max(min_nodes, ceil(expected_peak_rps / (node_capacity_rps × target_utilization)))\n" +
	"db_read_qps       = expected_peak_rps × db_read_share × queries_per_request\n" +
	"replicas          = ceil(db_read_qps / (replica_capacity_qps × target_utilization))   (0 without replica_capacity_qps)\n" +
	"headroom_percent  = (web_nodes × node_capacity_rps / expected_peak_rps − 1) × 100\n" +
	"```\n\n" +
	"`node_capacity_rps` is what one web node sustains at the target latency, measured by a load test; " +
	"`target_utilization` keeps each node below that rate so that losing a node or a burst above the forecast " +
	"does not push latency over the target. A quotient that is a whole number up to floating-point noise " +
	"(nine decimal places) is not rounded up: 7000 / (1000 × 0.7) plans 10 nodes, not 11. " +
	"`headroom_percent` is how far above the expected peak the planned nodes could go at their full " +
	"sustainable rate, rounded to one decimal."

type capacityPlanModel struct {
	NodeCapacityRPS    types.Float64 `tfsdk:"node_capacity_rps"`
	CurrentPeakRPS     types.Float64 `tfsdk:"current_peak_rps"`
	ExpectedMultiplier types.Float64 `tfsdk:"expected_multiplier"`
	TargetUtilization  types.Float64 `tfsdk:"target_utilization"`
	MinNodes           types.Int64   `tfsdk:"min_nodes"`
	DBReadShare        types.Float64 `tfsdk:"db_read_share"`
	ReplicaCapacityQPS types.Float64 `tfsdk:"replica_capacity_qps"`
	QueriesPerRequest  types.Float64 `tfsdk:"queries_per_request"`

	ExpectedPeakRPS types.Float64 `tfsdk:"expected_peak_rps"`
	WebNodes        types.Int64   `tfsdk:"web_nodes"`
	DBReadQPS       types.Float64 `tfsdk:"db_read_qps"`
	Replicas        types.Int64   `tfsdk:"replicas"`
	HeadroomPercent types.Float64 `tfsdk:"headroom_percent"`
	Formula         types.String  `tfsdk:"formula"`
}

func (d *capacityPlanDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_plan"
}

func (d *capacityPlanDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: capacityFormulaMarkdown,
		Attributes: map[string]schema.Attribute{
			"node_capacity_rps": schema.Float64Attribute{Required: true,
				MarkdownDescription: "Requests per second one web node sustains at the target latency (from a load test). Must be positive."},
			"current_peak_rps": schema.Float64Attribute{Required: true,
				MarkdownDescription: "Today's peak request rate. Must be positive.",
			},
			"expected_multiplier": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times today's peak the event is expected to bring. Default `%g`.", defaultExpectedMultiplier)},
			"target_utilization": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Fraction of a node's (and a replica's) capacity to plan for, in (0, 1]. Default `%g`.", defaultTargetUtilization),
				Validators:          []validator.Float64{float64validator.AtMost(1)}},
			"min_nodes": schema.Int64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Never plan fewer web nodes than this, at least 1. Default `%d`.", defaultMinNodes),
				Validators:          []validator.Int64{int64validator.AtLeast(1)}},
			"db_read_share": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Fraction of requests that read from the database, in [0, 1]. Default `%g`.", defaultDBReadShare),
				Validators:          []validator.Float64{float64validator.Between(0, 1)}},
			"replica_capacity_qps": schema.Float64Attribute{Optional: true,
				MarkdownDescription: "Read queries per second one database replica sustains. Without it no replicas are planned (`replicas = 0`)."},
			"queries_per_request": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Database read queries per request that reads the database, at least 0. Default `%g`.", defaultQueriesPerRequest),
				Validators:          []validator.Float64{float64validator.AtLeast(0)}},

			"expected_peak_rps": schema.Float64Attribute{Computed: true, MarkdownDescription: "`current_peak_rps × expected_multiplier`."},
			"web_nodes":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Web nodes to run during the event."},
			"db_read_qps":       schema.Float64Attribute{Computed: true, MarkdownDescription: "Database read queries per second at the expected peak."},
			"replicas":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Read replicas to run during the event."},
			"headroom_percent":  schema.Float64Attribute{Computed: true, MarkdownDescription: "Capacity of the planned web nodes above the expected peak, in percent."},
			"formula":           schema.StringAttribute{Computed: true, MarkdownDescription: "The computation with the numbers filled in, for the runbook and the review."},
		},
	}
}

// capacityInputs are the data source's inputs with the defaults applied.
type capacityInputs struct {
	NodeCapacityRPS    float64
	CurrentPeakRPS     float64
	ExpectedMultiplier float64
	TargetUtilization  float64
	MinNodes           int64
	DBReadShare        float64
	ReplicaCapacityQPS float64 // 0: no replicas planned
	QueriesPerRequest  float64
}

type capacityPlan struct {
	ExpectedPeakRPS float64
	WebNodes        int64
	DBReadQPS       float64
	Replicas        int64
	HeadroomPercent float64
	Formula         string
}

func (m capacityPlanModel) inputs() capacityInputs {
	f := func(v types.Float64, def float64) float64 {
		if v.IsNull() || v.IsUnknown() {
			return def
		}
		return v.ValueFloat64()
	}
	in := capacityInputs{
		NodeCapacityRPS:    m.NodeCapacityRPS.ValueFloat64(),
		CurrentPeakRPS:     m.CurrentPeakRPS.ValueFloat64(),
		ExpectedMultiplier: f(m.ExpectedMultiplier, defaultExpectedMultiplier),
		TargetUtilization:  f(m.TargetUtilization, defaultTargetUtilization),
		MinNodes:           defaultMinNodes,
		DBReadShare:        f(m.DBReadShare, defaultDBReadShare),
		ReplicaCapacityQPS: f(m.ReplicaCapacityQPS, 0),
		QueriesPerRequest:  f(m.QueriesPerRequest, defaultQueriesPerRequest),
	}
	if !m.MinNodes.IsNull() && !m.MinNodes.IsUnknown() {
		in.MinNodes = m.MinNodes.ValueInt64()
	}
	return in
}

// validateCapacityConfig reports the inputs that must be strictly positive; known values only,
// so that it runs at plan time on literal configuration.
func validateCapacityConfig(m capacityPlanModel) diag.Diagnostics {
	var diags diag.Diagnostics
	positive := func(name string, v types.Float64, what string) {
		if !v.IsNull() && !v.IsUnknown() && !(v.ValueFloat64() > 0) {
			diags.AddAttributeError(path.Root(name), "Invalid capacity input",
				fmt.Sprintf("%s must be greater than 0 (%s), got %g.", name, what, v.ValueFloat64()))
		}
	}
	positive("node_capacity_rps", m.NodeCapacityRPS, "it divides the expected peak")
	positive("current_peak_rps", m.CurrentPeakRPS, "headroom is relative to the expected peak")
	positive("expected_multiplier", m.ExpectedMultiplier, "a multiplier of the current peak")
	positive("target_utilization", m.TargetUtilization, "it divides the expected peak")
	positive("replica_capacity_qps", m.ReplicaCapacityQPS, "it divides the read rate; leave it unset to plan no replicas")
	return diags
}

func (d *capacityPlanDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m capacityPlanModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateCapacityConfig(m)...)
}

func (d *capacityPlanDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m capacityPlanModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	resp.Diagnostics.Append(validateCapacityConfig(m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p := planCapacity(m.inputs())
	if p.WebNodes > maxWebPoolSize {
		resp.Diagnostics.AddAttributeWarning(path.Root("node_capacity_rps"), "More web nodes than a web pool holds",
			fmt.Sprintf("The plan asks for %d web nodes; an eventscale_web_pool holds at most %d. Check node_capacity_rps and "+
				"current_peak_rps (and the multiplier), or spread the event over several pools.", p.WebNodes, maxWebPoolSize))
	}
	m.ExpectedPeakRPS = types.Float64Value(p.ExpectedPeakRPS)
	m.WebNodes = types.Int64Value(p.WebNodes)
	m.DBReadQPS = types.Float64Value(p.DBReadQPS)
	m.Replicas = types.Int64Value(p.Replicas)
	m.HeadroomPercent = types.Float64Value(p.HeadroomPercent)
	m.Formula = types.StringValue(p.Formula)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// ceilQuotient rounds a quotient up, except that floating-point noise on a whole number
// (700.0000000000001 for 1000 × 0.7) must not buy a whole extra node.
// It saturates at maxPlanned: a quotient beyond what int64 holds is an input mistake, not a plan.
func ceilQuotient(num, den float64) int64 {
	q := math.Round(num/den*1e9) / 1e9
	if q >= maxPlanned || math.IsNaN(q) {
		return maxPlanned
	}
	return int64(math.Ceil(q))
}

// maxPlanned bounds a planned count: far beyond any pool, well within int64.
const maxPlanned = 1e12

func capNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// round cuts float noise from derived rates and percentages (3000.0000000000005 rps).
func capRound(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// planCapacity is the whole computation; the provider schema and the tests pin it.
func planCapacity(in capacityInputs) capacityPlan {
	var p capacityPlan
	p.ExpectedPeakRPS = capRound(in.CurrentPeakRPS*in.ExpectedMultiplier, 6)
	p.WebNodes = max(in.MinNodes, ceilQuotient(p.ExpectedPeakRPS, in.NodeCapacityRPS*in.TargetUtilization))
	p.DBReadQPS = capRound(p.ExpectedPeakRPS*in.DBReadShare*in.QueriesPerRequest, 6)
	replicaPart := "replicas = 0 (no replica_capacity_qps)"
	if in.ReplicaCapacityQPS > 0 && p.DBReadQPS > 0 {
		p.Replicas = ceilQuotient(p.DBReadQPS, in.ReplicaCapacityQPS*in.TargetUtilization)
		replicaPart = fmt.Sprintf("replicas = ceil(%s / (%s × %s)) = %d",
			capNum(p.DBReadQPS), capNum(in.ReplicaCapacityQPS), capNum(in.TargetUtilization), p.Replicas)
	} else if in.ReplicaCapacityQPS > 0 {
		replicaPart = "replicas = 0 (no database reads)"
	}
	if p.ExpectedPeakRPS > 0 {
		p.HeadroomPercent = capRound((float64(p.WebNodes)*in.NodeCapacityRPS/p.ExpectedPeakRPS-1)*100, 1)
	}
	p.Formula = fmt.Sprintf("expected_peak_rps = %s × %s = %s; "+
		"web_nodes = max(%d, ceil(%s / (%s × %s))) = %d; "+
		"db_read_qps = %s × %s × %s = %s; %s; "+
		"headroom_percent = (%d × %s / %s − 1) × 100 = %s",
		capNum(in.CurrentPeakRPS), capNum(in.ExpectedMultiplier), capNum(p.ExpectedPeakRPS),
		in.MinNodes, capNum(p.ExpectedPeakRPS), capNum(in.NodeCapacityRPS), capNum(in.TargetUtilization), p.WebNodes,
		capNum(p.ExpectedPeakRPS), capNum(in.DBReadShare), capNum(in.QueriesPerRequest), capNum(p.DBReadQPS), replicaPart,
		p.WebNodes, capNum(in.NodeCapacityRPS), capNum(p.ExpectedPeakRPS), capNum(p.HeadroomPercent))
	return p
}
