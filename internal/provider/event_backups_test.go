package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func eventWithBackups(t *testing.T, starts time.Time, maxAge string, backups ...eventBackupModel) eventModel {
	t.Helper()
	m := sampleEvent()
	m.StartsAt = types.StringValue(starts.Format(time.RFC3339))
	m.MaxBackupAge = types.StringNull()
	if maxAge != "" {
		m.MaxBackupAge = types.StringValue(maxAge)
	}
	list, d := types.ListValueFrom(context.Background(), backupRefType, backups)
	if d.HasError() {
		t.Fatal(d)
	}
	m.Backups = list
	return m
}

func ref(name, id string, created types.String) eventBackupModel {
	return eventBackupModel{Name: types.StringValue(name), ID: types.StringValue(id), CreatedAt: created}
}

func at(t time.Time) types.String { return types.StringValue(t.UTC().Format(time.RFC3339)) }

func TestEventBackups_WarnAtPlanAboutMissingAndTooOldOnes(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	starts := now.Add(10 * 24 * time.Hour)
	m := eventWithBackups(t, starts, "24h",
		ref("web-fresh", "img-1", at(starts.Add(-2*time.Hour))),
		ref("web-old", "img-2", at(starts.Add(-3*24*time.Hour))),
		ref("db-never", "", types.StringNull()),
		ref("db-same-apply", "bk-4", types.StringUnknown()),
	)
	var diags diag.Diagnostics
	warnBackupAges(context.Background(), m, now, &diags)
	if diags.HasError() || diags.WarningsCount() != 2 {
		t.Fatalf("diagnostics %v: want two warnings", diags)
	}
	old, missing := diags.Warnings()[0], diags.Warnings()[1]
	if p, ok := old.(diag.DiagnosticWithPath); !ok || !p.Path().Equal(path.Root("backups").AtListIndex(1)) ||
		!strings.Contains(old.Detail(), `"web-old" (img-2)`) || !strings.Contains(old.Detail(), "3d before the event starts") {
		t.Errorf("too-old warning: %s: %s", old.Summary(), old.Detail())
	}
	if p, ok := missing.(diag.DiagnosticWithPath); !ok || !p.Path().Equal(path.Root("backups").AtListIndex(2)) ||
		missing.Summary() != "Required backup missing" {
		t.Errorf("missing warning: %s: %s", missing.Summary(), missing.Detail())
	}
}

func TestEventBackups_NothingIsSaidOnceTheEventHasStarted(t *testing.T) {
	now := time.Now().UTC()
	m := eventWithBackups(t, now.Add(-time.Hour), "1h", ref("web", "", types.StringNull()))
	var diags diag.Diagnostics
	warnBackupAges(context.Background(), m, now, &diags)
	if len(diags) != 0 {
		t.Fatalf("after the start: %v", diags)
	}
}

func TestEventBackupAges_GivesTheRunbookEachAgeOnceEverythingIsKnown(t *testing.T) {
	starts := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	m := eventWithBackups(t, starts, "24h",
		ref("web", "img-1", at(starts.Add(-26*time.Hour))), ref("db", "bk-1", at(starts.Add(-time.Hour))))
	ages, maxAge, ok := eventBackupAges(context.Background(), m)
	if !ok || len(ages) != 2 || maxAge != 24*time.Hour {
		t.Fatalf("ages %v bound %s ok %v", ages, maxAge, ok)
	}
	if ages[0].Age != 26*time.Hour || !ages[0].TooOld || ages[0].Warning == "" || ages[1].TooOld || ages[1].Warning != "" {
		t.Fatalf("ages %+v", ages)
	}
	m = eventWithBackups(t, starts, "24h", ref("web", "img-1", types.StringUnknown()))
	if _, _, ok := eventBackupAges(context.Background(), m); ok {
		t.Fatal("a backup taken in the same apply has no age yet: the runbook must wait for it")
	}
	m.Backups = types.ListNull(backupRefType)
	if ages, _, ok := eventBackupAges(context.Background(), m); !ok || len(ages) != 0 {
		t.Fatalf("no backups required: %v %v", ages, ok)
	}
}

func TestAccEvent_PlanWarnsAboutRequiredBackupsMissingOrOlderThanMaxBackupAge(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	starts := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	cfg := offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_event" "launch" {
  name           = "launch"
  starts_at      = %q
  ends_at        = %q
  max_backup_age = "24h"
  backups = [
    { name = "web01", id = "img-1", created_at = %q },
    { name = "db01" },
  ]
}
`, starts.Format(time.RFC3339), starts.Add(4*time.Hour).Format(time.RFC3339), starts.Add(-49*time.Hour).Format(time.RFC3339))
	diags := terraformPlanDiagnostics(t, cfg)
	old := findDiagnostic(diags, "warning", "Required backup older than max_backup_age")
	if old == nil || !strings.Contains(old.Detail, "2d1h before the event starts") {
		t.Errorf("no warning about web01's age: %+v", diags)
	}
	if findDiagnostic(diags, "warning", "Required backup missing") == nil {
		t.Errorf("no warning about db01: %+v", diags)
	}
}

func TestAccEvent_TakesItsBackupsFromEventscaleBackup(t *testing.T) {
	target := accCloud(t)
	cfg := target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_backup" "pre" {
  name        = "tfacc-bkevent"
  server_ids  = [%q]
  backup_type = "tfacc-bkevent"
  rotation    = 1
}

resource "eventscale_event" "launch" {
  name           = "launch"
  starts_at      = "2030-12-01T19:00:00Z"
  ends_at        = "2030-12-01T23:00:00Z"
  max_backup_age = "24h"
  backups        = eventscale_backup.pre.backups
}
`, target.ServerID)
	// Planned only: the backups are known after apply, so the event checks nothing yet; the point
	// is that the output fits the input as it is.
	for _, d := range terraformPlanDiagnostics(t, cfg) {
		if d.Severity == "error" || d.Severity == "warning" {
			t.Errorf("%s %q: %s", d.Severity, d.Summary, d.Detail)
		}
	}
}
