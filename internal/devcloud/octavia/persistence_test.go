package octavia

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Octavia's PUT /pools/{id} removes session persistence when the body says
// "session_persistence": null, and leaves it alone when the key is absent.
func TestPoolUpdate_NullSessionPersistenceRemovesItAbsentKeepsIt(t *testing.T) {
	h := newHarness(t)
	st := h.buildStack(pools.LBMethodRoundRobin, false)
	sp := &pools.SessionPersistence{Type: "SOURCE_IP"}
	if _, err := pools.Update(h.ctx, h.lb, st.pool.ID, pools.UpdateOpts{Persistence: sp}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	name := "renamed"
	if _, err := pools.Update(h.ctx, h.lb, st.pool.ID, pools.UpdateOpts{Name: &name}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	p, err := pools.Get(h.ctx, h.lb, st.pool.ID).Extract()
	if err != nil || p.Persistence.Type != "SOURCE_IP" {
		t.Fatalf("persistence after an update without the key = %+v (%v), want SOURCE_IP kept", p.Persistence, err)
	}
	body := map[string]any{"pool": map[string]any{"session_persistence": nil}}
	if _, err := h.lb.Put(h.ctx, h.lb.ServiceURL("lbaas", "pools", st.pool.ID), body, nil, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil { //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	p, err = pools.Get(h.ctx, h.lb, st.pool.ID).Extract()
	if err != nil || p.Persistence.Type != "" {
		t.Fatalf("persistence after session_persistence: null = %+v (%v), want none", p.Persistence, err)
	}
}
