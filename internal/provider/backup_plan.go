package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// ModifyPlan checks, before anything is created, what a new backup set would be taken of; plans
// a resume (an update) while a backup is not usable; and says on destroy which backups stay.
func (r *backupResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.sayWhatDestroyKeeps(ctx, req, resp)
		return
	}
	var plan backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() {
		r.checkAtPlan(ctx, &plan, &resp.Diagnostics)
		return
	}
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !allUsable(state.fromState(ctx, &resp.Diagnostics).known) {
		// The resume waits for, or takes again, what is not usable: its outputs are known after apply.
		if !state.ServerBackups.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("server_backups"), types.ListUnknown(serverBackupType))...)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("backups"), types.ListUnknown(backupRefType))...)
		if !state.DatabaseBackup.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("database_backup"), types.ObjectUnknown(databaseBackupType.AttrTypes))...)
		}
	}
}

// phaseStores classify statuses without a cloud: Phase needs no client.
var phaseStores = backup.Stores{backup.Server: &cloud.NovaBackups{}, backup.Database: &cloud.TroveBackups{}}

func allUsable(known []backup.Backup) bool {
	for _, b := range known {
		if backup.PhaseOf(phaseStores[b.Kind], b) != backup.Usable {
			return false
		}
	}
	return true
}

func (r *backupResource) sayWhatDestroyKeeps(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.DeleteOnDestroy.ValueBool() {
		return
	}
	var kept []string
	for _, b := range state.fromState(ctx, &resp.Diagnostics).known {
		if p := backup.PhaseOf(phaseStores[b.Kind], b); p == backup.Usable || p == backup.Pending {
			kept = append(kept, fmt.Sprintf("%s (%s)", b.Name, b.ID))
		}
	}
	if len(kept) == 0 {
		return
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("Destroying %s keeps its %d backups", state.Name.ValueString(), len(kept)),
		fmt.Sprintf("delete_on_destroy is false, so these stay in the cloud and leave Terraform's state: %s. "+
			"Delete them when they are no longer needed (openstack image delete / openstack database backup delete), "+
			"or set delete_on_destroy = true and apply before destroying.", strings.Join(kept, ", ")))
}

// checkAtPlan reads, without changing anything, every server and database instance to back up.
func (r *backupResource) checkAtPlan(ctx context.Context, plan *backupModel, diags *diag.Diagnostics) {
	if r.data == nil || r.data.client == nil || plan.Name.IsUnknown() || plan.ServerIDs.IsUnknown() || plan.DatabaseInstanceID.IsUnknown() {
		return
	}
	checkOne := func(kind backup.Kind, id string, attr path.Path) {
		stores, err := r.stores(ctx, kind == backup.Server, kind == backup.Database)
		if err != nil {
			if kind == backup.Database {
				if has, herr := r.data.client.HasService(ctx, cloud.ServiceDatabase); herr == nil && !has {
					diags.AddAttributeError(attr, "The cloud has no database service",
						"database_instance_id asks for a Trove backup, but the cloud's catalog has no database (Trove) service.")
					return
				}
			}
			diags.AddAttributeWarning(attr, "Not checked at plan time", err.Error())
			return
		}
		store := stores[kind]
		src, err := store.Source(ctx, id)
		switch {
		case cloud.IsNotFound(err):
			what := "server"
			if kind == backup.Database {
				what = "database instance"
			}
			diags.AddAttributeError(attr, "Unknown "+what, fmt.Sprintf("no %s %s is visible to the project", what, id))
			return
		case err != nil:
			diags.AddAttributeWarning(attr, "Not checked at plan time", err.Error())
			return
		}
		if why := store.CanBackUp(src); why != "" {
			diags.AddAttributeError(attr, "Cannot back it up", why)
			return
		}
		if src.Busy != "" {
			diags.AddAttributeWarning(attr, "Busy with another task",
				fmt.Sprintf("%s (%s): %s. The backup waits for it to end, within the create timeout.", src.Name, src.ID, src.Busy))
		}
		if name := backup.BackupName(plan.Name.ValueString(), src.Name); len(name) > backup.MaxNameLength {
			diags.AddAttributeError(path.Root("name"), "Backup name too long",
				fmt.Sprintf("the backup of %s would be named %q, %d characters; Glance and Trove take at most %d. Shorten name.",
					src.Name, name, len(name), backup.MaxNameLength))
		}
		if t, ok := store.(*cloud.TroveBackups); ok {
			r.checkBackupQuota(ctx, t, attr, diags)
		}
	}
	var d diag.Diagnostics
	for i, id := range plan.serverIDs(ctx, &d) {
		checkOne(backup.Server, id, path.Root("server_ids").AtListIndex(i))
	}
	diags.Append(d...)
	if id := plan.DatabaseInstanceID.ValueString(); id != "" {
		checkOne(backup.Database, id, path.Root("database_instance_id"))
	}
}

