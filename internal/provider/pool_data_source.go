package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

var _ datasource.DataSourceWithConfigure = (*poolDataSource)(nil)

// NewPoolDataSource is the eventscale_pool factory.
func NewPoolDataSource() datasource.DataSource { return &poolDataSource{} }

type poolDataSource struct{ data *providerData }

type poolDataModel struct {
	Name                   types.String `tfsdk:"name"`
	LoadBalancerID         types.String `tfsdk:"load_balancer_id"`
	PoolID                 types.String `tfsdk:"pool_id"`
	Nodes                  types.List   `tfsdk:"nodes"`
	NodeCount              types.Int64  `tfsdk:"node_count"`
	OnlineCount            types.Int64  `tfsdk:"online_count"`
	MemberCount            types.Int64  `tfsdk:"member_count"`
	LBProvisioningStatus   types.String `tfsdk:"load_balancer_provisioning_status"`
	LBOperatingStatus      types.String `tfsdk:"load_balancer_operating_status"`
	UnmanagedMemberAddress types.List   `tfsdk:"unmanaged_member_addresses"`
}

func (d *poolDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pool"
}

func (d *poolDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The live state of a web pool: its nodes with their Nova status and member operating status, " +
			"how many are ONLINE, and the load balancer's status. Costs a constant number of API calls: one server " +
			"listing, one member listing, one status tree and one load balancer read.",
		Attributes: map[string]schema.Attribute{
			"name":             schema.StringAttribute{Required: true, MarkdownDescription: "The `eventscale_web_pool`'s name."},
			"load_balancer_id": schema.StringAttribute{Required: true, MarkdownDescription: "Octavia load balancer id."},
			"pool_id":          schema.StringAttribute{Required: true, MarkdownDescription: "Octavia pool id."},
			"nodes": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The pool's managed nodes.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":             schema.StringAttribute{Computed: true, MarkdownDescription: "Server name."},
					"id":               schema.StringAttribute{Computed: true, MarkdownDescription: "Nova server id."},
					"address":          schema.StringAttribute{Computed: true, MarkdownDescription: "Member address."},
					"member_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia member id."},
					"status":           schema.StringAttribute{Computed: true, MarkdownDescription: "Nova status."},
					"image_id":         schema.StringAttribute{Computed: true, MarkdownDescription: "Image."},
					"operating_status": schema.StringAttribute{Computed: true, MarkdownDescription: "Member operating status."},
					"created_at":       schema.StringAttribute{Computed: true, MarkdownDescription: "When Nova created the server (RFC 3339)."},
					"flavor":           schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the server's flavor."},
					"drained":          schema.BoolAttribute{Computed: true, MarkdownDescription: "The member is drained (weight 0 or disabled) and serves no traffic."},
				}}},
			"node_count":                        schema.Int64Attribute{Computed: true, MarkdownDescription: "Managed nodes that exist."},
			"online_count":                      schema.Int64Attribute{Computed: true, MarkdownDescription: "Managed members whose operating status is ONLINE."},
			"member_count":                      schema.Int64Attribute{Computed: true, MarkdownDescription: "All members of the pool, managed or not."},
			"load_balancer_provisioning_status": schema.StringAttribute{Computed: true, MarkdownDescription: "ACTIVE, PENDING_*, ERROR."},
			"load_balancer_operating_status":    schema.StringAttribute{Computed: true, MarkdownDescription: "ONLINE, DEGRADED, ERROR, ..."},
			"unmanaged_member_addresses": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Addresses of the members this pool does not manage (such as web01): never touched."},
		},
	}
}

func (d *poolDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (d *poolDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m poolDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	compute, err := d.data.client.Compute(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot use the compute service", err.Error())
		return
	}
	lb, err := d.data.client.LoadBalancer(ctx, m.LoadBalancerID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot use the load-balancer service", err.Error())
		return
	}
	pool, err := scaling.New(scaling.Config{
		Spec:    scaling.PoolSpec{Key: m.Name.ValueString(), NamePrefix: m.Name.ValueString(), LoadBalancerID: m.LoadBalancerID.ValueString(), PoolID: m.PoolID.ValueString(), ProtocolPort: 1, ImageID: "-", FlavorID: "-"},
		Compute: compute, LB: lb,
	})
	if err != nil {
		resp.Diagnostics.AddError("Invalid pool", err.Error())
		return
	}
	if err := pool.Discover(ctx); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading pool %q", m.Name.ValueString()), err.Error())
		return
	}
	nodes := pool.Nodes()
	online := 0
	for _, n := range nodes {
		if n.OperatingStatus == "ONLINE" {
			online++
		}
	}
	members, err := lb.ListMembers(ctx, m.PoolID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Reading the pool's members", err.Error())
		return
	}
	var unmanaged []string
	for _, mem := range members {
		if !scaling.IsPoolMember(m.Name.ValueString(), mem) {
			unmanaged = append(unmanaged, mem.Address)
		}
	}
	got, err := lb.GetLoadBalancer(ctx, m.LoadBalancerID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Reading the load balancer "+m.LoadBalancerID.ValueString(), err.Error())
		return
	}
	m.Nodes = nodesToState(nodes)
	m.NodeCount = types.Int64Value(int64(len(nodes)))
	m.OnlineCount = types.Int64Value(int64(online))
	m.MemberCount = types.Int64Value(int64(len(members)))
	m.LBProvisioningStatus = types.StringValue(got.ProvisioningStatus)
	m.LBOperatingStatus = types.StringValue(got.OperatingStatus)
	ul, diags := types.ListValueFrom(ctx, types.StringType, unmanaged)
	resp.Diagnostics.Append(diags...)
	m.UnmanagedMemberAddress = ul
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
