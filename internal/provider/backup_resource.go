package provider

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

var (
	_ resource.Resource                   = (*backupResource)(nil)
	_ resource.ResourceWithConfigure      = (*backupResource)(nil)
	_ resource.ResourceWithImportState    = (*backupResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*backupResource)(nil)
	_ resource.ResourceWithValidateConfig = (*backupResource)(nil)
)

// NewBackupResource is the factory registered in the provider.
func NewBackupResource() resource.Resource { return &backupResource{} }

type backupResource struct {
	data *providerData
}

const (
	backupCreateTimeout = 60 * time.Minute
	backupUpdateTimeout = 60 * time.Minute
	backupDeleteTimeout = 30 * time.Minute

	// Labels recorded on every backup, so that an import restores the configuration.
	backupLabelName     = cloud.BackupLabelPrefix + "name"
	backupLabelRotation = cloud.BackupLabelPrefix + "rotation"

	defaultBackupType = "event"
)

type backupModel struct {
	ID                 types.String   `tfsdk:"id"`
	Name               types.String   `tfsdk:"name"`
	ServerIDs          types.List     `tfsdk:"server_ids"`
	BackupType         types.String   `tfsdk:"backup_type"`
	Rotation           types.Int64    `tfsdk:"rotation"`
	DatabaseInstanceID types.String   `tfsdk:"database_instance_id"`
	DeleteOnDestroy    types.Bool     `tfsdk:"delete_on_destroy"`
	ServerBackups      types.List     `tfsdk:"server_backups"`
	DatabaseBackup     types.Object   `tfsdk:"database_backup"`
	Backups            types.List     `tfsdk:"backups"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

// serverBackupModel is one element of server_backups.
type serverBackupModel struct {
	ServerID                  types.String `tfsdk:"server_id"`
	ServerName                types.String `tfsdk:"server_name"`
	ID                        types.String `tfsdk:"id"`
	Name                      types.String `tfsdk:"name"`
	Status                    types.String `tfsdk:"status"`
	CreatedAt                 types.String `tfsdk:"created_at"`
	Size                      types.Int64  `tfsdk:"size"`
	RestoreCommand            types.String `tfsdk:"restore_command"`
	RestoreAsNewServerCommand types.String `tfsdk:"restore_as_new_server_command"`
}

// databaseBackupModel is database_backup.
type databaseBackupModel struct {
	InstanceID     types.String `tfsdk:"instance_id"`
	InstanceName   types.String `tfsdk:"instance_name"`
	ID             types.String `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	Status         types.String `tfsdk:"status"`
	CreatedAt      types.String `tfsdk:"created_at"`
	Size           types.Int64  `tfsdk:"size"`
	RestoreCommand types.String `tfsdk:"restore_command"`
}

// backupRefModel is one element of backups, the shape eventscale_event's backups takes.
type backupRefModel struct {
	Name      types.String `tfsdk:"name"`
	ID        types.String `tfsdk:"id"`
	CreatedAt types.String `tfsdk:"created_at"`
}

var (
	serverBackupType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"server_id": types.StringType, "server_name": types.StringType, "id": types.StringType, "name": types.StringType,
		"status": types.StringType, "created_at": types.StringType, "size": types.Int64Type,
		"restore_command": types.StringType, "restore_as_new_server_command": types.StringType,
	}}
	databaseBackupType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"instance_id": types.StringType, "instance_name": types.StringType, "id": types.StringType, "name": types.StringType,
		"status": types.StringType, "created_at": types.StringType, "size": types.Int64Type, "restore_command": types.StringType,
	}}
	backupRefType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"name": types.StringType, "id": types.StringType, "created_at": types.StringType,
	}}
)

func (r *backupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup"
}

