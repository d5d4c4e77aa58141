package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/event"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

var (
	_ datasource.DataSource                   = (*capacityPlanDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*capacityPlanDataSource)(nil)
)

// NewCapacityPlanDataSource is the factory registered in the provider.
func NewCapacityPlanDataSource() datasource.DataSource { return &capacityPlanDataSource{} }

type capacityPlanDataSource struct{ data *providerData }

var _ datasource.DataSourceWithConfigure = (*capacityPlanDataSource)(nil)

// Configure takes the provider's journal: the plan is recorded for the review after the event.
func (d *capacityPlanDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

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
		MarkdownDescription: event.CapacityFormulaMarkdown,
		Attributes: map[string]schema.Attribute{
			"node_capacity_rps": schema.Float64Attribute{Required: true,
				MarkdownDescription: "Requests per second one web node sustains at the target latency (from a load test). Must be positive."},
			"current_peak_rps": schema.Float64Attribute{Required: true,
				MarkdownDescription: "Today's peak request rate. Must be positive.",
			},
			"expected_multiplier": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times today's peak the event is expected to bring. Default `%g`.", event.DefaultExpectedMultiplier)},
			"target_utilization": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Fraction of a node's (and a replica's) capacity to plan for, in (0, 1]. Default `%g`.", event.DefaultTargetUtilization),
				Validators:          []validator.Float64{float64validator.AtMost(1)}},
			"min_nodes": schema.Int64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Never plan fewer web nodes than this, at least 1. Default `%d`.", event.DefaultMinNodes),
				Validators:          []validator.Int64{int64validator.AtLeast(1)}},
			"db_read_share": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Fraction of requests that read from the database, in [0, 1]. Default `%g`.", event.DefaultDBReadShare),
				Validators:          []validator.Float64{float64validator.Between(0, 1)}},
			"replica_capacity_qps": schema.Float64Attribute{Optional: true,
				MarkdownDescription: "Read queries per second one database replica sustains. Without it no replicas are planned (`replicas = 0`)."},
			"queries_per_request": schema.Float64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("Database read queries per request that reads the database, at least 0. Default `%g`.", event.DefaultQueriesPerRequest),
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

// inputs applies the documented defaults to the attributes left unset.
func (m capacityPlanModel) inputs() event.CapacityInputs {
	f := func(v types.Float64, def float64) float64 {
		if v.IsNull() || v.IsUnknown() {
			return def
		}
		return v.ValueFloat64()
	}
	in := event.CapacityInputs{
		NodeCapacityRPS:    m.NodeCapacityRPS.ValueFloat64(),
		CurrentPeakRPS:     m.CurrentPeakRPS.ValueFloat64(),
		ExpectedMultiplier: f(m.ExpectedMultiplier, event.DefaultExpectedMultiplier),
		TargetUtilization:  f(m.TargetUtilization, event.DefaultTargetUtilization),
		MinNodes:           event.DefaultMinNodes,
		DBReadShare:        f(m.DBReadShare, event.DefaultDBReadShare),
		ReplicaCapacityQPS: f(m.ReplicaCapacityQPS, 0),
		QueriesPerRequest:  f(m.QueriesPerRequest, event.DefaultQueriesPerRequest),
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
	p := event.PlanCapacity(m.inputs())
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
	if d.data != nil && d.data.journal != nil {
		in := m.inputs()
		_ = d.data.journal.Write(journal.CapacityPlanEntry("data.eventscale_capacity_plan", journal.CapacityPlan{
			NodeCapacityRPS: in.NodeCapacityRPS, CurrentPeakRPS: in.CurrentPeakRPS, ExpectedMultiplier: in.ExpectedMultiplier,
			TargetUtilization: in.TargetUtilization, MinNodes: int(in.MinNodes), DBReadShare: in.DBReadShare,
			ReplicaCapacityQPS: in.ReplicaCapacityQPS, QueriesPerRequest: in.QueriesPerRequest,
			ExpectedPeakRPS: p.ExpectedPeakRPS, WebNodes: int(p.WebNodes), DBReadQPS: p.DBReadQPS, Replicas: int(p.Replicas),
			HeadroomPercent: p.HeadroomPercent, Formula: p.Formula,
		}))
	}
}
