package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
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
	CreateSecGroup    types.Bool     `tfsdk:"create_security_group"`
	SecurityGroupID   types.String   `tfsdk:"security_group_id"`
	UserData          types.String   `tfsdk:"user_data"`
	AvailabilityZones types.List     `tfsdk:"availability_zones"`
	ServerGroupPolicy types.String   `tfsdk:"server_group_policy"`
	ServerGroupID     types.String   `tfsdk:"server_group_id"`
	ServerGroupIDs    types.List     `tfsdk:"server_group_ids"`
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
	"flavor":           types.StringType,
	"name":             types.StringType,
	"id":               types.StringType,
	"address":          types.StringType,
	"member_id":        types.StringType,
	"status":           types.StringType,
	"image_id":         types.StringType,
	"operating_status": types.StringType,
	"created_at":       types.StringType,
	"drained":          types.BoolType,
}

var nodeObjectType = types.ObjectType{AttrTypes: nodeAttrTypes}

func (r *webPoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_web_pool"
}

var poolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,48}$`)

// Bounds of the scale-in durations: a drain longer than an hour keeps paying for a node nobody
// sends traffic to, and a webhook that needs longer is not a pre-delete hook.
const (
	maxDrainTimeout   = time.Hour
	maxWebhookTimeout = time.Hour
)

// maxWebPoolSize is the most nodes one pool manages.
const maxWebPoolSize = 500

// notBuilt is the status of a node the plan named but an apply could not build; the next
// refresh drops it and the next apply builds it.
const notBuilt = "NOT_BUILT"

func (r *webPoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "N web nodes built from one image behind an Octavia pool. Growing `size` creates the missing " +
			"nodes in parallel (`max_parallel` at once) and joins them in one member update, or, when more nodes are added than " +
			"build at once, one member update per `max_parallel` nodes built, so the first serve while the rest build; shrinking it (and destroying the resource) is the " +
			"staggered scale-back: `scale_in.batch_size` nodes at a time are drained (weight 0), given " +
			"`scale_in.drain_timeout` to finish open connections, removed from the pool, deleted, and the remaining " +
			"tier is health-checked before the next batch. Changing `image_id` or `flavor` replaces nodes batch by batch, new " +
			"nodes healthy before old ones drain. Members this resource did not create (such as `web01`) are never touched. " +
			"Changes to `networks`, `key_pair`, `security_groups`, `user_data`, `availability_zones` and `metadata` apply " +
			"to nodes created afterwards; a new `image_id` is what rolls every node over.\n\n" +
			"Nodes are named `<name>-NN` and carry the metadata `eventscale_pool = <name>`, so a node whose create " +
			"response was lost, or an apply that was interrupted, is found and adopted rather than created twice.\n\n" +
			"**Partial failure.** A create that built some nodes but not all (a quota reached by another user, a " +
			"server that kept ending in ERROR) still succeeds, with a warning that names what is missing: the state " +
			"lists the nodes that serve, and the nodes that could not be built with status `" + notBuilt + "`. The " +
			"next `terraform plan` shows an in-place update that adds only what is missing; nothing that serves is " +
			"replaced. (An error from a create would make Terraform taint the pool and replace it, draining every " +
			"node that serves.) A failed update or destroy is an error, and the next apply resumes from what exists.\n\n" +
			"**Plan time.** The plan resolves `flavor`, `image_id`, `networks`, `key_pair`, `security_groups`, " +
			"`availability_zones`, `load_balancer_id`, `pool_id` and `subnet_id` with read-only calls and refuses " +
			"unknown ones, naming the attribute, before anything is created. It lists the nodes it adds by name and the " +
			"nodes a scale-back drains, in order.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The pool's name: the key its nodes carry.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Name of the pool, unique in the project: 1–49 letters, digits, `.`, `_` or `-`; nodes are named `<name>-01`, `<name>-02`, ...",
				Validators:          []validator.String{stringvalidator.RegexMatches(poolNamePattern, "must be 1-49 letters, digits, '.', '_' or '-'")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"size": schema.Int64Attribute{Required: true, MarkdownDescription: "Number of web nodes, from 0 to 500.",
				Validators: []validator.Int64{int64validator.Between(0, maxWebPoolSize)}},
			"image_id": schema.StringAttribute{Required: true,
				MarkdownDescription: "Image the nodes boot from (for example `eventscale_seed_image.web.id`). A change is a rolling replacement."},
			"flavor": schema.StringAttribute{Required: true,
				MarkdownDescription: "Flavor id or name. A change replaces the nodes batch by batch, like an image change."},
			"networks": schema.ListAttribute{Required: true, ElementType: types.StringType,
				MarkdownDescription: "Network ids or names, at least 1; the first carries the address registered as the pool member.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
			"key_pair":        schema.StringAttribute{Optional: true, MarkdownDescription: "Nova key pair name."},
			"security_groups": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Security group names or ids."},
			"create_security_group": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Create a security group `<name>-members` that lets the load balancer's subnet (`subnet_id`, else " +
					"the VIP's) reach `protocol_port`, and give it to every node, those that exist included: a cloud whose default " +
					"group lets nothing in would otherwise leave every member OFFLINE. Deleted with the pool."},
			"security_group_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the group `create_security_group` made.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"user_data": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "User data (cloud-init) for new nodes. Sensitive: cloud-init often carries passwords."},
			"availability_zones": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Availability zones to spread the nodes over, round-robin by node number " +
					"(`<name>-01` in the first, `<name>-02` in the second, ...). Unset lets Nova choose.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()}},
			"server_group_policy": schema.StringAttribute{Optional: true,
				MarkdownDescription: "`anti-affinity` or `soft-anti-affinity`: the nodes are placed in a server group named " +
					"after the pool, so that one host failing (or one busy host) does not take several nodes.",
				Validators:    []validator.String{stringvalidator.OneOf("anti-affinity", "soft-anti-affinity")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"server_group_ids": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Every server group of the pool, when a policy is set: more than one when `size` exceeds the " +
					"project's `server_group_members` quota (the nodes are spread over groups `<name>`, `<name>-2`, ..., each " +
					"new node joining the emptiest, and the plan says so). Anti-affinity then holds within each group.",
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
			"server_group_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The (first) server group's id, when a policy is set.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"metadata": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Extra Nova metadata for new nodes (the `eventscale_*` keys are reserved).",
				Validators:          []validator.Map{reservedMetadataValidator{}}},
			"load_balancer_id": schema.StringAttribute{Required: true, MarkdownDescription: "Octavia load balancer id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"pool_id": schema.StringAttribute{Required: true, MarkdownDescription: "Octavia pool the nodes join.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port the nodes serve on, 1–65535.",
				Validators: []validator.Int64{int64validator.Between(1, 65535)}},
			"subnet_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Subnet of the member addresses (defaults to the load balancer's VIP subnet)."},
			"event_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "An `eventscale_event` id: between its `starts_at` and `ends_at` this pool refuses to shrink or be destroyed."},
			"allow_during_event": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Allow shrinking or destroying during the event's freeze window."},
			"scale_out": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "How nodes are added.",
				Attributes: map[string]schema.Attribute{
					"max_parallel": schema.Int64Attribute{Optional: true, MarkdownDescription: "Servers created at once, 1–100 (default 10). " +
						"A scale-out of more nodes joins them wave by wave: a member update whenever this many are built.",
						Validators: []validator.Int64{int64validator.Between(1, 100)}},
					"min_healthy_percent": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Percentage of new nodes that must be healthy for success, 0–100 (default 100).",
						Validators:          []validator.Int64{int64validator.Between(0, 100)}},
					"wait_for_healthy": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Wait until new members are healthy by the health monitor (default true)."},
					"healthy_statuses": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Member operating statuses counted as healthy (default `[\"ONLINE\"]`). Clouds whose " +
							"Octavia reports no health (no amphora heartbeats) can add `NO_MONITOR` or `OFFLINE`."},
					"reboot_check": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Reboot each new node once, one at a time; each must come back healthy (default false)."},
					"create_retries": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Times a node whose server ends in ERROR, or whose create failed without a trace, is created again, 0–10 (default 2).",
						Validators:          []validator.Int64{int64validator.Between(0, 10)}},
				}},
			"scale_in": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "How nodes are removed: the staggered scale-back.",
				Attributes: map[string]schema.Attribute{
					"batch_size": schema.Int64Attribute{Optional: true, MarkdownDescription: "Nodes drained per step, 1–100 (default 1). " +
						"A batch is drained in one member update and removed in one: two load balancer update cycles per batch, whatever " +
						"its size. Its servers, out of the pool, are deleted while the remaining tier is health-checked and the next batch drains; " +
						"that batch leaves the pool only once they are gone and the tier is healthy still.",
						Validators: []validator.Int64{int64validator.Between(1, 100)}},
					"drain_timeout": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Time given to open connections after the member stops receiving new ones, from `0s` to `1h` " +
							"(default `60s`). Octavia exposes no per-member connection count, so this is a timed wait, like AWS's deregistration delay.",
						Validators: []validator.String{durationBetween(0, maxDrainTimeout)}},
					"drain_method": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`weight` (default: weight 0, existing connections continue) or `disable` " +
							"(admin_state_up = false, for providers without weights such as OVN).",
						Validators: []validator.String{stringvalidator.OneOf("weight", "disable")}},
					"order": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`newest-first` (default) or `oldest-first`.",
						Validators:          []validator.String{stringvalidator.OneOf("newest-first", "oldest-first")}},
					"health_check_url": schema.StringAttribute{Optional: true,
						MarkdownDescription: "URL (normally the VIP) that must answer 2xx/3xx before the first drain and after each step, " +
							"or the scale-back stops (or does not start).",
						Validators: []validator.String{endpointURLValidator{}}},
					"health_check_successes": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Consecutive good answers required, 1–100 (default 3).",
						Validators:          []validator.Int64{int64validator.Between(1, 100)}},
					"pre_delete_webhook": schema.StringAttribute{Optional: true,
						MarkdownDescription: "URL POSTed the node's details after its drain; it must answer 2xx before the node is removed. " +
							"A scale-back whose webhook host cannot be connected to does not start.",
						Validators: []validator.String{endpointURLValidator{}}},
					"webhook_timeout": schema.StringAttribute{Optional: true, MarkdownDescription: "Bound on the webhook wait, from `1s` to `1h` (default `5m`).",
						Validators: []validator.String{durationBetween(time.Second, maxWebhookTimeout)}},
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
					"flavor":           schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the node's flavor."},
					"drained": schema.BoolAttribute{Computed: true, MarkdownDescription: "The node's member is drained (weight 0 or disabled) " +
						"and serves no traffic, as a scale-back stopped half-way leaves it. A smaller `size` removes drained nodes first; " +
						"otherwise the next apply puts them back in service."},
				}}},
		},
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx, webPoolTimeouts)},
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
		o.NoDrainWait = !si.DrainTimeout.IsNull() && o.DrainTimeout == 0
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

