package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

var (
	_ resource.Resource                = (*seedImageResource)(nil)
	_ resource.ResourceWithConfigure   = (*seedImageResource)(nil)
	_ resource.ResourceWithImportState = (*seedImageResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*seedImageResource)(nil)
)

// NewSeedImageResource is the factory registered in the provider.
func NewSeedImageResource() resource.Resource { return &seedImageResource{} }

type seedImageResource struct {
	data *providerData
}

const (
	seedImageCreateTimeout = 30 * time.Minute
	seedImageDeleteTimeout = 10 * time.Minute
	seedImageUpdateTimeout = 5 * time.Minute
)

type seedImageModel struct {
	ID              types.String   `tfsdk:"id"`
	ServerID        types.String   `tfsdk:"server_id"`
	Name            types.String   `tfsdk:"name"`
	Metadata        types.Map      `tfsdk:"metadata"`
	RetainOnDestroy types.Bool     `tfsdk:"retain_on_destroy"`
	Status          types.String   `tfsdk:"status"`
	Size            types.Int64    `tfsdk:"size"`
	CreatedAt       types.String   `tfsdk:"created_at"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

func (r *seedImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_seed_image"
}

func (r *seedImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Glance image snapshotted from a running seed server (Nova `createImage`), the image the " +
			"event's web nodes boot from. Creation waits until the image is `active`.\n\n" +
			"**Partial failure.** Until it is complete, the snapshot carries the property `" + cloud.SnapshotKeyProperty + "` " +
			"(a key of the server and the name): a create whose answer was lost, or an apply that was interrupted, finds " +
			"that snapshot and adopts it rather than taking a second one. A snapshot still saving when the create's " +
			"timeout runs out is kept, with a warning: the next apply waits for it in place (replacing it would change " +
			"`id`, and every web pool built from it would roll over). Only a snapshot that failed (`killed`) is replaced.\n\n" +
			"**A busy server.** While the server has another task (a backup, another snapshot), Nova refuses the snapshot and " +
			"it is asked again when the task may be over. Two requests that reach Nova at the same moment can both pass its " +
			"check, and the loser's image is then left `queued` with nothing uploading to it (Nova answers 500, " +
			"UnexpectedTaskStateError): that image is deleted and the snapshot asked again. An image, adopted or not, that " +
			"stays `queued` while the server has had no task for five poll intervals is treated the same way (at most " +
			"three snapshots per create).\n\n" +
			"Import with the image id: `terraform import eventscale_seed_image.web <image-id>`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Glance image id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"server_id": schema.StringAttribute{Required: true,
				MarkdownDescription: "Id of the server to snapshot (the seed server, e.g. `web01`'s id). Changing it takes a new snapshot.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Image name, 1–255 characters. Renaming is done in place.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"metadata": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Image properties to set on the snapshot. Changed in place. Only the keys listed here are " +
					"managed: properties Nova and Glance add themselves (`instance_uuid`, `image_type`, ...) are left alone."},
			"retain_on_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When `true`, destroying the resource leaves the image in Glance and only removes it from state. Default `false`."},
			"status": schema.StringAttribute{Computed: true, MarkdownDescription: "Glance status, `active` once created.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"size": schema.Int64Attribute{Computed: true, MarkdownDescription: "Image size in bytes.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"created_at": schema.StringAttribute{Computed: true, MarkdownDescription: "Creation time, RFC 3339 UTC.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, seedImageTimeouts),
		},
	}
}

func (r *seedImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *seedImageResource) images(ctx context.Context) (*cloud.Images, error) {
	if r.data == nil || r.data.client == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	return r.data.client.Images(ctx)
}

func (r *seedImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m seedImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Create(ctx, seedImageCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	api, err := r.images(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the image service", err.Error())
		return
	}
	md, d := stringMap(ctx, m.Metadata)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	key := cloud.SnapshotKey(m.ServerID.ValueString(), m.Name.ValueString())
	for attempt := 1; ; attempt++ {
		id, err := r.snapshot(ctx, api, m.ServerID.ValueString(), m.Name.ValueString(), key, md)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("server_id"), "Cannot snapshot the seed server", err.Error())
			return
		}
		tflog.Info(ctx, "snapshot requested", map[string]any{"image_id": id, "server_id": m.ServerID.ValueString()})

		// Saved before the wait, so that the image is never forgotten while Glance builds it.
		m.ID = types.StringValue(id)
		m.Status = types.StringValue("queued")
		m.Size = types.Int64Null()
		m.CreatedAt = types.StringNull()
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		if resp.Diagnostics.HasError() {
			return
		}
		abandoned := r.waitActive(ctx, api, &m, &resp.Diagnostics, attempt < maxSnapshotAttempts)
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		if !abandoned || resp.Diagnostics.HasError() {
			return
		}
		tflog.Warn(ctx, "the snapshot was never started, and its queued image is deleted: asking Nova again",
			map[string]any{"image_id": id, "server_id": m.ServerID.ValueString(), "attempt": attempt + 1})
	}
}

// maxSnapshotAttempts bounds the snapshots a create asks for when Nova makes an image and then
// does not start the snapshot (cloud.ErrSnapshotAbandoned).
const maxSnapshotAttempts = 3

// snapshot adopts the snapshot an earlier attempt left unclaimed, or asks Nova for a new one. A
// request whose answer was lost is looked for again before being reported: Nova may have acted.
func (r *seedImageResource) snapshot(ctx context.Context, api *cloud.Images, serverID, name, key string, md map[string]string) (string, error) {
	if img, err := api.FindUnclaimedSnapshot(ctx, name, key); err != nil {
		return "", err
	} else if img != nil {
		tflog.Info(ctx, "adopting the snapshot an earlier attempt left", map[string]any{"image_id": img.ID, "status": img.Status})
		return img.ID, nil
	}
	withKey := map[string]string{cloud.SnapshotKeyProperty: key}
	for k, v := range md {
		withKey[k] = v
	}
	id, err := api.SnapshotServer(ctx, serverID, name, withKey)
	if err == nil || errors.Is(err, scaling.ErrRefused) || ctx.Err() != nil {
		return id, err
	}
	if img, ferr := api.FindUnclaimedSnapshot(ctx, name, key); ferr == nil && img != nil {
		tflog.Warn(ctx, "snapshot request answered with an error, but the snapshot exists: adopting it",
			map[string]any{"image_id": img.ID, "error": err.Error()})
		return img.ID, nil
	}
	return "", err
}

// waitActive waits for the snapshot. A failed snapshot is an error (Terraform replaces it); one
// still saving when time runs out is a warning, and the next apply waits for it in place. A
// snapshot Nova never started (cloud.ErrSnapshotAbandoned) has its image deleted; with retry it
// reports abandoned, for the caller to ask again, otherwise it is an error and the next apply
// replaces it.
func (r *seedImageResource) waitActive(ctx context.Context, api *cloud.Images, m *seedImageModel, diags *diag.Diagnostics, retry bool) (abandoned bool) {
	id := m.ID.ValueString()
	img, err := api.WaitSnapshotActive(ctx, m.ServerID.ValueString(), id)
	if img != nil {
		m.fromImage(img)
	}
	switch {
	case err == nil:
		if cerr := api.ClaimSnapshot(context.WithoutCancel(ctx), id); cerr != nil {
			diags.AddAttributeWarning(path.Root("id"), "Snapshot key not removed",
				fmt.Sprintf("Image %s is active, but removing its %s property failed: %v. A later snapshot of the same server and name could adopt it.",
					id, cloud.SnapshotKeyProperty, cerr))
		}
	case errors.Is(err, cloud.ErrSnapshotAbandoned):
		if derr := api.DeleteImage(context.WithoutCancel(ctx), id); derr != nil {
			diags.AddAttributeError(path.Root("id"), "Snapshot never started",
				fmt.Sprintf("%v. Deleting the image failed: %v. It is kept in state; delete it (openstack image delete %s) or run terraform apply again.", err, derr, id))
			return false
		}
		m.Status = types.StringValue("deleted")
		if retry {
			return true
		}
		diags.AddAttributeError(path.Root("id"), "Snapshot never started",
			fmt.Sprintf("%v. The image is deleted; the next apply takes a new snapshot. The server's instance actions say why (openstack server event list %s).", err, m.ServerID.ValueString()))
	case img != nil && seedImageFailed(img.Status):
		diags.AddAttributeError(path.Root("id"), "Snapshot failed",
			fmt.Sprintf("Image %s of server %s: %v. It is kept in state and replaced on the next apply.", id, m.ServerID.ValueString(), err))
	default:
		if img == nil {
			// The wait ended without a reading (the timeout ran out first): keep what state knew.
			m.Status = types.StringValue("saving")
		}
		diags.AddAttributeWarning(path.Root("id"), "Snapshot not active yet",
			fmt.Sprintf("Image %s of server %s: %v.\n\nThe snapshot is kept; run terraform apply again and it waits for it in place. "+
				"Web pools refuse to build nodes from it until it is active.", id, m.ServerID.ValueString(), err))
	}
	return false
}

// checkServerAtPlan refuses, with a read-only call, a server Nova does not know or cannot snapshot.
func (r *seedImageResource) checkServerAtPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var plan seedImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.ServerID.IsUnknown() || r.data == nil {
		return
	}
	compute, err := r.data.client.Compute(ctx)
	if err != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("server_id"), "Not checked at plan time", err.Error())
		return
	}
	id := plan.ServerID.ValueString()
	status, err := compute.ServerStatus(ctx, id)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeWarning(path.Root("server_id"), "Not checked at plan time", err.Error())
	case status == "":
		resp.Diagnostics.AddAttributeError(path.Root("server_id"), "Unknown server",
			fmt.Sprintf("no server %s is visible to the project (openstack server list)", id))
	case status == "ERROR" || status == "DELETED" || status == "SOFT_DELETED":
		resp.Diagnostics.AddAttributeError(path.Root("server_id"), "Server cannot be snapshotted",
			fmt.Sprintf("server %s is %s: Nova snapshots ACTIVE, SHUTOFF, PAUSED and SUSPENDED servers only", id, status))
	}
}

func seedImageFailed(status string) bool {
	return slices.Contains([]string{"killed", "deleted", "pending_delete", "deactivated"}, status)
}

// ModifyPlan plans, for a snapshot left saving by an earlier apply, an update that waits for it;
// and for one that failed, a replacement.
func (r *seedImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if req.State.Raw.IsNull() {
		r.checkServerAtPlan(ctx, req, resp)
		return
	}
	var state seedImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch status := state.Status.ValueString(); {
	case status == "active":
	case seedImageFailed(status):
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
	default:
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("size"), types.Int64Unknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("created_at"), types.StringUnknown())...)
	}
}

// fromImage copies what Glance reports; metadata only for the keys already managed.
func (m *seedImageModel) fromImage(img *cloud.ImageInfo) {
	m.ID = types.StringValue(img.ID)
	m.Name = types.StringValue(img.Name)
	m.Status = types.StringValue(img.Status)
	m.Size = types.Int64Value(img.SizeBytes)
	if !img.CreatedAt.IsZero() {
		m.CreatedAt = types.StringValue(img.CreatedAt.UTC().Format(time.RFC3339))
	}
	if s := img.Properties["instance_uuid"]; s != "" {
		m.ServerID = types.StringValue(s)
	}
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		managed := map[string]types.String{}
		for k := range m.Metadata.Elements() {
			if v, ok := img.Properties[k]; ok {
				managed[k] = types.StringValue(v)
			}
		}
		m.Metadata, _ = types.MapValueFrom(context.Background(), types.StringType, managed)
	}
}

func (r *seedImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m seedImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := r.images(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the image service", err.Error())
		return
	}
	img, err := api.GetImage(ctx, m.ID.ValueString())
	if cloud.IsNotFound(err) {
		tflog.Warn(ctx, "seed image is gone; removing it from state", map[string]any{"image_id": m.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the seed image", err.Error())
		return
	}
	if img.Status == "deleted" || img.Status == "pending_delete" {
		resp.State.RemoveResource(ctx)
		return
	}
	m.fromImage(img)
	if m.RetainOnDestroy.IsNull() {
		m.RetainOnDestroy = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *seedImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state seedImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, seedImageUpdateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var name *string
	if !plan.Name.Equal(state.Name) {
		n := plan.Name.ValueString()
		name = &n
	}
	want, d := stringMap(ctx, plan.Metadata)
	resp.Diagnostics.Append(d...)
	have, d := stringMap(ctx, state.Metadata)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	set, remove := diffStringMaps(have, want)

	if name != nil || len(set) > 0 || len(remove) > 0 {
		api, err := r.images(ctx)
		if err != nil {
			resp.Diagnostics.AddError("Cannot reach the image service", err.Error())
			return
		}
		img, err := api.GetImage(ctx, state.ID.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the seed image", err.Error())
			return
		}
		if err := api.UpdateImage(ctx, state.ID.ValueString(), name, set, remove, img.Properties); err != nil {
			attr := path.Root("metadata")
			if name != nil {
				attr = path.Root("name")
			}
			resp.Diagnostics.AddAttributeError(attr, "Cannot update the seed image", err.Error())
			return
		}
		if img, err = api.GetImage(ctx, state.ID.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the seed image", err.Error())
			return
		}
		plan.ID = state.ID
		plan.fromImage(img)
	}
	plan.ID, plan.ServerID = state.ID, state.ServerID
	if state.Status.ValueString() != "active" {
		api, err := r.images(ctx)
		if err != nil {
			resp.Diagnostics.AddError("Cannot reach the image service", err.Error())
			return
		}
		r.waitActive(ctx, api, &plan, &resp.Diagnostics, false)
	}
	if plan.Status.IsUnknown() {
		plan.Status = state.Status
	}
	if plan.Size.IsUnknown() {
		plan.Size = state.Size
	}
	if plan.CreatedAt.IsUnknown() {
		plan.CreatedAt = state.CreatedAt
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *seedImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m seedImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.RetainOnDestroy.ValueBool() {
		tflog.Info(ctx, "retain_on_destroy is set: leaving the image in Glance", map[string]any{"image_id": m.ID.ValueString()})
		return
	}
	timeout, d := m.Timeouts.Delete(ctx, seedImageDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.images(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the image service", err.Error())
		return
	}
	if err := api.DeleteImage(ctx, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot delete the seed image",
			err.Error()+" (a protected image must be unprotected first; an image in use by servers may be refused by some clouds)")
		return
	}
	if err := api.WaitImageGone(ctx, m.ID.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Seed image not deleted", err.Error())
	}
}

func (r *seedImageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

func stringMap(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	if m.IsNull() || m.IsUnknown() {
		return nil, nil
	}
	out := map[string]string{}
	d := m.ElementsAs(ctx, &out, false)
	return out, d
}

// diffStringMaps returns the keys to set (new or changed) and to remove to go from have to want.
func diffStringMaps(have, want map[string]string) (map[string]string, []string) {
	set := map[string]string{}
	for k, v := range want {
		if old, ok := have[k]; !ok || old != v {
			set[k] = v
		}
	}
	var remove []string
	for k := range have {
		if _, ok := want[k]; !ok {
			remove = append(remove, k)
		}
	}
	slices.Sort(remove)
	return set, remove
}
