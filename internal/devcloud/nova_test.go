package devcloud

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/tags"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func createServer(t *testing.T, c *Cloud, cc *gophercloud.ServiceClient, name string, mutate func(*servers.CreateOpts), hints servers.SchedulerHintOptsBuilder) *servers.Server {
	t.Helper()
	s := c.Seed()
	opts := servers.CreateOpts{Name: name, ImageRef: s.BaseImageID, FlavorRef: s.FlavorIDs["m1.tiny"],
		Networks: []servers.Network{{UUID: s.NetworkID}}}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := servers.Create(testCtx(t), cc, opts, hints).Extract()
	if err != nil {
		t.Fatalf("creating server %s: %v (%s)", name, err, errBody(err))
	}
	return srv
}

func waitStatus(t *testing.T, cc *gophercloud.ServiceClient, id, status string) *servers.Server {
	t.Helper()
	var last *servers.Server
	eventually(t, 10*time.Second, "server "+id+" to be "+status, func() bool {
		s, err := servers.Get(testCtx(t), cc, id).Extract()
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		last = s
		return s.Status == status
	})
	return last
}

func TestNova_VersionDocumentAndMicroversionEcho(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.79")
	resp, err := cc.Get(testCtx(t), cc.ServiceURL("flavors"), nil, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-OpenStack-Nova-API-Version"); got != "2.79" {
		t.Fatalf("X-OpenStack-Nova-API-Version = %q, want 2.79", got)
	}
	if got := resp.Header.Get("OpenStack-API-Version"); got != "compute 2.79" {
		t.Fatalf("OpenStack-API-Version = %q, want compute 2.79", got)
	}
	var doc struct {
		Version struct{ ID, Version, MinVersion string }
	}
	if _, err := pc.Request(testCtx(t), "GET", c.URL()+"/compute/v2.1", &gophercloud.RequestOpts{JSONResponse: &doc, OmitHeaders: []string{"X-Auth-Token"}}); err != nil { //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		t.Fatalf("version document without a token: %v", err)
	}
	if doc.Version.ID != "v2.1" || doc.Version.Version != "2.93" {
		t.Fatalf("version doc = %+v", doc.Version)
	}
	cc.Microversion = "2.200"
	_, err = cc.Get(testCtx(t), cc.ServiceURL("flavors"), nil, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if !gophercloud.ResponseCodeIs(err, http.StatusNotAcceptable) {
		t.Fatalf("microversion 2.200: err = %v, want 406", err)
	}
}

func TestNova_FlavorsListDetailAndGet(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	pages, err := flavors.ListDetail(cc, nil).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := flavors.ExtractFlavors(pages)
	got := map[string]flavors.Flavor{}
	for _, f := range list {
		got[f.Name] = f
	}
	want := map[string][2]int{"m1.tiny": {1, 512}, "m1.small": {1, 2048}, "m1.medium": {2, 4096}}
	for name, w := range want {
		if f := got[name]; f.VCPUs != w[0] || f.RAM != w[1] {
			t.Errorf("flavor %s = %+v, want %d vCPU %d MB", name, f, w[0], w[1])
		}
	}
	f, err := flavors.Get(testCtx(t), cc, "3").Extract()
	if err != nil || f.Name != "m1.medium" {
		t.Fatalf("get flavor 3 = %+v, %v", f, err)
	}
	_, err = flavors.Get(testCtx(t), cc, "99").Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("missing flavor: %v, want 404", err)
	}
}