// webPoolAPI is what the web pool calls: one adapter per service, built once per operation.
type webPoolAPI struct {
	compute *cloud.Compute
	lb      *cloud.LoadBalancer
	network *cloud.Network
}

func (r *webPoolResource) api(ctx context.Context, lbID string, diags *diag.Diagnostics) *webPoolAPI {
	if r.data == nil {
		diags.AddError("Provider not configured", "the eventscale provider was not configured before eventscale_web_pool was used")
		return nil
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		diags.AddError("Cannot use the compute service", err.Error())
		return nil
	}
	lb, err := r.data.client.LoadBalancer(ctx, lbID)
	if err != nil {
		diags.AddError("Cannot use the load-balancer service", err.Error())
		return nil
	}
	network, err := r.data.client.Network(ctx)
	if err != nil {
		diags.AddError("Cannot use the network service", err.Error())
		return nil
	}
	return &webPoolAPI{compute: compute, lb: lb, network: network}
}

// pool builds the scaling library's Pool for this configuration. Only creating nodes needs the
// flavor and the networks resolved: reading and destroying an imported pool do not.
func (r *webPoolResource) pool(ctx context.Context, api *webPoolAPI, m *webPoolModel, known []scaling.Node, rec *journal.Recorder, diags *diag.Diagnostics) *scaling.Pool {
	spec := scaling.PoolSpec{
		Key:               m.Name.ValueString(),
		NamePrefix:        m.Name.ValueString(),
		ImageID:           m.ImageID.ValueString(),
		KeyPair:           m.KeyPair.ValueString(),
		SecurityGroups:    withSecurityGroup(stringList(ctx, m.SecurityGroups, diags), m),
		UserData:          m.UserData.ValueString(),
		AvailabilityZones: stringList(ctx, m.AvailabilityZones, diags),
		ServerGroupID:     m.ServerGroupID.ValueString(),
		ServerGroupIDs:    stringList(ctx, m.ServerGroupIDs, diags),
		LoadBalancerID:    m.LoadBalancerID.ValueString(),
		PoolID:            m.PoolID.ValueString(),
		ProtocolPort:      int(m.ProtocolPort.ValueInt64()),
		SubnetID:          m.SubnetID.ValueString(),
	}
	if flavor := m.Flavor.ValueString(); flavor != "" {
		id, err := api.compute.ResolveFlavor(ctx, flavor)
		if err == nil {
			spec.FlavorID = id
			spec.FlavorName, err = api.compute.FlavorName(ctx, id)
		}
		if err != nil {
			diags.AddAttributeError(path.Root("flavor"), "Unknown flavor", err.Error())
			return nil
		}
	}
	for i, n := range stringList(ctx, m.Networks, diags) {
		id, err := api.network.ResolveNetwork(ctx, n)
		if err != nil {
			diags.AddAttributeError(path.Root("networks").AtListIndex(i), "Unknown network", err.Error())
			return nil
		}
		spec.Networks = append(spec.Networks, id)
	}
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		diags.Append(m.Metadata.ElementsAs(ctx, &spec.Metadata, false)...)
	}
	opts := m.options(ctx, diags)
	opts.PollInterval = r.data.client.Poll().Interval
	opts.Progress = func(p scaling.Progress) {
		tflog.Info(ctx, p.Message, map[string]any{"pool": m.Name.ValueString(), "step": string(p.Step), "nodes": strings.Join(p.Nodes, ",")})
		if rec != nil {
			rec.Progress(p)
		}
	}
	if diags.HasError() {
		return nil
	}
	// The waits on the pool's servers poll one list of them, whatever their number.
	api.compute.WatchTag(scaling.PoolTag(spec.Key))
	p, err := scaling.New(scaling.Config{Spec: spec, Options: opts, Compute: api.compute, LB: api.lb, Known: known})
	if err != nil {
		addPoolError(diags, "Invalid web pool", err)
		return nil
	}
	return p
}

