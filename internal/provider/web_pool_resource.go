package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

var (
	_ resource.Resource                = (*webPoolResource)(nil)
	_ resource.ResourceWithImportState = (*webPoolResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*webPoolResource)(nil)
	_ resource.ResourceWithConfigure   = (*webPoolResource)(nil)
)

// NewWebPoolResource is the eventscale_web_pool factory.
func NewWebPoolResource() resource.Resource { return &webPoolResource{} }

type webPoolResource struct{ data *providerData }

type webPoolModel struct {
	ID                types.String   `tfsdk:"id"`
	Name              types.String   `tfsdk:"name"`
	Size              types.Int64    `tfsdk:"size"`
	ImageID           types.String   `tfsdk:"image_id"`
	Flavor            types.String   `tfsdk:"flavor"`
	Networks          types.List     `tfsdk:"networks"`
	KeyPair           types.String   `tfsdk:"key_pair"`
	SecurityGroups    types.List     `tfsdk:"security_groups"`
	UserData          types.String   `tfsdk:"user_data"`
	AvailabilityZones types.List     `tfsdk:"availability_zones"`
	ServerGroupPolicy types.String   `tfsdk:"server_group_policy"`
	ServerGroupID     types.String   `tfsdk:"server_group_id"`
	Metadata          types.Map      `tfsdk:"metadata"`
	LoadBalancerID    types.String   `tfsdk:"load_balancer_id"`
	PoolID            types.String   `tfsdk:"pool_id"`
	ProtocolPort      types.Int64    `tfsdk:"protocol_port"`
	SubnetID          types.String   `tfsdk:"subnet_id"`
	EventID           types.String   `tfsdk:"event_id"`
	AllowDuringEvent  types.Bool     `tfsdk:"allow_during_event"`
	ScaleOut          *scaleOutModel `tfsdk:"scale_out"`
	ScaleIn           *scaleInModel  `tfsdk:"scale_in"`
	Nodes             types.List     `tfsdk:"nodes"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

type scaleOutModel struct {
	MaxParallel       types.Int64 `tfsdk:"max_parallel"`
	MinHealthyPercent types.Int64 `tfsdk:"min_healthy_percent"`
	WaitForHealthy    types.Bool  `tfsdk:"wait_for_healthy"`
	HealthyStatuses   types.List  `tfsdk:"healthy_statuses"`
	RebootCheck       types.Bool  `tfsdk:"reboot_check"`
	CreateRetries     types.Int64 `tfsdk:"create_retries"`
}

type scaleInModel struct {
	BatchSize            types.Int64  `tfsdk:"batch_size"`
	DrainTimeout         types.String `tfsdk:"drain_timeout"`
	DrainMethod          types.String `tfsdk:"drain_method"`
	Order                types.String `tfsdk:"order"`
	HealthCheckURL       types.String `tfsdk:"health_check_url"`
	HealthCheckSuccesses types.Int64  `tfsdk:"health_check_successes"`
	PreDeleteWebhook     types.String `tfsdk:"pre_delete_webhook"`
	WebhookTimeout       types.String `tfsdk:"webhook_timeout"`
}

var nodeAttrTypes = map[string]attr.Type{
	"name":             types.StringType,
	"id":               types.StringType,
	"address":          types.StringType,
	"member_id":        types.StringType,
	"status":           types.StringType,
	"image_id":         types.StringType,
	"operating_status": types.StringType,
	"created_at":       types.StringType,
}

var nodeObjectType = types.ObjectType{AttrTypes: nodeAttrTypes}

func (r *webPoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_web_pool"
}

var poolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,48}$`)

