package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

var (
	_ resource.Resource                = (*replicaResource)(nil)
	_ resource.ResourceWithImportState = (*replicaResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*replicaResource)(nil)
	_ resource.ResourceWithConfigure   = (*replicaResource)(nil)
)

// NewDatabaseReplicaResource is the eventscale_database_replica factory.
func NewDatabaseReplicaResource() resource.Resource { return &replicaResource{} }

type replicaResource struct{ data *providerData }

type replicaModel struct {
	ID               types.String   `tfsdk:"id"`
	Name             types.String   `tfsdk:"name"`
	PrimaryID        types.String   `tfsdk:"primary_id"`
	ReplicaCount     types.Int64    `tfsdk:"replica_count"`
	FlavorID         types.String   `tfsdk:"flavor_id"`
	VolumeSize       types.Int64    `tfsdk:"volume_size"`
	EventID          types.String   `tfsdk:"event_id"`
	AllowDuringEvent types.Bool     `tfsdk:"allow_during_event"`
	Instances        types.List     `tfsdk:"instances"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

var instanceAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "status": types.StringType, "hostname": types.StringType,
}

var instanceObjectType = types.ObjectType{AttrTypes: instanceAttrTypes}

func (r *replicaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_database_replica"
}

func (r *replicaResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Trove read replicas of a primary database instance (`replica_of`), to take the event's extra " +
			"read load. Replicas are named `<name>-01`, `<name>-02`, ... so a create whose response was lost is adopted. " +
			"Removing a replica detaches it from the primary first, then deletes it; the primary is never modified.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<primary_id>/<name>`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name prefix of the replicas: 1–49 letters, digits, `.`, `_` or `-`.",
				Validators:    []validator.String{stringvalidator.RegexMatches(poolNamePattern, "must be 1-49 letters, digits, '.', '_' or '-'")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"primary_id": schema.StringAttribute{Required: true, MarkdownDescription: "Trove instance id of the primary.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"replica_count": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
				MarkdownDescription: "Number of replicas, 0–20 (default 1).", Validators: []validator.Int64{int64validator.Between(0, 20)}},
			"flavor_id": schema.StringAttribute{Required: true, MarkdownDescription: "Trove flavor of the replicas.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"volume_size": schema.Int64Attribute{Required: true, MarkdownDescription: "Volume size in GB, at least 1; it must hold the primary's data.",
				Validators: []validator.Int64{int64validator.AtLeast(1)}},
			"event_id": schema.StringAttribute{Optional: true,
				MarkdownDescription: "An `eventscale_event` id: during its window the replicas refuse to shrink or be destroyed."},
			"allow_during_event": schema.BoolAttribute{Optional: true, MarkdownDescription: "Allow shrinking or destroying during the event."},
			"instances": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The replicas as they exist.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Trove instance id."},
					"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Instance name."},
					"status": schema.StringAttribute{Computed: true, MarkdownDescription: "Trove status; `" + detachedStatus + "` for an instance " +
						"that no longer replicates the primary because a removal stopped between its detach and its delete: the next apply deletes it."},
					"hostname": schema.StringAttribute{Computed: true, MarkdownDescription: "Hostname or address to send reads to."},
				}}},
		},
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx, replicaTimeouts)},
	}
}

func (r *replicaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *replicaResource) set(ctx context.Context, m *replicaModel, known []scaling.Instance, diags *diag.Diagnostics) *scaling.Replicas {
	if r.data == nil {
		diags.AddError("Provider not configured", "the eventscale provider was not configured before eventscale_database_replica was used")
		return nil
	}
	db, err := r.data.client.Database(ctx)
	if err != nil {
		diags.AddError("Cannot use the database service", err.Error())
		return nil
	}
	set, err := scaling.NewReplicas(scaling.ReplicasConfig{
		Spec: scaling.ReplicaSetSpec{PrimaryID: m.PrimaryID.ValueString(), NamePrefix: m.Name.ValueString(),
			FlavorID: m.FlavorID.ValueString(), VolumeGB: int(m.VolumeSize.ValueInt64())},
		DB:    db,
		Known: known,
		Progress: func(p scaling.Progress) {
			tflog.Info(ctx, p.Message, map[string]any{"replicas": m.Name.ValueString()})
		},
	})
	if err != nil {
		diags.AddError("Invalid database replica", err.Error())
		return nil
	}
	return set
}