func (r *backupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computedStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	computedSize := schema.Int64Attribute{Computed: true, MarkdownDescription: "Size in bytes once usable (Trove reports GB, converted)."}
	replaceStr := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Backups taken before the event: a Nova backup image of each server in `server_ids` " +
			"(`createBackup` with `backup_type` and `rotation`) and/or a Trove backup of `database_instance_id`. Creation " +
			"waits until every backup is usable (image `active`; Trove backup `COMPLETED`) and exports, for each, its id, " +
			"creation time, size and the command an operator runs to restore from it.\n\n" +
			"**Destroy keeps the backups.** A backup outlives the event: destroying the resource (or replacing it) only " +
			"forgets the backups, unless `delete_on_destroy = true`. Backups that failed hold nothing and are always deleted.\n\n" +
			"**Rotation.** As Nova does for every `createBackup`, once a server's new backup is active Nova deletes that " +
			"server's oldest backups of the same `backup_type` beyond `rotation`, including backups kept from earlier events " +
			"and backups taken outside Terraform. Use one `backup_type` per purpose, and one `eventscale_backup` per server and " +
			"`backup_type`: two resources rotating the same backups delete each other's. Trove has no rotation.\n\n" +
			"**Partial failure.** Each backup carries an adoption key (the image property `" + cloud.BackupKeyProperty + "`, " +
			"removed once the backup is recorded; for Trove, in the backup's description, which cannot be changed afterwards: " +
			"a Trove backup is adopted only while running or if made within the create timeout). A create whose answer was " +
			"lost, or an apply that was interrupted, adopts the backup it finds instead of taking a second one. A backup that " +
			"fails, or is still being made when the timeout runs out, is recorded as it is (`status`) with a warning, and the " +
			"others are kept: the next apply resumes in place — it waits for the pending ones, deletes the failed ones and " +
			"takes them again. A backup deleted outside Terraform (or rotated out) shows `status = \"gone\"` and is taken again. " +
			"A server busy with another task (a snapshot, another backup) is asked again when the task may be over; a request " +
			"that lost the race for the server to another one (Nova answers 500, UnexpectedTaskStateError, and leaves its image " +
			"`queued`) has that image deleted and is asked again; an image that stays `queued` while the server has no task is " +
			"deleted and recorded as `deleted`, and the next apply takes it again.\n\n" +
			"**Plan-time checks** (read-only, before anything is created): every server and the database instance exist and " +
			"are in a state the cloud backs up (servers ACTIVE, SHUTOFF, PAUSED or SUSPENDED; instances ACTIVE), the backup " +
			"names fit, and Trove's backups quota has room. A server or instance busy with another task is a warning (the " +
			"backup waits for it). Whether the project's role may back up servers cannot be checked without asking for a backup.\n\n" +
			"Import with the ids of the backups, the server backups' image ids in the order of `server_ids`, then the Trove " +
			"backup's id: `terraform import eventscale_backup.pre_event <image-id>,<image-id>,<trove-backup-id>`. The name, " +
			"`backup_type`, `rotation` and the sources are read back from the backups; `delete_on_destroy` and `timeouts` " +
			"exist only in configuration (import sets `delete_on_destroy = false`).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The `name`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replaceStr,
				MarkdownDescription: "Name of the backup set. Each backup is named `<name>-<server or instance name>`. Changing it takes new backups.",
				Validators:          []validator.String{checkString(backup.CheckPrefix)}},
			"server_ids": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Ids of the servers to back up with Nova `createBackup`: at least 1, none empty. Changing the list takes new backups of every server.",
				Validators: []validator.List{listvalidator.UniqueValues(), listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()}},
			"backup_type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultBackupType),
				MarkdownDescription: "Nova's `backup_type`, which `rotation` counts within (e.g. `daily`, `weekly`). Default `" + defaultBackupType + "`.",
				Validators:          []validator.String{checkString(backup.CheckBackupType)}, PlanModifiers: replaceStr},
			"rotation": schema.Int64Attribute{Optional: true,
				MarkdownDescription: "How many backups of this `backup_type` Nova keeps per server, this one included (1 to 100). " +
					"Required with `server_ids`. Nova deletes the oldest beyond it once the new backup is active.",
				Validators:    []validator.Int64{int64validator.Between(1, 100)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}},
			"database_instance_id": schema.StringAttribute{Optional: true, PlanModifiers: replaceStr,
				MarkdownDescription: "Id of a Trove database instance to back up (at least 1 character). Changing it takes a new backup.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)}},
			"delete_on_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When `true`, destroying the resource deletes the backups. Default `false`: they are kept."},
			"server_backups": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "One per server, in the order of `server_ids`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"server_id":   computedStr("The server."),
					"server_name": computedStr("Its name when the backup was taken."),
					"id":          computedStr("Glance image id of the backup; empty when it was not taken."),
					"name":        computedStr("Image name."),
					"status": computedStr("Glance status (`active` when usable; `queued`, `saving` while being made; `killed` when failed), " +
						"or `not_taken`, or `gone` when the image was deleted outside Terraform or by rotation."),
					"created_at":      computedStr("Creation time, RFC 3339 UTC."),
					"size":            computedSize,
					"restore_command": computedStr("Restores the server in place from the backup: `openstack server rebuild --image <id> <server-id>`."),
					"restore_as_new_server_command": computedStr("Boots a new server from the backup with the server's flavor and networks: " +
						"`openstack server create --image <id> ...`."),
				}},
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
			"database_backup": schema.SingleNestedAttribute{Computed: true,
				MarkdownDescription: "The Trove backup, when `database_instance_id` is set.",
				Attributes: map[string]schema.Attribute{
					"instance_id":   computedStr("The database instance."),
					"instance_name": computedStr("Its name when the backup was taken."),
					"id":            computedStr("Trove backup id; empty when it was not taken."),
					"name":          computedStr("Backup name."),
					"status":        computedStr("Trove status (`COMPLETED` when usable; `NEW`, `BUILDING` while being made; `FAILED`), or `not_taken`, or `gone`."),
					"created_at":    computedStr("Creation time, RFC 3339 UTC."),
					"size":          computedSize,
					"restore_command": computedStr("Creates a new database instance from the backup (Trove restores into a new instance only): " +
						"`openstack database instance create <name>-restored --flavor ... --backup <id>`."),
				},
				PlanModifiers: []planmodifier.Object{objectplanmodifier.UseStateForUnknown()}},
			"backups": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "Every backup as `{ name, id, created_at }`, the servers' then the database's: give it to " +
					"`eventscale_event`'s `backups`, which warns at plan time when one is missing or older than `max_backup_age` at the start.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": computedStr("Backup name."), "id": computedStr("Backup id."), "created_at": computedStr("Creation time, RFC 3339 UTC."),
				}},
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, backupTimeouts),
		},
	}
}

