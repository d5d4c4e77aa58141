package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
)

var _ datasource.DataSourceWithConfigure = (*quotaDataSource)(nil)

// NewQuotaDataSource is the data.eventscale_quota factory.
func NewQuotaDataSource() datasource.DataSource { return &quotaDataSource{} }

type quotaDataSource struct{ data *providerData }

var quotaServices = []string{quota.Compute, quota.Network, quota.LoadBalancer, quota.Database}

var quotaAttrTypes = map[string]attr.Type{
	"service": types.StringType, "resource": types.StringType,
	"limit": types.Int64Type, "in_use": types.Int64Type, "available": types.Int64Type,
}

var uncheckedAttrTypes = map[string]attr.Type{"service": types.StringType, "reason": types.StringType}

type quotaDataModel struct {
	Services  types.List `tfsdk:"services"`
	Quotas    types.List `tfsdk:"quotas"`
	Unchecked types.List `tfsdk:"unchecked"`
}

func (d *quotaDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_quota"
}

func (d *quotaDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The project's quotas as the pre-flight check reads them: for each service, each quota's limit, " +
			"what is in use and what is left. The same figures the plan checks before creating anything, so a " +
			"configuration can output them or check them in a `check` block. A service whose quota API is missing or " +
			"forbidden is listed in `unchecked` with the reason, never an error.",
		Attributes: map[string]schema.Attribute{
			"services": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Services to read: `compute` (Nova), `network` (Neutron), `load-balancer` (Octavia), " +
					"`database` (Trove). Default: all four.",
				Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.OneOf(quotaServices...)), listvalidator.UniqueValues()}},
			"quotas": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "One entry per quota read.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"service":   schema.StringAttribute{Computed: true, MarkdownDescription: "`compute`, `network`, `load-balancer` or `database`."},
					"resource":  schema.StringAttribute{Computed: true, MarkdownDescription: "The quota's name in that service, e.g. `instances`, `floatingip`, `member`."},
					"limit":     schema.Int64Attribute{Computed: true, MarkdownDescription: "The limit; `-1` for none."},
					"in_use":    schema.Int64Attribute{Computed: true, MarkdownDescription: "In use (with reservations). Octavia and Trove report no usage: their objects are counted."},
					"available": schema.Int64Attribute{Computed: true, MarkdownDescription: "What is left; `-1` when there is no limit."},
				}}},
			"unchecked": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Services whose quotas could not be read.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"service": schema.StringAttribute{Computed: true, MarkdownDescription: "The service."},
					"reason":  schema.StringAttribute{Computed: true, MarkdownDescription: "Why: no such service in the catalog, a policy, an error."},
				}}},
		},
	}
}

func (d *quotaDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (d *quotaDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m quotaDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "the eventscale provider was not configured before data.eventscale_quota was read")
		return
	}
	services := stringList(ctx, m.Services, &resp.Diagnostics)
	if len(services) == 0 {
		services = quotaServices
	}
	usages, unchecked := d.data.quotas.Read(ctx, services...)
	quotas := make([]attr.Value, 0, len(usages))
	for _, u := range cloud.SortedUsages(usages) {
		available := int64(quota.Unlimited)
		if u.Limit != quota.Unlimited {
			available = int64(max(0, u.Limit-u.InUse))
		}
		quotas = append(quotas, types.ObjectValueMust(quotaAttrTypes, map[string]attr.Value{
			"service": types.StringValue(u.Service), "resource": types.StringValue(u.Resource),
			"limit": types.Int64Value(int64(u.Limit)), "in_use": types.Int64Value(int64(u.InUse)), "available": types.Int64Value(available),
		}))
	}
	skipped := make([]attr.Value, 0, len(unchecked))
	for _, u := range unchecked {
		skipped = append(skipped, types.ObjectValueMust(uncheckedAttrTypes, map[string]attr.Value{
			"service": types.StringValue(u.Service), "reason": types.StringValue(u.Reason)}))
		resp.Diagnostics.AddWarning(fmt.Sprintf("Quotas of the %s service not read", u.Service), u.Reason)
	}
	m.Quotas = types.ListValueMust(types.ObjectType{AttrTypes: quotaAttrTypes}, quotas)
	m.Unchecked = types.ListValueMust(types.ObjectType{AttrTypes: uncheckedAttrTypes}, skipped)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