// checkBackupQuota is the quota pre-flight of a Trove backup, under the provider's preflight mode.
func (r *backupResource) checkBackupQuota(ctx context.Context, t *cloud.TroveBackups, attr path.Path, diags *diag.Diagnostics) {
	if r.data.preflightMode == preflightOff {
		return
	}
	limit, inUse, err := t.BackupQuota(ctx)
	if err != nil {
		diags.AddAttributeWarning(attr, "Quotas of the database service not checked", err.Error())
		return
	}
	if limit < 0 || inUse+1 <= limit {
		return
	}
	summary := "The project's quotas cannot hold the database backup"
	detail := fmt.Sprintf("Nothing was created. Trove's backups quota is %d and the project has %d backups: one more is refused. "+
		"Delete old backups (openstack database backup list), or ask the cloud's operator to raise it "+
		"(openstack database quota update <project> backups=%d).", limit, inUse, inUse+1)
	if r.data.preflightMode == preflightWarn {
		diags.AddAttributeWarning(attr, summary, detail)
	} else {
		diags.AddAttributeError(attr, summary, detail+"\n\nSet preflight = \"warn\" in the provider block to make this a warning.")
	}
}

// ImportState takes the backups' ids, the server backups' image ids in the order of server_ids
// and then the Trove backup's, and reads the configuration back from what each backup records.
func (r *backupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	fail := func(format string, args ...any) {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Invalid import id",
			fmt.Sprintf(format, args...)+"\n\nExpected <image-id>[,<image-id>...][,<trove-backup-id>]: the ids of the backups an eventscale_backup took.")
	}
	var ids []string
	for _, id := range strings.Split(req.ID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		fail("%q names no backup", req.ID)
		return
	}
	if r.data == nil || r.data.client == nil {
		fail("the provider is not configured")
		return
	}
	nova, err := r.data.client.NovaBackups(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the cloud", err.Error())
		return
	}
	var trove *cloud.TroveBackups
	set := &backupSet{}
	var m backupModel
	var serverIDs []string
	labels := map[string]string{}
	for i, id := range ids {
		b, err := nova.Get(ctx, id)
		var store backup.Store = nova
		if cloud.IsNotFound(err) {
			if trove == nil {
				if has, _ := r.data.client.HasService(ctx, cloud.ServiceDatabase); has {
					trove, err = r.data.client.TroveBackups(ctx)
				}
			}
			if trove != nil {
				store = trove
				b, err = trove.Get(ctx, id)
			}
		}
		switch {
		case cloud.IsNotFound(err):
			fail("no backup image or database backup %s is visible to the project", id)
			return
		case err != nil:
			resp.Diagnostics.AddError("Cannot read a backup to import", err.Error())
			return
		case b.Kind == backup.Server && b.Labels["backup_type"] == "":
			fail("image %s (%s) is not a Nova backup (it has no backup_type property)", id, b.Name)
			return
		case b.Labels[backupLabelName] == "":
			fail("%s backup %s (%s) records no %s: it was not taken by eventscale_backup, whose name and rotation an import reads back",
				b.Kind, id, b.Name, backupLabelName)
			return
		case b.Kind == backup.Database && i != len(ids)-1:
			fail("the database backup %s must come last", id)
			return
		}
		for k, v := range b.Labels {
			if old, ok := labels[k]; ok && old != v && k != cloud.BackupKeyProperty {
				fail("the backups disagree on %s (%q and %q): they were not taken by one eventscale_backup", k, old, v)
				return
			}
			labels[k] = v
		}
		src, serr := store.Source(ctx, b.SourceID)
		if serr != nil {
			src = backup.Source{ID: b.SourceID}
		}
		set.targets = append(set.targets, backup.Target{Kind: b.Kind, SourceID: b.SourceID, Name: b.Name})
		set.sources = append(set.sources, src)
		set.commands = append(set.commands, [2]string{})
		set.known = append(set.known, b)
		if b.Kind == backup.Server {
			serverIDs = append(serverIDs, b.SourceID)
		} else {
			m.DatabaseInstanceID = types.StringValue(b.SourceID)
		}
	}
	m.Name = types.StringValue(labels[backupLabelName])
	m.ID = m.Name
	m.ServerIDs = types.ListNull(types.StringType)
	m.Rotation = types.Int64Null()
	m.BackupType = types.StringValue(defaultBackupType)
	if len(serverIDs) > 0 {
		m.ServerIDs, _ = types.ListValueFrom(ctx, types.StringType, serverIDs)
		n, err := strconv.Atoi(labels[backupLabelRotation])
		if err != nil {
			fail("the backup images record no usable %s (%q)", backupLabelRotation, labels[backupLabelRotation])
			return
		}
		m.Rotation = types.Int64Value(int64(n))
		m.BackupType = types.StringValue(labels["backup_type"])
	}
	if m.DatabaseInstanceID.IsNull() {
		m.DatabaseInstanceID = types.StringNull()
	}
	m.DeleteOnDestroy = types.BoolValue(false)
	m.Timeouts = timeoutsNull()
	stores := backup.Stores{backup.Server: nova}
	if trove != nil {
		stores[backup.Database] = trove
	}
	m.fromResults(ctx, stores, set, set.known, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// timeoutsNull is an unset timeouts block with create, update and delete, for a state written
// whole by an import.
func timeoutsNull() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "update": types.StringType, "delete": types.StringType,
	})}
}
