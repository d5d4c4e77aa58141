package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

var (
	_ resource.Resource                     = (*loadBalancerResource)(nil)
	_ resource.ResourceWithConfigure        = (*loadBalancerResource)(nil)
	_ resource.ResourceWithImportState      = (*loadBalancerResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*loadBalancerResource)(nil)
	_ resource.ResourceWithConfigValidators = (*loadBalancerResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*loadBalancerResource)(nil)
)

// NewLoadBalancerResource is the factory registered in the provider.
func NewLoadBalancerResource() resource.Resource { return &loadBalancerResource{} }

type loadBalancerResource struct {
	data *providerData
}

// staticMemberTag marks the members this resource owns. The web pool keeps every member that
// does not carry its own pool tag, so static members survive its batch updates; on import,
// this tag is how the resource recognises its members among the web pool's.
const staticMemberTag = "eventscale:static"

const lbDefaultTimeout = 30 * time.Minute

var (
	urlPathRE       = regexp.MustCompile(`^/`)
	expectedCodesRE = regexp.MustCompile(`^\d{3}(-\d{3}|(,\d{3})*)$`)

	listenerProtocols = []string{"HTTP", "HTTPS", "TCP"}
	poolProtocols     = []string{"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2"}
	// compatiblePoolProtocols is Octavia's listener → pool protocol matrix (constants.py).
	compatiblePoolProtocols = map[string][]string{
		"HTTP":  {"HTTP", "PROXY", "PROXYV2"},
		"HTTPS": {"HTTPS", "PROXY", "PROXYV2", "TCP"},
		"TCP":   {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
	}
)

type lbListenerModel struct {
	Protocol     types.String `tfsdk:"protocol"`
	ProtocolPort types.Int64  `tfsdk:"protocol_port"`
}

type lbPersistenceModel struct {
	Type       types.String `tfsdk:"type"`
	CookieName types.String `tfsdk:"cookie_name"`
}

type lbPoolModel struct {
	Protocol           types.String        `tfsdk:"protocol"`
	LBMethod           types.String        `tfsdk:"lb_method"`
	SessionPersistence *lbPersistenceModel `tfsdk:"session_persistence"`
}

type lbMonitorModel struct {
	Type          types.String `tfsdk:"type"`
	URLPath       types.String `tfsdk:"url_path"`
	ExpectedCodes types.String `tfsdk:"expected_codes"`
	Delay         types.Int64  `tfsdk:"delay"`
	Timeout       types.Int64  `tfsdk:"timeout"`
	MaxRetries    types.Int64  `tfsdk:"max_retries"`
}

type lbMemberModel struct {
	Address      types.String `tfsdk:"address"`
	ProtocolPort types.Int64  `tfsdk:"protocol_port"`
	Weight       types.Int64  `tfsdk:"weight"`
	SubnetID     types.String `tfsdk:"subnet_id"`
}

func (m lbMemberModel) key() string {
	return memberKey(m.Address.ValueString(), int(m.ProtocolPort.ValueInt64()))
}

func memberKey(address string, port int) string {
	return net.JoinHostPort(address, strconv.Itoa(port))
}

type loadBalancerModel struct {
	ID                 types.String      `tfsdk:"id"`
	Name               types.String      `tfsdk:"name"`
	VIPSubnetID        types.String      `tfsdk:"vip_subnet_id"`
	VIPNetworkID       types.String      `tfsdk:"vip_network_id"`
	VIPAddress         types.String      `tfsdk:"vip_address"`
	VIPPortID          types.String      `tfsdk:"vip_port_id"`
	Listeners          []lbListenerModel `tfsdk:"listener"`
	Pool               *lbPoolModel      `tfsdk:"pool"`
	HealthMonitor      *lbMonitorModel   `tfsdk:"health_monitor"`
	Members            []lbMemberModel   `tfsdk:"members"`
	PoolID             types.String      `tfsdk:"pool_id"`
	ListenerIDs        types.List        `tfsdk:"listener_ids"`
	HealthMonitorID    types.String      `tfsdk:"health_monitor_id"`
	MemberIDs          types.Map         `tfsdk:"member_ids"`
	ProvisioningStatus types.String      `tfsdk:"provisioning_status"`
	OperatingStatus    types.String      `tfsdk:"operating_status"`
	Timeouts           timeouts.Value    `tfsdk:"timeouts"`
}

func (r *loadBalancerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_load_balancer"
}

func (r *loadBalancerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	useState := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An Octavia load balancer for the event: the load balancer, its listeners, one pool that " +
			"every listener forwards to, an optional health monitor and optional static members (servers that exist " +
			"already, such as `web01`). Web nodes are added to the same pool by `eventscale_web_pool` (`pool_id`), " +
			"which never touches the static members.\n\n" +
			"Objects are created one at a time, each id saved to state as soon as Octavia returns it, so a failed " +
			"apply leaves nothing untracked; a load balancer create whose answer was lost adopts the load balancer it made. Name, `lb_method`, session persistence, the monitor's settings and member " +
			"weights are changed in place; the VIP, the listeners and the pool protocol cannot be changed by Octavia " +
			"and force a new load balancer. Destroy deletes the load balancer with everything under it " +
			"(`cascade=true`) and waits until it is gone.\n\n" +
			"Import with the load balancer id. Listeners are imported in ascending port order and members carrying " +
			"the `" + staticMemberTag + "` tag become `members`; write the configuration in that order.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Load balancer id.", PlanModifiers: useState},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Load balancer name; the pool is named `<name>-pool` and listeners `<name>-<protocol>-<port>`.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 200)}},
			"vip_subnet_id": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Subnet of the VIP. Exactly one of `vip_subnet_id` and `vip_network_id`. Changing it replaces the load balancer.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()}},
			"vip_network_id": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Network of the VIP (Octavia picks the subnet). Changing it replaces the load balancer.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()}},
			"vip_address":       schema.StringAttribute{Computed: true, MarkdownDescription: "VIP address.", PlanModifiers: useState},
			"vip_port_id":       schema.StringAttribute{Computed: true, MarkdownDescription: "Neutron port of the VIP.", PlanModifiers: useState},
			"pool_id":           schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the pool, for `eventscale_web_pool`.", PlanModifiers: useState},
			"health_monitor_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the health monitor, if any."},
			// Not UseStateForUnknown: another client (the web pool, an operator) may have a change
			// in flight when the apply reads it back, and a planned ACTIVE would then be inconsistent.
			"provisioning_status": schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia provisioning status as last read (`ACTIVE` once this resource's changes are applied)."},
			"operating_status": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Octavia operating status as last read (`ONLINE`, `DEGRADED`, `ERROR`, `OFFLINE`, `NO_MONITOR`). Informative only: a pool without traffic or healthy members is not `ONLINE`."},
			"listener_ids": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Listener ids, in the order of the `listener` blocks.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
			"member_ids": schema.MapAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Ids of the static members, keyed by `address:protocol_port`."},
			"members": schema.ListNestedAttribute{Optional: true,
				MarkdownDescription: "Static members: existing servers that stay in the pool whatever the web pool does. " +
					"Added, removed and re-weighted in place.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"address": schema.StringAttribute{Required: true, MarkdownDescription: "IP address of the server.",
						Validators: []validator.String{ipAddressValidator{}}},
					"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port the server listens on.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"weight": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
						MarkdownDescription: "Octavia weight, 0–256 (0 takes no new connections). Default `1`.",
						Validators:          []validator.Int64{int64validator.Between(0, 256)}},
					"subnet_id": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Subnet the address is on, when it is not the VIP's. Changing it re-creates the member."},
				}}},
		},
		Blocks: map[string]schema.Block{
			"listener": schema.ListNestedBlock{
				MarkdownDescription: "A listener on the VIP. At least one; each forwards to the pool. Listeners are added and " +
					"removed in place (a listener's protocol and port cannot change in Octavia, so changing them replaces that " +
					"listener, the new one created before the old one is deleted when the port differs).",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.IsRequired()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"protocol": schema.StringAttribute{Required: true, MarkdownDescription: "`HTTP`, `HTTPS` (passed through) or `TCP`.",
						Validators: []validator.String{stringvalidator.OneOf(listenerProtocols...)}},
					"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port on the VIP.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
				}},
			},
			"pool": schema.SingleNestedBlock{
				MarkdownDescription: "The pool behind every listener. Required.",
				Validators:          []validator.Object{objectvalidator.IsRequired()},
				Attributes: map[string]schema.Attribute{
					"protocol": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("HTTP"),
						MarkdownDescription: "Protocol to the members: `HTTP` (default), `HTTPS`, `TCP`, `PROXY`, `PROXYV2`. Changing it replaces the load balancer.",
						Validators:          []validator.String{stringvalidator.OneOf(poolProtocols...)},
						PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
					"lb_method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("ROUND_ROBIN"),
						MarkdownDescription: "`ROUND_ROBIN` (default), `LEAST_CONNECTIONS` or `SOURCE_IP`. Changed in place.",
						Validators:          []validator.String{stringvalidator.OneOf("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP")}},
					"session_persistence": schema.SingleNestedAttribute{Optional: true,
						MarkdownDescription: "Stickiness. Changed in place.",
						Attributes: map[string]schema.Attribute{
							"type": schema.StringAttribute{Required: true, MarkdownDescription: "`SOURCE_IP`, `HTTP_COOKIE` or `APP_COOKIE`.",
								Validators: []validator.String{stringvalidator.OneOf("SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")}},
							"cookie_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Cookie name, for `APP_COOKIE` only."},
						}},
				},
			},
			"health_monitor": schema.SingleNestedBlock{
				MarkdownDescription: "Health monitor of the pool. Optional; settings are changed in place, a new `type` re-creates the monitor.",
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{Optional: true, MarkdownDescription: "`HTTP`, `HTTPS` or `TCP`. Required in the block.",
						Validators: []validator.String{stringvalidator.OneOf("HTTP", "HTTPS", "TCP")}},
					"url_path": schema.StringAttribute{Optional: true, Computed: true,
						MarkdownDescription: "Path an `HTTP`/`HTTPS` check requests; when unset, what Octavia chooses (`/`) is read back.",
						Validators:          []validator.String{stringvalidator.RegexMatches(urlPathRE, "must start with /")},
						PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
					"expected_codes": schema.StringAttribute{Optional: true, Computed: true,
						MarkdownDescription: "Status codes that mean healthy, e.g. `200`, `200,204` or `200-299`; when unset, what Octavia chooses (`200`) is read back.",
						Validators:          []validator.String{stringvalidator.RegexMatches(expectedCodesRE, "must be a code, a list (200,204) or a range (200-299)")},
						PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
					"delay": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(5),
						MarkdownDescription: "Seconds between checks. Default `5`.", Validators: []validator.Int64{int64validator.AtLeast(1)}},
					"timeout": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3),
						MarkdownDescription: "Seconds a check may take; at most `delay`. Default `3`.", Validators: []validator.Int64{int64validator.AtLeast(1)}},
					"max_retries": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3),
						MarkdownDescription: "Successful checks before a member is ONLINE, 1–10. Default `3`.",
						Validators:          []validator.Int64{int64validator.Between(1, 10)}},
				},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *loadBalancerResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("vip_subnet_id"), path.MatchRoot("vip_network_id")),
	}
}

