package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/event"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
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

	listenerProtocols = []string{"HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS"}
	poolProtocols     = []string{"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2"}
	// compatiblePoolProtocols is Octavia's listener → pool protocol matrix (constants.py).
	compatiblePoolProtocols = map[string][]string{
		"HTTP":  {"HTTP", "PROXY", "PROXYV2"},
		"HTTPS": {"HTTPS", "PROXY", "PROXYV2", "TCP"},
		"TCP":   {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
		// The load balancer decrypts: plain HTTP to the members.
		"TERMINATED_HTTPS": {"HTTP", "PROXY", "PROXYV2"},
	}
)

type lbListenerModel struct {
	Protocol          types.String `tfsdk:"protocol"`
	ProtocolPort      types.Int64  `tfsdk:"protocol_port"`
	CertificateFile   types.String `tfsdk:"certificate_file"`
	PrivateKeyFile    types.String `tfsdk:"private_key_file"`
	IntermediatesFile types.String `tfsdk:"intermediates_file"`
	CertificateSHA256 types.String `tfsdk:"certificate_sha256"`
	TLSContainerRef   types.String `tfsdk:"tls_container_ref"`
}

func (l lbListenerModel) key() string {
	return fmt.Sprintf("%s:%d", l.Protocol.ValueString(), l.ProtocolPort.ValueInt64())
}

func (l lbListenerModel) terminatesTLS() bool { return l.Protocol.ValueString() == "TERMINATED_HTTPS" }

