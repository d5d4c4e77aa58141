package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

func troveBackup(t *testing.T, dc *gophercloud.ServiceClient, body map[string]any) rawResp {
	t.Helper()
	return rawDo(t, http.MethodPost, dc.ServiceURL("backups"), dc.TokenID, map[string]any{"backup": body}, nil)
}

func getBackup(t *testing.T, dc *gophercloud.ServiceClient, id string) rawResp {
	t.Helper()
	return rawDo(t, http.MethodGet, dc.ServiceURL("backups", id), dc.TokenID, nil, nil)
}

func waitBackup(t *testing.T, dc *gophercloud.ServiceClient, id, status string) map[string]any {
	t.Helper()
	var b map[string]any
	eventually(t, 10*time.Second, "backup "+id+" "+status, func() bool {
		r := getBackup(t, dc, id)
		b, _ = r.body["backup"].(map[string]any)
		return b != nil && b["status"] == status
	})
	return b
}

func TestTrove_BackupGoesNewBuildingCompletedWhileTheInstanceShowsBackup(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	seed := c.Seed()
	r := troveBackup(t, dc, map[string]any{"name": "before-launch", "instance": seed.DB01ID, "description": "full"})
	if r.status != http.StatusAccepted {
		t.Fatalf("create = %d %s", r.status, r.text)
	}
	b := r.body["backup"].(map[string]any)
	ds, _ := b["datastore"].(map[string]any)
	if b["status"] != "NEW" || b["locationRef"] != nil || b["size"] != nil || b["parent_id"] != nil || b["instance_id"] != seed.DB01ID ||
		b["project_id"] != seed.ProjectID || b["description"] != "full" || ds["type"] != "mysql" || ds["version"] != "8.0" || ds["version_id"] != seed.DatastoreVersionID {
		t.Fatalf("created backup = %v", b)
	}
	id := b["id"].(string)
	_, inst := getDB(t, dc, seed.DB01ID)
	if inst["status"] != "BACKUP" {
		t.Fatalf("instance during the backup = %v", inst["status"])
	}
	r = troveBackup(t, dc, map[string]any{"name": "second", "instance": seed.DB01ID})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.text, "Instance "+seed.DB01ID+" is not currently available for an action to be performed (instance status was BACKUP).") {
		t.Fatalf("second backup while one runs = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodDelete, dc.ServiceURL("backups", id), dc.TokenID, nil, nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.text, "Backup "+id+" cannot be deleted because it is running.") {
		t.Fatalf("delete while running = %d %s", r.status, r.text)
	}
	done := waitBackup(t, dc, id, "COMPLETED")
	if done["size"] == nil || !strings.HasSuffix(done["locationRef"].(string), "/database_backups/"+id+".xbstream") {
		t.Fatalf("completed backup = %v", done)
	}
	if _, inst := getDB(t, dc, seed.DB01ID); inst["status"] != "ACTIVE" {
		t.Fatalf("instance after the backup = %v", inst["status"])
	}
	for _, url := range []string{dc.ServiceURL("backups"), dc.ServiceURL("instances", seed.DB01ID, "backups"), dc.ServiceURL("backups") + "?instance_id=" + seed.DB01ID} {
		r := rawDo(t, http.MethodGet, url, dc.TokenID, nil, nil)
		list, _ := r.body["backups"].([]any)
		if r.status != 200 || len(list) != 1 || list[0].(map[string]any)["id"] != id {
			t.Errorf("%s = %d %s", url, r.status, r.text)
		}
	}

	// incremental=1 takes the last completed backup as parent; deleting the parent takes the child too.
	r = troveBackup(t, dc, map[string]any{"name": "incr", "instance": seed.DB01ID, "incremental": 1})
	child := r.body["backup"].(map[string]any)
	if r.status != http.StatusAccepted || child["parent_id"] != id {
		t.Fatalf("incremental = %d %s", r.status, r.text)
	}
	waitBackup(t, dc, child["id"].(string), "COMPLETED")
	if r := rawDo(t, http.MethodDelete, dc.ServiceURL("backups", id), dc.TokenID, nil, nil); r.status != http.StatusAccepted {
		t.Fatalf("delete = %d %s", r.status, r.text)
	}
	eventually(t, 10*time.Second, "both backups gone", func() bool {
		return getBackup(t, dc, id).status == 404 && getBackup(t, dc, child["id"].(string)).status == 404
	})
	r = getBackup(t, dc, id)
	if r.body["itemNotFound"].(map[string]any)["message"] != "Resource "+id+" cannot be found." {
		t.Fatalf("deleted backup = %s", r.text)
	}
}