// ValidateConfig checks what Octavia would refuse only after the load balancer exists.
func (r *loadBalancerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m loadBalancerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateLoadBalancer(m)...)
}

func validateLoadBalancer(m loadBalancerModel) diag.Diagnostics {
	var diags diag.Diagnostics
	known := func(v interface{ IsUnknown() bool }) bool { return !v.IsUnknown() }
	// Octavia forbids two listeners on one port whatever their protocol: HTTP, HTTPS and TCP are all TCP.
	ports := map[int64]int{}
	for i, l := range m.Listeners {
		if !known(l.ProtocolPort) || l.ProtocolPort.IsNull() {
			continue
		}
		if j, dup := ports[l.ProtocolPort.ValueInt64()]; dup {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i).AtName("protocol_port"), "Duplicate listener port",
				fmt.Sprintf("Listeners %d and %d both use port %d; Octavia allows one listener per port.", j, i, l.ProtocolPort.ValueInt64()))
		}
		ports[l.ProtocolPort.ValueInt64()] = i
	}
	if p := m.Pool; p != nil && known(p.Protocol) && !p.Protocol.IsNull() {
		for i, l := range m.Listeners {
			if !known(l.Protocol) || l.Protocol.IsNull() {
				continue
			}
			ok := false
			for _, c := range compatiblePoolProtocols[l.Protocol.ValueString()] {
				ok = ok || c == p.Protocol.ValueString()
			}
			if !ok {
				diags.AddAttributeError(path.Root("pool").AtName("protocol"), "Pool protocol incompatible with a listener",
					fmt.Sprintf("A %s listener (listener %d) cannot forward to a %s pool; it accepts %v.",
						l.Protocol.ValueString(), i, p.Protocol.ValueString(), compatiblePoolProtocols[l.Protocol.ValueString()]))
			}
		}
	}
	if p := m.Pool; p != nil && p.SessionPersistence != nil {
		sp := p.SessionPersistence
		at := path.Root("pool").AtName("session_persistence").AtName("cookie_name")
		if known(sp.Type) && known(sp.CookieName) {
			switch {
			case sp.Type.ValueString() == "APP_COOKIE" && sp.CookieName.ValueString() == "":
				diags.AddAttributeError(at, "Missing cookie_name", "session_persistence of type APP_COOKIE needs cookie_name.")
			case sp.Type.ValueString() != "APP_COOKIE" && !sp.CookieName.IsNull():
				diags.AddAttributeError(at, "cookie_name not allowed", "cookie_name is only used with session_persistence type APP_COOKIE.")
			}
		}
	}
	if hm := m.HealthMonitor; hm != nil {
		base := path.Root("health_monitor")
		if hm.Type.IsNull() {
			diags.AddAttributeError(base.AtName("type"), "Missing health monitor type", "health_monitor needs a type: HTTP, HTTPS or TCP.")
		}
		if known(hm.Type) && hm.Type.ValueString() == "TCP" {
			for _, a := range []struct {
				name string
				v    types.String
			}{{"url_path", hm.URLPath}, {"expected_codes", hm.ExpectedCodes}} {
				if !a.v.IsNull() {
					diags.AddAttributeError(base.AtName(a.name), "Not used by a TCP monitor",
						a.name+" applies to HTTP and HTTPS monitors only; a TCP monitor only opens a connection.")
				}
			}
		}
		if known(hm.Delay) && known(hm.Timeout) && !hm.Delay.IsNull() && !hm.Timeout.IsNull() &&
			hm.Timeout.ValueInt64() > hm.Delay.ValueInt64() {
			diags.AddAttributeError(base.AtName("timeout"), "Health monitor timeout longer than its delay",
				fmt.Sprintf("timeout (%d s) must not exceed delay (%d s): Octavia refuses it.", hm.Timeout.ValueInt64(), hm.Delay.ValueInt64()))
		}
	}
	seen := map[string]int{}
	for i, mem := range m.Members {
		if !known(mem.Address) || !known(mem.ProtocolPort) {
			continue
		}
		k := mem.key()
		if j, dup := seen[k]; dup {
			diags.AddAttributeError(path.Root("members").AtListIndex(i), "Duplicate member",
				fmt.Sprintf("members %d and %d are both %s.", j, i, k))
		}
		seen[k] = i
	}
	return diags
}