// bundle reads the listener's certificate files.
func (l lbListenerModel) bundle() (cloud.CertificateBundle, error) {
	read := func(p types.String) (string, error) {
		if p.IsNull() || p.ValueString() == "" {
			return "", nil
		}
		b, err := os.ReadFile(p.ValueString())
		return string(b), err
	}
	var b cloud.CertificateBundle
	var err error
	if b.Certificate, err = read(l.CertificateFile); err != nil {
		return b, fmt.Errorf("certificate_file: %w", err)
	}
	if b.PrivateKey, err = read(l.PrivateKeyFile); err != nil {
		return b, fmt.Errorf("private_key_file: %w", err)
	}
	if b.Intermediates, err = read(l.IntermediatesFile); err != nil {
		return b, fmt.Errorf("intermediates_file: %w", err)
	}
	return b, nil
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

type lbFloatingIPModel struct {
	Network types.String `tfsdk:"network"`
	Address types.String `tfsdk:"address"`
}

// adopted: an existing floating IP given by address, which destroy only disassociates.
func (f *lbFloatingIPModel) adopted() bool {
	return f != nil && !f.Address.IsNull() && f.Address.ValueString() != ""
}

type lbMemberModel struct {
	Address        types.String `tfsdk:"address"`
	ProtocolPort   types.Int64  `tfsdk:"protocol_port"`
	Weight         types.Int64  `tfsdk:"weight"`
	SubnetID       types.String `tfsdk:"subnet_id"`
	Backup         types.Bool   `tfsdk:"backup"`
	EventWeight    types.Int64  `tfsdk:"event_weight"`
	EventBackup    types.Bool   `tfsdk:"event_backup"`
	WeightInEffect types.Int64  `tfsdk:"weight_in_effect"`
	BackupInEffect types.Bool   `tfsdk:"backup_in_effect"`
}

// inEffect is what the member is set to at now: its event settings until the event of eventID
// ends (from the apply before it, which is when operators scale out), its own settings after.
// Without an event, the event settings hold whenever they are set.
func (m lbMemberModel) inEffect(eventID types.String, now time.Time) (weight int64, backup bool, ok bool) {
	if m.Weight.IsUnknown() || m.Backup.IsUnknown() || m.EventWeight.IsUnknown() || m.EventBackup.IsUnknown() || eventID.IsUnknown() {
		return 0, false, false
	}
	weight, backup = m.Weight.ValueInt64(), m.Backup.ValueBool()
	protecting := true
	if !eventID.IsNull() && eventID.ValueString() != "" {
		_, _, ends, err := event.ParseID(eventID.ValueString())
		protecting = err == nil && now.Before(ends)
	}
	if protecting && !m.EventWeight.IsNull() {
		weight = m.EventWeight.ValueInt64()
	}
	if protecting && !m.EventBackup.IsNull() {
		backup = m.EventBackup.ValueBool()
	}
	return weight, backup, true
}

func (m lbMemberModel) key() string {
	return memberKey(m.Address.ValueString(), int(m.ProtocolPort.ValueInt64()))
}

func memberKey(address string, port int) string {
	return net.JoinHostPort(address, strconv.Itoa(port))
}

type loadBalancerModel struct {
	ID                 types.String       `tfsdk:"id"`
	Name               types.String       `tfsdk:"name"`
	VIPSubnetID        types.String       `tfsdk:"vip_subnet_id"`
	VIPNetworkID       types.String       `tfsdk:"vip_network_id"`
	VIPAddress         types.String       `tfsdk:"vip_address"`
	VIPPortID          types.String       `tfsdk:"vip_port_id"`
	Listeners          []lbListenerModel  `tfsdk:"listener"`
	Pool               *lbPoolModel       `tfsdk:"pool"`
	HealthMonitor      *lbMonitorModel    `tfsdk:"health_monitor"`
	Members            []lbMemberModel    `tfsdk:"members"`
	EventID            types.String       `tfsdk:"event_id"`
	FloatingIP         *lbFloatingIPModel `tfsdk:"floating_ip"`
	PublicAddress      types.String       `tfsdk:"public_address"`
	FloatingIPID       types.String       `tfsdk:"floating_ip_id"`
	PoolID             types.String       `tfsdk:"pool_id"`
	ListenerIDs        types.List         `tfsdk:"listener_ids"`
	HealthMonitorID    types.String       `tfsdk:"health_monitor_id"`
	MemberIDs          types.Map          `tfsdk:"member_ids"`
	ProvisioningStatus types.String       `tfsdk:"provisioning_status"`
	OperatingStatus    types.String       `tfsdk:"operating_status"`
	Timeouts           timeouts.Value     `tfsdk:"timeouts"`
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
				MarkdownDescription: "Load balancer name, 1–200 characters; the pool is named `<name>-pool` and listeners `<name>-<protocol>-<port>`.",
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
					"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port the server listens on, 1–65535.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"weight": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
						MarkdownDescription: "Octavia weight, 0–256 (0 takes no new connections). Default `1`.",
						Validators:          []validator.Int64{int64validator.Between(0, 256)}},
					"subnet_id": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Subnet the address is on, when it is not the VIP's. Changing it re-creates the member."},
					"backup": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						MarkdownDescription: "Octavia's backup flag: the member serves only when every other member is down. Default `false`."},
					"event_weight": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "The weight during the event, 0–256: a reduced weight keeps the original server (web01) out of " +
							"the crush while the web pool carries the load. In effect from the apply before the event (the scale-out) " +
							"until the event of `event_id` ends; the first apply after it (the scale-back) restores `weight`. Without " +
							"`event_id`, in effect whenever set.",
						Validators: []validator.Int64{int64validator.Between(0, 256)}},
					"event_backup": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "The backup flag during the event (see `event_weight` for when): `true` takes the member out of " +
							"first-line rotation; it serves only if every web node is down."},
					"weight_in_effect": schema.Int64Attribute{Computed: true,
						MarkdownDescription: "The weight Octavia has now: `event_weight` while the event protects the member, else `weight`."},
					"backup_in_effect": schema.BoolAttribute{Computed: true,
						MarkdownDescription: "The backup flag Octavia has now."},
				}}},
			"floating_ip": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "A public address for the VIP, where the users are: `network` allocates a floating IP from that " +
					"external network (name or id) and associates it with the VIP's port — destroy releases it; `address` adopts a " +
					"floating IP the project already holds (a DNS name may point at it) — destroy only disassociates it. Exactly one " +
					"of the two. Changed in place.",
				Attributes: map[string]schema.Attribute{
					"network": schema.StringAttribute{Optional: true, MarkdownDescription: "External network (name or id) to allocate from.",
						Validators: []validator.String{stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("address"))}},
					"address": schema.StringAttribute{Optional: true, MarkdownDescription: "An existing floating IP of the project to adopt.",
						Validators: []validator.String{ipAddressValidator{}}},
				}},
			"public_address": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The floating IP's address when `floating_ip` is set, else the VIP address: where load tests and " +
					"the health gate reach the tier from outside."},
			"floating_ip_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the floating IP, when `floating_ip` is set."},
			"event_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "An `eventscale_event` id: the members' `event_weight` and `event_backup` hold until it ends."},
		},
		Blocks: map[string]schema.Block{
			"listener": schema.ListNestedBlock{
				MarkdownDescription: "A listener on the VIP. At least one; each forwards to the pool. Listeners are added and " +
					"removed in place (a listener's protocol and port cannot change in Octavia, so changing them replaces that " +
					"listener, the new one created before the old one is deleted when the port differs).",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.IsRequired()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"protocol": schema.StringAttribute{Required: true,
						MarkdownDescription: "`HTTP`, `HTTPS` (passed through to the members), `TCP`, or `TERMINATED_HTTPS` (the load " +
							"balancer decrypts with `certificate_file` and `private_key_file` and sends HTTP to the members).",
						Validators: []validator.String{stringvalidator.OneOf(listenerProtocols...)}},
					"protocol_port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port on the VIP, 1–65535.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"certificate_file": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`TERMINATED_HTTPS` only: path of the PEM certificate (relative to where Terraform runs; use " +
							"`\"${path.module}/...\"`). Read at plan time, checked against the key, stored with the key in a Barbican " +
							"certificate container that Octavia reads. The key never enters Terraform's state: a change of the files' " +
							"content shows as `certificate_sha256` changing, and the listener then takes a new container in place."},
					"private_key_file": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`TERMINATED_HTTPS` only: path of the PEM private key (unencrypted) matching the certificate."},
					"intermediates_file": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`TERMINATED_HTTPS` only: path of the PEM intermediate certificates, if any."},
					"certificate_sha256": schema.StringAttribute{Computed: true,
						MarkdownDescription: "Digest of the certificate, key and intermediates the listener serves (`TERMINATED_HTTPS`)."},
					"tls_container_ref": schema.StringAttribute{Computed: true,
						MarkdownDescription: "The Barbican certificate container the listener serves (`TERMINATED_HTTPS`)."},
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
						MarkdownDescription: "Seconds between checks, at least 1. Default `5`.", Validators: []validator.Int64{int64validator.AtLeast(1)}},
					"timeout": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3),
						MarkdownDescription: "Seconds a check may take, at least 1 and at most `delay`. Default `3`.", Validators: []validator.Int64{int64validator.AtLeast(1)}},
					"max_retries": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3),
						MarkdownDescription: "Successful checks before a member is ONLINE, 1–10. Default `3`.",
						Validators:          []validator.Int64{int64validator.Between(1, 10)}},
				},
			},
			"timeouts": timeoutsBlock(ctx, loadBalancerTimeouts),
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
	// A dynamic block whose for_each is not known yet (terraform validate, or a plan where it
	// depends on another resource) is checked again once it is.
	if unknownBlocks(req.Config.Raw, "listener", "pool", "health_monitor") {
		return
	}
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
	for i, l := range m.Listeners {
		if !known(l.Protocol) || l.Protocol.IsNull() {
			continue
		}
		at := path.Root("listener").AtListIndex(i)
		if l.terminatesTLS() {
			for _, a := range []struct {
				name string
				v    types.String
			}{{"certificate_file", l.CertificateFile}, {"private_key_file", l.PrivateKeyFile}} {
				if a.v.IsNull() {
					diags.AddAttributeError(at.AtName(a.name), "Missing "+a.name,
						fmt.Sprintf("A TERMINATED_HTTPS listener (listener %d) needs certificate_file and private_key_file.", i))
				}
			}
			continue
		}
		for _, a := range []struct {
			name string
			v    types.String
		}{{"certificate_file", l.CertificateFile}, {"private_key_file", l.PrivateKeyFile}, {"intermediates_file", l.IntermediatesFile}} {
			if !a.v.IsNull() {
				diags.AddAttributeError(at.AtName(a.name), a.name+" not used by a "+l.Protocol.ValueString()+" listener",
					fmt.Sprintf("Only a TERMINATED_HTTPS listener presents a certificate; listener %d is %s.", i, l.Protocol.ValueString()))
			}
		}
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
	if req.Plan.Raw.IsNull() {
		return
	}
	// Listeners not known yet (a dynamic block over an unknown value): the computed attributes
	// stay unknown, and the plan that knows them is checked in full.
	if unknownBlocks(req.Plan.Raw, "listener", "pool", "health_monitor") {
		return
	}
	var plan, state loadBalancerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// Certificates first: a new certificate in an unchanged file path is a change too.
	planCertificates(ctx, plan, state, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	membersChange := planMembersInEffect(ctx, plan, state, resp)
	if !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw) && !membersChange {
		if changed, _ := certificatesChanged(plan, state); !changed {
			return
		}
	}
	if req.State.Raw.IsNull() {
		r.checkVIPAtPlan(ctx, plan, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	r.data.preflight(ctx, path.Root("name"), fmt.Sprintf("load balancer %q", plan.Name.ValueString()), lbNeeds(plan, state, req.State.Raw.IsNull()), &resp.Diagnostics)
	if req.State.Raw.IsNull() || resp.Diagnostics.HasError() {
		return
	}
	if (plan.FloatingIP == nil) == (state.FloatingIP == nil) && (plan.FloatingIP == nil ||
		(plan.FloatingIP.Network.Equal(state.FloatingIP.Network) && plan.FloatingIP.Address.Equal(state.FloatingIP.Address))) &&
		!state.PublicAddress.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("public_address"), state.PublicAddress)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("floating_ip_id"), state.FloatingIPID)...)
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

