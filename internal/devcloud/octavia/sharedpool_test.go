package octavia

import (
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Octavia accepts one pool as the default pool of two listeners of its load balancer (seen on
// a real Zed control plane): both listeners then list it, and it lists both.
func TestListener_PoolCanBeTheDefaultOfTwoListeners(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.0.0.21", webnode.Capacity{RPS: 100, Concurrency: 4})
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.0.0.21")
	l2, err := listeners.Create(h.ctx, h.lb, listeners.CreateOpts{LoadbalancerID: st.lb.ID, Protocol: listeners.ProtocolHTTP,
		ProtocolPort: 8080, DefaultPoolID: st.pool.ID}).Extract()
	if err != nil {
		t.Fatalf("second listener on the same default pool: %v", err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	p, err := pools.Get(h.ctx, h.lb, st.pool.ID).Extract()
	if err != nil || len(p.Listeners) != 2 {
		t.Fatalf("pool listeners = %+v (%v), want both", p.Listeners, err)
	}
	for _, v := range h.svc.VIPs() {
		if v.ListenerID != l2.ID {
			continue
		}
		if res := get(v.URL + "/"); res.status != 200 {
			t.Fatalf("GET through the second listener = %+v", res)
		}
		return
	}
	t.Fatal("the second listener has no VIP URL")
}