// ModifyPlan keeps the ids of children the plan does not touch, so that a plan shows as unknown
// only what an apply really creates anew.
func (r *loadBalancerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.Plan.Raw.Equal(req.State.Raw) {
		return
	}
	var plan, state loadBalancerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !listenersEqual(plan.Listeners, state.Listeners) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("listener_ids"), types.ListUnknown(types.StringType))...)
	}
	sameMonitor := plan.HealthMonitor != nil && state.HealthMonitor != nil && plan.HealthMonitor.Type.Equal(state.HealthMonitor.Type) &&
		!state.HealthMonitorID.IsNull()
	switch {
	case plan.HealthMonitor == nil:
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("health_monitor_id"), types.StringNull())...)
	case sameMonitor:
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("health_monitor_id"), state.HealthMonitorID)...)
	default:
		// A new monitor: what Octavia chooses for settings left unset is known once it exists.
		var cfg loadBalancerModel
		resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
		if cfg.HealthMonitor != nil && cfg.HealthMonitor.URLPath.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("health_monitor").AtName("url_path"), types.StringUnknown())...)
		}
		if cfg.HealthMonitor != nil && cfg.HealthMonitor.ExpectedCodes.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("health_monitor").AtName("expected_codes"), types.StringUnknown())...)
		}
	}
	if membersSameSet(plan.Members, state.Members) && !state.MemberIDs.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("member_ids"), state.MemberIDs)...)
	}
}

func listenersEqual(a, b []lbListenerModel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Protocol.Equal(b[i].Protocol) || !a[i].ProtocolPort.Equal(b[i].ProtocolPort) {
			return false
		}
	}
	return true
}

// membersSameSet: the same members (address, port and subnet), whatever their weights, which
// change in place and keep the member's id.
func membersSameSet(a, b []lbMemberModel) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]types.String{}
	for _, m := range b {
		in[m.key()] = m.SubnetID
	}
	for _, m := range a {
		subnet, ok := in[m.key()]
		if !ok || !subnet.Equal(m.SubnetID) {
			return false
		}
	}
	return true
}

func (r *loadBalancerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *loadBalancerResource) api(ctx context.Context, lbID string) (*cloud.LoadBalancer, error) {
	if r.data == nil || r.data.client == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	sc, err := r.data.client.ServiceClient(ctx, cloud.ServiceLoadBalancer)
	if err != nil {
		return nil, err
	}
	return &cloud.LoadBalancer{Client: sc, Poll: cloud.ConfiguredPoll(), LoadBalancerID: lbID}, nil
}

// forState replaces what is still unknown by null, so that a partial create can be saved.
func (m loadBalancerModel) forState() loadBalancerModel {
	nullStr := func(v types.String) types.String {
		if v.IsUnknown() {
			return types.StringNull()
		}
		return v
	}
	m.ID, m.VIPSubnetID, m.VIPNetworkID = nullStr(m.ID), nullStr(m.VIPSubnetID), nullStr(m.VIPNetworkID)
	m.VIPAddress, m.VIPPortID, m.PoolID = nullStr(m.VIPAddress), nullStr(m.VIPPortID), nullStr(m.PoolID)
	m.HealthMonitorID = nullStr(m.HealthMonitorID)
	m.ProvisioningStatus, m.OperatingStatus = nullStr(m.ProvisioningStatus), nullStr(m.OperatingStatus)
	if m.ListenerIDs.IsUnknown() {
		m.ListenerIDs = types.ListNull(types.StringType)
	}
	if m.MemberIDs.IsUnknown() {
		m.MemberIDs = types.MapNull(types.StringType)
	}
	if hm := m.HealthMonitor; hm != nil && (hm.URLPath.IsUnknown() || hm.ExpectedCodes.IsUnknown()) {
		copied := *hm
		copied.URLPath, copied.ExpectedCodes = nullStr(copied.URLPath), nullStr(copied.ExpectedCodes)
		m.HealthMonitor = &copied
	}
	return m
}