// checkVIPAtPlan refuses, with a read-only call, a VIP subnet or network the project cannot see:
// Octavia would refuse it only after the create was sent.
func (r *loadBalancerResource) checkVIPAtPlan(ctx context.Context, plan loadBalancerModel, diags *diag.Diagnostics) {
	if r.data == nil {
		return
	}
	net, err := r.data.client.Network(ctx)
	if err != nil {
		diags.AddWarning("VIP not checked at plan time", err.Error())
		return
	}
	check := func(attr string, v types.String, exists func(context.Context, string) (bool, error), what string) {
		if v.IsNull() || v.IsUnknown() {
			return
		}
		ok, err := exists(ctx, v.ValueString())
		switch {
		case err != nil:
			diags.AddAttributeWarning(path.Root(attr), "Not checked at plan time", err.Error())
		case !ok:
			diags.AddAttributeError(path.Root(attr), "Unknown "+what,
				fmt.Sprintf("no %s %s is visible to the project (openstack %s list)", what, v.ValueString(), what))
		}
	}
	check("vip_subnet_id", plan.VIPSubnetID, net.SubnetExists, "subnet")
	check("vip_network_id", plan.VIPNetworkID, net.NetworkExists, "network")
}

// lbNeeds is what the plan adds to Octavia's quotas: the load balancer itself when it is created,
// and the listeners, pool, monitor and static members it does not have yet.
func lbNeeds(plan, state loadBalancerModel, creating bool) []quota.Need {
	name := plan.Name.ValueString()
	var needs []quota.Need
	add := func(resource string, n int, why string) {
		if n > 0 {
			needs = append(needs, quota.Need{Service: quota.LoadBalancer, Resource: resource, Count: n, Why: why})
		}
	}
	if creating {
		add("load_balancer", 1, "load balancer "+name)
	}
	have := map[string]bool{}
	for _, l := range state.Listeners {
		have[fmt.Sprintf("%s:%d", l.Protocol.ValueString(), l.ProtocolPort.ValueInt64())] = true
	}
	listeners := 0
	for _, l := range plan.Listeners {
		if !have[fmt.Sprintf("%s:%d", l.Protocol.ValueString(), l.ProtocolPort.ValueInt64())] {
			listeners++
		}
	}
	add("listener", listeners, fmt.Sprintf("%d listener(s) of %s", listeners, name))
	if state.PoolID.IsNull() || state.PoolID.ValueString() == "" {
		add("pool", 1, "the pool of "+name)
	}
	if plan.HealthMonitor != nil && (state.HealthMonitorID.IsNull() || state.HealthMonitorID.ValueString() == "") {
		add("health_monitor", 1, "the health monitor of "+name)
	}
	members := 0
	for _, m := range plan.Members {
		if memberIndex(state.Members, m.key()) < 0 {
			members++
		}
	}
	add("member", members, fmt.Sprintf("%d static member(s) of %s", members, name))
	if f := plan.FloatingIP; f != nil && !f.adopted() && (state.FloatingIPID.IsNull() || state.FloatingIPID.ValueString() == "") {
		needs = append(needs, quota.Need{Service: quota.Network, Resource: "floatingip", Count: 1, Why: "the floating IP of " + name})
	}
	return needs
}