func durationValidator() validator.String {
	return stringvalidator.RegexMatches(regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`),
		`must be a duration such as "60s", "5m" or "1m30s"`)
}

func (r *webPoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "N web nodes built from one image behind an Octavia pool. Growing `size` creates the missing " +
			"nodes in parallel and joins them in one member update; shrinking it (and destroying the resource) is the " +
			"staggered scale-back: `scale_in.batch_size` nodes at a time are drained (weight 0), given " +
			"`scale_in.drain_timeout` to finish open connections, removed from the pool, deleted, and the remaining " +
			"tier is health-checked before the next batch. Changing `image_id` replaces nodes batch by batch, new " +
			"nodes healthy before old ones drain. Members this resource did not create (such as `web01`) are never touched. " +
			"Changes to `networks`, `key_pair`, `security_groups`, `user_data`, `availability_zones` and `metadata` apply " +
			"to nodes created afterwards; a new `image_id` is what rolls every node over.\n\n" +
			"Nodes are named `<name>-NN` and carry the metadata `eventscale_pool = <name>`, so a node whose create " +
			"response was lost, or an apply that was interrupted, is found and adopted rather than created twice.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The pool's name: the key its nodes carry.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Name of the pool, unique in the project; nodes are named `<name>-01`, `<name>-02`, ...",
				Validators:          []validator.String{stringvalidator.RegexMatches(poolNamePattern, "must be 1-49 letters, digits, '.', '_' or '-'")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"size": schema.Int64Attribute{Required: true, MarkdownDescription: "Number of web nodes.",
				Validators: []validator.Int64{int64validator.Between(0, 500)}},
			"image_id": schema.StringAttribute{Required: true,
				MarkdownDescription: "Image the nodes boot from (for example `eventscale_seed_image.web.id`). A change is a rolling replacement."},
			"flavor": schema.StringAttribute{Required: true, MarkdownDescription: "Flavor id or name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"networks": schema.ListAttribute{Required: true, ElementType: types.StringType,
				MarkdownDescription: "Network UUIDs; the first carries the address registered as the pool member.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
			"key_pair":        schema.StringAttribute{Optional: true, MarkdownDescription: "Nova key pair name."},
			"security_groups": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Security group names."},
			"user_data":       schema.StringAttribute{Optional: true, MarkdownDescription: "User data (cloud-init) for new nodes."},
			"availability_zones": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Availability zones to spread the nodes over, round-robin by node number " +
					"(`<name>-01` in the first, `<name>-02` in the second, ...). Unset lets Nova choose.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()}},
			"server_group_policy": schema.StringAttribute{Optional: true,
				MarkdownDescription: "`anti-affinity` or `soft-anti-affinity`: the nodes are placed in a server group named " +
					"after the pool, so that one host failing (or one busy host) does not take several nodes.",
				Validators:    []validator.String{stringvalidator.OneOf("anti-affinity", "soft-anti-affinity")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"server_group_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The server group's id, when a policy is set.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"metadata": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Extra Nova metadata for new nodes (the `eventscale_*` keys are reserved)."},
			"load_balancer_id": schema.StringAttribute{Required: true, MarkdownDescription: "Octavia load balancer id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"pool_id": schema.StringAttribute{Required: true, MarkdownDescription: "Octavia pool the nodes join.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port the nodes serve on.",
				Validators: []validator.Int64{int64validator.Between(1, 65535)}},
			"subnet_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Subnet of the member addresses (defaults to the load balancer's VIP subnet)."},
			"event_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "An `eventscale_event` id: between its `starts_at` and `ends_at` this pool refuses to shrink or be destroyed."},
			"allow_during_event": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Allow shrinking or destroying during the event's freeze window."},
			"scale_out": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "How nodes are added.",
				Attributes: map[string]schema.Attribute{
					"max_parallel": schema.Int64Attribute{Optional: true, MarkdownDescription: "Servers created at once (default 10).",
						Validators: []validator.Int64{int64validator.Between(1, 100)}},
					"min_healthy_percent": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Percentage of new nodes that must be healthy for success (default 100).",
						Validators:          []validator.Int64{int64validator.Between(0, 100)}},
					"wait_for_healthy": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Wait until new members are healthy by the health monitor (default true)."},
					"healthy_statuses": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Member operating statuses counted as healthy (default `[\"ONLINE\"]`). Clouds whose " +
							"Octavia reports no health (no amphora heartbeats) can add `NO_MONITOR` or `OFFLINE`."},
					"reboot_check": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Reboot each new node once, one at a time; each must come back healthy (default false)."},
					"create_retries": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Times a node whose server ends in ERROR is deleted and created again (default 2).",
						Validators:          []validator.Int64{int64validator.Between(0, 10)}},
				}},
			"scale_in": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "How nodes are removed: the staggered scale-back.",
				Attributes: map[string]schema.Attribute{
					"batch_size": schema.Int64Attribute{Optional: true, MarkdownDescription: "Nodes drained per step (default 1).",
						Validators: []validator.Int64{int64validator.Between(1, 100)}},
					"drain_timeout": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Time given to open connections after the member stops receiving new ones (default `60s`). " +
							"Octavia exposes no per-member connection count, so this is a timed wait, like AWS's deregistration delay.",
						Validators: []validator.String{durationValidator()}},
					"drain_method": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`weight` (default: weight 0, existing connections continue) or `disable` " +
							"(admin_state_up = false, for providers without weights such as OVN).",
						Validators: []validator.String{stringvalidator.OneOf("weight", "disable")}},
					"order": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`newest-first` (default) or `oldest-first`.",
						Validators:          []validator.String{stringvalidator.OneOf("newest-first", "oldest-first")}},
					"health_check_url": schema.StringAttribute{Optional: true,
						MarkdownDescription: "URL (normally the VIP) that must answer 2xx/3xx after each step, or the scale-back stops.",
						Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^https?://`), "must be an http or https URL")}},
					"health_check_successes": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Consecutive good answers required (default 3).",
						Validators:          []validator.Int64{int64validator.Between(1, 100)}},
					"pre_delete_webhook": schema.StringAttribute{Optional: true,
						MarkdownDescription: "URL POSTed the node's details after its drain; it must answer 2xx before the node is removed.",
						Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^https?://`), "must be an http or https URL")}},
					"webhook_timeout": schema.StringAttribute{Optional: true, MarkdownDescription: "Bound on the webhook wait (default `5m`).",
						Validators: []validator.String{durationValidator()}},
				}},
			"nodes": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The pool's nodes as they exist.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":             schema.StringAttribute{Computed: true, MarkdownDescription: "Server name."},
					"id":               schema.StringAttribute{Computed: true, MarkdownDescription: "Nova server id."},
					"address":          schema.StringAttribute{Computed: true, MarkdownDescription: "Member address."},
					"member_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia member id (empty when not joined)."},
					"status":           schema.StringAttribute{Computed: true, MarkdownDescription: "Nova status."},
					"image_id":         schema.StringAttribute{Computed: true, MarkdownDescription: "Image the node runs."},
					"operating_status": schema.StringAttribute{Computed: true, MarkdownDescription: "Member operating status as last seen."},
					"created_at":       schema.StringAttribute{Computed: true, MarkdownDescription: "When Nova created the server (RFC 3339): the scale-back order."},
				}}},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *webPoolResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// options turns the scale_out / scale_in blocks into the library's options.