func (r *loadBalancerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m loadBalancerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Create(ctx, lbDefaultTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.api(ctx, "")
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the load-balancer service", err.Error())
		return
	}
	save := func() bool {
		resp.Diagnostics.Append(resp.State.Set(ctx, m.forState())...)
		return !resp.Diagnostics.HasError()
	}

	// The load balancers of this name that exist before the create: one more afterwards is the
	// create's, even when its answer was lost.
	name := m.Name.ValueString()
	before, err := api.LoadBalancersNamed(ctx, name, managedByTag)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the load balancers", err.Error()+"\n\nNothing was created.")
		return
	}
	lb, err := api.CreateLoadBalancer(ctx, loadbalancers.CreateOpts{
		Name: name, VipSubnetID: m.VIPSubnetID.ValueString(), VipNetworkID: m.VIPNetworkID.ValueString(),
		Tags: []string{managedByTag},
	})
	if err != nil {
		if created := r.createdDespiteError(ctx, api, name, before); created != nil {
			tflog.Warn(ctx, "load balancer create answered with an error, but the load balancer exists: adopting it",
				map[string]any{"id": created.ID, "error": err.Error()})
			lb, err = created, nil
		}
	}
	if err != nil {
		attr := path.Root("vip_subnet_id")
		if m.VIPSubnetID.IsNull() {
			attr = path.Root("vip_network_id")
		}
		resp.Diagnostics.AddAttributeError(attr, "Cannot create the load balancer", err.Error())
		return
	}
	m.ID = types.StringValue(lb.ID)
	m.setVIP(lb)
	if !save() {
		return
	}
	tflog.Info(ctx, "load balancer created", map[string]any{"id": lb.ID, "vip_address": lb.VipAddress})
	api.LoadBalancerID = lb.ID
	if err := api.WaitActive(ctx, lb.ID); err != nil {
		// A load balancer that went to ERROR cannot be finished: the error taints it, and the next
		// apply replaces it. One still PENDING_CREATE when time ran out is finished by the next apply.
		if current, gerr := api.GetLoadBalancer(context.WithoutCancel(ctx), lb.ID); gerr == nil && current.ProvisioningStatus != "ERROR" {
			resp.Diagnostics.AddWarning("Load balancer not ACTIVE yet",
				fmt.Sprintf("%v\n\nLoad balancer %s is %s and kept; run terraform apply again to finish it in place.", err, lb.ID, current.ProvisioningStatus))
			partial := m
			partial.ProvisioningStatus = types.StringValue(current.ProvisioningStatus)
			resp.Diagnostics.Append(resp.State.Set(ctx, partial.forState())...)
			return
		}
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Load balancer did not become ACTIVE",
			err.Error()+fmt.Sprintf(" (load balancer %s is kept in state and will be replaced on the next apply)", lb.ID))
		return
	}

	// Every child is built by the same steps an update takes, from a load balancer with none.
	cur := m
	cur.Pool, cur.HealthMonitor, cur.Listeners, cur.Members = nil, nil, nil, nil
	cur.PoolID, cur.HealthMonitorID = types.StringNull(), types.StringNull()
	cur.ListenerIDs, cur.MemberIDs = types.ListNull(types.StringType), types.MapNull(types.StringType)
	var converged diag.Diagnostics
	saveCur := func() bool {
		converged.Append(resp.State.Set(ctx, cur.forState())...)
		return !converged.HasError()
	}
	if !r.converge(ctx, api, m, &cur, saveCur, &converged) {
		// Saved without an error: an error would make Terraform taint the load balancer and replace
		// it, with a new VIP. The state holds the configuration and the ids of what exists; the
		// next refresh shows what is missing and the next apply adds it in place.
		for _, d := range converged {
			if d.Severity() == diag.SeverityError {
				resp.Diagnostics.AddWarning("Load balancer created incompletely: "+d.Summary(),
					d.Detail()+fmt.Sprintf("\n\nLoad balancer %s (VIP %s) is kept. Run terraform apply again: it adds only what is "+
						"missing, in place (terraform plan -detailed-exitcode exits 2 until it has).", m.ID.ValueString(), m.VIPAddress.ValueString()))
			} else {
				resp.Diagnostics.Append(d)
			}
		}
		partial := m
		partial.PoolID, partial.HealthMonitorID, partial.ListenerIDs, partial.MemberIDs = cur.PoolID, cur.HealthMonitorID, cur.ListenerIDs, cur.MemberIDs
		partial.ProvisioningStatus, partial.OperatingStatus = cur.ProvisioningStatus, cur.OperatingStatus
		resp.Diagnostics.Append(resp.State.Set(ctx, partial.forState())...)
		return
	}
	resp.Diagnostics.Append(converged...)
	r.refreshStatus(ctx, api, &cur, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, cur.forState())...)
}

// managedByTag marks the load balancers this provider creates.
const managedByTag = "eventscale:managed-by=eventscale"

// createdDespiteError finds the load balancer a create made although its answer was an error
// (a connection lost after Octavia acted, a proxy's 504): exactly one load balancer of the
// name and tag that was not there before. Octavia records a load balancer before it answers,
// so a create that made one shows it at once.
func (r *loadBalancerResource) createdDespiteError(ctx context.Context, api *cloud.LoadBalancer, name string,
	before []loadbalancers.LoadBalancer) *loadbalancers.LoadBalancer {
	// Looked for even when the create's own time ran out: it may have made one.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	after, err := api.LoadBalancersNamed(lctx, name, managedByTag)
	if err != nil {
		return nil
	}
	var fresh []loadbalancers.LoadBalancer
	for _, lb := range after {
		if !slices.ContainsFunc(before, func(b loadbalancers.LoadBalancer) bool { return b.ID == lb.ID }) {
			fresh = append(fresh, lb)
		}
	}
	if len(fresh) != 1 {
		return nil
	}
	return &fresh[0]
}

// converge brings the load balancer from cur (what Octavia has, as recorded in state) to plan,
// one Octavia change at a time: the load balancer's name, the pool (created when missing), the
// health monitor, the listeners and the static members. Each change is saved to state as soon
// as Octavia accepts it, so that a failure half-way leaves a state whose next plan shows
// exactly what is still to do, and the next apply does it in place.
func (r *loadBalancerResource) converge(ctx context.Context, api *cloud.LoadBalancer, plan loadBalancerModel, cur *loadBalancerModel,
	save func() bool, diags *diag.Diagnostics) bool {
	id := cur.ID.ValueString()
	if !plan.Name.Equal(cur.Name) {
		name := plan.Name.ValueString()
		if err := api.UpdateLoadBalancer(ctx, id, loadbalancers.UpdateOpts{Name: &name}); err != nil {
			diags.AddAttributeError(path.Root("name"), "Cannot rename the load balancer", err.Error())
			return false
		}
	}
	if cur.PoolID.IsNull() || cur.PoolID.ValueString() == "" {
		cur.Name = plan.Name
		pool, err := api.CreatePool(ctx, plan.poolCreateOpts(id))
		if err != nil {
			diags.AddAttributeError(path.Root("pool"), "Cannot create the pool", err.Error())
			return false
		}
		cur.PoolID, cur.Pool = types.StringValue(pool.ID), plan.Pool
		if !save() {
			return false
		}
		if err := api.WaitChildActive(ctx, "pool "+pool.ID, r.poolStatus(api, pool.ID)); err != nil {
			diags.AddAttributeError(path.Root("pool"), "Pool did not become ACTIVE", err.Error())
			return false
		}
	} else if u, changed := poolUpdate(*cur, plan); changed {
		if err := api.UpdatePool(ctx, cur.PoolID.ValueString(), u); err != nil {
			if !plan.Name.Equal(cur.Name) {
				cur.Name = plan.Name // the load balancer itself was renamed
				save()
			}
			diags.AddAttributeError(path.Root("pool"), "Cannot update the pool", err.Error())
			return false
		}
	}
	cur.Name, cur.Pool = plan.Name, plan.Pool
	if !save() {
		return false
	}
	return r.updateMonitor(ctx, api, plan, cur, save, diags) &&
		r.updateListeners(ctx, api, plan, cur, save, diags) &&
		r.updateMembers(ctx, api, plan, cur, save, diags)
}