func TestTrove_BackupErrorsAreTroves(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	seed := c.Seed()
	missing := "00000000-0000-0000-0000-000000000000"
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"instance": seed.DB01ID}, 400, "Validation error: backup 'name' is a required property"},
		{map[string]any{"name": "x", "instance": "db01"}, 400, "Validation error: backup['instance'] 'db01' does not match '" + troveUUIDPattern + "'"},
		{map[string]any{"name": "x", "instance": seed.DB01ID, "incremental": true}, 400, "Validation error: backup['incremental'] True is not of type 'integer'"},
		{map[string]any{"name": "x"}, 400, "instance is missing."},
		{map[string]any{"name": "x", "instance": missing}, 404, "Resource " + missing + " cannot be found."},
		{map[string]any{"name": "x", "instance": seed.DB01ID, "parent_id": missing}, 404, "Resource " + missing + " cannot be found."},
	} {
		r := troveBackup(t, dc, tc.body)
		var msg any
		for _, v := range r.body {
			if m, ok := v.(map[string]any); ok {
				msg = m["message"]
			}
		}
		if r.status != tc.status || msg != tc.msg {
			t.Errorf("%v: %d %s, want %d %q", tc.body, r.status, r.text, tc.status, tc.msg)
		}
	}
	r := rawDo(t, http.MethodGet, dc.ServiceURL("backups")+"?all_projects=true", dc.TokenID, nil, nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.text, "Policy doesn't allow backup:index:all_projects to be performed.") {
		t.Fatalf("member all_projects = %d %s", r.status, r.text)
	}

	// The backups quota counts live backups.
	admin := provider(t, adminAuth(c))
	adc := dbClient(t, admin)
	q := rawDo(t, http.MethodPut, adc.ServiceURL("mgmt", "quotas", seed.ProjectID),
		admin.TokenID, map[string]any{"quotas": map[string]any{"backups": 1}}, nil)
	if q.status != 200 {
		t.Fatalf("quota update = %d %s", q.status, q.text)
	}
	first := troveBackup(t, dc, map[string]any{"name": "one", "instance": seed.DB01ID})
	waitBackup(t, dc, first.body["backup"].(map[string]any)["id"].(string), "COMPLETED")
	r = troveBackup(t, dc, map[string]any{"name": "two", "instance": seed.DB01ID})
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.text, "Quota exceeded for resources: ['backups'].") {
		t.Fatalf("over quota = %d %s", r.status, r.text)
	}
}

func TestTrove_BackupFaultsEndFailedOrStayBuilding(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	db01 := c.Seed().DB01ID
	control(t, c, http.MethodPost, "/faults", map[string]any{"object_faults": []any{
		map[string]any{"kind": "db_backup", "outcome": "error", "name": "doomed"},
		map[string]any{"kind": "db_backup", "outcome": "stuck", "name": "hung"},
	}}, nil)
	r := troveBackup(t, dc, map[string]any{"name": "doomed", "instance": db01})
	failed := waitBackup(t, dc, r.body["backup"].(map[string]any)["id"].(string), "FAILED")
	if failed["size"] != nil || failed["locationRef"] != nil {
		t.Fatalf("failed backup = %v", failed)
	}
	if _, inst := getDB(t, dc, db01); inst["status"] != "ACTIVE" {
		t.Fatalf("instance after a failed backup = %v", inst["status"])
	}
	r = troveBackup(t, dc, map[string]any{"name": "hung", "instance": db01})
	id := r.body["backup"].(map[string]any)["id"].(string)
	waitBackup(t, dc, id, "BUILDING")
	time.Sleep(2 * c.Delay("db_backup"))
	if b := getBackup(t, dc, id).body["backup"].(map[string]any); b["status"] != "BUILDING" {
		t.Fatalf("stuck backup = %v", b["status"])
	}
	if _, inst := getDB(t, dc, db01); inst["status"] != "BACKUP" {
		t.Fatalf("instance during a stuck backup = %v", inst["status"])
	}
}

func TestTrove_BackupListPagesByOffsetWithTrovesHTTPSNextLink(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	db01 := c.Seed().DB01ID
	for _, name := range []string{"a", "b"} {
		r := troveBackup(t, dc, map[string]any{"name": name, "instance": db01})
		waitBackup(t, dc, r.body["backup"].(map[string]any)["id"].(string), "COMPLETED")
	}
	r := rawDo(t, http.MethodGet, dc.ServiceURL("backups")+"?limit=1", dc.TokenID, nil, nil)
	list, _ := r.body["backups"].([]any)
	links, _ := r.body["links"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "b" || len(links) != 1 {
		t.Fatalf("first page = %s", r.text)
	}
	next := links[0].(map[string]any)["href"].(string)
	if !strings.HasPrefix(next, "https://") || !strings.Contains(next, "marker=1") {
		t.Fatalf("next link = %s", next)
	}
	r = rawDo(t, http.MethodGet, dc.ServiceURL("backups")+"?limit=1&marker=1", dc.TokenID, nil, nil)
	if list, _ := r.body["backups"].([]any); len(list) != 1 || list[0].(map[string]any)["name"] != "a" {
		t.Fatalf("second page = %s", r.text)
	}
}