func (r *backupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *backupResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.ServerIDs.IsNull() && m.DatabaseInstanceID.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("server_ids"), "Nothing to back up",
			"Set server_ids (servers backed up with Nova createBackup), database_instance_id (a Trove backup), or both.")
	}
	if !m.ServerIDs.IsNull() && m.Rotation.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("rotation"), "Missing rotation",
			"rotation is required with server_ids: Nova's createBackup deletes each server's oldest backups of the backup_type "+
				"beyond it, so it must be chosen, not defaulted (1 keeps only the newest backup).")
	}
	if m.ServerIDs.IsNull() && !m.Rotation.IsNull() {
		resp.Diagnostics.AddAttributeWarning(path.Root("rotation"), "rotation has no effect",
			"rotation applies to server backups (server_ids); Trove has no rotation.")
	}
}

// stores returns the backup stores the model needs.
func (r *backupResource) stores(ctx context.Context, servers, database bool) (backup.Stores, error) {
	if r.data == nil || r.data.client == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	out := backup.Stores{}
	if servers {
		n, err := r.data.client.NovaBackups(ctx)
		if err != nil {
			return nil, err
		}
		out[backup.Server] = n
	}
	if database {
		t, err := r.data.client.TroveBackups(ctx)
		if err != nil {
			return nil, err
		}
		out[backup.Database] = t
	}
	return out, nil
}

// backupSet is what a backup resource manages: its targets and, per target, the source and the
// last known backup.
type backupSet struct {
	targets []backup.Target
	sources []backup.Source
	known   []backup.Backup
	// commands holds the restore commands already recorded, by target, so that a refresh
	// keeps them when the source is no longer readable.
	commands [][2]string
}

func (m *backupModel) serverIDs(ctx context.Context, diags *diag.Diagnostics) []string {
	return stringList(ctx, m.ServerIDs, diags)
}

// labels are recorded on each backup for import.
func (m *backupModel) labels() map[string]string {
	l := map[string]string{backupLabelName: m.Name.ValueString()}
	if !m.Rotation.IsNull() && !m.Rotation.IsUnknown() {
		l[backupLabelRotation] = strconv.FormatInt(m.Rotation.ValueInt64(), 10)
	}
	return l
}

// target builds the backup request of one source.
func (m *backupModel) target(kind backup.Kind, src backup.Source, name string, adoptSince time.Time) backup.Target {
	t := backup.Target{Kind: kind, SourceID: src.ID, Name: name, Labels: m.labels(), AdoptSince: adoptSince}
	if kind == backup.Server {
		t.BackupType = m.BackupType.ValueString()
		t.Rotation = int(m.Rotation.ValueInt64())
	}
	t.Key = backup.Key(kind, src.ID, name, t.BackupType)
	return t
}