// updateListeners brings the listeners from cur to plan. A listener is its protocol and port,
// which Octavia cannot change: a listener no longer configured is deleted, a new one created,
// new ports first so that moving a service to another port never leaves it without a listener.
func (r *loadBalancerResource) updateListeners(ctx context.Context, api *cloud.LoadBalancer, plan loadBalancerModel, cur *loadBalancerModel,
	save func() bool, diags *diag.Diagnostics) bool {
	key := func(l lbListenerModel) string {
		return fmt.Sprintf("%s:%d", l.Protocol.ValueString(), l.ProtocolPort.ValueInt64())
	}
	var ids []string
	if !cur.ListenerIDs.IsNull() && !cur.ListenerIDs.IsUnknown() {
		diags.Append(cur.ListenerIDs.ElementsAs(ctx, &ids, false)...)
	}
	have := map[string]string{} // key -> id
	usedPorts := map[int64]bool{}
	for i, l := range cur.Listeners {
		if i < len(ids) {
			have[key(l)] = ids[i]
			usedPorts[l.ProtocolPort.ValueInt64()] = true
		}
	}
	wanted := map[string]bool{}
	for _, l := range plan.Listeners {
		wanted[key(l)] = true
	}
	record := func() bool {
		var ls []lbListenerModel
		var lids []string
		for _, l := range append(append([]lbListenerModel(nil), plan.Listeners...), cur.Listeners...) {
			if id, ok := have[key(l)]; ok && !slices.Contains(lids, id) {
				ls, lids = append(ls, l), append(lids, id)
			}
		}
		cur.Listeners, cur.ListenerIDs = ls, stringListValue(lids)
		return save()
	}
	create := func(i int, l lbListenerModel) bool {
		lis, err := api.CreateListener(ctx, listeners.CreateOpts{
			LoadbalancerID: cur.ID.ValueString(), Protocol: listeners.Protocol(l.Protocol.ValueString()),
			ProtocolPort: int(l.ProtocolPort.ValueInt64()), DefaultPoolID: cur.PoolID.ValueString(),
			Name: fmt.Sprintf("%s-%s-%d", plan.Name.ValueString(), l.Protocol.ValueString(), l.ProtocolPort.ValueInt64()),
		})
		if err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i), "Cannot create the listener", err.Error())
			return false
		}
		have[key(l)] = lis.ID
		if !record() {
			return false
		}
		if err := api.WaitChildActive(ctx, "listener "+lis.ID, r.listenerStatus(api, lis.ID)); err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i), "Listener did not become ACTIVE", err.Error())
			return false
		}
		return true
	}
	// New listeners on free ports first.
	for i, l := range plan.Listeners {
		if _, ok := have[key(l)]; !ok && !usedPorts[l.ProtocolPort.ValueInt64()] {
			if !create(i, l) {
				return false
			}
		}
	}
	for _, l := range cur.Listeners {
		id, ok := have[key(l)]
		if !ok || wanted[key(l)] {
			continue
		}
		if err := api.DeleteListener(ctx, id); err != nil {
			diags.AddAttributeError(path.Root("listener"), "Cannot delete listener "+key(l), err.Error())
			return false
		}
		delete(have, key(l))
		if !record() {
			return false
		}
	}
	for i, l := range plan.Listeners {
		if _, ok := have[key(l)]; !ok {
			if !create(i, l) {
				return false
			}
		}
	}
	return record()
}

func (m *loadBalancerModel) setVIP(lb *loadbalancers.LoadBalancer) {
	m.VIPAddress = types.StringValue(lb.VipAddress)
	m.VIPPortID = types.StringValue(lb.VipPortID)
	m.VIPSubnetID = types.StringValue(lb.VipSubnetID)
	m.VIPNetworkID = types.StringValue(lb.VipNetworkID)
	m.ProvisioningStatus = types.StringValue(lb.ProvisioningStatus)
	m.OperatingStatus = types.StringValue(lb.OperatingStatus)
}

func (m loadBalancerModel) poolName() string { return m.Name.ValueString() + "-pool" }

func (m loadBalancerModel) poolCreateOpts(loadBalancerID string) pools.CreateOpts {
	opts := pools.CreateOpts{
		LBMethod: pools.LBMethod(m.Pool.LBMethod.ValueString()), Protocol: pools.Protocol(m.Pool.Protocol.ValueString()),
		LoadbalancerID: loadBalancerID, Name: m.poolName(),
	}
	if sp := m.Pool.SessionPersistence; sp != nil {
		opts.Persistence = &pools.SessionPersistence{Type: sp.Type.ValueString(), CookieName: sp.CookieName.ValueString()}
	}
	return opts
}

func (m lbMonitorModel) createOpts(poolID, name string) monitors.CreateOpts {
	return monitors.CreateOpts{
		PoolID: poolID, Name: name, Type: m.Type.ValueString(), Delay: int(m.Delay.ValueInt64()),
		Timeout: int(m.Timeout.ValueInt64()), MaxRetries: int(m.MaxRetries.ValueInt64()),
		URLPath: m.URLPath.ValueString(), ExpectedCodes: m.ExpectedCodes.ValueString(),
	}
}

func (r *loadBalancerResource) createMonitor(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel, save func() bool, diags *diag.Diagnostics) bool {
	mon, err := api.CreateMonitor(ctx, m.HealthMonitor.createOpts(m.PoolID.ValueString(), m.Name.ValueString()+"-monitor"))
	if err != nil {
		diags.AddAttributeError(path.Root("health_monitor"), "Cannot create the health monitor", err.Error())
		return false
	}
	m.HealthMonitorID = types.StringValue(mon.ID)
	if !save() {
		return false
	}
	if err := api.WaitChildActive(ctx, "health monitor "+mon.ID, func(ctx context.Context) (string, error) {
		got, err := api.GetMonitor(ctx, mon.ID)
		if err != nil {
			return "", err
		}
		return got.ProvisioningStatus, nil
	}); err != nil {
		diags.AddAttributeError(path.Root("health_monitor"), "Health monitor did not become ACTIVE", err.Error())
		return false
	}
	return r.readBackMonitor(ctx, api, m, mon.ID, save, diags)
}

