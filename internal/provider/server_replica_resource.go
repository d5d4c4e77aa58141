package provider

import (
	"context"
	"fmt"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
	"github.com/eventscale/terraform-provider-eventscale/internal/serverreplica"
)

var (
	_ resource.Resource                = (*serverReplicaResource)(nil)
	_ resource.ResourceWithImportState = (*serverReplicaResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*serverReplicaResource)(nil)
	_ resource.ResourceWithConfigure   = (*serverReplicaResource)(nil)
)

// serverReplicaTimeouts: a replica is in sync only after its server booted, installed the
// database server when the image lacks it, and loaded the primary's dump.
var serverReplicaTimeouts = timeoutsDoc{
	Create: timeoutDefault("creating the replicas: each server built, set up and in sync with the primary", 60*time.Minute),
	Update: timeoutDefault("adding replicas (as creating) or removing them one at a time, the others checked after each", 60*time.Minute),
	Delete: timeoutDefault("removing every replica one at a time, then the replication account", 60*time.Minute),
}

// NewServerReplicaResource is the eventscale_server_replica factory.
func NewServerReplicaResource() resource.Resource { return &serverReplicaResource{} }

type serverReplicaResource struct{ data *providerData }

type serverReplicaModel struct {
	ID                  types.String   `tfsdk:"id"`
	Name                types.String   `tfsdk:"name"`
	Primary             *primaryModel  `tfsdk:"primary"`
	ReplicaCount        types.Int64    `tfsdk:"replica_count"`
	ImageID             types.String   `tfsdk:"image_id"`
	Flavor              types.String   `tfsdk:"flavor"`
	Networks            types.List     `tfsdk:"networks"`
	KeyPair             types.String   `tfsdk:"key_pair"`
	SecurityGroups      types.List     `tfsdk:"security_groups"`
	ServerIDBase        types.Int64    `tfsdk:"server_id_base"`
	ReplicaPort         types.Int64    `tfsdk:"replica_port"`
	MaxLag              types.String   `tfsdk:"max_lag"`
	ReplicationUserHost types.String   `tfsdk:"replication_user_host"`
	EventID             types.String   `tfsdk:"event_id"`
	AllowDuringEvent    types.Bool     `tfsdk:"allow_during_event"`
	ReplicationUser     types.String   `tfsdk:"replication_user"`
	ReplicationPassword types.String   `tfsdk:"replication_password"`
	MonitorUser         types.String   `tfsdk:"monitor_user"`
	MonitorPassword     types.String   `tfsdk:"monitor_password"`
	Replicas            types.List     `tfsdk:"replicas"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

type primaryModel struct {
	Host            types.String `tfsdk:"host"`
	Port            types.Int64  `tfsdk:"port"`
	User            types.String `tfsdk:"user"`
	Password        types.String `tfsdk:"password"`
	TLS             types.String `tfsdk:"tls"`
	ReplicationHost types.String `tfsdk:"replication_host"`
	ReplicationPort types.Int64  `tfsdk:"replication_port"`
}

var serverReplicaAttrTypes = map[string]attr.Type{
	"name": types.StringType, "server_id": types.StringType, "address": types.StringType, "mysql_server_id": types.Int64Type,
	"status": types.StringType, "lag_seconds": types.Int64Type, "gtid_position": types.StringType,
}

var serverReplicaObjectType = types.ObjectType{AttrTypes: serverReplicaAttrTypes}

func (r *serverReplicaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server_replica"
}

func (r *serverReplicaResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "MariaDB or MySQL read replicas of a primary that runs on a plain server (db01), for clouds without " +
			"Trove. Each replica is a Nova server named `<name>-01`, `<name>-02`, ... whose user data installs the database server " +
			"when the image lacks it, copies the primary with a consistent dump and starts GTID replication. The primary's " +
			"settings are checked at plan time and never changed: the diagnostics give the my.cnf lines to add. Replicas are " +
			"removed one at a time, the highest number first: replication stopped, server deleted, the others checked.\n\n" +
			"The provider reaches the primary at `primary.host` and each replica at its fixed address and `replica_port`: " +
			"run Terraform where those are routed (a bastion, a VPN) and let the replicas' security groups allow it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The set's name.", PlanModifiers: keep},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Name of the set, 1–49 letters, digits, `.`, `_` or `-`: replicas are `<name>-01`, `<name>-02`, ...",
				Validators:          []validator.String{stringvalidator.RegexMatches(poolNamePattern, "must be 1-49 letters, digits, '.', '_' or '-'")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"primary": schema.SingleNestedAttribute{Required: true,
				MarkdownDescription: "The primary (db01) and an account on it that may create and grant accounts (root, or the " +
					"privileges the plan names). Nothing on the primary changes but the set's replication account.",
				Attributes: map[string]schema.Attribute{
					"host": schema.StringAttribute{Required: true, MarkdownDescription: "Address under which Terraform reaches the primary."},
					"port": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3306),
						MarkdownDescription: "Its port, 1–65535 (default 3306).", Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"user":     schema.StringAttribute{Required: true, MarkdownDescription: "Administrative account on the primary."},
					"password": schema.StringAttribute{Required: true, Sensitive: true, MarkdownDescription: "Its password."},
					"tls": schema.StringAttribute{Optional: true,
						MarkdownDescription: "TLS to the primary: `true` (verify the certificate), `skip-verify` or `preferred`. Plaintext when unset.",
						Validators:          []validator.String{stringvalidator.OneOf("true", "skip-verify", "preferred")}},
					"replication_host": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Address under which the replicas reach the primary, often its private address. Defaults to `host`. " +
							"Replicas built before a change keep the address they were built with."},
					"replication_port": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Port under which the replicas reach the primary, 1–65535. Defaults to `port`.",
						Validators:          []validator.Int64{int64validator.Between(1, 65535)}},
				}},
			"replica_count": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
				MarkdownDescription: "Number of replicas, 0–20 (default 1). Lowering it removes the highest-numbered replicas one at a time.",
				Validators:          []validator.Int64{int64validator.Between(0, 20)}},
			"image_id": schema.StringAttribute{Required: true,
				MarkdownDescription: "Image of the replicas' servers: Debian or Ubuntu (MariaDB or MySQL is installed with apt-get when " +
					"missing), or an image with MariaDB 10.5.9+ / MySQL 8.0.26+ installed. A change applies to replicas built afterwards."},
			"flavor": schema.StringAttribute{Required: true,
				MarkdownDescription: "Flavor id or name of the replicas' servers. A change applies to replicas built afterwards."},
			"networks": schema.ListAttribute{Required: true, ElementType: types.StringType,
				MarkdownDescription: "Network ids, at least 1; the first carries the address replicas serve on.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
			"key_pair": schema.StringAttribute{Optional: true, MarkdownDescription: "Nova key pair for SSH access to the replicas."},
			"security_groups": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Security groups of the replicas' servers: they must let Terraform reach `replica_port`."},
			"server_id_base": schema.Int64Attribute{Optional: true, Computed: true,
				MarkdownDescription: "Replica NN gets server_id `server_id_base + NN`; 1–4294967195. Derived from `name` when unset, so two sets on one " +
					"primary rarely overlap; the plan refuses any clash with the primary or with replicas already connected to it.",
				Validators:    []validator.Int64{int64validator.Between(1, 4294967195)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"replica_port": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3306),
				MarkdownDescription: "Port the replicas' database listens on, 1–65535 (default 3306).",
				Validators:          []validator.Int64{int64validator.Between(1, 65535)}},
			"max_lag": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("30s"),
				MarkdownDescription: "Replication lag under which a replica counts as in sync (default `30s`): a new replica must get " +
					"there before the apply finishes, and the replicas that stay must stay within it after each removal.",
				Validators: []validator.String{durationBetween(time.Second, 24*time.Hour)}},
			"replication_user_host": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("%"),
				MarkdownDescription: "Host part of the replication account on the primary (default `%`). Narrow it to the replicas' " +
					"subnet, e.g. `10.0.0.%`. A change creates the account for the new host part at the next apply that builds or " +
					"waits for a replica; the account with the old host part stays on the primary until dropped by hand."},
			"event_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "An `eventscale_event` id: during its window the replicas refuse to shrink or be destroyed."},
			"allow_during_event": schema.BoolAttribute{Optional: true, MarkdownDescription: "Allow shrinking or destroying during the event."},
			"replication_user": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The set's replication account on the primary."},
			"replication_password": schema.StringAttribute{Optional: true, Computed: true, Sensitive: true,
				PlanModifiers: []planmodifier.String{keepStateValue()},
				MarkdownDescription: "Password of the replication account, generated and kept in state. Set it only to adopt a set " +
					"whose state is lost (after an import): the cloud cannot tell it."},
			"monitor_user": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The account the setup creates on each replica, through which the provider reads and stops replication."},
			"monitor_password": schema.StringAttribute{Optional: true, Computed: true, Sensitive: true,
				PlanModifiers: []planmodifier.String{keepStateValue()},
				MarkdownDescription: "Password of the monitoring account, generated and kept in state. Set it only after an import, " +
					"as `replication_password`: without it the replicas' replication cannot be read or stopped."},
			"replicas": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The replicas as they are, by number.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":            schema.StringAttribute{Computed: true, MarkdownDescription: "Server name."},
					"server_id":       schema.StringAttribute{Computed: true, MarkdownDescription: "Nova server id."},
					"address":         schema.StringAttribute{Computed: true, MarkdownDescription: "Fixed address to send reads to."},
					"mysql_server_id": schema.Int64Attribute{Computed: true, MarkdownDescription: "The replica's server_id."},
					"status": schema.StringAttribute{Computed: true, MarkdownDescription: "`replicating`, `lagging`, `setting up`, `failed`, " +
						"`stopped`, `unreachable`, `unknown` (no monitor password), or Nova's status when the server is not ACTIVE."},
					"lag_seconds":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Seconds behind the primary; null when unknown."},
					"gtid_position": schema.StringAttribute{Computed: true, MarkdownDescription: "GTID position the replica has applied."},
				}}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, serverReplicaTimeouts),
		},
	}
}

func (r *serverReplicaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// spec turns the model into the library's Spec; flavorID is resolved by the caller.
func (r *serverReplicaResource) spec(ctx context.Context, m *serverReplicaModel, diags *diag.Diagnostics) serverreplica.Spec {
	p := m.Primary
	sp := serverreplica.Spec{
		Name: m.Name.ValueString(),
		Primary: dbreplica.Endpoint{Host: p.Host.ValueString(), Port: int(p.Port.ValueInt64()), User: p.User.ValueString(),
			Password: p.Password.ValueString(), TLS: p.TLS.ValueString()},
		SourceHost: p.ReplicationHost.ValueString(), SourcePort: int(p.ReplicationPort.ValueInt64()),
		ReplicationUserHost: m.ReplicationUserHost.ValueString(),
		ServerIDBase:        uint32(m.ServerIDBase.ValueInt64()),
		ImageID:             m.ImageID.ValueString(), Flavor: m.Flavor.ValueString(),
		Networks: stringList(ctx, m.Networks, diags), KeyPair: m.KeyPair.ValueString(),
		SecurityGroups: stringList(ctx, m.SecurityGroups, diags),
		ReplicaPort:    int(m.ReplicaPort.ValueInt64()),
	}
	if d, err := time.ParseDuration(m.MaxLag.ValueString()); err == nil {
		sp.MaxLag = d
	}
	if r.data != nil {
		sp.Dial = r.data.dbDial
	}
	return sp
}

// set builds the library's Set for an apply; nil when it cannot (diags says why).
func (r *serverReplicaResource) set(ctx context.Context, m *serverReplicaModel, known []serverreplica.Replica, diags *diag.Diagnostics) *serverreplica.Set {
	if r.data == nil {
		diags.AddError("Provider not configured", "the eventscale provider was not configured before eventscale_server_replica was used")
		return nil
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		diags.AddError("Cannot use the compute service", err.Error())
		return nil
	}
	sp := r.spec(ctx, m, diags)
	if m.ReplicaCount.ValueInt64() > int64(len(known)) {
		if sp.FlavorID, err = compute.ResolveFlavor(ctx, sp.Flavor); err != nil {
			diags.AddAttributeError(path.Root("flavor"), "Unknown flavor", err.Error())
			return nil
		}
	}
	set, err := serverreplica.New(serverreplica.Config{
		Spec:    sp,
		Secrets: serverreplica.Secrets{ReplicationPassword: m.ReplicationPassword.ValueString(), MonitorPassword: m.MonitorPassword.ValueString()},
		Compute: compute,
		Known:   known,
		Progress: func(p serverreplica.Progress) {
			tflog.Info(ctx, p.Message, map[string]any{"replica_set": sp.Name, "replica": p.Replica})
		},
	})
	if err != nil {
		diags.AddError("Invalid server replica set", err.Error())
		return nil
	}
	return set
}

func replicasFromState(ctx context.Context, l types.List, diags *diag.Diagnostics) []serverreplica.Replica {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var objs []struct {
		Name          types.String `tfsdk:"name"`
		ServerID      types.String `tfsdk:"server_id"`
		Address       types.String `tfsdk:"address"`
		MySQLServerID types.Int64  `tfsdk:"mysql_server_id"`
		Status        types.String `tfsdk:"status"`
		LagSeconds    types.Int64  `tfsdk:"lag_seconds"`
		GTIDPosition  types.String `tfsdk:"gtid_position"`
	}
	diags.Append(l.ElementsAs(ctx, &objs, false)...)
	out := make([]serverreplica.Replica, 0, len(objs))
	for i, o := range objs {
		rep := serverreplica.Replica{Ordinal: i + 1, Name: o.Name.ValueString(), ServerID: o.ServerID.ValueString(),
			Address: o.Address.ValueString(), MySQLServerID: uint32(o.MySQLServerID.ValueInt64()), Status: o.Status.ValueString(),
			GTIDPosition: o.GTIDPosition.ValueString()}
		if n, ok := ordinalFromReplicaName(rep.Name); ok {
			rep.Ordinal = n
		}
		out = append(out, rep)
	}
	return out
}

// ordinalFromReplicaName reads NN from "<name>-NN".
func ordinalFromReplicaName(name string) (int, bool) {
	i := strings.LastIndex(name, "-")
	if i < 0 {
		return 0, false
	}
	n := 0
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

func replicasToState(rs []serverreplica.Replica) types.List {
	vals := make([]attr.Value, 0, len(rs))
	for _, rep := range rs {
		lag := types.Int64Null()
		if rep.LagKnown {
			lag = types.Int64Value(int64(rep.Lag / time.Second))
		}
		vals = append(vals, types.ObjectValueMust(serverReplicaAttrTypes, map[string]attr.Value{
			"name": types.StringValue(rep.Name), "server_id": types.StringValue(rep.ServerID), "address": types.StringValue(rep.Address),
			"mysql_server_id": types.Int64Value(int64(rep.MySQLServerID)), "status": types.StringValue(rep.Status),
			"lag_seconds": lag, "gtid_position": types.StringValue(rep.GTIDPosition),
		}))
	}
	return types.ListValueMust(serverReplicaObjectType, vals)
}

func inServiceCount(rs []serverreplica.Replica) int {
	n := 0
	for _, rep := range rs {
		if rep.InService() {
			n++
		}
	}
	return n
}

func (r *serverReplicaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan serverReplicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = plan.Name
	secrets, err := serverreplica.Secrets{ReplicationPassword: plan.ReplicationPassword.ValueString(),
		MonitorPassword: plan.MonitorPassword.ValueString()}.Complete()
	if err != nil {
		resp.Diagnostics.AddError("Generating the replicas' passwords", err.Error())
		return
	}
	plan.ReplicationPassword, plan.MonitorPassword = types.StringValue(secrets.ReplicationPassword), types.StringValue(secrets.MonitorPassword)
	set := r.set(ctx, &plan, nil, &resp.Diagnostics)
	if set == nil {
		return
	}
	got, err := set.Apply(ctx, int(plan.ReplicaCount.ValueInt64()))
	warnings(set, &resp.Diagnostics)
	name := plan.Name.ValueString()
	if err != nil && len(got) == 0 {
		resp.Diagnostics.AddError(fmt.Sprintf("Creating replicas %q failed", name), err.Error()+"\n\nNo replica server exists.")
		return
	}
	plan.Replicas = replicasToState(got)
	if err != nil {
		// Saved without an error: an error would taint the set, and the next apply would
		// remove the replicas that serve reads before building new ones.
		resp.Diagnostics.AddWarning(fmt.Sprintf("Replicas %q created with %d of %d in service", name, inServiceCount(got), plan.ReplicaCount.ValueInt64()),
			err.Error()+"\n\nThe replicas that exist are kept and listed in state. Run terraform apply again: it waits for the ones "+
				"still setting up, builds again the ones whose setup failed, and adds what is missing (terraform plan -detailed-exitcode "+
				"exits 2 until it has).")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func warnings(set *serverreplica.Set, diags *diag.Diagnostics) {
	for _, w := range set.Warnings() {
		diags.AddWarning("Replica set", w)
	}
}

func (r *serverReplicaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serverReplicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	set := r.set(ctx, &state, replicasFromState(ctx, state.Replicas, &resp.Diagnostics), &resp.Diagnostics)
	if set == nil {
		return
	}
	got, err := set.Refresh(ctx)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading replicas %q", state.Name.ValueString()), err.Error())
		return
	}
	state.Replicas = replicasToState(got)
	// Only replicas in service count: one still setting up, failed or unreachable shows as
	// a difference from the configuration, and the next apply finishes or rebuilds it.
	state.ReplicaCount = types.Int64Value(int64(inServiceCount(got)))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *serverReplicaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior serverReplicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := replicasFromState(ctx, prior.Replicas, &resp.Diagnostics)
	want := plan.ReplicaCount.ValueInt64()
	if want < int64(len(known)) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replica_count"), "Removing replicas is frozen during the event", err.Error())
			return
		}
		if plan.MonitorPassword.ValueString() == "" {
			resp.Diagnostics.AddAttributeError(path.Root("monitor_password"), "Cannot stop replication without the monitoring password",
				"This set was imported: its monitoring account's password is not in state, so replication on the replicas to remove cannot "+
					"be stopped before their servers are deleted. Set monitor_password to the password the replicas were built with.")
			return
		}
	}
	timeout, d := plan.Timeouts.Update(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = prior.ID
	set := r.set(ctx, &plan, known, &resp.Diagnostics)
	if set == nil {
		return
	}
	got, err := set.Apply(ctx, int(want))
	warnings(set, &resp.Diagnostics)
	plan.Replicas = replicasToState(got)
	if err != nil {
		plan.ReplicaCount = types.Int64Value(int64(inServiceCount(got)))
		resp.Diagnostics.AddError(fmt.Sprintf("Bringing replicas %q to %d failed", plan.Name.ValueString(), want),
			err.Error()+"\n\nThe state lists exactly the replicas that exist now; run apply again to resume.")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serverReplicaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serverReplicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
		resp.Diagnostics.AddError("Destroying the replicas is frozen during the event", err.Error())
		return
	}
	known := replicasFromState(ctx, state.Replicas, &resp.Diagnostics)
	if len(known) > 0 && state.MonitorPassword.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("monitor_password"), "Cannot stop replication without the monitoring password",
			"This set was imported: its monitoring account's password is not in state. Set monitor_password to the password the "+
				"replicas were built with, apply, then destroy.")
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	set := r.set(ctx, &state, known, &resp.Diagnostics)
	if set == nil {
		return
	}
	got, err := set.Destroy(ctx)
	warnings(set, &resp.Diagnostics)
	if err != nil {
		state.Replicas = replicasToState(got)
		state.ReplicaCount = types.Int64Value(int64(len(got)))
		resp.Diagnostics.AddError(fmt.Sprintf("Removing replicas %q failed", state.Name.ValueString()),
			err.Error()+"\n\nThe replicas still listed in state exist; run destroy again to resume.")
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

// ImportState takes the set's name and reads the configuration back from its servers'
// metadata. The cloud cannot tell primary.password, primary.tls, replication_password and
// monitor_password.
func (r *serverReplicaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "the eventscale provider must be configured to import")
		return
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot use the compute service", err.Error())
		return
	}
	rs, im, err := serverreplica.Discover(ctx, compute, req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Nothing to import", fmt.Sprintf("replica set %q: %v", req.ID, err))
		return
	}
	strs := func(v []string) types.List {
		if len(v) == 0 {
			return types.ListNull(types.StringType)
		}
		vals := make([]attr.Value, 0, len(v))
		for _, s := range v {
			vals = append(vals, types.StringValue(s))
		}
		return types.ListValueMust(types.StringType, vals)
	}
	optional := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	primary := &primaryModel{Host: types.StringValue(im.PrimaryHost), Port: types.Int64Value(int64(im.PrimaryPort)),
		User: types.StringValue(im.PrimaryUser), Password: types.StringNull(), TLS: types.StringNull(),
		ReplicationHost: types.StringNull(), ReplicationPort: types.Int64Null()}
	// The source is recorded in full; it appears in the configuration only where it
	// differs from host and port.
	if im.SourceHost != "" && im.SourceHost != im.PrimaryHost {
		primary.ReplicationHost = types.StringValue(im.SourceHost)
	}
	if im.SourcePort != 0 && im.SourcePort != im.PrimaryPort {
		primary.ReplicationPort = types.Int64Value(int64(im.SourcePort))
	}
	maxLag := "30s"
	if im.MaxLag > 0 {
		maxLag = formatDuration(im.MaxLag)
	}
	port := int64(im.ReplicaPort)
	if port == 0 {
		port = dbreplica.DefaultPort
	}
	userHost := im.ReplUserHost
	if userHost == "" {
		userHost = "%"
	}
	m := serverReplicaModel{
		ID: types.StringValue(req.ID), Name: types.StringValue(req.ID), Primary: primary,
		ReplicaCount: types.Int64Value(int64(len(rs))), ImageID: types.StringValue(im.ImageID), Flavor: types.StringValue(im.Flavor),
		Networks: strs(im.Networks), KeyPair: optional(im.KeyPair), SecurityGroups: strs(im.SecurityGroup),
		ServerIDBase: types.Int64Value(int64(im.ServerIDBase)), ReplicaPort: types.Int64Value(port), MaxLag: types.StringValue(maxLag),
		ReplicationUserHost: types.StringValue(userHost), EventID: types.StringNull(), AllowDuringEvent: types.BoolNull(),
		ReplicationUser: types.StringValue(dbreplica.ReplicationUserName(req.ID)), ReplicationPassword: types.StringNull(),
		MonitorUser: types.StringValue(dbreplica.MonitorUserName(req.ID)), MonitorPassword: types.StringNull(),
		Replicas: replicasToState(rs),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType})},
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	resp.Diagnostics.AddWarning("Passwords are not imported",
		"The cloud does not keep primary.password, replication_password or monitor_password where a project member can read "+
			"them: the first plan shows primary.password as a change (applying it changes nothing in the cloud). Set "+
			"replication_password and monitor_password to the values the replicas were built with to grow, shrink or read replication.")
}

func (r *serverReplicaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state *serverReplicaModel
	if !req.State.Raw.IsNull() {
		state = &serverReplicaModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if req.Plan.Raw.IsNull() {
		if state != nil {
			if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
				resp.Diagnostics.AddError("Destroying the replicas is frozen during the event", err.Error())
			}
		}
		return
	}
	var plan serverReplicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Name.IsUnknown() {
		return
	}
	name := plan.Name.ValueString()
	set := func(p path.Path, v attr.Value) { resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, p, v)...) }
	set(path.Root("replication_user"), types.StringValue(dbreplica.ReplicationUserName(name)))
	set(path.Root("monitor_user"), types.StringValue(dbreplica.MonitorUserName(name)))
	if plan.ServerIDBase.IsUnknown() {
		plan.ServerIDBase = types.Int64Value(int64(dbreplica.SuggestServerIDBase(name)))
		set(path.Root("server_id_base"), plan.ServerIDBase)
	}
	if plan.ReplicaCount.IsUnknown() {
		return
	}
	var known []serverreplica.Replica
	if state != nil {
		known = replicasFromState(ctx, state.Replicas, &resp.Diagnostics)
	}
	want := int(plan.ReplicaCount.ValueInt64())
	if state != nil && want < len(known) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replica_count"), "Removing replicas is frozen during the event", err.Error())
		}
	}
	growing := want > len(known)
	if state == nil || growing || !primaryEqual(plan.Primary, state.Primary) || !plan.ServerIDBase.Equal(state.ServerIDBase) {
		r.checkPrimaryAtPlan(ctx, &plan, want, known, &resp.Diagnostics)
	}
	if growing && !resp.Diagnostics.HasError() {
		r.preflight(ctx, &plan, want-len(known), &resp.Diagnostics)
	}
}

func primaryEqual(a, b *primaryModel) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Host.Equal(b.Host) && a.Port.Equal(b.Port) && a.User.Equal(b.User) && a.Password.Equal(b.Password) && a.TLS.Equal(b.TLS) &&
		a.ReplicationHost.Equal(b.ReplicationHost) && a.ReplicationPort.Equal(b.ReplicationPort)
}

// checkPrimaryAtPlan connects to the primary (read-only) and turns what would stop the
// replicas into diagnostics on the attribute to change, before any server is made.
func (r *serverReplicaResource) checkPrimaryAtPlan(ctx context.Context, plan *serverReplicaModel, want int, known []serverreplica.Replica, diags *diag.Diagnostics) {
	p := plan.Primary
	if r.data == nil || p == nil || p.Host.IsUnknown() || p.Port.IsUnknown() || p.User.IsUnknown() || p.Password.IsUnknown() ||
		p.TLS.IsUnknown() || plan.ServerIDBase.IsUnknown() {
		return
	}
	sp := r.spec(ctx, plan, diags)
	var existing []int
	for _, rep := range known {
		existing = append(existing, rep.Ordinal)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, problems := serverreplica.CheckPlan(cctx, sp, want, existing)
	for _, pr := range problems {
		at := problemPath(pr.Attribute)
		detail := pr.Detail
		if pr.Severity == dbreplica.SeverityError {
			detail += "\n\nNo replica server was created; the primary was not changed."
			diags.AddAttributeError(at, capitalize(pr.Summary), detail)
		} else {
			diags.AddAttributeWarning(at, capitalize(pr.Summary), detail)
		}
	}
}

func problemPath(a dbreplica.Attribute) path.Path {
	switch a {
	case dbreplica.AttrPrimaryHost:
		return path.Root("primary").AtName("host")
	case dbreplica.AttrPrimaryPort:
		return path.Root("primary").AtName("port")
	case dbreplica.AttrPrimaryUser:
		return path.Root("primary").AtName("user")
	case dbreplica.AttrPrimaryPassword:
		return path.Root("primary").AtName("password")
	case dbreplica.AttrPrimaryTLS:
		return path.Root("primary").AtName("tls")
	case dbreplica.AttrServerID:
		return path.Root("server_id_base")
	}
	return path.Root("primary")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// preflight checks the project's Nova quotas for the servers the plan adds.
func (r *serverReplicaResource) preflight(ctx context.Context, plan *serverReplicaModel, adds int, diags *diag.Diagnostics) {
	if r.data == nil || plan.Flavor.IsUnknown() || plan.Networks.IsUnknown() {
		return
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		diags.AddWarning("Quotas not checked", err.Error())
		return
	}
	flavor := plan.Flavor.ValueString()
	vcpus, ram, err := compute.FlavorSize(ctx, flavor)
	if err != nil {
		diags.AddAttributeError(path.Root("flavor"), "Unknown flavor", fmt.Sprintf("%v (openstack flavor list)", err))
		return
	}
	nets := len(stringList(ctx, plan.Networks, diags))
	why := fmt.Sprintf("%d replica server(s) of flavor %s", adds, flavor)
	r.data.preflight(ctx, path.Root("replica_count"), fmt.Sprintf("replicas %q", plan.Name.ValueString()), []quota.Need{
		{Service: quota.Compute, Resource: "instances", Count: adds, Why: why},
		{Service: quota.Compute, Resource: "cores", Count: adds * vcpus, Why: fmt.Sprintf("%s, %d vCPU each", why, vcpus)},
		{Service: quota.Compute, Resource: "ram", Count: adds * ram, Why: fmt.Sprintf("%s, %d MiB each", why, ram)},
		{Service: quota.Network, Resource: "port", Count: adds * nets, Why: fmt.Sprintf("%s on %d network(s)", why, nets)},
	}, diags)
}

// keepStateValue plans an Optional+Computed attribute the configuration leaves unset as the
// value in state, null included (UseStateForUnknown keeps only non-null values): an
// imported set has no generated passwords, and that must not show as a change.
func keepStateValue() planmodifier.String { return keepStringState{} }

type keepStringState struct{}

func (keepStringState) Description(context.Context) string {
	return "keeps the value in state when the configuration sets none"
}
func (m keepStringState) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (keepStringState) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || !req.ConfigValue.IsNull() {
		return
	}
	resp.PlanValue = req.StateValue
}