func (m *webPoolModel) options(ctx context.Context, diags *diag.Diagnostics) scaling.Options {
	var o scaling.Options
	if so := m.ScaleOut; so != nil {
		o.MaxParallel = int(so.MaxParallel.ValueInt64())
		o.MinHealthyPercent = int(so.MinHealthyPercent.ValueInt64())
		o.RebootCheck = so.RebootCheck.ValueBool()
		if !so.CreateRetries.IsNull() {
			o.CreateRetries = int(so.CreateRetries.ValueInt64())
			if o.CreateRetries == 0 {
				o.CreateRetries = -1
			}
		}
		if !so.HealthyStatuses.IsNull() && !so.HealthyStatuses.IsUnknown() {
			diags.Append(so.HealthyStatuses.ElementsAs(ctx, &o.HealthyStatuses, false)...)
		}
		if !so.WaitForHealthy.IsNull() && !so.WaitForHealthy.ValueBool() {
			o.MinHealthyPercent = 0
			o.HealthyStatuses = nil
			o.SkipHealthWait = true
		}
	}
	if si := m.ScaleIn; si != nil {
		o.BatchSize = int(si.BatchSize.ValueInt64())
		o.DrainMethod = scaling.DrainMethod(si.DrainMethod.ValueString())
		o.Order = scaling.Order(si.Order.ValueString())
		o.HealthCheckURL = si.HealthCheckURL.ValueString()
		o.HealthCheckSuccesses = int(si.HealthCheckSuccesses.ValueInt64())
		o.PreDeleteWebhook = si.PreDeleteWebhook.ValueString()
		o.DrainTimeout = parseDuration(si.DrainTimeout, path.Root("scale_in").AtName("drain_timeout"), diags)
		if !si.DrainTimeout.IsNull() && o.DrainTimeout == 0 {
			o.DrainTimeout = -1 // an explicit "0s": no wait
		}
		o.WebhookTimeout = parseDuration(si.WebhookTimeout, path.Root("scale_in").AtName("webhook_timeout"), diags)
	}
	return o
}