// readBackMonitor records what Octavia chose for the monitor settings the configuration left unset.
func (r *loadBalancerResource) readBackMonitor(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel, id string,
	save func() bool, diags *diag.Diagnostics) bool {
	got, err := api.GetMonitor(ctx, id)
	if err != nil {
		diags.AddAttributeError(path.Root("health_monitor"), "Cannot read the health monitor back", err.Error())
		return false
	}
	hm := *m.HealthMonitor
	fromCloud := monitorFromCloud(got)
	if hm.URLPath.IsUnknown() || hm.URLPath.IsNull() {
		hm.URLPath = fromCloud.URLPath
	}
	if hm.ExpectedCodes.IsUnknown() || hm.ExpectedCodes.IsNull() {
		hm.ExpectedCodes = fromCloud.ExpectedCodes
	}
	m.HealthMonitor = &hm
	return save()
}

func (r *loadBalancerResource) createMember(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel, i int, mem lbMemberModel,
	ids map[string]string, save func() bool, diags *diag.Diagnostics) bool {
	weight := int(mem.Weight.ValueInt64())
	created, err := api.CreateMember(ctx, m.PoolID.ValueString(), pools.CreateMemberOpts{
		Address: mem.Address.ValueString(), ProtocolPort: int(mem.ProtocolPort.ValueInt64()), Weight: &weight,
		SubnetID: mem.SubnetID.ValueString(), Name: "static-" + mem.Address.ValueString(), Tags: []string{staticMemberTag},
	})
	if err != nil {
		diags.AddAttributeError(path.Root("members").AtListIndex(i), "Cannot add the static member", err.Error())
		return false
	}
	ids[mem.key()] = created.ID
	m.MemberIDs = stringMapValue(ids)
	if !save() {
		return false
	}
	poolID := m.PoolID.ValueString()
	if err := api.WaitChildActive(ctx, "member "+created.ID, func(ctx context.Context) (string, error) {
		got, err := api.GetMember(ctx, poolID, created.ID)
		if err != nil {
			return "", err
		}
		return got.ProvisioningStatus, nil
	}); err != nil {
		diags.AddAttributeError(path.Root("members").AtListIndex(i), "Static member did not become ACTIVE", err.Error())
		return false
	}
	return true
}

func (r *loadBalancerResource) poolStatus(api *cloud.LoadBalancer, id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		p, err := api.GetPool(ctx, id)
		if err != nil {
			return "", err
		}
		return p.ProvisioningStatus, nil
	}
}

func (r *loadBalancerResource) listenerStatus(api *cloud.LoadBalancer, id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		l, err := api.GetListener(ctx, id)
		if err != nil {
			return "", err
		}
		return l.ProvisioningStatus, nil
	}
}

func (r *loadBalancerResource) refreshStatus(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel, diags *diag.Diagnostics) {
	lb, err := api.GetLoadBalancer(ctx, m.ID.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("id"), "Cannot read the load balancer", err.Error())
		return
	}
	m.setVIP(lb)
}

func stringListValue(v []string) types.List {
	l, _ := types.ListValueFrom(context.Background(), types.StringType, v)
	return l
}

func stringMapValue(v map[string]string) types.Map {
	mv, _ := types.MapValueFrom(context.Background(), types.StringType, v)
	return mv
}