// instancesFromState reads the set from state: every instance there replicates primary but
// those marked detachedStatus.
func instancesFromState(ctx context.Context, l types.List, primary string, diags *diag.Diagnostics) []scaling.Instance {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var objs []struct {
		ID       types.String `tfsdk:"id"`
		Name     types.String `tfsdk:"name"`
		Status   types.String `tfsdk:"status"`
		Hostname types.String `tfsdk:"hostname"`
	}
	diags.Append(l.ElementsAs(ctx, &objs, false)...)
	out := make([]scaling.Instance, 0, len(objs))
	for _, o := range objs {
		in := scaling.Instance{ID: o.ID.ValueString(), Name: o.Name.ValueString(), Status: o.Status.ValueString(),
			Hostname: o.Hostname.ValueString(), ReplicaOf: primary}
		if in.Status == detachedStatus {
			in.ReplicaOf = ""
		}
		out = append(out, in)
	}
	return out
}

// detachedStatus marks, in state, an instance of the set that is no longer a replica of the
// primary: Trove shows it ACTIVE, but it serves no reads of the primary and is to be deleted.
const detachedStatus = "DETACHED"

func instancesToState(in []scaling.Instance, primary string) types.List {
	vals := make([]attr.Value, 0, len(in))
	for _, i := range in {
		status := i.Status
		if i.ReplicaOf != primary {
			status = detachedStatus
		}
		vals = append(vals, types.ObjectValueMust(instanceAttrTypes, map[string]attr.Value{
			"id": types.StringValue(i.ID), "name": types.StringValue(i.Name), "status": types.StringValue(status),
			"hostname": types.StringValue(i.Hostname),
		}))
	}
	return types.ListValueMust(instanceObjectType, vals)
}

func activeReplicas(in []scaling.Instance, primary string) int {
	n := 0
	for _, i := range in {
		if i.Status == "ACTIVE" && i.ReplicaOf == primary {
			n++
		}
	}
	return n
}

// apply brings the set to replica_count and returns the replicas that exist, error or not.
// nil with a nil error means the set could not even be built (diags says why).
func (r *replicaResource) apply(ctx context.Context, m *replicaModel, known []scaling.Instance, diags *diag.Diagnostics) ([]scaling.Instance, error) {
	set := r.set(ctx, m, known, diags)
	if set == nil {
		return nil, nil
	}
	got, err := set.Apply(ctx, int(m.ReplicaCount.ValueInt64()))
	if got == nil {
		got = []scaling.Instance{}
	}
	return got, err
}

