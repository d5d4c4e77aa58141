package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/datastores"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/instances"
)

// replicaOpts adds Trove's replica_of and replica_count, which gophercloud's CreateOpts lacks,
// through the CreateOptsBuilder interface (gophercloud's documented way).
type replicaOpts struct {
	instances.CreateOpts
	ReplicaOf    string
	ReplicaCount int
}

func (o replicaOpts) ToInstanceCreateMap() (map[string]any, error) {
	m, err := o.CreateOpts.ToInstanceCreateMap()
	if err != nil {
		return nil, err
	}
	inst := m["instance"].(map[string]any)
	inst["replica_of"] = o.ReplicaOf
	if o.ReplicaCount > 0 {
		inst["replica_count"] = o.ReplicaCount
	}
	return m, nil
}

func getDB(t *testing.T, dc *gophercloud.ServiceClient, id string) (*instances.Instance, map[string]any) {
	t.Helper()
	r := instances.Get(testCtx(t), dc, id)
	inst, err := r.Extract()
	if err != nil {
		return nil, nil
	}
	var raw struct {
		Instance map[string]any `json:"instance"`
	}
	_ = r.ExtractInto(&raw)
	return inst, raw.Instance
}

func waitDB(t *testing.T, dc *gophercloud.ServiceClient, id, status string) map[string]any {
	t.Helper()
	var raw map[string]any
	eventually(t, 10*time.Second, "db "+id+" "+status, func() bool {
		inst, r := getDB(t, dc, id)
		raw = r
		return inst != nil && inst.Status == status
	})
	return raw
}

func TestTrove_SeedDatastoresAndFlavors(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	pages, err := datastores.List(dc).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := datastores.ExtractDatastores(pages)
	if len(ds) != 1 || ds[0].Name != "mysql" || len(ds[0].Versions) != 1 || ds[0].Versions[0].Name != "8.0" {
		t.Fatalf("datastores = %+v", ds)
	}
	v, err := datastores.GetVersion(ctx, dc, "mysql", "8.0").Extract()
	if err != nil || v.Name != "8.0" {
		t.Fatalf("version = %+v, %v", v, err)
	}
	pages, err = flavors.List(dc).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := flavors.ExtractFlavors(pages)
	if len(fl) != 3 || fl[1].StrID != "2" || fl[1].RAM != 2048 {
		t.Fatalf("flavors = %+v", fl)
	}
	db01, raw := getDB(t, dc, c.Seed().DB01ID)
	if db01 == nil || db01.Name != "db01" || db01.Status != "ACTIVE" || db01.Datastore.Version != "8.0" || len(db01.IP) != 1 || raw["hostname"] == nil {
		t.Fatalf("db01 = %+v", db01)
	}
}