func (r *loadBalancerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m loadBalancerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := r.api(ctx, m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the load-balancer service", err.Error())
		return
	}
	lb, err := api.GetLoadBalancer(ctx, m.ID.ValueString())
	if cloud.IsNotFound(err) || (err == nil && lb.ProvisioningStatus == "DELETED") {
		tflog.Warn(ctx, "load balancer is gone; removing it from state", map[string]any{"id": m.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the load balancer", err.Error())
		return
	}
	m.Name = types.StringValue(lb.Name)
	m.setVIP(lb)
	if err := r.readListeners(ctx, api, lb, &m); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("listener"), "Cannot read the listeners", err.Error())
		return
	}
	if err := r.readPool(ctx, api, lb, &m, &resp.Diagnostics); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("pool"), "Cannot read the pool", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readListeners refreshes the listeners in state order; after an import (no ids yet) it takes
// the LB's listeners in ascending port order.
func (r *loadBalancerResource) readListeners(ctx context.Context, api *cloud.LoadBalancer, lb *loadbalancers.LoadBalancer, m *loadBalancerModel) error {
	var ids []string
	if m.ListenerIDs.IsNull() || m.ListenerIDs.IsUnknown() {
		for _, l := range lb.Listeners {
			ids = append(ids, l.ID)
		}
	} else {
		for _, v := range m.ListenerIDs.Elements() {
			if s, ok := v.(types.String); ok {
				ids = append(ids, s.ValueString())
			}
		}
	}
	var found []*listeners.Listener
	for _, id := range ids {
		l, err := api.GetListener(ctx, id)
		if cloud.IsNotFound(err) {
			continue // drift: the plan shows the listener list changing, which replaces the LB
		}
		if err != nil {
			return err
		}
		found = append(found, l)
	}
	if m.ListenerIDs.IsNull() || m.ListenerIDs.IsUnknown() {
		sort.Slice(found, func(i, j int) bool { return found[i].ProtocolPort < found[j].ProtocolPort })
	}
	m.Listeners = make([]lbListenerModel, 0, len(found))
	ids = ids[:0]
	for _, l := range found {
		m.Listeners = append(m.Listeners, lbListenerModel{Protocol: types.StringValue(l.Protocol), ProtocolPort: types.Int64Value(int64(l.ProtocolPort))})
		ids = append(ids, l.ID)
	}
	m.ListenerIDs = stringListValue(ids)
	return nil
}

func (r *loadBalancerResource) readPool(ctx context.Context, api *cloud.LoadBalancer, lb *loadbalancers.LoadBalancer, m *loadBalancerModel, diags *diag.Diagnostics) error {
	imported := m.PoolID.IsNull()
	if imported {
		if len(lb.Pools) == 0 {
			// Not built yet (a create that stopped early): the plan shows the pool to add.
			m.Pool, m.HealthMonitor, m.HealthMonitorID, m.Members = nil, nil, types.StringNull(), nil
			m.MemberIDs = types.MapNull(types.StringType)
			return nil
		}
		m.PoolID = types.StringValue(lb.Pools[0].ID)
		if len(lb.Pools) > 1 {
			ids, _ := m.ListenerIDs.ToListValue(ctx)
			if len(ids.Elements()) > 0 {
				l, err := api.GetListener(ctx, ids.Elements()[0].(types.String).ValueString())
				if err == nil && l.DefaultPoolID != "" {
					m.PoolID = types.StringValue(l.DefaultPoolID)
				}
			}
		}
	}
	p, err := api.GetPool(ctx, m.PoolID.ValueString())
	if cloud.IsNotFound(err) {
		diags.AddAttributeWarning(path.Root("pool_id"), "Pool deleted outside Terraform",
			fmt.Sprintf("Pool %s of load balancer %s no longer exists. Replace the load balancer: terraform apply -replace=<address>.",
				m.PoolID.ValueString(), lb.ID))
		return nil
	}
	if err != nil {
		return err
	}
	pm := lbPoolModel{Protocol: types.StringValue(p.Protocol), LBMethod: types.StringValue(p.LBMethod)}
	if p.Persistence.Type != "" {
		pm.SessionPersistence = &lbPersistenceModel{Type: types.StringValue(p.Persistence.Type), CookieName: types.StringNull()}
		if p.Persistence.CookieName != "" {
			pm.SessionPersistence.CookieName = types.StringValue(p.Persistence.CookieName)
		}
	}
	m.Pool = &pm

	monitorID := m.HealthMonitorID.ValueString()
	if imported || monitorID == "" {
		monitorID = p.MonitorID
	}
	m.HealthMonitorID = types.StringNull()
	if monitorID != "" {
		mon, err := api.GetMonitor(ctx, monitorID)
		switch {
		case cloud.IsNotFound(err):
			m.HealthMonitor = nil
		case err != nil:
			return err
		default:
			m.HealthMonitorID = types.StringValue(mon.ID)
			m.HealthMonitor = monitorFromCloud(mon)
		}
	} else {
		m.HealthMonitor = nil
	}

	return r.readMembers(ctx, api, m)
}

// monitorFromCloud reads the monitor back as Octavia has it; url_path and expected_codes, left
// unset, hold what Octavia chose (HTTP and HTTPS monitors only: a TCP monitor has neither).
func monitorFromCloud(mon *monitors.Monitor) *lbMonitorModel {
	out := &lbMonitorModel{Type: types.StringValue(mon.Type), Delay: types.Int64Value(int64(mon.Delay)),
		Timeout: types.Int64Value(int64(mon.Timeout)), MaxRetries: types.Int64Value(int64(mon.MaxRetries)),
		URLPath: types.StringNull(), ExpectedCodes: types.StringNull()}
	if mon.Type == "HTTP" || mon.Type == "HTTPS" {
		if mon.URLPath != "" {
			out.URLPath = types.StringValue(mon.URLPath)
		}
		if mon.ExpectedCodes != "" {
			out.ExpectedCodes = types.StringValue(mon.ExpectedCodes)
		}
	}
	return out
}

func (r *loadBalancerResource) readMembers(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel) error {
	all, err := api.ListMembers(ctx, m.PoolID.ValueString())
	if err != nil {
		return err
	}
	byID := map[string]int{}
	for i, mem := range all {
		byID[mem.ID] = i
	}
	ids := map[string]string{}
	var members []lbMemberModel
	toModel := func(i int, prior *lbMemberModel) lbMemberModel {
		mem := all[i]
		out := lbMemberModel{Address: types.StringValue(mem.Address), ProtocolPort: types.Int64Value(int64(mem.ProtocolPort)),
			Weight: types.Int64Value(int64(mem.Weight)), SubnetID: types.StringNull()}
		if mem.SubnetID != "" && (prior == nil || !prior.SubnetID.IsNull()) {
			out.SubnetID = types.StringValue(mem.SubnetID)
		}
		return out
	}
	if m.MemberIDs.IsNull() || m.MemberIDs.IsUnknown() {
		var tagged []int
		for i, mem := range all {
			for _, t := range mem.Tags {
				if t == staticMemberTag {
					tagged = append(tagged, i)
					break
				}
			}
		}
		sort.Slice(tagged, func(a, b int) bool {
			return memberKey(all[tagged[a]].Address, all[tagged[a]].ProtocolPort) < memberKey(all[tagged[b]].Address, all[tagged[b]].ProtocolPort)
		})
		for _, i := range tagged {
			mm := toModel(i, nil)
			members = append(members, mm)
			ids[mm.key()] = all[i].ID
		}
	} else {
		stateIDs := map[string]string{}
		_ = m.MemberIDs.ElementsAs(ctx, &stateIDs, false)
		for idx := range m.Members {
			prior := m.Members[idx]
			id, ok := stateIDs[prior.key()]
			if !ok {
				continue
			}
			i, ok := byID[id]
			if !ok {
				continue // removed outside Terraform: the plan adds it back
			}
			mm := toModel(i, &prior)
			members = append(members, mm)
			ids[mm.key()] = id
		}
	}
	if len(members) == 0 && m.Members == nil {
		m.Members = nil
	} else {
		m.Members = members
	}
	m.MemberIDs = stringMapValue(ids)
	return nil
}

func (r *loadBalancerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state loadBalancerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, lbDefaultTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := state.ID.ValueString()
	api, err := r.api(ctx, id)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the load-balancer service", err.Error())
		return
	}
	// cur is what Octavia has now: it starts as the prior state and takes each change once
	// Octavia accepted it, so that an update failing half-way leaves a state whose next plan
	// shows exactly the changes still to make.
	cur := state
	cur.Timeouts = plan.Timeouts
	save := func() bool {
		resp.Diagnostics.Append(resp.State.Set(ctx, cur.forState())...)
		return !resp.Diagnostics.HasError()
	}
	if !r.converge(ctx, api, plan, &cur, save, &resp.Diagnostics) {
		return
	}
	final := plan
	final.ID, final.PoolID, final.ListenerIDs, final.HealthMonitorID, final.MemberIDs = cur.ID, cur.PoolID, cur.ListenerIDs, cur.HealthMonitorID, cur.MemberIDs
	final.HealthMonitor = cur.HealthMonitor
	final.VIPAddress, final.VIPPortID, final.VIPSubnetID, final.VIPNetworkID = cur.VIPAddress, cur.VIPPortID, cur.VIPSubnetID, cur.VIPNetworkID
	final.ProvisioningStatus, final.OperatingStatus = cur.ProvisioningStatus, cur.OperatingStatus
	r.refreshStatus(ctx, api, &final, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, final.forState())...)
}

// poolUpdate is the PUT for the pool, if name, lb_method or persistence changed.
func poolUpdate(state, plan loadBalancerModel) (cloud.PoolUpdate, bool) {
	var u cloud.PoolUpdate
	changed := false
	if !plan.Name.Equal(state.Name) {
		name := plan.poolName()
		u.Name, changed = &name, true
	}
	if state.Pool == nil || !plan.Pool.LBMethod.Equal(state.Pool.LBMethod) {
		u.LBMethod, changed = plan.Pool.LBMethod.ValueString(), true
	}
	var before *lbPersistenceModel
	if state.Pool != nil {
		before = state.Pool.SessionPersistence
	}
	after := plan.Pool.SessionPersistence
	switch {
	case after == nil && before != nil:
		u.ClearPersistence, changed = true, true
	case after != nil && (before == nil || !after.Type.Equal(before.Type) || !after.CookieName.Equal(before.CookieName)):
		u.Persistence = &pools.SessionPersistence{Type: after.Type.ValueString(), CookieName: after.CookieName.ValueString()}
		changed = true
	}
	return u, changed
}

