package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
)

// eventBackupModel is one element of the event's backups: the shape eventscale_backup's
// backups output has, so that it can be given as it is.
type eventBackupModel struct {
	Name      types.String `tfsdk:"name"`
	ID        types.String `tfsdk:"id"`
	CreatedAt types.String `tfsdk:"created_at"`
}

func eventBackupsAttribute() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{Optional: true,
		MarkdownDescription: "Backups the event requires, e.g. `concat(eventscale_backup.web.backups, eventscale_backup.db.backups)`. " +
			"At plan time, before `starts_at`, each one without an id or creation time (not taken) is a warning, and so is each one " +
			"older than `max_backup_age` at `starts_at`. A backup whose creation time is unknown at plan time (taken in the same " +
			"apply) is not checked.",
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Backup name (at least 1 character).",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"id": schema.StringAttribute{Optional: true, MarkdownDescription: "Backup id (Glance image or Trove backup); empty when not taken."},
			"created_at": schema.StringAttribute{Optional: true, MarkdownDescription: "Creation time, RFC 3339.",
				Validators: []validator.String{rfc3339Validator{}}},
		}},
		Validators: []validator.List{listvalidator.SizeAtLeast(1)},
	}
}

func eventMaxBackupAgeAttribute() schema.StringAttribute {
	return schema.StringAttribute{Optional: true,
		MarkdownDescription: "How old a required backup may be when the event starts, as a Go duration (`24h`, `36h`, `90m`; " +
			"days are written in hours). Without it, only missing backups are warned about.",
		Validators: []validator.String{checkDuration(func(d time.Duration) error {
			if d <= 0 {
				return fmt.Errorf("must be positive")
			}
			return nil
		})},
	}
}

// backupInputs reads what the backup checks need: the event's start, the bound (0 for none)
// and the required backups as configured. ok is false while the start, the bound or the list
// is unknown, or when one does not parse (the validators report that).
func backupInputs(ctx context.Context, m eventModel) (starts time.Time, maxAge time.Duration, list []eventBackupModel, ok bool) {
	if m.StartsAt.IsUnknown() || m.MaxBackupAge.IsUnknown() || m.Backups.IsUnknown() {
		return time.Time{}, 0, nil, false
	}
	starts, err := time.Parse(time.RFC3339, m.StartsAt.ValueString())
	if err != nil {
		return time.Time{}, 0, nil, false
	}
	if v := m.MaxBackupAge.ValueString(); v != "" {
		if maxAge, err = time.ParseDuration(v); err != nil {
			return time.Time{}, 0, nil, false
		}
	}
	if !m.Backups.IsNull() {
		if d := m.Backups.ElementsAs(ctx, &list, false); d.HasError() {
			return time.Time{}, 0, nil, false
		}
	}
	return starts, maxAge, list, true
}

// recorded is one required backup as the backup library measures it; known is false while
// any of its attributes is unknown (a backup taken in the same apply).
func (b eventBackupModel) recorded() (r backup.Recorded, known bool) {
	if b.Name.IsUnknown() || b.ID.IsUnknown() || b.CreatedAt.IsUnknown() {
		return backup.Recorded{}, false
	}
	r = backup.Recorded{Name: b.Name.ValueString(), ID: b.ID.ValueString()}
	if t, err := time.Parse(time.RFC3339, b.CreatedAt.ValueString()); err == nil {
		r.CreatedAt = t
	}
	return r, true
}

// eventBackupAges measures each backup the event requires against its start: its age, whether it
// is missing or too old, and the warning in a sentence, with the bound it was held to. The
// runbook lists them. ok is false while the window, the bound or any backup is unknown.
func eventBackupAges(ctx context.Context, m eventModel) ([]backup.Age, time.Duration, bool) {
	starts, maxAge, list, ok := backupInputs(ctx, m)
	if !ok {
		return nil, 0, false
	}
	required := make([]backup.Recorded, 0, len(list))
	for _, b := range list {
		r, known := b.recorded()
		if !known {
			return nil, 0, false
		}
		required = append(required, r)
	}
	return backup.Ages(required, starts, maxAge), maxAge, true
}

// warnBackupAges adds, at plan time and before the event starts, a warning on each required
// backup that is missing or too old. Backups still unknown (taken in the same apply) are left
// out: they will be new.
func warnBackupAges(ctx context.Context, m eventModel, now time.Time, diags *diag.Diagnostics) {
	starts, maxAge, list, ok := backupInputs(ctx, m)
	if !ok || !now.Before(starts) {
		return
	}
	for i, b := range list {
		r, known := b.recorded()
		if !known {
			continue
		}
		a := backup.Ages([]backup.Recorded{r}, starts, maxAge)[0]
		switch {
		case a.Missing:
			diags.AddAttributeWarning(path.Root("backups").AtListIndex(i), "Required backup missing", a.Warning)
		case a.TooOld:
			diags.AddAttributeWarning(path.Root("backups").AtListIndex(i), "Required backup older than max_backup_age", a.Warning)
		}
	}
}