func TestNova_ServerBuildsThenActiveWithAddressOnPrivateSubnet(t *testing.T) {
	c := startCloud(t)
	c.SetTiming(Timing{Delays: map[string]time.Duration{"server_build": 200 * time.Second}}) // 1 s: BUILD stays observable
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	srv := createServer(t, c, cc, "web02", func(o *servers.CreateOpts) {
		o.Metadata = map[string]string{"pool": "web"}
		o.Tags = []string{"eventscale"}
	}, nil)
	got, err := servers.Get(testCtx(t), cc, srv.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "BUILD" {
		t.Fatalf("status right after create = %s, want BUILD", got.Status)
	}
	got = waitStatus(t, cc, srv.ID, "ACTIVE")
	if got.TaskState != "" || got.PowerState != servers.RUNNING {
		t.Fatalf("ACTIVE server task_state %q power %v", got.TaskState, got.PowerState)
	}
	addrs, _ := got.Addresses["private"].([]any)
	if len(addrs) != 1 {
		t.Fatalf("addresses = %v, want one on private", got.Addresses)
	}
	a := addrs[0].(map[string]any)
	if !strings.HasPrefix(a["addr"].(string), "10.0.0.") || a["OS-EXT-IPS:type"] != "fixed" || a["version"] != float64(4) {
		t.Fatalf("address = %v", a)
	}
	if got.Metadata["pool"] != "web" || got.Tags == nil || (*got.Tags)[0] != "eventscale" {
		t.Fatalf("metadata %v tags %v", got.Metadata, got.Tags)
	}
	if _, ok := c.dp.nodes.Get(a["addr"].(string)); !ok {
		t.Fatalf("no web node registered for ACTIVE server at %s", a["addr"])
	}
}

func TestNova_InjectedFaultEndsBuildInErrorWithFault(t *testing.T) {
	c := startCloud(t)
	c.InjectFaults(FaultSpec{ServerErrors: &ServerErrorFault{Next: 1, Message: "Exceeded maximum number of retries."}})
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	bad := createServer(t, c, cc, "bad", nil, nil)
	got := waitStatus(t, cc, bad.ID, "ERROR")
	if got.Fault.Code != 500 || got.Fault.Message != "Exceeded maximum number of retries." || got.Fault.Created.IsZero() {
		t.Fatalf("fault = %+v", got.Fault)
	}
	good := createServer(t, c, cc, "good", nil, nil)
	waitStatus(t, cc, good.ID, "ACTIVE")
}

func TestNova_QuotaExceededIs403WithNovaMessage(t *testing.T) {
	c := startCloud(t)
	admin := computeClient(t, provider(t, adminAuth(c)), "2.79")
	if _, err := quotasets.Update(testCtx(t), admin, c.Seed().ProjectID, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(2)}).Extract(); err != nil {
		t.Fatalf("admin quota update: %v", err)
	}
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	q, err := quotasets.Get(testCtx(t), cc, c.Seed().ProjectID).Extract()
	if err != nil || q.Instances != 2 || q.Cores != 20 || q.RAM != 51200 {
		t.Fatalf("quota set = %+v, %v", q, err)
	}
	createServer(t, c, cc, "second", nil, nil) // web01 is the first
	_, err = servers.Create(testCtx(t), cc, servers.CreateOpts{Name: "third", ImageRef: c.Seed().BaseImageID, FlavorRef: "1",
		Networks: []servers.Network{{UUID: c.Seed().NetworkID}}}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("err = %v, want 403", err)
	}
	want := `{"forbidden":{"code":403,"message":"Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"}}`
	if got := strings.TrimSpace(errBody(err)); got != want {
		t.Fatalf("body = %s\nwant   %s", got, want)
	}
}