// addPoolError names the scale_in attribute when the library refused one of its endpoints.
func addPoolError(diags *diag.Diagnostics, summary string, err error) {
	var ee *scaling.EndpointError
	if errors.As(err, &ee) {
		diags.AddAttributeError(path.Root("scale_in").AtName(ee.Option), summary, err.Error())
		return
	}
	diags.AddError(summary, err.Error())
}

// nodesFromState rebuilds the library's nodes from state, with the ordinal and creation time
// that decide the scale-back order, so a plan-time preview drains in the order apply will.
// Nodes that were never built are left out: they exist only as a name.
func nodesFromState(ctx context.Context, prefix string, l types.List, diags *diag.Diagnostics) []scaling.Node {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var objs []nodeModel
	diags.Append(l.ElementsAs(ctx, &objs, false)...)
	out := make([]scaling.Node, 0, len(objs))
	for _, o := range objs {
		n := scaling.Node{Name: o.Name.ValueString(), ServerID: o.ID.ValueString(), Address: o.Address.ValueString(),
			MemberID: o.MemberID.ValueString(), Status: o.Status.ValueString(), ImageID: o.ImageID.ValueString(),
			Flavor: o.Flavor.ValueString(), OperatingStatus: o.OperatingStatus.ValueString(), Drained: o.Drained.ValueBool()}
		if n.ServerID == "" && n.MemberID == "" {
			continue
		}
		n.Ordinal, _ = scaling.OrdinalFromName(prefix, n.Name)
		if t, err := time.Parse(time.RFC3339Nano, o.CreatedAt.ValueString()); err == nil {
			n.Created = t
		}
		out = append(out, n)
	}
	return out
}

