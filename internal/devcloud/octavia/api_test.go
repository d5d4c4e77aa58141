package octavia

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

func TestVersionDiscovery_ListsV2WithCurrentLast(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(strings.TrimSuffix(h.lb.Endpoint, "/") + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var doc struct {
		Versions []struct {
			ID, Status string
			Links      []struct{ Href, Rel string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(doc.Versions) < 2 || doc.Versions[0].ID != "v2.0" {
		t.Fatalf("discovery: %d %+v", resp.StatusCode, doc)
	}
	last := doc.Versions[len(doc.Versions)-1]
	if last.Status != "CURRENT" || !strings.HasSuffix(last.Links[0].Href, "/load-balancer/v2") {
		t.Fatalf("last version %+v", last)
	}
}

func TestCreateLoadBalancer_PendingCreateThenActiveWithVIPFromPort(t *testing.T) {
	h := newHarness(t)
	lb, err := loadbalancers.Create(h.ctx, h.lb, loadbalancers.CreateOpts{Name: "web", VipNetworkID: "net-1", Tags: []string{"spike"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if lb.ProvisioningStatus != "PENDING_CREATE" || lb.OperatingStatus != "OFFLINE" {
		t.Fatalf("just created: %s/%s", lb.ProvisioningStatus, lb.OperatingStatus)
	}
	if lb.VipAddress == "" || lb.VipPortID == "" || lb.VipNetworkID != "net-1" || lb.VipSubnetID != "subnet-of-net-1" ||
		lb.Provider != "amphora" || lb.ProjectID != testProject || lb.CreatedAt.IsZero() {
		t.Fatalf("fields: %+v", lb)
	}
	active := h.waitLB(lb.ID, "ACTIVE")
	if active.OperatingStatus != "ONLINE" {
		t.Fatalf("active operating_status %s", active.OperatingStatus)
	}
	var kinds []string
	for _, e := range h.env.eventsSince(0) {
		if e.kind == "lb.status" {
			kinds = append(kinds, e.attrs["provisioning_status"].(string))
		}
	}
	if strings.Join(kinds, ",") != "PENDING_CREATE,ACTIVE" {
		t.Fatalf("lb.status events %v", kinds)
	}

	// List with filters, as the CLI and terraform do.
	all, err := loadbalancers.List(h.lb, loadbalancers.ListOpts{Name: "web", ProvisioningStatus: "ACTIVE"}).AllPages(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := loadbalancers.ExtractLoadBalancers(all)
	none, _ := loadbalancers.List(h.lb, loadbalancers.ListOpts{Name: "other"}).AllPages(h.ctx)
	noneLBs, _ := loadbalancers.ExtractLoadBalancers(none)
	if len(got) != 1 || got[0].ID != lb.ID || len(noneLBs) != 0 {
		t.Fatalf("list by name: %d, other: %d", len(got), len(noneLBs))
	}
}

func TestCreateLoadBalancer_WithoutVIPIs400(t *testing.T) {
	h := newHarness(t)
	_, err := loadbalancers.Create(h.ctx, h.lb, loadbalancers.CreateOpts{Name: "novip"}).Extract()
	ce := asCodeError(t, err, 400)
	if !strings.Contains(string(ce.Body), "VIP must contain one of") {
		t.Fatalf("body %s", ce.Body)
	}
}

func TestMutationWhilePendingUpdate_Gets409Immutable(t *testing.T) {
	h := newHarness(t)
	h.env.setDelay("lb_update", 300*time.Millisecond)
	lb := h.createLB()
	name := "renamed"
	upd, err := loadbalancers.Update(h.ctx, h.lb, lb.ID, loadbalancers.UpdateOpts{Name: &name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if upd.ProvisioningStatus != "PENDING_UPDATE" || upd.Name != "renamed" {
		t.Fatalf("update reply %s %q", upd.ProvisioningStatus, upd.Name)
	}
	_, err = listeners.Create(h.ctx, h.lb, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	ce := asCodeError(t, err, 409)
	var body map[string]any
	if err := json.Unmarshal(ce.Body, &body); err != nil {
		t.Fatalf("409 body not JSON: %s", ce.Body)
	}
	want := "Load Balancer " + lb.ID + " is immutable and cannot be updated."
	if body["faultcode"] != "Client" || body["faultstring"] != want || body["debuginfo"] != nil {
		t.Fatalf("409 body %s", ce.Body)
	}
	// GET still shows the committed name until the cycle ends.
	if got, _ := loadbalancers.Get(h.ctx, h.lb, lb.ID).Extract(); got.Name != "web" {
		t.Fatalf("name during PENDING_UPDATE %q", got.Name)
	}
	if got := h.waitLB(lb.ID, "ACTIVE"); got.Name != "renamed" {
		t.Fatalf("name after commit %q", got.Name)
	}
}

func TestNotFoundAndValidationBodies_AreOctavias(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false)
	_, err := pools.GetMember(h.ctx, h.lb, st.pool.ID, "no-such-member").Extract()
	ce := asCodeError(t, err, 404)
	if !strings.Contains(string(ce.Body), `"faultstring": "Member no-such-member not found."`) &&
		!strings.Contains(string(ce.Body), `"faultstring":"Member no-such-member not found."`) {
		t.Fatalf("404 body %s", ce.Body)
	}
	_, err = loadbalancers.Get(h.ctx, h.lb, "gone").Extract()
	ce = asCodeError(t, err, 404)
	if !strings.Contains(string(ce.Body), "Load Balancer gone not found.") {
		t.Fatalf("404 body %s", ce.Body)
	}
	_, err = pools.Create(h.ctx, h.lb, pools.CreateOpts{LoadbalancerID: st.lb.ID, Protocol: pools.ProtocolHTTP, LBMethod: "FASTEST"}).Extract()
	ce = asCodeError(t, err, 400)
	if !strings.Contains(string(ce.Body), "Invalid input for field/attribute lb_algorithm. Value: 'FASTEST'.") {
		t.Fatalf("400 body %s", ce.Body)
	}
	w := 300
	_, err = pools.CreateMember(h.ctx, h.lb, st.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.5", ProtocolPort: 80, Weight: &w}).Extract()
	wantCode(t, err, 400)
	// A load balancer with children needs cascade.
	err = loadbalancers.Delete(h.ctx, h.lb, st.lb.ID, loadbalancers.DeleteOpts{}).ExtractErr()
	ce = asCodeError(t, err, 400)
	if !strings.Contains(string(ce.Body), "it has children") {
		t.Fatalf("delete without cascade: %s", ce.Body)
	}
}

func TestBatchUpdateMembers_ReplacesListInOneUpdateCycle(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1", "10.1.0.2", "10.1.0.3")
	ids := map[string]string{}
	for _, m := range st.members {
		ids[m.Address] = m.ID
	}
	h.env.setDelay("lb_update", 400*time.Millisecond) // room to observe the pending cycle
	mark := h.env.eventCount()
	five := 5
	name := "kept"
	err := pools.BatchUpdateMembers(h.ctx, h.lb, st.pool.ID, []pools.BatchUpdateMemberOpts{
		{Address: "10.1.0.2", ProtocolPort: 80, Weight: &five, Name: &name},
		{Address: "10.1.0.3", ProtocolPort: 80},
		{Address: "10.1.0.4", ProtocolPort: 80},
	}).ExtractErr()
	if err != nil {
		t.Fatal(err)
	}
	// During the cycle the pool and its listener are locked with the load
	// balancer, and each member shows its pending change.
	tree, err := loadbalancers.GetStatuses(h.ctx, h.lb, st.lb.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	tl := tree.Loadbalancer.Listeners[0]
	pending := map[string]string{}
	for _, m := range tl.Pools[0].Members {
		pending[m.Address] = m.ProvisioningStatus
	}
	if tree.Loadbalancer.ProvisioningStatus != "PENDING_UPDATE" || tl.ProvisioningStatus != "PENDING_UPDATE" ||
		tl.Pools[0].ProvisioningStatus != "PENDING_UPDATE" || pending["10.1.0.1"] != "PENDING_DELETE" ||
		pending["10.1.0.2"] != "PENDING_UPDATE" || pending["10.1.0.4"] != "PENDING_CREATE" {
		t.Fatalf("during the batch: lb %s listener %s pool %s members %v", tree.Loadbalancer.ProvisioningStatus,
			tl.ProvisioningStatus, tl.Pools[0].ProvisioningStatus, pending)
	}
	// A second change while the batch is applied is refused.
	_, err = pools.CreateMember(h.ctx, h.lb, st.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.9", ProtocolPort: 80}).Extract()
	wantCode(t, err, 409)
	h.waitLB(st.lb.ID, "ACTIVE")

	var statuses []string
	kinds := map[string]int{}
	for _, e := range h.env.eventsSince(mark) {
		kinds[e.kind]++
		if e.kind == "lb.status" {
			statuses = append(statuses, e.attrs["provisioning_status"].(string))
		}
	}
	if strings.Join(statuses, ",") != "PENDING_UPDATE,ACTIVE" {
		t.Fatalf("want one update cycle, lb.status events %v", statuses)
	}
	if kinds["member.removed"] != 1 || kinds["member.added"] != 1 || kinds["member.weight"] != 1 {
		t.Fatalf("member events %v", kinds)
	}

	all, err := pools.ListMembers(h.lb, st.pool.ID, pools.ListMembersOpts{}).AllPages(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	members, _ := pools.ExtractMembers(all)
	byAddr := map[string]pools.Member{}
	for _, m := range members {
		byAddr[m.Address] = m
	}
	if len(members) != 3 {
		t.Fatalf("members after batch: %+v", members)
	}
	if _, ok := byAddr["10.1.0.1"]; ok {
		t.Fatal("10.1.0.1 was not in the batch and should be gone")
	}
	if byAddr["10.1.0.2"].ID != ids["10.1.0.2"] || byAddr["10.1.0.3"].ID != ids["10.1.0.3"] {
		t.Fatal("matched members must keep their ids")
	}
	if byAddr["10.1.0.2"].Weight != 5 || byAddr["10.1.0.2"].Name != "kept" || byAddr["10.1.0.3"].Weight != 1 {
		t.Fatalf("updated fields: %+v %+v", byAddr["10.1.0.2"], byAddr["10.1.0.3"])
	}
	if byAddr["10.1.0.4"].ID == "" || byAddr["10.1.0.4"].ProvisioningStatus != "ACTIVE" {
		t.Fatalf("new member %+v", byAddr["10.1.0.4"])
	}
	_, err = pools.GetMember(h.ctx, h.lb, st.pool.ID, ids["10.1.0.1"]).Extract()
	wantCode(t, err, 404)
}

func TestDeleteCascade_RemovesEverythingReleasesPortAndClosesVIP(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(100, 0))
	st := h.buildStack(pools.LBMethodRoundRobin, true, "10.1.0.1")
	h.waitMemberStatus(st.pool.ID, st.members[0].ID, "ONLINE")
	if r := get(st.vipURL); r.status != 200 {
		t.Fatalf("before delete: %+v", r)
	}
	if err := loadbalancers.Delete(h.ctx, h.lb, st.lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got := h.waitLBGone(st.lb.ID); got != nil {
		t.Fatal(got)
	}
	if _, err := pools.Get(h.ctx, h.lb, st.pool.ID).Extract(); err == nil {
		t.Fatal("pool survived its load balancer")
	}
	h.env.mu.Lock()
	released := append([]string(nil), h.env.released...)
	h.env.mu.Unlock()
	if len(released) != 1 || released[0] != st.lb.VipPortID {
		t.Fatalf("released ports %v, want %s", released, st.lb.VipPortID)
	}
	if r := get(st.vipURL); r.err == nil {
		t.Fatalf("VIP still answers after delete: %+v", r)
	}
	if len(h.svc.VIPs()) != 0 {
		t.Fatalf("VIPs after delete: %+v", h.svc.VIPs())
	}
}

func (h *harness) waitLBGone(id string) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, err := loadbalancers.Get(h.ctx, h.lb, id).Extract()
		if err != nil {
			wantCode(h.t, err, 404)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("load balancer %s not deleted", id)
	return nil
}

func TestListenerAndLoadBalancerJSON_CarryDevcloudVIPURL(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false)
	for _, path := range []string{"/v2/lbaas/listeners/" + st.listener.ID, "/v2/lbaas/loadbalancers/" + st.lb.ID} {
		resp, err := http.Get(strings.TrimSuffix(h.lb.Endpoint, "/") + path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var doc map[string]map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, obj := range doc {
			if obj["devcloud_vip_url"] != st.vipURL {
				t.Fatalf("%s devcloud_vip_url %v, want %s", path, obj["devcloud_vip_url"], st.vipURL)
			}
		}
	}
}

func TestListPagination_FollowsNextLinks(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1", "10.1.0.2", "10.1.0.3")
	pages := 0
	var seen []string
	err := pools.ListMembers(h.lb, st.pool.ID, pools.ListMembersOpts{Limit: 2}).EachPage(h.ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		pages++
		ms, err := pools.ExtractMembers(p)
		for _, m := range ms {
			seen = append(seen, m.Address)
		}
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 2 || strings.Join(seen, ",") != "10.1.0.1,10.1.0.2,10.1.0.3" {
		t.Fatalf("pages %d seen %v", pages, seen)
	}
}

func TestBatchUpdateMembers_AdditiveOnlyKeepsMissingMembers(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1")
	body := strings.NewReader(`{"members":[{"address":"10.1.0.2","protocol_port":80}]}`)
	req, _ := http.NewRequestWithContext(h.ctx, http.MethodPut, h.lb.ServiceURL("lbaas", "pools", st.pool.ID, "members")+"?additive_only=true", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	all, _ := pools.ListMembers(h.lb, st.pool.ID, pools.ListMembersOpts{}).AllPages(h.ctx)
	ms, _ := pools.ExtractMembers(all)
	if len(ms) != 2 || ms[0].ID != st.members[0].ID {
		t.Fatalf("members %+v", ms)
	}
}