func TestTrove_ReplicaCreateListDetachDelete(t *testing.T) {
	c := startCloud(t)
	// 0.5 s each, so that DETACH and SHUTDOWN stay observable on a loaded machine.
	c.SetTiming(Timing{Delays: map[string]time.Duration{"db_detach": 100 * time.Second, "db_delete": 100 * time.Second}})
	dc := dbClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	db01 := c.Seed().DB01ID
	rep, err := instances.Create(ctx, dc, replicaOpts{CreateOpts: instances.CreateOpts{Name: "db01-replica", FlavorRef: "2", Size: 10}, ReplicaOf: db01}).Extract()
	if err != nil {
		t.Fatalf("create replica: %v (%s)", err, errBody(err))
	}
	if rep.Status != "BUILD" {
		t.Fatalf("new replica status %s, want BUILD", rep.Status)
	}
	raw := waitDB(t, dc, rep.ID, "ACTIVE")
	if ro, _ := raw["replica_of"].(map[string]any); ro["id"] != db01 {
		t.Fatalf("replica_of = %v, want %s", raw["replica_of"], db01)
	}
	_, primary := getDB(t, dc, db01)
	if reps, _ := primary["replicas"].([]any); len(reps) != 1 || reps[0].(map[string]any)["id"] != rep.ID {
		t.Fatalf("primary replicas = %v", primary["replicas"])
	}
	pages, err := instances.List(dc).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := instances.ExtractInstances(pages)
	if len(all) != 2 {
		t.Fatalf("instances = %+v", all)
	}
	// The primary cannot go while it has replicas.
	err = instances.Delete(ctx, dc, db01).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(errBody(err), "The replica source cannot be deleted without detaching the replicas.") {
		t.Fatalf("delete primary with replicas: %v, want 403 ReplicaSourceDeleteForbidden", err)
	}
	_, err = dc.Patch(ctx, dc.ServiceURL("instances", rep.ID), map[string]any{"instance": map[string]any{"replica_of": nil}}, nil, //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		&gophercloud.RequestOpts{OkCodes: []int{202}})
	if err != nil {
		t.Fatalf("detach: %v", err)
	}
	if inst, _ := getDB(t, dc, rep.ID); inst.Status != "DETACH" {
		t.Fatalf("status after detach request = %s, want DETACH", inst.Status)
	}
	raw = waitDB(t, dc, rep.ID, "ACTIVE")
	if raw["replica_of"] != nil {
		t.Fatalf("detached replica still has replica_of %v", raw["replica_of"])
	}
	if _, primary = getDB(t, dc, db01); primary["replicas"] != nil {
		t.Fatalf("primary still lists replicas %v", primary["replicas"])
	}
	if err := instances.Delete(ctx, dc, rep.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if inst, _ := getDB(t, dc, rep.ID); inst == nil || inst.Status != "SHUTDOWN" {
		t.Fatalf("status right after delete = %+v, want SHUTDOWN", inst)
	}
	eventually(t, 5*time.Second, "replica gone", func() bool {
		_, err := instances.Get(ctx, dc, rep.ID).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	kinds := kindsOf(c.Events(), "replica.")
	if strings.Join(kinds, ",") != "replica.created,replica.detached" {
		t.Fatalf("replica events = %v", kinds)
	}
}

func TestTrove_SlaveOfNullDetachesAndReplicaCountCreatesSeveral(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	_, err := instances.Create(ctx, dc, replicaOpts{CreateOpts: instances.CreateOpts{Name: "r", FlavorRef: "2", Size: 10}, ReplicaOf: c.Seed().DB01ID, ReplicaCount: 2}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	_, primary := getDB(t, dc, c.Seed().DB01ID)
	reps, _ := primary["replicas"].([]any)
	if len(reps) != 2 {
		t.Fatalf("replicas = %v, want 2", primary["replicas"])
	}
	id := reps[1].(map[string]any)["id"].(string)
	waitDB(t, dc, id, "ACTIVE")
	_, err = dc.Patch(ctx, dc.ServiceURL("instances", id), map[string]any{"instance": map[string]any{"slave_of": nil}}, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if err != nil {
		t.Fatalf("detach with slave_of: %v", err)
	}
	waitDB(t, dc, id, "ACTIVE")
	if _, primary = getDB(t, dc, c.Seed().DB01ID); len(primary["replicas"].([]any)) != 1 {
		t.Fatalf("after detach the primary lists %v", primary["replicas"])
	}
}

func TestTrove_QuotaExceededIs413OverLimit(t *testing.T) {
	c := startCloud(t)
	admin := dbClient(t, provider(t, adminAuth(c)))
	_, err := admin.Put(testCtx(t), admin.ServiceURL("mgmt", "quotas", c.Seed().ProjectID), //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		map[string]any{"quotas": map[string]int{"instances": 1}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		t.Fatalf("admin quota update: %v", err)
	}
	dc := dbClient(t, provider(t, demoAuth(c)))
	_, err = instances.Create(testCtx(t), dc, instances.CreateOpts{Name: "db02", FlavorRef: "2", Size: 5}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusRequestEntityTooLarge) {
		t.Fatalf("over quota: %v, want 413", err)
	}
	want := `{"overLimit":{"code":413,"message":"Quota exceeded for resources: ['instances']."}}`
	if got := strings.TrimSpace(errBody(err)); got != want {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

func kindsOf(events []Event, prefix string) []string {
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e.Kind, prefix) {
			out = append(out, e.Kind)
		}
	}
	return out
}