func parseDuration(v types.String, p path.Path, diags *diag.Diagnostics) time.Duration {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return 0
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		diags.AddAttributeError(p, "Invalid duration", err.Error())
	}
	return d
}

func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

// pool builds the scaling library's Pool for this configuration.
func (r *webPoolResource) pool(ctx context.Context, m *webPoolModel, known []scaling.Node, diags *diag.Diagnostics) (*scaling.Pool, *cloud.Compute) {
	if r.data == nil {
		diags.AddError("Provider not configured", "the eventscale provider was not configured before eventscale_web_pool was used")
		return nil, nil
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		diags.AddError("Cannot use the compute service", err.Error())
		return nil, nil
	}
	lb, err := r.data.client.LoadBalancer(ctx, m.LoadBalancerID.ValueString())
	if err != nil {
		diags.AddError("Cannot use the load-balancer service", err.Error())
		return nil, nil
	}
	// Only creating nodes needs the flavor: reading and destroying an imported pool do not.
	var flavorID string
	if flavor := m.Flavor.ValueString(); flavor != "" {
		id, err := compute.ResolveFlavor(ctx, flavor)
		if err != nil {
			diags.AddAttributeError(path.Root("flavor"), "Unknown flavor", err.Error())
			return nil, nil
		}
		flavorID = id
	}
	opts := m.options(ctx, diags)
	opts.PollInterval = r.data.client.Poll().Interval
	opts.Progress = func(p scaling.Progress) {
		tflog.Info(ctx, p.Message, map[string]any{"pool": m.Name.ValueString(), "step": string(p.Step), "nodes": strings.Join(p.Nodes, ",")})
	}
	spec := scaling.PoolSpec{
		Key:               m.Name.ValueString(),
		NamePrefix:        m.Name.ValueString(),
		ImageID:           m.ImageID.ValueString(),
		FlavorID:          flavorID,
		Networks:          stringList(ctx, m.Networks, diags),
		KeyPair:           m.KeyPair.ValueString(),
		SecurityGroups:    stringList(ctx, m.SecurityGroups, diags),
		UserData:          m.UserData.ValueString(),
		AvailabilityZones: stringList(ctx, m.AvailabilityZones, diags),
		ServerGroupID:     m.ServerGroupID.ValueString(),
		LoadBalancerID:    m.LoadBalancerID.ValueString(),
		PoolID:            m.PoolID.ValueString(),
		ProtocolPort:      int(m.ProtocolPort.ValueInt64()),
		SubnetID:          m.SubnetID.ValueString(),
	}
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		diags.Append(m.Metadata.ElementsAs(ctx, &spec.Metadata, false)...)
	}
	if diags.HasError() {
		return nil, nil
	}
	p, err := scaling.New(scaling.Config{Spec: spec, Options: opts, Compute: compute, LB: lb, Known: known})
	if err != nil {
		diags.AddError("Invalid web pool", err.Error())
		return nil, nil
	}
	return p, compute
}