// planCertificates reads each TERMINATED_HTTPS listener's files at plan time, refuses what Octavia
// would refuse (no pair, expired), warns of a certificate expiring within 30 days, and plans the
// digest: a new digest is a new Barbican container for that listener, in place.
func planCertificates(ctx context.Context, plan, state loadBalancerModel, resp *resource.ModifyPlanResponse) {
	prior := map[string]lbListenerModel{}
	for _, l := range state.Listeners {
		prior[l.key()] = l
	}
	for i, l := range plan.Listeners {
		at := path.Root("listener").AtListIndex(i)
		if l.Protocol.IsUnknown() || l.ProtocolPort.IsUnknown() {
			continue
		}
		if !l.terminatesTLS() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("certificate_sha256"), types.StringNull())...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("tls_container_ref"), types.StringNull())...)
			continue
		}
		if l.CertificateFile.IsUnknown() || l.PrivateKeyFile.IsUnknown() || l.IntermediatesFile.IsUnknown() {
			continue
		}
		b, err := l.bundle()
		if err != nil {
			resp.Diagnostics.AddAttributeError(at.AtName("certificate_file"), "Cannot read the listener's certificate files", err.Error())
			continue
		}
		leaf, err := b.Check()
		if err != nil {
			resp.Diagnostics.AddAttributeError(at.AtName("certificate_file"), "Certificate unusable", err.Error())
			continue
		}
		switch now := time.Now(); {
		case leaf.NotAfter.Before(now):
			resp.Diagnostics.AddAttributeError(at.AtName("certificate_file"), "Certificate expired",
				fmt.Sprintf("The certificate for %s expired on %s.", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.UTC().Format(time.RFC3339)))
			continue
		case cloud.ExpiresWithin(leaf, now.Add(30*24*time.Hour)):
			resp.Diagnostics.AddAttributeWarning(at.AtName("certificate_file"), "Certificate expires soon",
				fmt.Sprintf("The certificate for %s expires on %s: renew it before the event.", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.UTC().Format(time.RFC3339)))
		}
		digest := b.Digest()
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("certificate_sha256"), types.StringValue(digest))...)
		ref := types.StringUnknown()
		if was, ok := prior[l.key()]; ok && was.CertificateSHA256.ValueString() == digest && !was.TLSContainerRef.IsNull() {
			ref = was.TLSContainerRef
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("tls_container_ref"), ref)...)
	}
}

// planMembersInEffect plans each static member's weight and backup flag as they must be now:
// the event's settings until it ends, the member's own after. It reports whether that differs
// from what Octavia has, which is a change to apply even with an unchanged configuration.
func planMembersInEffect(ctx context.Context, plan, state loadBalancerModel, resp *resource.ModifyPlanResponse) bool {
	now := time.Now()
	had := map[string]lbMemberModel{}
	for _, m := range state.Members {
		had[m.key()] = m
	}
	changed := false
	for i, m := range plan.Members {
		w, b, ok := m.inEffect(plan.EventID, now)
		if !ok {
			continue
		}
		at := path.Root("members").AtListIndex(i)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("weight_in_effect"), types.Int64Value(w))...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("backup_in_effect"), types.BoolValue(b))...)
		if was, ok := had[m.key()]; ok && (was.WeightInEffect.ValueInt64() != w || was.BackupInEffect.ValueBool() != b) {
			changed = true
		}
	}
	return changed
}

