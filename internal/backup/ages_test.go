package backup_test

import (
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
)

func TestAges_MeasuresEachBackupAgainstTheStart(t *testing.T) {
	starts := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	ages := backup.Ages([]backup.Recorded{
		{Name: "fresh", ID: "a", CreatedAt: starts.Add(-3 * time.Hour)},
		{Name: "stale", ID: "b", CreatedAt: starts.Add(-30 * time.Hour)},
		{Name: "never", ID: ""},
		{Name: "no-time", ID: "d"},
		{Name: "after", ID: "e", CreatedAt: starts.Add(time.Hour)},
	}, starts, 24*time.Hour)

	if a := ages[0]; a.Age != 3*time.Hour || a.TooOld || a.Missing || a.Warning != "" {
		t.Errorf("fresh: %+v", a)
	}
	stale := ages[1]
	if !stale.TooOld || stale.Age != 30*time.Hour {
		t.Errorf("stale: %+v", stale)
	}
	for _, want := range []string{`"stale" (b)`, "1d6h before", "max_backup_age (1d)", "after 2026-11-30T19:00:00Z", "-replace"} {
		if !strings.Contains(stale.Warning, want) {
			t.Errorf("stale warning lacks %q: %s", want, stale.Warning)
		}
	}
	if a := ages[2]; !a.Missing || !strings.Contains(a.Warning, "has no id") || !strings.Contains(a.Warning, "not before 2026-11-30T19:00:00Z") {
		t.Errorf("never: %+v", a)
	}
	if a := ages[3]; !a.Missing || !strings.Contains(a.Warning, "no creation time") {
		t.Errorf("no-time: %+v", a)
	}
	if a := ages[4]; a.Age != -time.Hour || a.Warning != "" {
		t.Errorf("a backup taken after the start is not too old: %+v", a)
	}
}

func TestAges_WithoutABoundOnlyMissingBackupsAreWarnedAbout(t *testing.T) {
	starts := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	ages := backup.Ages([]backup.Recorded{{Name: "old", ID: "a", CreatedAt: starts.AddDate(0, -1, 0)}, {Name: "none"}}, starts, 0)
	if ages[0].Warning != "" || ages[0].TooOld {
		t.Errorf("no bound, no age warning: %+v", ages[0])
	}
	if !ages[1].Missing || strings.Contains(ages[1].Warning, "max_backup_age") {
		t.Errorf("missing without a bound: %+v", ages[1])
	}
}

func TestHumanDuration_WritesWhatAPersonWould(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Hour: "1d6h", 45 * time.Minute: "45m", 0: "0m", 26*time.Hour + 5*time.Minute: "1d2h5m", -90 * time.Minute: "-1h30m",
		24 * time.Hour: "1d",
	} {
		if got := backup.HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestRestoreCommands_NameTheBackupTheSourceAndItsShape(t *testing.T) {
	srv := backup.Source{ID: "8d1c", Name: "web 01", Flavor: "m1.small", Networks: []string{"private", "public"}}
	if got := backup.RebuildCommand("img-1", "8d1c"); got != "openstack server rebuild --image img-1 8d1c" {
		t.Errorf("rebuild: %s", got)
	}
	if got := backup.NewServerCommand("img-1", srv); got != "openstack server create --image img-1 --flavor m1.small --network private --network public --wait 'web 01-restored'" {
		t.Errorf("new server: %s", got)
	}
	db := backup.Source{ID: "db", Name: "db01", FlavorID: "2", VolumeGB: 10, Datastore: "mysql", Version: "8.0"}
	if got := backup.DatabaseRestoreCommand("bk-1", db); got != "openstack database instance create db01-restored --flavor 2 --size 10 --datastore mysql --datastore-version 8.0 --backup bk-1" {
		t.Errorf("database: %s", got)
	}
	if got := backup.ShellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("quote: %s", got)
	}
}

func TestCheckPrefix_RefusesWhatNovaOrTroveWouldRefuse(t *testing.T) {
	for _, bad := range []string{"", " launch", "launch ", "---", strings.Repeat("a", 254), "tab\there"} {
		if backup.CheckPrefix(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"launch-2026", "pre event", "é"} {
		if err := backup.CheckPrefix(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}