// updateMonitor brings the monitor from cur to plan: delete, create, re-create on a new type,
// or update its settings.
func (r *loadBalancerResource) updateMonitor(ctx context.Context, api *cloud.LoadBalancer, plan loadBalancerModel, cur *loadBalancerModel,
	save func() bool, diags *diag.Diagnostics) bool {
	before, after := cur.HealthMonitor, plan.HealthMonitor
	hasID := !cur.HealthMonitorID.IsNull() && cur.HealthMonitorID.ValueString() != ""
	recreate := hasID && after != nil && before != nil && !after.Type.Equal(before.Type)
	if hasID && (after == nil || recreate) {
		if err := api.DeleteMonitor(ctx, cur.HealthMonitorID.ValueString()); err != nil {
			diags.AddAttributeError(path.Root("health_monitor"), "Cannot delete the health monitor", err.Error())
			return false
		}
		cur.HealthMonitor, cur.HealthMonitorID = nil, types.StringNull()
		if !save() {
			return false
		}
		hasID = false
	}
	switch {
	case after == nil:
		cur.HealthMonitor, cur.HealthMonitorID = nil, types.StringNull()
		return true
	case !hasID:
		cur.HealthMonitor = after
		return r.createMonitor(ctx, api, cur, save, diags)
	}
	if before != nil && after.Delay.Equal(before.Delay) && after.Timeout.Equal(before.Timeout) && after.MaxRetries.Equal(before.MaxRetries) &&
		after.URLPath.Equal(before.URLPath) && after.ExpectedCodes.Equal(before.ExpectedCodes) {
		return true
	}
	opts := monitors.UpdateOpts{Delay: int(after.Delay.ValueInt64()), Timeout: int(after.Timeout.ValueInt64()),
		MaxRetries: int(after.MaxRetries.ValueInt64()), URLPath: after.URLPath.ValueString(), ExpectedCodes: after.ExpectedCodes.ValueString()}
	if err := api.UpdateMonitor(ctx, cur.HealthMonitorID.ValueString(), opts); err != nil {
		diags.AddAttributeError(path.Root("health_monitor"), "Cannot update the health monitor", err.Error())
		return false
	}
	cur.HealthMonitor = after
	return r.readBackMonitor(ctx, api, cur, cur.HealthMonitorID.ValueString(), save, diags)
}

// updateMembers removes, re-weights and adds static members, one Octavia change at a time,
// recording each change in state at once. Members of the web pool are never looked at: only
// the ids in member_ids are touched.
func (r *loadBalancerResource) updateMembers(ctx context.Context, api *cloud.LoadBalancer, plan loadBalancerModel, cur *loadBalancerModel,
	save func() bool, diags *diag.Diagnostics) bool {
	poolID, lbID := cur.PoolID.ValueString(), cur.ID.ValueString()
	ids := map[string]string{}
	if !cur.MemberIDs.IsNull() && !cur.MemberIDs.IsUnknown() {
		diags.Append(cur.MemberIDs.ElementsAs(ctx, &ids, false)...)
	}
	wanted := map[string]lbMemberModel{}
	for _, mem := range plan.Members {
		wanted[mem.key()] = mem
	}
	for _, mem := range append([]lbMemberModel(nil), cur.Members...) {
		k := mem.key()
		if want, keep := wanted[k]; keep && want.SubnetID.Equal(mem.SubnetID) {
			continue
		}
		if id, ok := ids[k]; ok {
			if err := api.DeleteMember(ctx, poolID, id); err != nil {
				diags.AddAttributeError(path.Root("members"), "Cannot remove static member "+k, err.Error())
				return false
			}
			if err := api.WaitActive(ctx, lbID); err != nil {
				diags.AddAttributeError(path.Root("members"), "Load balancer did not become ACTIVE after removing "+k, err.Error())
				return false
			}
			delete(ids, k)
		}
		cur.Members = withoutMember(cur.Members, k)
		cur.MemberIDs = stringMapValue(ids)
		if !save() {
			return false
		}
	}
	for i, mem := range plan.Members {
		k := mem.key()
		id, exists := ids[k]
		if !exists {
			cur.Members = append(cur.Members, mem)
			if !r.createMember(ctx, api, cur, i, mem, ids, save, diags) {
				return false
			}
			continue
		}
		j := memberIndex(cur.Members, k)
		if j >= 0 && cur.Members[j].Weight.Equal(mem.Weight) {
			continue
		}
		w := int(mem.Weight.ValueInt64())
		if err := api.UpdateMember(ctx, poolID, id, &w, nil); err != nil {
			diags.AddAttributeError(path.Root("members").AtListIndex(i).AtName("weight"), "Cannot change the weight of "+k, err.Error())
			return false
		}
		if err := api.WaitActive(ctx, lbID); err != nil {
			diags.AddAttributeError(path.Root("members").AtListIndex(i).AtName("weight"), "Load balancer did not become ACTIVE", err.Error())
			return false
		}
		if j >= 0 {
			cur.Members[j].Weight = mem.Weight
		}
		if !save() {
			return false
		}
	}
	cur.Members = plan.Members
	cur.MemberIDs = stringMapValue(ids)
	return true
}

// withoutMember returns a new list without the member keyed k.
func withoutMember(members []lbMemberModel, k string) []lbMemberModel {
	out := make([]lbMemberModel, 0, len(members))
	for _, m := range members {
		if m.key() != k {
			out = append(out, m)
		}
	}
	return out
}

func memberIndex(members []lbMemberModel, k string) int {
	for i, m := range members {
		if m.key() == k {
			return i
		}
	}
	return -1
}

func (r *loadBalancerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m loadBalancerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Delete(ctx, lbDefaultTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.api(ctx, m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the load-balancer service", err.Error())
		return
	}
	if err := api.DeleteLoadBalancerCascade(ctx, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot delete the load balancer", err.Error())
	}
}

func (r *loadBalancerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// ipAddressValidator accepts IPv4 and IPv6 literals, which is all Octavia takes as a member address.
type ipAddressValidator struct{}

func (ipAddressValidator) Description(context.Context) string {
	return "must be an IPv4 or IPv6 address"
}
func (v ipAddressValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (ipAddressValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if net.ParseIP(req.ConfigValue.ValueString()) == nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid member address",
			fmt.Sprintf("%q is not an IP address; Octavia members are addressed by IP (the server's fixed address).", req.ConfigValue.ValueString()))
	}
}
