package devcloud

import (
	"testing"
)

// Trove's limits carry the absolute limits only (usage is in mgmt/quotas) and its rate limits.
func TestTrove_LimitsAreTrovesAbsoluteAndRateLimits(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	r := wireCall(t, dc, "GET", dc.ServiceURL("limits"), nil)
	limits := r.list(t, "limits")
	if r.status != 200 || len(limits) != 6 {
		t.Fatalf("limits: %d %s", r.status, r.text)
	}
	abs := limits[0].(map[string]any)
	if keysOf(abs) != "max_backups,max_instances,max_ram,max_volumes,verb" || abs["verb"] != "ABSOLUTE" ||
		abs["max_instances"] != 10.0 || abs["max_volumes"] != 40.0 || abs["max_backups"] != 50.0 || abs["max_ram"] != -1.0 {
		t.Fatalf("absolute limits = %+v", abs)
	}
	verbs := ""
	for _, l := range limits[1:] {
		m := l.(map[string]any)
		if keysOf(m) != "nextAvailable,regex,remaining,unit,uri,value,verb" || m["value"] != 200.0 || m["unit"] != "MINUTE" {
			t.Fatalf("rate limit = %+v", m)
		}
		verbs += m["verb"].(string) + " " + m["uri"].(string) + ";"
	}
	if verbs != "POST *;PUT *;DELETE *;GET *;POST */mgmt;" {
		t.Fatalf("rate limits = %s", verbs)
	}
	// An admin's change shows in the project's limits.
	admin := dbClient(t, provider(t, adminAuth(c)))
	set := wireCall(t, admin, "PUT", admin.ServiceURL("mgmt", "quotas", c.Seed().ProjectID), map[string]any{"quotas": map[string]any{"instances": 3, "volumes": 20}})
	if q := set.object(t, "quotas"); keysOf(q) != "instances,volumes" || q["instances"] != 3.0 {
		t.Fatalf("update answer: %s", set.text)
	}
	abs = wireCall(t, dc, "GET", dc.ServiceURL("limits"), nil).list(t, "limits")[0].(map[string]any)
	if abs["max_instances"] != 3.0 || abs["max_volumes"] != 20.0 {
		t.Fatalf("limits after the update = %+v", abs)
	}
}

func TestTrove_MgmtQuotasShowUsageToTheProjectAndChangesToAdminsOnly(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	dc := dbClient(t, provider(t, demoAuth(c)))
	r := wireCall(t, dc, "GET", dc.ServiceURL("mgmt", "quotas", s.ProjectID), nil)
	got := map[string]map[string]any{}
	for _, q := range r.list(t, "quotas") {
		m := q.(map[string]any)
		got[m["resource"].(string)] = m
	}
	// db01: one instance, 10 GB, m1.small's 2048 MB.
	for res, want := range map[string][2]float64{"instances": {10, 1}, "volumes": {40, 10}, "ram": {-1, 2048}, "backups": {50, 0}} {
		if q := got[res]; q == nil || q["limit"] != want[0] || q["in_use"] != want[1] || q["reserved"] != 0.0 {
			t.Fatalf("%s = %+v, want limit %v in_use %v", res, q, want[0], want[1])
		}
	}
	wireCall(t, dc, "GET", dc.ServiceURL("mgmt", "quotas", s.AdminProjectID), nil).
		fault(t, 403, "forbidden", "Operation not allowed for tenant "+s.ProjectID+".")
	wireCall(t, dc, "PUT", dc.ServiceURL("mgmt", "quotas", s.ProjectID), map[string]any{"quotas": map[string]any{"instances": 3}}).
		fault(t, 401, "unauthorized", "User does not have admin privileges.")
	admin := dbClient(t, provider(t, adminAuth(c)))
	url := admin.ServiceURL("mgmt", "quotas", s.ProjectID)
	wireCall(t, admin, "PUT", url, map[string]any{"quotas": map[string]any{"bogus": 3}}).fault(t, 404, "itemNotFound", "Unknown quota resources bogus.")
	wireCall(t, admin, "PUT", url, map[string]any{"quotas": map[string]any{"instances": -2}}).
		fault(t, 400, "badRequest", "Quota limit '-2' for 'instances' is too small - must be at least '-1'.")
}

func TestTrove_CreateOverVolumeAndRAMQuotasIs413NamingThemSorted(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	admin := dbClient(t, provider(t, adminAuth(c)))
	// db01 holds 10 GB and 2048 MB.
	wireCall(t, admin, "PUT", admin.ServiceURL("mgmt", "quotas", s.ProjectID), map[string]any{"quotas": map[string]any{"volumes": 14, "ram": 2048}})
	dc := dbClient(t, provider(t, demoAuth(c)))
	create := map[string]any{"instance": map[string]any{"name": "db02", "flavorRef": "1", "volume": map[string]any{"size": 5}}}
	wireCall(t, dc, "POST", dc.ServiceURL("instances"), create).fault(t, 413, "overLimit", "Quota exceeded for resources: ['ram', 'volumes'].")
	wireCall(t, admin, "PUT", admin.ServiceURL("mgmt", "quotas", s.ProjectID), map[string]any{"quotas": map[string]any{"ram": -1}})
	wireCall(t, dc, "POST", dc.ServiceURL("instances"), create).fault(t, 413, "overLimit", "Quota exceeded for resources: ['volumes'].")
	wireCall(t, admin, "PUT", admin.ServiceURL("mgmt", "quotas", s.ProjectID), map[string]any{"quotas": map[string]any{"volumes": 15}})
	if r := wireCall(t, dc, "POST", dc.ServiceURL("instances"), create); r.status != 200 {
		t.Fatalf("create that fits exactly: %s", r.text)
	}
}