func (r *replicaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan replicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = types.StringValue(plan.PrimaryID.ValueString() + "/" + plan.Name.ValueString())
	got, err := r.apply(ctx, &plan, nil, &resp.Diagnostics)
	if got == nil && err == nil {
		return
	}
	summary := fmt.Sprintf("Creating replicas %q of %s failed", plan.Name.ValueString(), plan.PrimaryID.ValueString())
	if err != nil && len(got) == 0 {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	plan.Instances = instancesToState(got, plan.PrimaryID.ValueString())
	if err != nil {
		// Saved without an error: an error would make Terraform taint the set, and the next apply
		// would delete the replicas that serve reads before building new ones.
		resp.Diagnostics.AddWarning(fmt.Sprintf("Replicas %q created with %d of %d replicas ACTIVE", plan.Name.ValueString(),
			activeReplicas(got, plan.PrimaryID.ValueString()), plan.ReplicaCount.ValueInt64()),
			err.Error()+"\n\nThe replicas that exist are kept and listed in state. Run terraform apply again: it adds only what is missing "+
				"(terraform plan -detailed-exitcode exits 2 until it has).")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *replicaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state replicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := map[string]bool{}
	for _, in := range instancesFromState(ctx, state.Instances, state.PrimaryID.ValueString(), &resp.Diagnostics) {
		known[in.ID] = true
	}
	mine, ok := r.listSet(ctx, state.PrimaryID.ValueString(), state.Name.ValueString(), known, &resp.Diagnostics)
	if !ok {
		return
	}
	state.Instances = instancesToState(mine, state.PrimaryID.ValueString())
	state.ReplicaCount = types.Int64Value(int64(activeReplicas(mine, state.PrimaryID.ValueString())))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// listSet finds the replicas of primary named <name>-NN, in one instance listing: what Read
// records and ImportState starts from. An instance the state knows stays listed after it was
// detached: a removal interrupted between the detach and the delete must still delete it.
func (r *replicaResource) listSet(ctx context.Context, primary, name string, known map[string]bool, diags *diag.Diagnostics) ([]scaling.Instance, bool) {
	db, err := r.data.client.Database(ctx)
	if err != nil {
		diags.AddError("Cannot use the database service", err.Error())
		return nil, false
	}
	all, err := db.ListInstances(ctx)
	if err != nil {
		diags.AddError("Reading database replicas", err.Error())
		return nil, false
	}
	var mine []scaling.Instance
	for _, in := range all {
		if _, named := scaling.OrdinalFromName(name, in.Name); (named && in.ReplicaOf == primary) || known[in.ID] {
			mine = append(mine, in)
		}
	}
	return mine, true
}

func (r *replicaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior replicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := instancesFromState(ctx, prior.Instances, prior.PrimaryID.ValueString(), &resp.Diagnostics)
	if plan.ReplicaCount.ValueInt64() < int64(len(known)) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replica_count"), "Removing replicas is frozen during the event", err.Error())
			return
		}
	}
	timeout, d := plan.Timeouts.Update(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = prior.ID
	got, err := r.apply(ctx, &plan, known, &resp.Diagnostics)
	if got == nil && err == nil {
		return
	}
	plan.Instances = instancesToState(got, plan.PrimaryID.ValueString())
	if err != nil {
		desired := plan.ReplicaCount.ValueInt64()
		plan.ReplicaCount = types.Int64Value(int64(activeReplicas(got, plan.PrimaryID.ValueString())))
		resp.Diagnostics.AddError(fmt.Sprintf("Bringing replicas %q of %s to %d failed", plan.Name.ValueString(), plan.PrimaryID.ValueString(), desired),
			err.Error()+"\n\nThe state lists exactly the replicas that exist now; run apply again to resume.")
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *replicaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state replicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
		resp.Diagnostics.AddError("Destroying the replicas is frozen during the event", err.Error())
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 60*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	set := r.set(ctx, &state, instancesFromState(ctx, state.Instances, state.PrimaryID.ValueString(), &resp.Diagnostics), &resp.Diagnostics)
	if set == nil {
		return
	}
	got, err := set.Destroy(ctx)
	if err != nil {
		state.Instances = instancesToState(got, state.PrimaryID.ValueString())
		resp.Diagnostics.AddError(fmt.Sprintf("Removing replicas %q failed", state.Name.ValueString()),
			err.Error()+"\n\nThe replicas still listed in state exist; run destroy again to resume.")
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

// ImportState takes "<primary_id>/<name>"; flavor_id and volume_size are read from the replicas.
func (r *replicaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	primary, name, ok := cutLast(req.ID, "/")
	if !ok || primary == "" || name == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("expected <primary_id>/<name>, got %q", req.ID))
		return
	}
	mine, ok := r.listSet(ctx, primary, name, nil, &resp.Diagnostics)
	if !ok {
		return
	}
	var flavor string
	var size int
	if len(mine) > 0 {
		flavor, size = mine[0].FlavorID, mine[0].VolumeGB
	}
	if flavor == "" {
		resp.Diagnostics.AddError("Nothing to import", fmt.Sprintf("no replica of %s is named %s-NN", primary, name))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("primary_id"), primary)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("flavor_id"), flavor)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("volume_size"), int64(size))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("instances"), types.ListValueMust(instanceObjectType, nil))...)
}