// nodesFromState rebuilds the library's nodes from state, with the ordinal and creation time
// that decide the scale-back order, so a plan-time preview drains in the order apply will.
func nodesFromState(ctx context.Context, prefix string, l types.List, diags *diag.Diagnostics) []scaling.Node {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var objs []struct {
		Name            types.String `tfsdk:"name"`
		ID              types.String `tfsdk:"id"`
		Address         types.String `tfsdk:"address"`
		MemberID        types.String `tfsdk:"member_id"`
		Status          types.String `tfsdk:"status"`
		ImageID         types.String `tfsdk:"image_id"`
		OperatingStatus types.String `tfsdk:"operating_status"`
		CreatedAt       types.String `tfsdk:"created_at"`
	}
	diags.Append(l.ElementsAs(ctx, &objs, false)...)
	out := make([]scaling.Node, 0, len(objs))
	for _, o := range objs {
		n := scaling.Node{Name: o.Name.ValueString(), ServerID: o.ID.ValueString(), Address: o.Address.ValueString(),
			MemberID: o.MemberID.ValueString(), Status: o.Status.ValueString(), ImageID: o.ImageID.ValueString(),
			OperatingStatus: o.OperatingStatus.ValueString()}
		n.Ordinal, _ = scaling.OrdinalFromName(prefix, n.Name)
		if t, err := time.Parse(time.RFC3339Nano, o.CreatedAt.ValueString()); err == nil {
			n.Created = t
		}
		out = append(out, n)
	}
	return out
}

func nodesToState(nodes []scaling.Node) types.List {
	vals := make([]attr.Value, 0, len(nodes))
	for _, n := range nodes {
		vals = append(vals, types.ObjectValueMust(nodeAttrTypes, map[string]attr.Value{
			"name": types.StringValue(n.Name), "id": types.StringValue(n.ServerID), "address": types.StringValue(n.Address),
			"member_id": types.StringValue(n.MemberID), "status": types.StringValue(n.Status), "image_id": types.StringValue(n.ImageID),
			"operating_status": types.StringValue(n.OperatingStatus),
			"created_at":       types.StringValue(createdAt(n.Created)),
		}))
	}
	return types.ListValueMust(nodeObjectType, vals)
}

func createdAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// inService counts the nodes that serve traffic: an ACTIVE server joined to the pool. A node
// deleted or broken outside Terraform drops out of the count, so the next plan shows the
// pool short and the next apply replaces it.
func inService(nodes []scaling.Node) int {
	n := 0
	for _, node := range nodes {
		if node.ServerID != "" && node.MemberID != "" && node.Status == "ACTIVE" && !node.Drained {
			n++
		}
	}
	return n
}

func (r *webPoolResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan webPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	plan.ID = plan.Name
	plan.ServerGroupID = types.StringValue("")
	if policy := plan.ServerGroupPolicy.ValueString(); policy != "" {
		compute, err := r.data.client.Compute(ctx)
		if err == nil {
			var id string
			id, err = compute.EnsureServerGroup(ctx, plan.Name.ValueString(), policy)
			plan.ServerGroupID = types.StringValue(id)
		}
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("server_group_policy"), "Cannot create the server group", err.Error())
			return
		}
	}
	r.apply(ctx, &plan, nil, &resp.State, &resp.Diagnostics)
}

// apply runs the scaling library and saves exactly what exists, error or not.
func (r *webPoolResource) apply(ctx context.Context, m *webPoolModel, known []scaling.Node, state interface {
	Set(context.Context, any) diag.Diagnostics
}, diags *diag.Diagnostics) {
	p, _ := r.pool(ctx, m, known, diags)
	if p == nil {
		return
	}
	desired := int(m.Size.ValueInt64())
	nodes, err := p.Apply(ctx, desired)
	m.Nodes = nodesToState(nodes)
	if err != nil {
		// Record what exists; the size in state is what serves, so the next plan retries.
		m.Size = types.Int64Value(int64(inService(nodes)))
		diags.AddError(fmt.Sprintf("Scaling web pool %q to %d nodes failed", m.Name.ValueString(), desired),
			err.Error()+"\n\nThe state lists exactly the nodes that exist now; run apply again to resume.")
	}
	diags.Append(state.Set(ctx, m)...)
}

func (r *webPoolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state webPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, _ := r.pool(ctx, &state, nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics), &resp.Diagnostics)
	if p == nil {
		return
	}
	if err := p.Discover(ctx); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading web pool %q", state.Name.ValueString()), err.Error())
		return
	}
	nodes := p.Nodes()
	state.Nodes = nodesToState(nodes)
	state.Size = types.Int64Value(int64(inService(nodes)))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *webPoolResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior webPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	known := nodesFromState(ctx, prior.Name.ValueString(), prior.Nodes, &resp.Diagnostics)
	if plan.Size.ValueInt64() < int64(len(known)) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("size"), "Shrinking is frozen during the event", err.Error())
			return
		}
	}
	plan.ID = prior.ID
	plan.ServerGroupID = prior.ServerGroupID
	r.apply(ctx, &plan, known, &resp.State, &resp.Diagnostics)
}