// readSources reads every source of the configuration, before anything is asked of the cloud:
// a missing server is refused without a backup of the others having been taken.
func (r *backupResource) readSources(ctx context.Context, stores backup.Stores, m *backupModel, adoptSince time.Time, diags *diag.Diagnostics) *backupSet {
	set := &backupSet{}
	add := func(kind backup.Kind, id string, attrPath path.Path) {
		src, err := stores[kind].Source(ctx, id)
		if err != nil {
			diags.AddAttributeError(attrPath, "Cannot read what to back up", err.Error())
			return
		}
		if why := stores[kind].CanBackUp(src); why != "" {
			diags.AddAttributeError(attrPath, "Cannot back it up", why)
			return
		}
		name := backup.BackupName(m.Name.ValueString(), src.Name)
		set.targets = append(set.targets, m.target(kind, src, name, adoptSince))
		set.sources = append(set.sources, src)
		set.commands = append(set.commands, [2]string{})
	}
	for i, id := range m.serverIDs(ctx, diags) {
		add(backup.Server, id, path.Root("server_ids").AtListIndex(i))
	}
	if id := m.DatabaseInstanceID.ValueString(); id != "" {
		add(backup.Database, id, path.Root("database_instance_id"))
	}
	if diags.HasError() {
		return nil
	}
	return set
}