// checkAtPlan refuses, with read-only calls, a primary Trove does not know (or one that is itself
// a replica) and an unknown flavor, before any replica is created.
func (r *replicaResource) checkAtPlan(ctx context.Context, plan replicaModel, diags *diag.Diagnostics) {
	if r.data == nil {
		return
	}
	db, err := r.data.client.Database(ctx)
	if err != nil {
		diags.AddWarning("Replicas not checked at plan time", err.Error())
		return
	}
	if !plan.PrimaryID.IsUnknown() {
		p, err := db.GetInstance(ctx, plan.PrimaryID.ValueString())
		switch {
		case cloud.IsNotFound(err):
			diags.AddAttributeError(path.Root("primary_id"), "Unknown database instance",
				fmt.Sprintf("no database instance %s is visible to the project (openstack database instance list)", plan.PrimaryID.ValueString()))
		case err != nil:
			diags.AddAttributeWarning(path.Root("primary_id"), "Not checked at plan time", err.Error())
		case p.ReplicaOf != "":
			diags.AddAttributeError(path.Root("primary_id"), "Not a primary",
				fmt.Sprintf("instance %s (%s) is itself a replica of %s: replicate the primary", p.ID, p.Name, p.ReplicaOf))
		}
	}
	if !plan.FlavorID.IsUnknown() {
		ok, err := db.FlavorExists(ctx, plan.FlavorID.ValueString())
		switch {
		case err != nil:
			diags.AddAttributeWarning(path.Root("flavor_id"), "Not checked at plan time", err.Error())
		case !ok:
			diags.AddAttributeError(path.Root("flavor_id"), "Unknown database flavor",
				fmt.Sprintf("Trove has no flavor %s (openstack database flavor list)", plan.FlavorID.ValueString()))
		}
	}
}

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

func (r *replicaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if !req.Plan.Raw.IsNull() {
		var plan replicaModel
		resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
		existing := 0
		if !req.State.Raw.IsNull() {
			var prior replicaModel
			resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
			// A DETACHED instance still counts against the quota until the apply deletes it,
			// and it is not one of the replicas the count asks for.
			for _, in := range instancesFromState(ctx, prior.Instances, prior.PrimaryID.ValueString(), &resp.Diagnostics) {
				if in.Status != detachedStatus {
					existing++
				}
			}
		}
		if req.State.Raw.IsNull() {
			r.checkAtPlan(ctx, plan, &resp.Diagnostics)
			if resp.Diagnostics.HasError() {
				return
			}
		}
		if !plan.ReplicaCount.IsUnknown() && !plan.VolumeSize.IsUnknown() {
			adds := max(0, int(plan.ReplicaCount.ValueInt64())-existing)
			why := fmt.Sprintf("%d replica(s) of %s", adds, plan.PrimaryID.ValueString())
			r.data.preflight(ctx, path.Root("replica_count"), fmt.Sprintf("replicas %q", plan.Name.ValueString()), []quota.Need{
				{Service: quota.Database, Resource: "instances", Count: adds, Why: why},
				{Service: quota.Database, Resource: "volumes", Count: adds * int(plan.VolumeSize.ValueInt64()),
					Why: fmt.Sprintf("%s, %d GB each", why, plan.VolumeSize.ValueInt64())},
			}, &resp.Diagnostics)
			if resp.Diagnostics.HasError() {
				return
			}
		}
	}
	if req.State.Raw.IsNull() {
		return
	}
	var state replicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.Plan.Raw.IsNull() {
		if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddError("Destroying the replicas is frozen during the event", err.Error())
		}
		return
	}
	var plan replicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.ReplicaCount.IsUnknown() {
		return
	}
	for _, in := range instancesFromState(ctx, state.Instances, state.PrimaryID.ValueString(), &resp.Diagnostics) {
		if in.Status == detachedStatus {
			// The replica count may match, but a detached instance is still to be deleted.
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("instances"), types.ListUnknown(instanceObjectType))...)
			break
		}
	}
	if plan.ReplicaCount.ValueInt64() < state.ReplicaCount.ValueInt64() {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("replica_count"), "Removing replicas is frozen during the event", err.Error())
		}
	}
}