// nodeModel is one element of the nodes attribute.
type nodeModel struct {
	Name            types.String `tfsdk:"name"`
	ID              types.String `tfsdk:"id"`
	Address         types.String `tfsdk:"address"`
	MemberID        types.String `tfsdk:"member_id"`
	Status          types.String `tfsdk:"status"`
	ImageID         types.String `tfsdk:"image_id"`
	Flavor          types.String `tfsdk:"flavor"`
	OperatingStatus types.String `tfsdk:"operating_status"`
	CreatedAt       types.String `tfsdk:"created_at"`
	Drained         types.Bool   `tfsdk:"drained"`
}

func nodeValue(n scaling.Node) attr.Value {
	return types.ObjectValueMust(nodeAttrTypes, map[string]attr.Value{
		"name": types.StringValue(n.Name), "id": types.StringValue(n.ServerID), "address": types.StringValue(n.Address),
		"member_id": types.StringValue(n.MemberID), "status": types.StringValue(n.Status), "image_id": types.StringValue(n.ImageID),
		"flavor": types.StringValue(n.Flavor), "operating_status": types.StringValue(n.OperatingStatus),
		"created_at": types.StringValue(createdAt(n.Created)), "drained": types.BoolValue(n.Drained),
	})
}

func nodesToState(nodes []scaling.Node) types.List {
	vals := make([]attr.Value, 0, len(nodes))
	for _, n := range nodes {
		vals = append(vals, nodeValue(n))
	}
	return types.ListValueMust(nodeObjectType, vals)
}