func (r *backupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Create(ctx, backupCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	stores, err := r.stores(ctx, !m.ServerIDs.IsNull(), !m.DatabaseInstanceID.IsNull())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the cloud", err.Error())
		return
	}
	// A Trove backup of this name and key made since this create's window began is one an
	// earlier attempt (lost answer, interrupted apply) left: older ones belong to earlier runs.
	set := r.readSources(ctx, stores, &m, started.Add(-timeout), &resp.Diagnostics)
	if set == nil {
		return
	}
	results, runErr := backup.Run(ctx, stores, set.targets, nil, r.reporter(m.Name.ValueString()))
	m.ID = m.Name
	m.fromResults(ctx, stores, set, results, &resp.Diagnostics)

	taken := 0
	for i, b := range results {
		if backup.PhaseOf(stores[set.targets[i].Kind], b) != backup.Missing {
			taken++
		}
	}
	if runErr != nil && taken == 0 {
		resp.Diagnostics.AddError("No backup was taken", runErr.Error())
		return
	}
	addRunDiagnostics(&resp.Diagnostics, stores, set, results, runErr)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// addRunDiagnostics reports a run that did not end with every backup usable: a warning, since
// what exists is recorded and the next apply resumes in place (an error would taint the
// resource, and its replacement would take every backup again).
func addRunDiagnostics(diags *diag.Diagnostics, stores backup.Stores, set *backupSet, results []backup.Backup, runErr error) {
	if runErr == nil {
		return
	}
	var notUsable []string
	for i, b := range results {
		phase := backup.PhaseOf(stores[set.targets[i].Kind], b)
		if phase != backup.Usable {
			id := b.ID
			if id == "" {
				id = "no id"
			}
			notUsable = append(notUsable, fmt.Sprintf("%s (%s, status %s)", set.targets[i].Name, id, b.Status))
		}
	}
	var claim *backup.ClaimError
	if len(notUsable) == 0 && errors.As(runErr, &claim) {
		diags.AddWarning("Backup adoption key not removed", runErr.Error()+
			"\n\nThe backups are usable and recorded; a later backup with the same name, server and backup_type could adopt this one instead of taking a new one.")
		return
	}
	diags.AddWarning(fmt.Sprintf("%d of %d backups are not usable yet", len(notUsable), len(results)),
		fmt.Sprintf("%s\n\nNot usable: %s. Every backup that exists is recorded with its status. Run terraform apply again: it waits for "+
			"the ones still being made, deletes the failed ones and takes them again, and keeps the usable ones "+
			"(terraform plan -detailed-exitcode exits 2 until every backup is usable).",
			runErr.Error(), strings.Join(notUsable, ", ")))
}

// reporter journals each backup that reached its end.
func (r *backupResource) reporter(name string) func(backup.Backup) {
	return func(b backup.Backup) {
		if r.data == nil || r.data.journal == nil {
			return
		}
		typ := "image"
		if b.Kind == backup.Database {
			typ = "database-backup"
		}
		_ = r.data.journal.Write(journal.BackupEntry("eventscale_backup."+name, journal.Backup{
			ID: b.ID, Name: b.Name, Type: typ, Source: b.SourceID, Status: b.Status, Created: b.Created, SizeBytes: b.SizeBytes,
		}))
	}
}

// fromResults writes the backups (one per target, in order) into the model.
func (m *backupModel) fromResults(ctx context.Context, stores backup.Stores, set *backupSet, results []backup.Backup, diags *diag.Diagnostics) {
	var servers []serverBackupModel
	var refs []backupRefModel
	var db *databaseBackupModel
	for i, b := range results {
		t, src := set.targets[i], set.sources[i]
		created := types.StringNull()
		if !b.Created.IsZero() && b.ID != "" {
			created = types.StringValue(b.Created.UTC().Format(time.RFC3339))
		}
		size := types.Int64Null()
		if backup.PhaseOf(stores[t.Kind], b) == backup.Usable {
			size = types.Int64Value(b.SizeBytes)
		}
		name := b.Name
		if name == "" {
			name = t.Name
		}
		restore, restoreNew := set.commands[i][0], set.commands[i][1]
		if b.ID != "" && (restore == "" || !strings.Contains(restore, b.ID)) {
			if t.Kind == backup.Server {
				restore, restoreNew = backup.RebuildCommand(b.ID, t.SourceID), backup.NewServerCommand(b.ID, src)
			} else {
				restore = backup.DatabaseRestoreCommand(b.ID, src)
			}
		}
		if b.ID == "" {
			restore, restoreNew = "", ""
		}
		if t.Kind == backup.Server {
			servers = append(servers, serverBackupModel{
				ServerID: types.StringValue(t.SourceID), ServerName: types.StringValue(src.Name), ID: types.StringValue(b.ID),
				Name: types.StringValue(name), Status: types.StringValue(b.Status), CreatedAt: created, Size: size,
				RestoreCommand: types.StringValue(restore), RestoreAsNewServerCommand: types.StringValue(restoreNew),
			})
		} else {
			db = &databaseBackupModel{
				InstanceID: types.StringValue(t.SourceID), InstanceName: types.StringValue(src.Name), ID: types.StringValue(b.ID),
				Name: types.StringValue(name), Status: types.StringValue(b.Status), CreatedAt: created, Size: size,
				RestoreCommand: types.StringValue(restore),
			}
		}
		refs = append(refs, backupRefModel{Name: types.StringValue(name), ID: types.StringValue(b.ID), CreatedAt: created})
	}
	var d diag.Diagnostics
	m.ServerBackups, d = types.ListValueFrom(ctx, serverBackupType, servers)
	diags.Append(d...)
	if servers == nil {
		m.ServerBackups = types.ListNull(serverBackupType)
	}
	if db == nil {
		m.DatabaseBackup = types.ObjectNull(databaseBackupType.AttrTypes)
	} else {
		m.DatabaseBackup, d = types.ObjectValueFrom(ctx, databaseBackupType.AttrTypes, db)
		diags.Append(d...)
	}
	m.Backups, d = types.ListValueFrom(ctx, backupRefType, refs)
	diags.Append(d...)
}

// fromState rebuilds the backup set from state: the targets as they were taken, the sources as
// far as state knows them, and the last known backups.
func (m *backupModel) fromState(ctx context.Context, diags *diag.Diagnostics) *backupSet {
	set := &backupSet{}
	var servers []serverBackupModel
	if !m.ServerBackups.IsNull() && !m.ServerBackups.IsUnknown() {
		diags.Append(m.ServerBackups.ElementsAs(ctx, &servers, false)...)
	}
	add := func(kind backup.Kind, sourceID, sourceName, id, name, status, created string, size types.Int64, commands [2]string) {
		src := backup.Source{ID: sourceID, Name: sourceName}
		set.targets = append(set.targets, m.target(kind, src, name, time.Time{}))
		set.sources = append(set.sources, src)
		b := backup.Backup{Kind: kind, SourceID: sourceID, ID: id, Name: name, Status: status, SizeBytes: size.ValueInt64()}
		if t, err := time.Parse(time.RFC3339, created); err == nil {
			b.Created = t
		}
		set.known = append(set.known, b)
		set.commands = append(set.commands, commands)
	}
	for _, s := range servers {
		add(backup.Server, s.ServerID.ValueString(), s.ServerName.ValueString(), s.ID.ValueString(), s.Name.ValueString(),
			s.Status.ValueString(), s.CreatedAt.ValueString(), s.Size, [2]string{s.RestoreCommand.ValueString(), s.RestoreAsNewServerCommand.ValueString()})
	}
	if !m.DatabaseBackup.IsNull() && !m.DatabaseBackup.IsUnknown() {
		var db databaseBackupModel
		diags.Append(m.DatabaseBackup.As(ctx, &db, basetypes.ObjectAsOptions{})...)
		add(backup.Database, db.InstanceID.ValueString(), db.InstanceName.ValueString(), db.ID.ValueString(), db.Name.ValueString(),
			db.Status.ValueString(), db.CreatedAt.ValueString(), db.Size, [2]string{db.RestoreCommand.ValueString(), ""})
	}
	return set
}

func (r *backupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	set := m.fromState(ctx, &resp.Diagnostics)
	stores, err := r.stores(ctx, !m.ServerBackups.IsNull(), !m.DatabaseBackup.IsNull())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the cloud", err.Error())
		return
	}
	results := make([]backup.Backup, len(set.known))
	for i, b := range set.known {
		results[i] = b
		if b.ID == "" {
			continue
		}
		got, err := stores[b.Kind].Get(ctx, b.ID)
		switch {
		case cloud.IsNotFound(err):
			tflog.Warn(ctx, "backup is gone", map[string]any{"backup_id": b.ID})
			results[i].Status = backup.StatusGone
		case err != nil:
			resp.Diagnostics.AddAttributeError(path.Root("backups"), "Cannot read a backup", err.Error())
			return
		default:
			got.Kind, got.SourceID = b.Kind, b.SourceID
			results[i] = got
		}
	}
	m.fromResults(ctx, stores, set, results, &resp.Diagnostics)
	if m.DeleteOnDestroy.IsNull() {
		m.DeleteOnDestroy = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update resumes: it waits for the backups still being made, deletes and takes again the failed
// and missing ones, and keeps the usable ones. delete_on_destroy and timeouts live in state only.
func (r *backupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, backupUpdateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	set := state.fromState(ctx, &resp.Diagnostics)
	stores, err := r.stores(ctx, !state.ServerBackups.IsNull(), !state.DatabaseBackup.IsNull())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the cloud", err.Error())
		return
	}
	for i := range set.targets {
		set.targets[i] = plan.target(set.targets[i].Kind, set.sources[i], set.targets[i].Name, started.Add(-timeout))
	}
	resume := false
	for i, b := range set.known {
		if backup.PhaseOf(stores[b.Kind], b) != backup.Usable {
			resume = true
			// The restore commands of a new backup need the source as it is now.
			if src, err := stores[b.Kind].Source(ctx, b.SourceID); err == nil {
				set.sources[i] = src
			}
		}
	}
	results := set.known
	var runErr error
	if resume {
		results, runErr = backup.Run(ctx, stores, set.targets, set.known, r.reporter(plan.Name.ValueString()))
	}
	plan.ID = state.ID
	plan.fromResults(ctx, stores, set, results, &resp.Diagnostics)
	addRunDiagnostics(&resp.Diagnostics, stores, set, results, runErr)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Delete(ctx, backupDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	set := m.fromState(ctx, &resp.Diagnostics)
	stores, err := r.stores(ctx, !m.ServerBackups.IsNull(), !m.DatabaseBackup.IsNull())
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the cloud", err.Error())
		return
	}
	var kept []string
	for _, b := range set.known {
		phase := backup.PhaseOf(stores[b.Kind], b)
		if phase == backup.Missing {
			continue
		}
		// A failed backup holds nothing to restore from: it goes whatever delete_on_destroy says.
		if phase != backup.Failed && !m.DeleteOnDestroy.ValueBool() {
			kept = append(kept, fmt.Sprintf("%s (%s)", b.Name, b.ID))
			continue
		}
		if err := stores[b.Kind].Delete(ctx, b.ID); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("backups"), "Cannot delete a backup",
				fmt.Sprintf("%s (%s): %v. The resource stays in state; run terraform destroy again.", b.Name, b.ID, err))
		}
	}
	if len(kept) > 0 {
		tflog.Info(ctx, "delete_on_destroy is false: the backups are kept", map[string]any{"backups": strings.Join(kept, ", ")})
	}
}