// certificatesChanged reports whether a TLS listener's files now hold another certificate.
func certificatesChanged(plan, state loadBalancerModel) (bool, error) {
	prior := map[string]string{}
	for _, l := range state.Listeners {
		prior[l.key()] = l.CertificateSHA256.ValueString()
	}
	for _, l := range plan.Listeners {
		if !l.terminatesTLS() {
			continue
		}
		b, err := l.bundle()
		if err != nil {
			return false, err
		}
		if b.Digest() != prior[l.key()] {
			return true, nil
		}
	}
	return false, nil
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
	return r.data.client.LoadBalancer(ctx, lbID)
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
	m.PublicAddress, m.FloatingIPID = nullStr(m.PublicAddress), nullStr(m.FloatingIPID)
	m.ProvisioningStatus, m.OperatingStatus = nullStr(m.ProvisioningStatus), nullStr(m.OperatingStatus)
	if m.ListenerIDs.IsUnknown() {
		m.ListenerIDs = types.ListNull(types.StringType)
	}
	if m.MemberIDs.IsUnknown() {
		m.MemberIDs = types.MapNull(types.StringType)
	}
	ls := make([]lbListenerModel, len(m.Listeners))
	for i, l := range m.Listeners {
		l.CertificateSHA256, l.TLSContainerRef = nullStr(l.CertificateSHA256), nullStr(l.TLSContainerRef)
		ls[i] = l
	}
	m.Listeners = ls
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
	lb, err := api.CreateLoadBalancer(ctx, cloud.LoadBalancerSpec{
		Name: name, VIPSubnetID: m.VIPSubnetID.ValueString(), VIPNetworkID: m.VIPNetworkID.ValueString(),
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
	tflog.Info(ctx, "load balancer created", map[string]any{"id": lb.ID, "vip_address": lb.VIPAddress})
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
	cur.FloatingIP, cur.FloatingIPID, cur.PublicAddress = nil, types.StringNull(), cur.VIPAddress
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
		partial.PublicAddress, partial.FloatingIPID = cur.PublicAddress, cur.FloatingIPID
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
	before []cloud.LoadBalancerInfo) *cloud.LoadBalancerInfo {
	// Looked for even when the create's own time ran out: it may have made one.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	after, err := api.LoadBalancersNamed(lctx, name, managedByTag)
	if err != nil {
		return nil
	}
	var fresh []cloud.LoadBalancerInfo
	for _, lb := range after {
		if !slices.ContainsFunc(before, func(b cloud.LoadBalancerInfo) bool { return b.ID == lb.ID }) {
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
		if err := api.RenameLoadBalancer(ctx, id, name); err != nil {
			diags.AddAttributeError(path.Root("name"), "Cannot rename the load balancer", err.Error())
			return false
		}
	}
	if !r.convergeFloatingIP(ctx, plan, cur, save, diags) {
		return false
	}
	if cur.PoolID.IsNull() || cur.PoolID.ValueString() == "" {
		cur.Name = plan.Name
		pool, err := api.CreatePool(ctx, plan.poolSpec(id))
		if err != nil {
			diags.AddAttributeError(path.Root("pool"), "Cannot create the pool", err.Error())
			return false
		}
		cur.PoolID, cur.Pool = types.StringValue(pool.ID), plan.Pool
		if !save() {
			return false
		}
		if err := api.WaitPoolActive(ctx, pool.ID); err != nil {
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

// convergeFloatingIP gives the VIP the floating IP the plan asks for: allocated from a network
// (found again after a lost answer) or adopted by address; a floating IP no longer wanted is
// released, or only disassociated when it was adopted.
func (r *loadBalancerResource) convergeFloatingIP(ctx context.Context, plan loadBalancerModel, cur *loadBalancerModel, save func() bool, diags *diag.Diagnostics) bool {
	want, have := plan.FloatingIP, cur.FloatingIP
	same := want != nil && have != nil && want.Network.Equal(have.Network) && want.Address.Equal(have.Address) &&
		!cur.FloatingIPID.IsNull() && cur.FloatingIPID.ValueString() != ""
	if same {
		return true
	}
	net, err := r.data.client.Network(ctx)
	if err != nil {
		diags.AddAttributeError(path.Root("floating_ip"), "Cannot use the network service", err.Error())
		return false
	}
	if id := cur.FloatingIPID.ValueString(); id != "" {
		if err := net.ReleaseFloatingIP(ctx, id, have.adopted()); err != nil {
			diags.AddAttributeError(path.Root("floating_ip"), "Cannot release the previous floating IP", err.Error())
			return false
		}
		cur.FloatingIP, cur.FloatingIPID, cur.PublicAddress = nil, types.StringNull(), cur.VIPAddress
		if !save() {
			return false
		}
	}
	if want == nil {
		cur.FloatingIP, cur.FloatingIPID, cur.PublicAddress = nil, types.StringNull(), cur.VIPAddress
		return save()
	}
	var fip cloud.FloatingIP
	port := cur.VIPPortID.ValueString()
	if want.adopted() {
		fip, err = net.AdoptFloatingIP(ctx, want.Address.ValueString(), port)
	} else {
		var netID string
		if netID, err = net.ResolveNetwork(ctx, want.Network.ValueString()); err == nil {
			fip, err = net.EnsureVIPFloatingIP(ctx, netID, port, "eventscale load balancer "+plan.Name.ValueString())
		}
	}
	if err != nil {
		diags.AddAttributeError(path.Root("floating_ip"), "Cannot give the VIP a floating IP", err.Error())
		return false
	}
	cur.FloatingIP, cur.FloatingIPID, cur.PublicAddress = want, types.StringValue(fip.ID), types.StringValue(fip.Address)
	tflog.Info(ctx, "floating IP associated with the VIP", map[string]any{"address": fip.Address, "vip_port_id": port})
	return save()
}

// updateListeners brings the listeners from cur to plan. A listener is its protocol and port,
// which Octavia cannot change: a listener no longer configured is deleted, a new one created,
// new ports first so that moving a service to another port never leaves it without a listener.
func (r *loadBalancerResource) updateListeners(ctx context.Context, api *cloud.LoadBalancer, plan loadBalancerModel, cur *loadBalancerModel,
	save func() bool, diags *diag.Diagnostics) bool {
	key := lbListenerModel.key
	// tls is the certificate each TERMINATED_HTTPS listener serves: digest and container.
	type served struct{ digest, ref string }
	tls := map[string]served{}
	for _, l := range cur.Listeners {
		if l.terminatesTLS() && !l.TLSContainerRef.IsNull() {
			tls[key(l)] = served{l.CertificateSHA256.ValueString(), l.TLSContainerRef.ValueString()}
		}
	}
	store := func(i int, l lbListenerModel) (served, bool) {
		b, err := l.bundle()
		if err == nil {
			_, err = b.Check()
		}
		if err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i).AtName("certificate_file"), "Certificate unusable", err.Error())
			return served{}, false
		}
		km, err := r.data.client.KeyManager(ctx)
		if err == nil {
			var ref string
			ref, err = km.StoreCertificate(ctx, fmt.Sprintf("%s-%d", plan.Name.ValueString(), l.ProtocolPort.ValueInt64()), b)
			if err == nil {
				return served{b.Digest(), ref}, true
			}
		}
		diags.AddAttributeError(path.Root("listener").AtListIndex(i).AtName("certificate_file"), "Cannot store the certificate in Barbican", err.Error())
		return served{}, false
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
				l.CertificateSHA256, l.TLSContainerRef = types.StringNull(), types.StringNull()
				if t, ok := tls[key(l)]; ok {
					l.CertificateSHA256, l.TLSContainerRef = types.StringValue(t.digest), types.StringValue(t.ref)
				}
				ls, lids = append(ls, l), append(lids, id)
			}
		}
		cur.Listeners, cur.ListenerIDs = ls, stringListValue(lids)
		return save()
	}
	create := func(i int, l lbListenerModel) bool {
		spec := cloud.ListenerSpec{
			LoadBalancerID: cur.ID.ValueString(), Protocol: l.Protocol.ValueString(),
			ProtocolPort: int(l.ProtocolPort.ValueInt64()), DefaultPoolID: cur.PoolID.ValueString(),
			Name: fmt.Sprintf("%s-%s-%d", plan.Name.ValueString(), l.Protocol.ValueString(), l.ProtocolPort.ValueInt64()),
		}
		if l.terminatesTLS() {
			t, ok := store(i, l)
			if !ok {
				return false
			}
			tls[key(l)] = t
			spec.DefaultTLSContainerRef = t.ref
		}
		lis, err := api.CreateListener(ctx, spec)
		if err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i), "Cannot create the listener", err.Error())
			return false
		}
		have[key(l)] = lis.ID
		if !record() {
			return false
		}
		if err := api.WaitListenerActive(ctx, lis.ID); err != nil {
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
	// A listener whose certificate changed takes a new container in place; the old one goes once
	// Octavia serves the new.
	for i, l := range plan.Listeners {
		id, ok := have[key(l)]
		if !ok || !l.terminatesTLS() {
			continue
		}
		b, err := l.bundle()
		if err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i).AtName("certificate_file"), "Cannot read the listener's certificate files", err.Error())
			return false
		}
		old := tls[key(l)]
		if old.ref != "" && old.digest == b.Digest() {
			continue
		}
		t, ok := store(i, l)
		if !ok {
			return false
		}
		if err := api.UpdateListener(ctx, id, cloud.ListenerUpdate{DefaultTLSContainerRef: &t.ref}); err != nil {
			diags.AddAttributeError(path.Root("listener").AtListIndex(i), "Cannot give the listener its new certificate", err.Error())
			return false
		}
		tls[key(l)] = t
		if !record() {
			return false
		}
		if old.ref != "" {
			if km, err := r.data.client.KeyManager(ctx); err == nil {
				if err := km.DeleteCertificate(ctx, old.ref); err != nil {
					diags.AddAttributeWarning(path.Root("listener").AtListIndex(i), "Old certificate left in Barbican", err.Error())
				}
			}
		}
	}
	return record()
}

