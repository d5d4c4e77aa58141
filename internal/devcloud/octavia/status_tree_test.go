package octavia

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Octavia Zed's GET /v2/lbaas/loadbalancers/{id}/status (seen on the lab) answers
//
//	{"statuses": {"loadbalancer": {"id": ..., "operating_status": "OFFLINE",
//	  "provisioning_status": "ACTIVE", "listeners": []}}}
//
// for a load balancer whose only pool is attached to it directly: pools appear only under a
// listener, and the root has no "pools" key. A client that looks for a listener-less pool's
// members in the tree finds nothing and must read the members themselves.
func TestStatusTree_ListsPoolsOnlyUnderListeners(t *testing.T) {
	h := newHarness(t)
	lb := h.createLB()
	p, err := pools.Create(h.ctx, h.lb, pools.CreateOpts{LoadbalancerID: lb.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	h.waitLB(lb.ID, "ACTIVE")
	if _, err := pools.CreateMember(h.ctx, h.lb, p.ID, pools.CreateMemberOpts{Address: "10.1.0.2", ProtocolPort: 80}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(lb.ID, "ACTIVE")

	var body struct {
		Statuses struct {
			Loadbalancer map[string]json.RawMessage `json:"loadbalancer"`
		} `json:"statuses"`
	}
	resp, err := h.lb.Get(h.ctx, h.lb.ServiceURL("lbaas", "loadbalancers", lb.ID, "status"), &body, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	root := body.Statuses.Loadbalancer
	if _, ok := root["pools"]; ok {
		t.Fatalf("the status tree's root has a pools key: %s", root["pools"])
	}
	if string(root["listeners"]) != "[]" {
		t.Fatalf("listeners %s, want []", root["listeners"])
	}
	// The member is still there, with its own operating_status.
	members, err := pools.ListMembers(h.lb, p.ID, pools.ListMembersOpts{}).AllPages(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := pools.ExtractMembers(members)
	if len(list) != 1 || list[0].OperatingStatus == "" {
		t.Fatalf("members of the listener-less pool: %+v", list)
	}
}

// The lab's Octavia answers member calls under a pool that does not exist from its routing
// layer, with webob's body rather than the WSME fault every other 404 has:
//
//	404 {"code": 404, "title": "Bad Request", "description": "Pool <id> not found."}
func TestMembersOfAMissingPool_AnswerWebobsNotFound(t *testing.T) {
	h := newHarness(t)
	const id = "00000000-0000-0000-0000-000000000000"
	for _, url := range []string{h.lb.ServiceURL("lbaas", "pools", id, "members"), h.lb.ServiceURL("lbaas", "pools", id, "members", id)} {
		var body map[string]any
		_, err := h.lb.Get(h.ctx, url, &body, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		e := asCodeError(t, err, http.StatusNotFound)
		if jerr := json.Unmarshal(e.Body, &body); jerr != nil {
			t.Fatalf("%s: body %q", url, e.Body)
		}
		if body["code"] != float64(404) || body["title"] != "Bad Request" || body["description"] != "Pool "+id+" not found." || body["faultstring"] != nil {
			t.Fatalf("%s: body %v", url, body)
		}
	}
	// The pool itself is a WSME 404.
	_, err := pools.Get(h.ctx, h.lb, id).Extract()
	e := asCodeError(t, err, http.StatusNotFound)
	var body map[string]any
	_ = json.Unmarshal(e.Body, &body)
	if body["faultstring"] != "Pool "+id+" not found." {
		t.Fatalf("GET pool: body %v", body)
	}
}

// Octavia sets a new member's operating_status when it accepts the create, before the
// provider has built it: NO_MONITOR in a pool without a health monitor (the lab answered
// {"operating_status": "NO_MONITOR", "provisioning_status": "PENDING_CREATE"}), OFFLINE until
// the first check in a pool with one.
func TestMemberCreate_AnswersNoMonitorWithoutAMonitorAndOfflineWithOne(t *testing.T) {
	h := newHarness(t)
	plain := h.buildStack(pools.LBMethodRoundRobin, false)
	m, err := pools.CreateMember(h.ctx, h.lb, plain.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.2", ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if m.ProvisioningStatus != "PENDING_CREATE" || m.OperatingStatus != "NO_MONITOR" {
		t.Fatalf("member created in a pool without a monitor: %s/%s, want NO_MONITOR/PENDING_CREATE", m.OperatingStatus, m.ProvisioningStatus)
	}
	h.waitLB(plain.lb.ID, "ACTIVE")
	if got := h.memberStatus(plain.pool.ID, m.ID); got != "NO_MONITOR" {
		t.Fatalf("after ACTIVE: %s, want NO_MONITOR", got)
	}

	monitored := h.buildStack(pools.LBMethodRoundRobin, true)
	m, err = pools.CreateMember(h.ctx, h.lb, monitored.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.3", ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if m.ProvisioningStatus != "PENDING_CREATE" || m.OperatingStatus != "OFFLINE" {
		t.Fatalf("member created in a pool with a monitor: %s/%s, want OFFLINE/PENDING_CREATE", m.OperatingStatus, m.ProvisioningStatus)
	}
}