// nodesForPlannedNames lists the nodes that exist in the order the plan named them, with the
// names the plan promised but the apply could not build marked NOT_BUILT, and any node the
// plan did not name (never hidden) after them.
func nodesForPlannedNames(ctx context.Context, planned types.List, nodes []scaling.Node) types.List {
	if planned.IsNull() || planned.IsUnknown() {
		return nodesToState(nodes)
	}
	var names []nodeModel
	if d := planned.ElementsAs(ctx, &names, false); d.HasError() {
		return nodesToState(nodes)
	}
	byName := map[string]scaling.Node{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	vals := make([]attr.Value, 0, len(names))
	for _, pn := range names {
		name := pn.Name.ValueString()
		n, ok := byName[name]
		if !ok {
			n = scaling.Node{Name: name, Status: notBuilt}
		}
		delete(byName, name)
		vals = append(vals, nodeValue(n))
	}
	for _, n := range nodes {
		if _, extra := byName[n.Name]; extra {
			vals = append(vals, nodeValue(n))
		}
	}
	return types.ListValueMust(nodeObjectType, vals)
}

// nodeNames lists the names of a nodes attribute, in its order.
func nodeNames(ctx context.Context, l types.List) []string {
	var objs []nodeModel
	if l.IsNull() || l.IsUnknown() || l.ElementsAs(ctx, &objs, false).HasError() {
		return nil
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name.ValueString()
	}
	return out
}

// inOrder puts the items named in order first, in that order, then the others as they come: the
// nodes attribute keeps its order from one apply and refresh to the next, so that a scale-out
// shows as nodes appended rather than as every position changing.
func inOrder[T any](order []string, items []T, name func(T) string) []T {
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	out := append([]T(nil), items...)
	sort.SliceStable(out, func(i, j int) bool {
		pi, iok := pos[name(out[i])]
		pj, jok := pos[name(out[j])]
		switch {
		case iok && jok:
			return pi < pj
		case iok != jok:
			return iok
		}
		return false
	})
	return out
}

func nodeName(n scaling.Node) string { return n.Name }

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

// missingNodes names the nodes of the plan that do not serve.
func missingNodes(ctx context.Context, l types.List) []string {
	var objs []nodeModel
	if l.IsNull() || l.IsUnknown() || l.ElementsAs(ctx, &objs, false).HasError() {
		return nil
	}
	var out []string
	for _, o := range objs {
		if o.ID.ValueString() == "" || o.MemberID.ValueString() == "" || o.Status.ValueString() != "ACTIVE" {
			out = append(out, o.Name.ValueString())
		}
	}
	return out
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
	api := r.api(ctx, plan.LoadBalancerID.ValueString(), &resp.Diagnostics)
	if api == nil {
		return
	}
	if !r.checkImage(ctx, &plan, &resp.Diagnostics) {
		return
	}

	plan.ID = plan.Name
	plan.ServerGroupID, plan.ServerGroupIDs = types.StringValue(""), types.ListValueMust(types.StringType, nil)
	if !r.ensureServerGroups(ctx, api, &plan, &resp.Diagnostics) {
		return
	}
	planned := plan.Nodes
	nodes, err := r.apply(ctx, api, &plan, nil, &resp.Diagnostics)
	if nodes == nil && err == nil {
		return // refused before anything was made
	}
	if err != nil && len(nodes) == 0 && plan.ServerGroupID.ValueString() == "" {
		// Nothing exists: an error leaves nothing to resume and nothing to taint.
		resp.Diagnostics.AddError(fmt.Sprintf("Creating web pool %q failed", plan.Name.ValueString()), err.Error())
		return
	}
	plan.Nodes = nodesForPlannedNames(ctx, planned, nodes)
	if err != nil {
		// Saved without an error: an error would make Terraform taint the pool, and the next apply
		// would replace it, draining and deleting every node that serves.
		missing := missingNodes(ctx, plan.Nodes)
		resp.Diagnostics.AddWarning(fmt.Sprintf("Web pool %q was created with %d of %d nodes", plan.Name.ValueString(),
			inService(nodes), plan.Size.ValueInt64()),
			fmt.Sprintf("%s\n\nNot serving: %s. The nodes that serve are kept; the state marks the others %s. "+
				"Run terraform apply again: it adds only what is missing (terraform plan -detailed-exitcode exits 2 until it has).",
				err.Error(), strings.Join(missing, ", "), notBuilt))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// checkImage refuses, before any server is made, an image that does not exist or is not active:
// a seed image still saving when its own apply stopped shows up here.
func (r *webPoolResource) checkImage(ctx context.Context, m *webPoolModel, diags *diag.Diagnostics) bool {
	imgs, err := r.data.client.Images(ctx)
	if err != nil {
		diags.AddError("Cannot use the image service", err.Error())
		return false
	}
	img, err := imgs.GetImage(ctx, m.ImageID.ValueString())
	switch {
	case cloud.IsNotFound(err):
		diags.AddAttributeError(path.Root("image_id"), "Unknown image", fmt.Sprintf("no image %s is visible to the project", m.ImageID.ValueString()))
		return false
	case err != nil:
		diags.AddAttributeError(path.Root("image_id"), "Cannot read the image", err.Error())
		return false
	case img.Status != "active":
		diags.AddAttributeError(path.Root("image_id"), "Image not active",
			fmt.Sprintf("image %s (%s) is %s: Nova builds servers from active images only; no server was created", img.ID, img.Name, img.Status))
		return false
	}
	return true
}

// apply runs the scaling library, with the configuration record written to the Octavia pool
// alongside, and returns exactly the nodes that exist, error or not. nil nodes with a nil
// error means the configuration was refused before anything was made (diags says why).
func (r *webPoolResource) apply(ctx context.Context, api *webPoolAPI, m *webPoolModel, known []scaling.Node, diags *diag.Diagnostics) ([]scaling.Node, error) {
	if !r.ensureSecurityGroup(ctx, api, m, known, diags) {
		return nil, nil
	}
	rec := r.recorder(api, m)
	p := r.pool(ctx, api, m, known, rec, diags)
	if p == nil {
		return nil, nil
	}
	record := m.record(ctx, diags)
	// The record costs one load balancer update: sent while the servers build, it is applied
	// before the members join.
	recorded := make(chan error, 1)
	go func() {
		recorded <- writeRecord(ctx, api.lb, m.PoolID.ValueString(), m.Name.ValueString(), &record)
	}()
	desired := int(m.Size.ValueInt64())
	nodes, err := journaled(ctx, rec, p, known, desired, func() ([]scaling.Node, error) { return p.Apply(ctx, desired) })
	if rerr := <-recorded; rerr != nil && !cloud.IsNotFound(rerr) {
		diags.AddAttributeWarning(path.Root("pool_id"), "Configuration record not written",
			"The web pool keeps its configuration as tags on Octavia pool "+m.PoolID.ValueString()+
				" so that an import can restore it; writing them failed: "+rerr.Error())
	}
	if err != nil {
		var ee *scaling.EndpointError
		if errors.As(err, &ee) {
			diags.AddAttributeError(path.Root("scale_in").AtName(ee.Option), "Scale-back endpoint unusable", err.Error())
		}
	}
	if nodes == nil {
		nodes = []scaling.Node{}
	}
	return nodes, err
}

func (r *webPoolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state webPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	api := r.api(ctx, state.LoadBalancerID.ValueString(), &resp.Diagnostics)
	if api == nil {
		return
	}
	imported := state.Flavor.IsNull()
	if imported {
		rec, ok, err := readRecord(ctx, api.lb, state.PoolID.ValueString(), state.Name.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("pool_id"), "Cannot read the pool's configuration record", err.Error())
			return
		}
		if ok {
			state.restore(rec)
		}
	}
	p := r.pool(ctx, api, &state, nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics), nil, &resp.Diagnostics)
	if p == nil {
		return
	}
	if err := p.Discover(ctx); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading web pool %q", state.Name.ValueString()), err.Error())
		return
	}
	nodes := inOrder(nodeNames(ctx, state.Nodes), p.Nodes(), nodeName)
	state.Nodes = nodesToState(nodes)
	state.Size = types.Int64Value(int64(inService(nodes)))
	if imported {
		r.fillFromNodes(ctx, api, &state, nodes)
		state.SecurityGroupID = types.StringValue("")
		if state.CreateSecGroup.ValueBool() {
			id, err := api.network.FindSecurityGroup(ctx, securityGroupName(&state))
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("security_group_id"), "Cannot read the members' security group", err.Error())
				return
			}
			state.SecurityGroupID = types.StringValue(id)
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// fillFromNodes reads from the servers what an import without a configuration record lacks:
// the image and flavor of the newest node, and the server group named after the pool.
func (r *webPoolResource) fillFromNodes(ctx context.Context, api *webPoolAPI, m *webPoolModel, nodes []scaling.Node) {
	var newest *scaling.Node
	for i := range nodes {
		if nodes[i].ServerID != "" && (newest == nil || nodes[i].Created.After(newest.Created)) {
			newest = &nodes[i]
		}
	}
	if newest != nil {
		if m.ImageID.IsNull() {
			m.ImageID = types.StringValue(newest.ImageID)
		}
		if m.Flavor.IsNull() && newest.Flavor != "" {
			m.Flavor = types.StringValue(newest.Flavor)
		}
	}
	if m.ServerGroupID.IsNull() || m.ServerGroupID.ValueString() == "" {
		if id, policy, err := api.compute.FindServerGroup(ctx, m.Name.ValueString()); err == nil && id != "" {
			m.ServerGroupID = types.StringValue(id)
			if m.ServerGroupPolicy.IsNull() {
				m.ServerGroupPolicy = types.StringValue(policy)
			}
		} else if m.ServerGroupID.IsNull() {
			m.ServerGroupID = types.StringValue("")
		}
	}
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
	api := r.api(ctx, plan.LoadBalancerID.ValueString(), &resp.Diagnostics)
	if api == nil {
		return
	}
	if plan.Size.ValueInt64() > int64(inService(known)) || !plan.ImageID.Equal(prior.ImageID) || !plan.Flavor.Equal(prior.Flavor) {
		if !r.checkImage(ctx, &plan, &resp.Diagnostics) {
			return
		}
	}
	plan.ID = prior.ID
	plan.ServerGroupID, plan.ServerGroupIDs = prior.ServerGroupID, prior.ServerGroupIDs
	if plan.SecurityGroupID.IsUnknown() {
		plan.SecurityGroupID = prior.SecurityGroupID
	}
	if plan.ServerGroupIDs.IsNull() || plan.ServerGroupIDs.IsUnknown() {
		plan.ServerGroupIDs = types.ListValueMust(types.StringType, nil)
		if id := prior.ServerGroupID.ValueString(); id != "" {
			plan.ServerGroupIDs = stringListValue([]string{id})
		}
	}
	if !r.ensureServerGroups(ctx, api, &plan, &resp.Diagnostics) {
		return
	}
	planned := plan.Nodes
	nodes, err := r.apply(ctx, api, &plan, known, &resp.Diagnostics)
	if nodes == nil && err == nil {
		return
	}
	if err != nil {
		// What exists, exactly; the size in state is what serves, so the next plan resumes.
		plan.Nodes = nodesToState(inOrder(nodeNames(ctx, prior.Nodes), nodes, nodeName))
		plan.Size = types.Int64Value(int64(inService(nodes)))
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError(fmt.Sprintf("Scaling web pool %q to %d nodes failed", plan.Name.ValueString(), plan.Size.ValueInt64()),
				err.Error()+"\n\nThe state lists exactly the nodes that exist now; run apply again to resume.")
		}
	} else {
		plan.Nodes = nodesForPlannedNames(ctx, planned, nodes)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
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

	api := r.api(ctx, state.LoadBalancerID.ValueString(), &resp.Diagnostics)
	if api == nil {
		return
	}
	// Destroying needs neither the flavor nor the networks: an imported pool, or one whose
	// network is gone, can still be scaled back.
	destroy := state
	destroy.Flavor, destroy.Networks = types.StringNull(), types.ListNull(types.StringType)
	known := nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics)
	rec := r.recorder(api, &destroy)
	p := r.pool(ctx, api, &destroy, known, rec, &resp.Diagnostics)
	if p == nil {
		return
	}
	nodes, err := journaled(ctx, rec, p, known, 0, func() ([]scaling.Node, error) { return p.Destroy(ctx) })
	if err != nil {
		state.Nodes = nodesToState(inOrder(nodeNames(ctx, state.Nodes), nodes, nodeName))
		state.Size = types.Int64Value(int64(inService(nodes)))
		var ee *scaling.EndpointError
		if errors.As(err, &ee) {
			resp.Diagnostics.AddAttributeError(path.Root("scale_in").AtName(ee.Option), "Scale-back endpoint unusable", err.Error())
		} else {
			resp.Diagnostics.AddError(fmt.Sprintf("Scaling back web pool %q failed", state.Name.ValueString()),
				err.Error()+"\n\nThe nodes still listed in state exist; run destroy again to resume.")
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	if err := writeRecord(ctx, api.lb, state.PoolID.ValueString(), state.Name.ValueString(), nil); err != nil && !cloud.IsNotFound(err) {
		resp.Diagnostics.AddAttributeWarning(path.Root("pool_id"), "Configuration record left on the Octavia pool",
			"Removing the web pool's tags from Octavia pool "+state.PoolID.ValueString()+" failed: "+err.Error())
	}
	if id := state.SecurityGroupID.ValueString(); id != "" {
		if err := api.network.DeleteSecurityGroup(ctx, id); err != nil {
			resp.Diagnostics.AddAttributeWarning(path.Root("security_group_id"), "Security group left behind",
				"The nodes are gone, but deleting the members' security group failed: "+err.Error())
		}
	}
	groups := stringList(ctx, state.ServerGroupIDs, &resp.Diagnostics)
	if id := state.ServerGroupID.ValueString(); id != "" && !slices.Contains(groups, id) {
		groups = append(groups, id)
	}
	for _, id := range groups {
		if err := api.compute.DeleteServerGroup(ctx, id); err != nil {
			state.Nodes = nodesToState(nil)
			state.Size = types.Int64Value(0)
			resp.Diagnostics.AddAttributeError(path.Root("server_group_ids"), "Deleting the server group "+id, err.Error())
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
}

// ImportState takes "<name>/<load_balancer_id>/<pool_id>/<protocol_port>": the pool key and
// where its members live. Read then finds the nodes by their metadata and restores the
// configuration from the record the pool keeps on the Octavia pool.
func (r *webPoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, err := parseWebPoolImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", err.Error())
		return
	}
	if api := r.api(ctx, id.loadBalancerID, &resp.Diagnostics); api != nil {
		// A wrong pool would make the pool's servers look unjoined, and a destroy would then
		// delete servers that serve in the right one: an import must name the pool they are in.
		if err := api.lb.CheckPool(ctx, id.poolID, id.loadBalancerID); err != nil {
			resp.Diagnostics.AddError("Invalid import id", err.Error())
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id.name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), id.name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("load_balancer_id"), id.loadBalancerID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("pool_id"), id.poolID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("protocol_port"), id.port)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("nodes"), types.ListValueMust(nodeObjectType, nil))...)
}

type webPoolImportID struct {
	name, loadBalancerID, poolID string
	port                         int64
}

// parseWebPoolImportID reads "<name>/<load_balancer_id>/<pool_id>/<protocol_port>".
func parseWebPoolImportID(raw string) (webPoolImportID, error) {
	parts := strings.Split(raw, "/")
	if len(parts) != 4 {
		return webPoolImportID{}, fmt.Errorf("expected <name>/<load_balancer_id>/<pool_id>/<protocol_port>, got %q", raw)
	}
	if !poolNamePattern.MatchString(parts[0]) {
		return webPoolImportID{}, fmt.Errorf("name %q: must be 1-49 letters, digits, '.', '_' or '-'", parts[0])
	}
	for i, what := range []string{"", "load_balancer_id", "pool_id"} {
		if i > 0 && strings.TrimSpace(parts[i]) == "" {
			return webPoolImportID{}, fmt.Errorf("%s is empty in %q", what, raw)
		}
	}
	port, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || port < 1 || port > 65535 {
		return webPoolImportID{}, fmt.Errorf("protocol_port %q is not a port (1-65535)", parts[3])
	}
	return webPoolImportID{name: parts[0], loadBalancerID: parts[1], poolID: parts[2], port: port}, nil
}

// serverGroupNames are the names of a pool's server groups: <name>, <name>-2, ..., <name>-k.
func serverGroupNames(name string, k int) []string {
	out := make([]string, 0, k)
	for i := 1; i <= k; i++ {
		if i == 1 {
			out = append(out, name)
		} else {
			out = append(out, fmt.Sprintf("%s-%d", name, i))
		}
	}
	return out
}

// serverGroupsFor is how many server groups hold size nodes under the project's
// server_group_members quota (one when the quota cannot be read or is unlimited).
func (r *webPoolResource) serverGroupsFor(ctx context.Context, size int) (groups, perGroup int) {
	perGroup = quota.Unlimited
	if r.data != nil && r.data.quotas != nil {
		usages, _ := r.data.quotas.Read(ctx, quota.Compute)
		if l, ok := limitOf(usages, quota.Compute, "server_group_members"); ok {
			perGroup = l
		}
	}
	return max(1, quota.GroupsFor(size, perGroup)), perGroup
}

// ensureServerGroups creates (or finds, by name) the groups the pool's size needs. Groups are
// never removed while the pool lives: a node keeps the group it was created in.
func (r *webPoolResource) ensureServerGroups(ctx context.Context, api *webPoolAPI, m *webPoolModel, diags *diag.Diagnostics) bool {
	policy := m.ServerGroupPolicy.ValueString()
	if policy == "" {
		return true
	}
	have := stringList(ctx, m.ServerGroupIDs, diags)
	want, _ := r.serverGroupsFor(ctx, int(m.Size.ValueInt64()))
	want = max(want, len(have))
	ids := make([]string, 0, want)
	for i, name := range serverGroupNames(m.Name.ValueString(), want) {
		if i < len(have) {
			ids = append(ids, have[i])
			continue
		}
		id, err := api.compute.EnsureServerGroup(ctx, name, policy)
		if err != nil {
			diags.AddAttributeError(path.Root("server_group_policy"), "Cannot create the server group "+name, err.Error())
			return false
		}
		ids = append(ids, id)
	}
	m.ServerGroupID, m.ServerGroupIDs = types.StringValue(ids[0]), stringListValue(ids)
	return true
}

// recorder journals one run of the pool, with the load balancer's statistics read at the start and
// end of a scale-back and while a node drains.
func (r *webPoolResource) recorder(api *webPoolAPI, m *webPoolModel) *journal.Recorder {
	if r.data == nil || r.data.journal == nil {
		return nil
	}
	lbID := m.LoadBalancerID.ValueString()
	return journal.NewRecorder(r.data.journal, journal.RecorderConfig{
		Resource: "eventscale_web_pool." + m.Name.ValueString(),
		Pool:     m.Name.ValueString(),
		Stats: func(ctx context.Context) (journal.LBStats, error) {
			st, err := api.lb.LoadBalancerStats(ctx, lbID)
			return journal.LBStats{LoadBalancerID: lbID, ActiveConnections: st.ActiveConnections, TotalConnections: st.TotalConnections,
				BytesIn: st.BytesIn, BytesOut: st.BytesOut, RequestErrors: st.RequestErrors}, err
		},
	})
}

// journaled runs one scaling run with its journal: the plan it is expected to follow, its start
// and its end.
func journaled(ctx context.Context, rec *journal.Recorder, p *scaling.Pool, known []scaling.Node, desired int,
	run func() ([]scaling.Node, error)) ([]scaling.Node, error) {
	if rec == nil {
		return run()
	}
	rec.SetPlan(p.PlanFromState(known, desired))
	rec.Start(ctx, inService(known), desired)
	nodes, err := run()
	rec.Finish(ctx, inService(nodes), err)
	return nodes, err
}

func securityGroupName(m *webPoolModel) string { return m.Name.ValueString() + "-members" }

// withSecurityGroup adds the pool's own security group to the configured ones, when it makes one.
func withSecurityGroup(groups []string, m *webPoolModel) []string {
	if !m.CreateSecGroup.ValueBool() {
		return groups
	}
	return append(groups, securityGroupName(m))
}

// ensureSecurityGroup makes the pool's security group when asked, letting the member subnet reach
// the member port, and gives it to the nodes that exist. Without it, it clears the id.
func (r *webPoolResource) ensureSecurityGroup(ctx context.Context, api *webPoolAPI, m *webPoolModel, known []scaling.Node, diags *diag.Diagnostics) bool {
	if !m.CreateSecGroup.ValueBool() {
		if m.SecurityGroupID.IsUnknown() || m.SecurityGroupID.IsNull() {
			m.SecurityGroupID = types.StringValue("")
		}
		return true
	}
	subnet := m.SubnetID.ValueString()
	if subnet == "" {
		lb, err := api.lb.GetLoadBalancer(ctx, m.LoadBalancerID.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("create_security_group"), "Cannot read the load balancer's subnet", err.Error())
			return false
		}
		subnet = lb.VIPSubnetID
	}
	cidr, err := api.network.SubnetCIDR(ctx, subnet)
	if err == nil {
		var id string
		id, err = api.network.EnsureMemberSecurityGroup(ctx, securityGroupName(m), "members of web pool "+m.Name.ValueString(),
			int(m.ProtocolPort.ValueInt64()), cidr)
		m.SecurityGroupID = types.StringValue(id)
	}
	if err != nil {
		diags.AddAttributeError(path.Root("create_security_group"), "Cannot create the members' security group", err.Error())
		return false
	}
	for _, n := range known {
		if n.ServerID == "" {
			continue
		}
		if err := api.compute.AddSecurityGroup(ctx, n.ServerID, securityGroupName(m)); err != nil {
			diags.AddAttributeError(path.Root("create_security_group"), "Cannot give node "+n.Name+" the members' security group", err.Error())
			return false
		}
	}
	return true
}