func (m *loadBalancerModel) setVIP(lb *cloud.LoadBalancerInfo) {
	m.VIPAddress = types.StringValue(lb.VIPAddress)
	m.VIPPortID = types.StringValue(lb.VIPPortID)
	m.VIPSubnetID = types.StringValue(lb.VIPSubnetID)
	m.VIPNetworkID = types.StringValue(lb.VIPNetworkID)
	m.ProvisioningStatus = types.StringValue(lb.ProvisioningStatus)
	m.OperatingStatus = types.StringValue(lb.OperatingStatus)
}

func (m loadBalancerModel) poolName() string { return m.Name.ValueString() + "-pool" }

func (m loadBalancerModel) poolSpec(loadBalancerID string) cloud.PoolSpec {
	spec := cloud.PoolSpec{
		LBMethod: m.Pool.LBMethod.ValueString(), Protocol: m.Pool.Protocol.ValueString(),
		LoadBalancerID: loadBalancerID, Name: m.poolName(),
	}
	if sp := m.Pool.SessionPersistence; sp != nil {
		spec.Persistence = &cloud.SessionPersistence{Type: sp.Type.ValueString(), CookieName: sp.CookieName.ValueString()}
	}
	return spec
}

func (m lbMonitorModel) spec(poolID, name string) cloud.MonitorSpec {
	return cloud.MonitorSpec{
		PoolID: poolID, Name: name, Type: m.Type.ValueString(), Delay: int(m.Delay.ValueInt64()),
		Timeout: int(m.Timeout.ValueInt64()), MaxRetries: int(m.MaxRetries.ValueInt64()),
		URLPath: m.URLPath.ValueString(), ExpectedCodes: m.ExpectedCodes.ValueString(),
	}
}