func TestNova_DeleteKeepsServerDeletingThen404AndFreesAddress(t *testing.T) {
	c := startCloud(t)
	// 1 s at the test scale: long enough to observe the deleting state on a loaded machine.
	c.SetTiming(Timing{Delays: map[string]time.Duration{"server_delete": 200 * time.Second}})
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	web01 := c.Seed().Web01ServerID
	if err := servers.Delete(testCtx(t), cc, web01).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, err := servers.Get(testCtx(t), cc, web01).Extract()
	if err != nil {
		t.Fatalf("right after delete the server is still there: %v", err)
	}
	if got.TaskState != "deleting" {
		t.Fatalf("task_state = %q, want deleting", got.TaskState)
	}
	if _, ok := c.dp.nodes.Get(c.Seed().Web01Address); ok {
		t.Fatalf("web node still registered while the server is deleting")
	}
	eventually(t, 5*time.Second, "404 after delete", func() bool {
		_, err := servers.Get(testCtx(t), cc, web01).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	// The address goes back to the pool: the next server reuses it.
	srv := createServer(t, c, cc, "reuse", nil, nil)
	got = waitStatus(t, cc, srv.ID, "ACTIVE")
	if addr := got.Addresses["private"].([]any)[0].(map[string]any)["addr"]; addr != c.Seed().Web01Address {
		t.Fatalf("new server got %v, want the freed %s", addr, c.Seed().Web01Address)
	}
}

func TestNova_CreateImageProducesActiveSnapshot(t *testing.T) {
	for _, mv := range []string{"2.79", "2.1"} {
		t.Run("microversion "+mv, func(t *testing.T) {
			c := startCloud(t)
			c.SetTiming(Timing{Delays: map[string]time.Duration{"image_save": 100 * time.Second}}) // 0.5 s
			pc := provider(t, demoAuth(c))
			cc := computeClient(t, pc, mv)
			s := c.Seed()
			id, err := servers.CreateImage(testCtx(t), cc, s.Web01ServerID, servers.CreateImageOpts{Name: "web01-snap", Metadata: map[string]string{"purpose": "spike"}}).ExtractImageID()
			if err != nil {
				t.Fatalf("createImage: %v", err)
			}
			ic := imageClient(t, pc)
			img, err := images.Get(testCtx(t), ic, id).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if img.Status != images.ImageStatusQueued && img.Status != images.ImageStatusSaving {
				t.Fatalf("new snapshot status = %s, want queued or saving", img.Status)
			}
			eventually(t, 5*time.Second, "snapshot active", func() bool {
				img, err = images.Get(testCtx(t), ic, id).Extract()
				return err == nil && img.Status == images.ImageStatusActive
			})
			p := img.Properties
			if p["image_type"] != "snapshot" || p["instance_uuid"] != s.Web01ServerID || p["base_image_ref"] != s.BaseImageID || p["purpose"] != "spike" {
				t.Fatalf("snapshot properties = %v", p)
			}
		})
	}
}

func TestNova_RebootGoesThroughRebootToActiveAndRemovesNodeMeanwhile(t *testing.T) {
	c := startCloud(t)
	c.SetTiming(Timing{Delays: map[string]time.Duration{"server_reboot": 200 * time.Second}}) // 1 s at the test scale
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	id := c.Seed().Web01ServerID
	if err := servers.Reboot(testCtx(t), cc, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, _ := servers.Get(testCtx(t), cc, id).Extract()
	if got.Status != "REBOOT" {
		t.Fatalf("status = %s, want REBOOT", got.Status)
	}
	if _, ok := c.dp.nodes.Get(c.Seed().Web01Address); ok {
		t.Fatal("web node registered during reboot")
	}
	err := servers.Reboot(testCtx(t), cc, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("second reboot while rebooting: %v, want 409", err)
	}
	waitStatus(t, cc, id, "ACTIVE")
	if _, ok := c.dp.nodes.Get(c.Seed().Web01Address); !ok {
		t.Fatal("web node not back after reboot")
	}
}

func TestNova_AntiAffinityGroupSpreadsAcrossHostsThenNoValidHost(t *testing.T) {
	c := startCloud(t)
	if err := c.SetCapacity(CapacityModel{RPSPerVCPU: 50, ConcurrencyPerVCPU: 8, BaseLatencyMS: 20, ComputeHosts: 2}); err != nil {
		t.Fatal(err)
	}
	admin := computeClient(t, provider(t, adminAuth(c)), "2.79")
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	g, err := servergroups.Create(testCtx(t), cc, servergroups.CreateOpts{Name: "web", Policy: "anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if g.Policy == nil || *g.Policy != "anti-affinity" {
		t.Fatalf("group = %+v", g)
	}
	hints := servers.SchedulerHintOpts{Group: g.ID}
	a := createServer(t, c, cc, "a", nil, hints)
	b := createServer(t, c, cc, "b", nil, hints)
	waitStatus(t, cc, a.ID, "ACTIVE")
	waitStatus(t, cc, b.ID, "ACTIVE")
	third := createServer(t, c, cc, "c", nil, hints)
	got := waitStatus(t, cc, third.ID, "ERROR")
	if !strings.HasPrefix(got.Fault.Message, "No valid host was found") {
		t.Fatalf("fault = %+v", got.Fault)
	}
	ha, _ := servers.Get(testCtx(t), admin, a.ID).Extract()
	hb, _ := servers.Get(testCtx(t), admin, b.ID).Extract()
	if ha.Host == "" || ha.Host == hb.Host {
		t.Fatalf("anti-affinity members on hosts %q and %q", ha.Host, hb.Host)
	}
	g, _ = servergroups.Get(testCtx(t), cc, g.ID).Extract()
	if len(g.Members) != 3 {
		t.Fatalf("group members = %v, want 3 (the failed one stays until deleted)", g.Members)
	}
	soft, _ := servergroups.Create(testCtx(t), cc, servergroups.CreateOpts{Name: "soft", Policy: "soft-anti-affinity"}).Extract()
	for i := 0; i < 3; i++ {
		s := createServer(t, c, cc, fmt.Sprintf("soft-%d", i), nil, servers.SchedulerHintOpts{Group: soft.ID})
		waitStatus(t, cc, s.ID, "ACTIVE")
	}
	old := computeClient(t, provider(t, demoAuth(c)), "2.1")
	legacy, err := servergroups.Create(testCtx(t), old, servergroups.CreateOpts{Name: "legacy", Policies: []string{"anti-affinity"}}).Extract()
	if err != nil || len(legacy.Policies) != 1 || legacy.Policies[0] != "anti-affinity" {
		t.Fatalf("pre-2.64 group = %+v, %v", legacy, err)
	}
}

func listServers(t *testing.T, cc *gophercloud.ServiceClient, opts servers.ListOpts) []servers.Server {
	t.Helper()
	pages, err := servers.List(cc, opts).AllPages(testCtx(t))
	if err != nil {
		t.Fatalf("list %+v: %v", opts, err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func names(list []servers.Server) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

func TestNova_ListFiltersAndClientSideMetadataMatch(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	time.Sleep(20 * time.Millisecond) // so that web01's updated time is before the mark
	before := time.Now().UTC()
	a := createServer(t, c, cc, "pool-web-1", func(o *servers.CreateOpts) {
		o.Tags, o.Metadata = []string{"eventscale", "web"}, map[string]string{"managed-by": "eventscale", "pool": "web"}
	}, nil)
	b := createServer(t, c, cc, "pool-web-2", func(o *servers.CreateOpts) {
		o.Tags, o.Metadata = []string{"eventscale"}, map[string]string{"managed-by": "eventscale", "pool": "api"}
	}, nil)
	waitStatus(t, cc, a.ID, "ACTIVE")
	waitStatus(t, cc, b.ID, "ACTIVE") // before the fault, which hits the next build to finish
	c.InjectFaults(FaultSpec{ServerErrors: &ServerErrorFault{Next: 1}})
	e := createServer(t, c, cc, "other", nil, nil)
	waitStatus(t, cc, e.ID, "ERROR")

	if got := names(listServers(t, cc, servers.ListOpts{Name: "^pool-web-[0-9]$"})); len(got) != 2 {
		t.Fatalf("name regex: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{Name: "web"})); len(got) != 3 { // web01 too: a search, not a match
		t.Fatalf("name substring regex: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{Status: "ERROR"})); len(got) != 1 || got[0] != "other" {
		t.Fatalf("status=ERROR: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{Tags: "eventscale,web"})); len(got) != 1 || got[0] != "pool-web-1" {
		t.Fatalf("tags: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{TagsAny: "web,eventscale"})); len(got) != 2 {
		t.Fatalf("tags-any: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{Image: c.Seed().BaseImageID})); len(got) != 4 {
		t.Fatalf("image: %v", got)
	}
	if got := names(listServers(t, cc, servers.ListOpts{ChangesSince: before.Format(time.RFC3339Nano)})); len(got) != 3 {
		t.Fatalf("changes-since: %v", got)
	}
	// Nova has no metadata filter: clients list (metadata included) and match themselves.
	var matched []string
	for _, s := range listServers(t, cc, servers.ListOpts{}) {
		if s.Metadata["managed-by"] == "eventscale" && s.Metadata["pool"] == "web" {
			matched = append(matched, s.Name)
		}
	}
	if len(matched) != 1 || matched[0] != "pool-web-1" {
		t.Fatalf("client-side metadata match: %v", matched)
	}
	// Newest first, and paging with limit/marker reaches every server.
	all := listServers(t, cc, servers.ListOpts{Limit: 1})
	if len(all) != 4 || all[0].Name != "other" || all[3].Name != "web01" {
		t.Fatalf("paged list = %v", names(all))
	}
}

func TestNova_MetadataAndTagsSubresources(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	id := c.Seed().Web01ServerID
	ctx := testCtx(t)
	md, err := servers.UpdateMetadata(ctx, cc, id, servers.MetadataOpts{"pool": "web"}).Extract()
	if err != nil || md["pool"] != "web" || md["role"] != "web" {
		t.Fatalf("update metadata = %v, %v", md, err)
	}
	if _, err := servers.ResetMetadata(ctx, cc, id, servers.MetadataOpts{"only": "this"}).Extract(); err != nil {
		t.Fatal(err)
	}
	md, _ = servers.Metadata(ctx, cc, id).Extract()
	if len(md) != 1 || md["only"] != "this" {
		t.Fatalf("after reset: %v", md)
	}
	if err := servers.DeleteMetadatum(ctx, cc, id, "only").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = servers.Metadatum(ctx, cc, id, "only").Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted metadatum: %v, want 404", err)
	}
	if _, err := tags.ReplaceAll(ctx, cc, id, tags.ReplaceAllOpts{Tags: []string{"a", "b"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := tags.Add(ctx, cc, id, "c").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := tags.Delete(ctx, cc, id, "a").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, err := tags.List(ctx, cc, id).Extract()
	if err != nil || strings.Join(got, ",") != "b,c" {
		t.Fatalf("tags = %v, %v", got, err)
	}
	ok, err := tags.Check(ctx, cc, id, "a").Extract()
	if err != nil || ok {
		t.Fatalf("check deleted tag = %v, %v", ok, err)
	}
}

func TestNova_ConcurrentCreatesGetDistinctAddresses(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc := computeClient(t, pc, "2.79")
			srv, err := servers.Create(testCtx(t), cc, servers.CreateOpts{Name: fmt.Sprintf("burst-%d", i), ImageRef: c.Seed().BaseImageID,
				FlavorRef: "1", Networks: []servers.Network{{UUID: c.Seed().NetworkID}}}, nil).Extract()
			if err == nil {
				ids[i] = srv.ID
			}
			errs[i] = err
			_, _ = servers.List(cc, nil).AllPages(testCtx(t))
		}(i)
	}
	wg.Wait()
	cc := computeClient(t, pc, "2.79")
	seen := map[string]string{}
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		s := waitStatus(t, cc, id, "ACTIVE")
		addr := s.Addresses["private"].([]any)[0].(map[string]any)["addr"].(string)
		if other, dup := seen[addr]; dup {
			t.Fatalf("%s and %s share %s", other, id, addr)
		}
		seen[addr] = id
	}
	q, _ := quotasets.GetDetail(testCtx(t), cc, c.Seed().ProjectID).Extract()
	if q.Instances.InUse != n+1 {
		t.Fatalf("instances in use = %d, want %d", q.Instances.InUse, n+1)
	}
}

func TestNova_KeypairsAndAvailabilityZones(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	kp, err := keypairs.Create(testCtx(t), cc, keypairs.CreateOpts{Name: "ops"}).Extract()
	if err != nil || !strings.HasPrefix(kp.PublicKey, "ssh-ed25519 ") || kp.PrivateKey == "" || kp.Fingerprint == "" {
		t.Fatalf("keypair = %+v, %v", kp, err)
	}
	got, err := keypairs.Get(testCtx(t), cc, "ops", nil).Extract()
	if err != nil || got.PublicKey != kp.PublicKey {
		t.Fatalf("get keypair = %+v, %v", got, err)
	}
	keyed, err := servers.Create(testCtx(t), cc, keypairs.CreateOptsExt{CreateOptsBuilder: servers.CreateOpts{Name: "keyed", ImageRef: c.Seed().BaseImageID,
		FlavorRef: "1", Networks: "auto"}, KeyName: "ops"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := servers.Get(testCtx(t), cc, keyed.ID).Extract(); s == nil || s.KeyName != "ops" {
		t.Fatalf("server key_name = %+v", s)
	}
	_, err = servers.Create(testCtx(t), cc, keypairs.CreateOptsExt{CreateOptsBuilder: servers.CreateOpts{Name: "x", ImageRef: c.Seed().BaseImageID,
		FlavorRef: "1", Networks: "auto"}, KeyName: "missing"}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unknown key_name: %v, want 400", err)
	}
	pages, err := availabilityzones.List(cc).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	zones, _ := availabilityzones.ExtractAvailabilityZones(pages)
	if len(zones) != 1 || zones[0].ZoneName != "nova" || !zones[0].ZoneState.Available {
		t.Fatalf("zones = %+v", zones)
	}
}

func TestNova_ChangesSinceListsDeletedServersAsDeleted(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	mark := time.Now().UTC()
	srv := createServer(t, c, cc, "short-lived", nil, nil)
	if err := servers.Delete(testCtx(t), cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "404", func() bool {
		_, err := servers.Get(testCtx(t), cc, srv.ID).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	if got := names(listServers(t, cc, servers.ListOpts{})); len(got) != 1 || got[0] != "web01" {
		t.Fatalf("plain list shows %v, want only web01", got)
	}
	list := listServers(t, cc, servers.ListOpts{ChangesSince: mark.Format(time.RFC3339Nano)})
	if len(list) != 1 || list[0].ID != srv.ID || list[0].Status != "DELETED" {
		t.Fatalf("changes-since list = %+v", list)
	}
}

func TestNova_RejectsMultiCreateAndInvalidUserData(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	base := servers.CreateOpts{Name: "x", ImageRef: c.Seed().BaseImageID, FlavorRef: "1", Networks: "auto"}
	multi := base
	multi.Min, multi.Max = 2, 2
	_, err := servers.Create(testCtx(t), cc, multi, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("min_count 2: %v, want 400", err)
	}
	// gophercloud base64-encodes UserData itself; a raw body proves the check.
	_, err = cc.Post(testCtx(t), cc.ServiceURL("servers"), map[string]any{"server": map[string]any{"name": "x", "imageRef": c.Seed().BaseImageID, //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		"flavorRef": "1", "networks": "auto", "user_data": "not base64!"}}, nil, nil)
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("bad user_data: %v, want 400", err)
	}
	withData := base
	withData.UserData = []byte("#cloud-config\n")
	srv, err := servers.Create(testCtx(t), cc, withData, nil).Extract()
	if err != nil {
		t.Fatalf("networks auto with user_data: %v", err)
	}
	got := waitStatus(t, cc, srv.ID, "ACTIVE")
	if _, ok := got.Addresses["private"]; !ok {
		t.Fatalf("networks=auto did not land on private: %v", got.Addresses)
	}
}

func TestNova_RenameServerDeleteGroupAndKeypair(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	ctx := testCtx(t)
	s, err := servers.Update(ctx, cc, c.Seed().Web01ServerID, servers.UpdateOpts{Name: "web01-renamed"}).Extract()
	if err != nil || s.Name != "web01-renamed" {
		t.Fatalf("rename = %+v, %v", s, err)
	}
	g, _ := servergroups.Create(ctx, cc, servergroups.CreateOpts{Name: "g", Policy: "anti-affinity"}).Extract()
	if err := servergroups.Delete(ctx, cc, g.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := servergroups.Get(ctx, cc, g.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted group: %v, want 404", err)
	}
	if _, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: "k", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx1cXRhZGF0YWRhdGFkYXRhZGF0YWRhdGFkYXRhZGF0YQ== test"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := keypairs.Delete(ctx, cc, "k", nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := keypairs.Get(ctx, cc, "k", nil).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted keypair: %v, want 404", err)
	}
}

func TestNova_ActionsOnBuildingServerConflictOnVMState(t *testing.T) {
	c := startCloud(t)
	c.SetTiming(Timing{Delays: map[string]time.Duration{"server_build": 200 * time.Second}}) // stays BUILD for 1 s
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	srv := createServer(t, c, cc, "building", nil, nil)
	_, err := servers.CreateImage(testCtx(t), cc, srv.ID, servers.CreateImageOpts{Name: "too-early"}).ExtractImageID()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) || !strings.Contains(errBody(err), "while it is in vm_state building") {
		t.Fatalf("createImage while building: %v %s", err, errBody(err))
	}
}

func TestNova_SnapshotWhoseImageIsDeletedMidUploadFreesTheServer(t *testing.T) {
	c := startCloud(t)
	c.SetTiming(Timing{Delays: map[string]time.Duration{"image_save": 100 * time.Second}}) // 0.5 s
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.79")
	ic := imageClient(t, pc)
	web01 := c.Seed().Web01ServerID
	id, err := servers.CreateImage(testCtx(t), cc, web01, servers.CreateImageOpts{Name: "doomed"}).ExtractImageID()
	if err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(testCtx(t), ic, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a second snapshot accepted", func() bool {
		_, err := servers.CreateImage(testCtx(t), cc, web01, servers.CreateImageOpts{Name: "again"}).ExtractImageID()
		return err == nil
	})
}