func (r *webPoolResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state webPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
		resp.Diagnostics.AddError("Destroying the web pool is frozen during the event", err.Error())
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	p, compute := r.pool(ctx, &state, nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics), &resp.Diagnostics)
	if p == nil {
		return
	}
	nodes, err := p.Destroy(ctx)
	if err != nil {
		state.Nodes = nodesToState(nodes)
		state.Size = types.Int64Value(int64(inService(nodes)))
		resp.Diagnostics.AddError(fmt.Sprintf("Scaling back web pool %q failed", state.Name.ValueString()),
			err.Error()+"\n\nThe nodes still listed in state exist; run destroy again to resume.")
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	if id := state.ServerGroupID.ValueString(); id != "" {
		if err := compute.DeleteServerGroup(ctx, id); err != nil {
			resp.Diagnostics.AddError("Deleting the server group", err.Error())
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		}
	}
}

// ImportState takes "<name>/<load_balancer_id>/<pool_id>/<protocol_port>" — the pool key and
// where its members live — then Read finds the nodes by their metadata.
func (r *webPoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, "/")
	if len(parts) != 4 {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("expected <name>/<load_balancer_id>/<pool_id>/<protocol_port>, got %q", req.ID))
		return
	}
	var port int64
	if _, err := fmt.Sscanf(parts[3], "%d", &port); err != nil {
		resp.Diagnostics.AddError("Invalid import id", "protocol_port must be a number: "+parts[3])
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), parts[0])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), parts[0])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("load_balancer_id"), parts[1])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("pool_id"), parts[2])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("protocol_port"), port)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("nodes"), types.ListValueMust(nodeObjectType, nil))...)
}

// ModifyPlan shows the scale-back before it happens: a shrink or destroy lists the nodes to be
// drained, in order, and the freeze window is enforced at plan time too.
func (r *webPoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() {
		return
	}
	var state webPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics)
	if req.Plan.Raw.IsNull() { // destroy
		if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddError("Destroying the web pool is frozen during the event", err.Error())
			return
		}
		r.warnScaleBack(ctx, &state, known, 0, resp)
		return
	}
	var plan webPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Size.IsUnknown() || plan.ImageID.IsUnknown() {
		return
	}
	// nodes is left to the framework: unknown whenever the pool changes at all, since any
	// apply re-reads every node's status.
	if plan.Size.ValueInt64() < int64(len(known)) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("size"), "Shrinking is frozen during the event", err.Error())
			return
		}
	}
	r.warnScaleBack(ctx, &plan, known, int(plan.Size.ValueInt64()), resp)
}

func (r *webPoolResource) warnScaleBack(ctx context.Context, m *webPoolModel, known []scaling.Node, desired int, resp *resource.ModifyPlanResponse) {
	var diags diag.Diagnostics
	opts := m.options(ctx, &diags)
	steps := scaling.Plan(scaling.PlanInput{
		Nodes: known, Desired: desired, NamePrefix: m.Name.ValueString(), ImageID: m.ImageID.ValueString(),
		BatchSize: opts.BatchSize, Order: opts.Order, DrainMethod: opts.DrainMethod, DrainTimeout: withDefault(opts.DrainTimeout, 60*time.Second),
		Webhook: opts.PreDeleteWebhook != "", HealthCheckURL: opts.HealthCheckURL, RebootCheck: opts.RebootCheck,
	})
	var lines []string
	drains := 0
	for _, st := range steps {
		if st.Kind == scaling.StepDrain {
			drains++
		}
		lines = append(lines, fmt.Sprintf("%2d. %s", len(lines)+1, st.String()))
	}
	if drains == 0 {
		return
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("Web pool %q: staggered scale-back of %d step(s) with draining", m.Name.ValueString(), drains),
		"These steps will run in this order, stopping at the first failure:\n"+strings.Join(lines, "\n"))
}

func withDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