func (r *loadBalancerResource) createMonitor(ctx context.Context, api *cloud.LoadBalancer, m *loadBalancerModel, save func() bool, diags *diag.Diagnostics) bool {
	mon, err := api.CreateMonitor(ctx, m.HealthMonitor.spec(m.PoolID.ValueString(), m.Name.ValueString()+"-monitor"))
	if err != nil {
		diags.AddAttributeError(path.Root("health_monitor"), "Cannot create the health monitor", err.Error())
		return false
	}
	m.HealthMonitorID = types.StringValue(mon.ID)
	if !save() {
		return false
	}
	if err := api.WaitMonitorActive(ctx, mon.ID); err != nil {
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
	w, b, _ := mem.inEffect(m.EventID, time.Now())
	weight, backup := int(w), b
	created, err := api.CreateMember(ctx, m.PoolID.ValueString(), cloud.MemberSpec{
		Address: mem.Address.ValueString(), ProtocolPort: int(mem.ProtocolPort.ValueInt64()), Weight: &weight, Backup: &backup,
		SubnetID: mem.SubnetID.ValueString(), Name: "static-" + mem.Address.ValueString(), Tags: []string{staticMemberTag},
	})
	if err != nil {
		diags.AddAttributeError(path.Root("members").AtListIndex(i), "Cannot add the static member", err.Error())
		return false
	}
	ids[mem.key()] = created.ID
	m.MemberIDs = stringMapValue(ids)
	if j := memberIndex(m.Members, mem.key()); j >= 0 {
		m.Members[j].WeightInEffect, m.Members[j].BackupInEffect = types.Int64Value(w), types.BoolValue(b)
	}
	if !save() {
		return false
	}
	if err := api.WaitMemberActive(ctx, m.PoolID.ValueString(), created.ID); err != nil {
		diags.AddAttributeError(path.Root("members").AtListIndex(i), "Static member did not become ACTIVE", err.Error())
		return false
	}
	return true
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
	if err := r.readFloatingIP(ctx, &m); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("floating_ip"), "Cannot read the floating IP", err.Error())
		return
	}
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

// readFloatingIP refreshes the VIP's floating IP: one released outside Terraform shows in the plan
// as one to allocate again. After an import, the floating IP on the VIP's port is found: one this
// provider allocated (its description says so) reads as allocated from its network, any other as
// adopted by address.
func (r *loadBalancerResource) readFloatingIP(ctx context.Context, m *loadBalancerModel) error {
	net, err := r.data.client.Network(ctx)
	if err != nil {
		return err
	}
	m.PublicAddress = m.VIPAddress
	if id := m.FloatingIPID.ValueString(); id != "" {
		f, err := net.GetFloatingIP(ctx, id)
		switch {
		case cloud.IsNotFound(err) || (err == nil && f.PortID != m.VIPPortID.ValueString()):
			m.FloatingIPID = types.StringNull()
			return nil
		case err != nil:
			return err
		}
		m.PublicAddress = types.StringValue(f.Address)
		return nil
	}
	if m.FloatingIP != nil || m.FloatingIPID.IsUnknown() {
		m.FloatingIPID = types.StringNull()
		return nil
	}
	f, netName, ours, err := net.FloatingIPOfPort(ctx, m.VIPPortID.ValueString(), "eventscale load balancer ")
	if err != nil || f.ID == "" {
		m.FloatingIPID = types.StringNull()
		return err
	}
	m.FloatingIPID, m.PublicAddress = types.StringValue(f.ID), types.StringValue(f.Address)
	if ours {
		m.FloatingIP = &lbFloatingIPModel{Network: types.StringValue(netName), Address: types.StringNull()}
	} else {
		m.FloatingIP = &lbFloatingIPModel{Network: types.StringNull(), Address: types.StringValue(f.Address)}
	}
	return nil
}

// readListeners refreshes the listeners in state order; after an import (no ids yet) it takes
// the LB's listeners in ascending port order.
func (r *loadBalancerResource) readListeners(ctx context.Context, api *cloud.LoadBalancer, lb *cloud.LoadBalancerInfo, m *loadBalancerModel) error {
	var ids []string
	if m.ListenerIDs.IsNull() || m.ListenerIDs.IsUnknown() {
		ids = append(ids, lb.ListenerIDs...)
	} else {
		for _, v := range m.ListenerIDs.Elements() {
			if s, ok := v.(types.String); ok {
				ids = append(ids, s.ValueString())
			}
		}
	}
	var found []*cloud.ListenerInfo
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
	prior := map[string]lbListenerModel{}
	for _, l := range m.Listeners {
		prior[l.key()] = l
	}
	m.Listeners = make([]lbListenerModel, 0, len(found))
	ids = ids[:0]
	for _, l := range found {
		lm := lbListenerModel{Protocol: types.StringValue(l.Protocol), ProtocolPort: types.Int64Value(int64(l.ProtocolPort)),
			CertificateFile: types.StringNull(), PrivateKeyFile: types.StringNull(), IntermediatesFile: types.StringNull(),
			CertificateSHA256: types.StringNull(), TLSContainerRef: types.StringNull()}
		if was, ok := prior[lm.key()]; ok {
			// The files and their digest are the configuration's: the cloud has only the container.
			lm.CertificateFile, lm.PrivateKeyFile, lm.IntermediatesFile = was.CertificateFile, was.PrivateKeyFile, was.IntermediatesFile
			lm.CertificateSHA256 = was.CertificateSHA256
		}
		if l.DefaultTLSContainerRef != "" {
			lm.TLSContainerRef = types.StringValue(l.DefaultTLSContainerRef)
		}
		m.Listeners = append(m.Listeners, lm)
		ids = append(ids, l.ID)
	}
	m.ListenerIDs = stringListValue(ids)
	return nil
}

func (r *loadBalancerResource) readPool(ctx context.Context, api *cloud.LoadBalancer, lb *cloud.LoadBalancerInfo, m *loadBalancerModel, diags *diag.Diagnostics) error {
	imported := m.PoolID.IsNull()
	if imported {
		if len(lb.PoolIDs) == 0 {
			// Not built yet (a create that stopped early): the plan shows the pool to add.
			m.Pool, m.HealthMonitor, m.HealthMonitorID, m.Members = nil, nil, types.StringNull(), nil
			m.MemberIDs = types.MapNull(types.StringType)
			return nil
		}
		m.PoolID = types.StringValue(lb.PoolIDs[0])
		if len(lb.PoolIDs) > 1 {
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
func monitorFromCloud(mon *cloud.MonitorInfo) *lbMonitorModel {
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
			Weight: types.Int64Value(int64(mem.Weight)), SubnetID: types.StringNull(), Backup: types.BoolValue(mem.Backup),
			EventWeight: types.Int64Null(), EventBackup: types.BoolNull(),
			WeightInEffect: types.Int64Value(int64(mem.Weight)), BackupInEffect: types.BoolValue(mem.Backup)}
		if mem.SubnetID != "" && (prior == nil || !prior.SubnetID.IsNull()) {
			out.SubnetID = types.StringValue(mem.SubnetID)
		}
		if prior != nil {
			// What Octavia has now is the setting in effect; the configured ones are the configuration's.
			out.Weight, out.Backup, out.EventWeight, out.EventBackup = prior.Weight, prior.Backup, prior.EventWeight, prior.EventBackup
			if out.Backup.IsNull() || out.Backup.IsUnknown() {
				out.Backup = types.BoolValue(false)
			}
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
	final.HealthMonitor, final.Listeners = cur.HealthMonitor, cur.Listeners
	final.PublicAddress, final.FloatingIPID = cur.PublicAddress, cur.FloatingIPID
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
		u.Persistence = &cloud.SessionPersistence{Type: after.Type.ValueString(), CookieName: after.CookieName.ValueString()}
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
	u := cloud.MonitorUpdate{Delay: int(after.Delay.ValueInt64()), Timeout: int(after.Timeout.ValueInt64()),
		MaxRetries: int(after.MaxRetries.ValueInt64()), URLPath: after.URLPath.ValueString(), ExpectedCodes: after.ExpectedCodes.ValueString()}
	if err := api.UpdateMonitor(ctx, cur.HealthMonitorID.ValueString(), u); err != nil {
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
		w, b, _ := mem.inEffect(plan.EventID, time.Now())
		if j >= 0 && cur.Members[j].WeightInEffect.ValueInt64() == w && cur.Members[j].BackupInEffect.ValueBool() == b &&
			!cur.Members[j].WeightInEffect.IsNull() {
			cur.Members[j].Weight, cur.Members[j].Backup = mem.Weight, mem.Backup
			cur.Members[j].EventWeight, cur.Members[j].EventBackup = mem.EventWeight, mem.EventBackup
			continue
		}
		if err := api.UpdateStaticMember(ctx, poolID, id, int(w), b); err != nil {
			diags.AddAttributeError(path.Root("members").AtListIndex(i).AtName("weight"), "Cannot change the weight or backup flag of "+k, err.Error())
			return false
		}
		if j >= 0 {
			cur.Members[j] = mem
			cur.Members[j].WeightInEffect, cur.Members[j].BackupInEffect = types.Int64Value(w), types.BoolValue(b)
		}
		if !save() {
			return false
		}
	}
	inEffect := map[string]lbMemberModel{}
	for _, m := range cur.Members {
		inEffect[m.key()] = m
	}
	var members []lbMemberModel
	if plan.Members != nil {
		members = make([]lbMemberModel, len(plan.Members))
	}
	for i, m := range plan.Members {
		members[i] = m
		if c, ok := inEffect[m.key()]; ok {
			members[i].WeightInEffect, members[i].BackupInEffect = c.WeightInEffect, c.BackupInEffect
		}
	}
	cur.Members = members
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
	if id := m.FloatingIPID.ValueString(); id != "" {
		net, err := r.data.client.Network(ctx)
		if err == nil {
			err = net.ReleaseFloatingIP(ctx, id, m.FloatingIP.adopted())
		}
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("floating_ip"), "Cannot release the floating IP", err.Error())
			return
		}
	}
	if err := api.DeleteLoadBalancerCascade(ctx, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot delete the load balancer", err.Error())
		return
	}
	for i, l := range m.Listeners {
		if l.TLSContainerRef.IsNull() || l.TLSContainerRef.ValueString() == "" {
			continue
		}
		km, err := r.data.client.KeyManager(ctx)
		if err == nil {
			err = km.DeleteCertificate(ctx, l.TLSContainerRef.ValueString())
		}
		if err != nil {
			resp.Diagnostics.AddAttributeWarning(path.Root("listener").AtListIndex(i), "Certificate left in Barbican",
				"The load balancer is deleted, but deleting its listener's certificate container failed: "+err.Error())
		}
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
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(),
			fmt.Sprintf("%q is not an IP address; Octavia members are addressed by IP (the server's fixed address).", req.ConfigValue.ValueString()))
	}
}

// unknownBlocks reports whether any of the named top-level blocks of an object value is
// unknown as a whole, as a dynamic block is while its for_each is.
func unknownBlocks(raw tftypes.Value, names ...string) bool {
	var m map[string]tftypes.Value
	if err := raw.As(&m); err != nil {
		return false
	}
	for _, n := range names {
		if v, ok := m[n]; ok && !v.IsKnown() {
			return true
		}
	}
	return false
}
