package octavia

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

// inFlight starts n concurrent requests on the VIP and returns a func that
// waits for their results.
func inFlight(url string, n int) func() []httpResult {
	results := make([]httpResult, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = get(url)
		}(i)
		// Spaced so that round robin alternates deterministically.
		time.Sleep(5 * time.Millisecond)
	}
	return func() []httpResult { wg.Wait(); return results }
}

func (h *harness) waitInFlight(memberID string, atLeast int64) {
	h.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for h.traffic(memberID).InFlight < atLeast {
		if time.Now().After(deadline) {
			h.t.Fatalf("member %s has %d requests in flight, want %d", memberID, h.traffic(memberID).InFlight, atLeast)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drainStack is two healthy members behind a monitored pool, with requests
// slow enough (400 ms) to be in flight across an update cycle (60 ms).
func drainStack(t *testing.T) (*harness, *stack) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(1000, 400*time.Millisecond))
	h.addNode("10.1.0.2", webnodeCapacity(1000, 400*time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, true, "10.1.0.1", "10.1.0.2")
	for _, m := range st.members {
		h.waitMemberStatus(st.pool.ID, m.ID, "ONLINE")
	}
	return h, st
}

func TestDrain_WeightZeroLetsInFlightFinishAndSendsNoNewRequests(t *testing.T) {
	h, st := drainStack(t)
	a, b := st.members[0], st.members[1]
	wait := inFlight(st.vipURL, 4)
	h.waitInFlight(a.ID, 2)

	zero := 0
	if _, err := pools.UpdateMember(h.ctx, h.lb, st.pool.ID, a.ID, pools.UpdateMemberOpts{Weight: &zero}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	if got := h.memberStatus(st.pool.ID, a.ID); got != "DRAINING" {
		t.Fatalf("drained member operating_status %s, want DRAINING", got)
	}
	if h.traffic(a.ID).InFlight == 0 {
		t.Fatal("the in-flight requests on the drained member ended before the drain took effect: the test proves nothing")
	}
	later := inFlight(st.vipURL, 6)()
	for _, r := range later {
		if r.err != nil || r.status != 200 || r.member != b.ID {
			t.Fatalf("request after drain: %+v (drained member %s)", r, a.ID)
		}
	}
	for _, r := range wait() {
		if r.err != nil || r.status != 200 {
			t.Fatalf("in-flight request during drain: %+v", r)
		}
	}
	ta := h.traffic(a.ID)
	if ta.Broken != 0 || ta.Served != 2 {
		t.Fatalf("drained member traffic %+v, want 2 served, 0 broken", ta)
	}
}

func TestDeleteMember_BreaksItsInFlightRequests(t *testing.T) {
	h, st := drainStack(t)
	a, b := st.members[0], st.members[1]
	wait := inFlight(st.vipURL, 4)
	h.waitInFlight(a.ID, 2)

	if err := pools.DeleteMember(h.ctx, h.lb, st.pool.ID, a.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	broken, ok := 0, 0
	for _, r := range wait() {
		switch {
		case r.err != nil:
			broken++
		case r.status == 200 && r.member == b.ID:
			ok++
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	if broken != 2 || ok != 2 {
		t.Fatalf("client saw %d broken, %d ok; want 2 and 2", broken, ok)
	}
	if ta := h.traffic(a.ID); ta.Broken != 2 || ta.Served != 0 {
		t.Fatalf("deleted member traffic %+v, want 2 broken", ta)
	}
	if tb := h.traffic(b.ID); tb.Broken != 0 || tb.Served != 2 {
		t.Fatalf("remaining member traffic %+v", tb)
	}
}

func TestDisableMember_BreaksInFlightAndStopsTraffic(t *testing.T) {
	h, st := drainStack(t)
	a, b := st.members[0], st.members[1]
	wait := inFlight(st.vipURL, 2)
	h.waitInFlight(a.ID, 1)
	down := false
	if _, err := pools.UpdateMember(h.ctx, h.lb, st.pool.ID, a.ID, pools.UpdateMemberOpts{AdminStateUp: &down}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	if got := h.memberStatus(st.pool.ID, a.ID); got != "OFFLINE" {
		t.Fatalf("disabled member %s, want OFFLINE", got)
	}
	results := wait()
	if results[0].err == nil || results[1].err != nil {
		t.Fatalf("want the request on the disabled member broken and the other served: %+v", results)
	}
	if r := get(st.vipURL); r.member != b.ID {
		t.Fatalf("new request went to %s", r.member)
	}
	if ta := h.traffic(a.ID); ta.Broken != 1 {
		t.Fatalf("disabled member traffic %+v", ta)
	}
}

func TestStoppedNode_BreaksInFlightAndMemberGoesError(t *testing.T) {
	h, st := drainStack(t)
	a, b := st.members[0], st.members[1]
	wait := inFlight(st.vipURL, 2)
	h.waitInFlight(a.ID, 1)
	h.env.nodes.Remove("10.1.0.1") // the server is being deleted
	results := wait()
	if results[0].err == nil || results[1].err != nil || results[1].member != b.ID {
		t.Fatalf("results %+v", results)
	}
	if ta := h.traffic(a.ID); ta.Broken != 1 {
		t.Fatalf("stopped node traffic %+v", ta)
	}
	if got := h.memberStatus(st.pool.ID, a.ID); got != "ERROR" {
		t.Fatalf("member of a stopped node %s, want ERROR", got)
	}
	for i := 0; i < 4; i++ {
		if r := get(st.vipURL); r.status != 200 || r.member != b.ID {
			t.Fatalf("after node stop: %+v", r)
		}
	}
}

// scaledEnv adds TimeScaler to the fake: monitor delays count in scaled seconds.
type scaledEnv struct {
	*fakeEnv
	scale float64
}

func (e scaledEnv) TimeScale() float64 { return e.scale }

func TestOperatingStatus_FollowsMonitorWeightAdminStateAndNodes(t *testing.T) {
	h := newHarnessEnv(t, func(f *fakeEnv) Env { return scaledEnv{f, 0.1} }) // monitor delay 5 s → first check 500 ms
	h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	h.addNode("10.1.0.2", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1", "10.1.0.2")
	a, b := st.members[0], st.members[1]
	for _, m := range st.members {
		if got := h.memberStatus(st.pool.ID, m.ID); got != "NO_MONITOR" {
			t.Fatalf("without monitor: %s", got)
		}
	}

	if _, err := monitors.Create(h.ctx, h.lb, monitors.CreateOpts{PoolID: st.pool.ID, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3}).Extract(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	committed := time.Now()
	if got := h.memberStatus(st.pool.ID, a.ID); got != "OFFLINE" {
		t.Fatalf("before the monitor's first check: %s, want OFFLINE", got)
	}
	h.waitMemberStatus(st.pool.ID, a.ID, "ONLINE")
	if elapsed := time.Since(committed); elapsed < 400*time.Millisecond {
		t.Fatalf("ONLINE after %v, before the first check at 500 ms", elapsed)
	}

	zero := 0
	h.updateMember(st, a.ID, pools.UpdateMemberOpts{Weight: &zero})
	if got := h.memberStatus(st.pool.ID, a.ID); got != "DRAINING" {
		t.Fatalf("weight 0: %s", got)
	}
	down := false
	h.updateMember(st, a.ID, pools.UpdateMemberOpts{AdminStateUp: &down})
	if got := h.memberStatus(st.pool.ID, a.ID); got != "OFFLINE" {
		t.Fatalf("admin down: %s", got)
	}

	h.env.nodes.Remove("10.1.0.2")
	if got := h.memberStatus(st.pool.ID, b.ID); got != "ERROR" {
		t.Fatalf("stopped node: %s", got)
	}
	tree, err := loadbalancers.GetStatuses(h.ctx, h.lb, st.lb.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Loadbalancer
	if root.ID != st.lb.ID || root.ProvisioningStatus != "ACTIVE" || root.OperatingStatus != "DEGRADED" {
		t.Fatalf("status tree root %+v", root)
	}
	tp := root.Listeners[0].Pools[0]
	if root.Listeners[0].OperatingStatus != "DEGRADED" || tp.OperatingStatus != "ERROR" || tp.Monitor.Type != "HTTP" || len(tp.Members) != 2 {
		t.Fatalf("listener %s pool %+v", root.Listeners[0].OperatingStatus, tp)
	}
	statuses := map[string]string{}
	for _, m := range tp.Members {
		statuses[m.ID] = m.OperatingStatus + "/" + m.ProvisioningStatus
	}
	if statuses[a.ID] != "OFFLINE/ACTIVE" || statuses[b.ID] != "ERROR/ACTIVE" {
		t.Fatalf("member statuses in tree %v", statuses)
	}
	if len(root.Pools) != 0 {
		t.Fatalf("top-level pools %+v: Octavia lists pools only under their listener", root.Pools)
	}

	// The server comes back (rebuilt, same address): ONLINE again and the pool recovers.
	h.addNode("10.1.0.2", webnodeCapacity(1000, time.Millisecond))
	if got := h.memberStatus(st.pool.ID, b.ID); got != "ONLINE" {
		t.Fatalf("node back: %s", got)
	}
	if lb, _ := loadbalancers.Get(h.ctx, h.lb, st.lb.ID).Extract(); lb.OperatingStatus != "ONLINE" {
		t.Fatalf("lb operating_status %s", lb.OperatingStatus)
	}
}

func (h *harness) updateMember(st *stack, id string, opts pools.UpdateMemberOpts) {
	h.t.Helper()
	if _, err := pools.UpdateMember(h.ctx, h.lb, st.pool.ID, id, opts).Extract(); err != nil {
		h.t.Fatalf("update member %s: %v", id, err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
}

func TestStats_CountRealTrafficOnLoadBalancerAndListener(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1")
	for i := 0; i < 10; i++ {
		if r := get(st.vipURL + "/page"); r.status != 200 {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	h.env.nodes.Remove("10.1.0.1")
	if r := get(st.vipURL); r.status != 503 {
		t.Fatalf("with the only node gone: %+v, want 503", r)
	}
	lbStats, err := loadbalancers.GetStats(h.ctx, h.lb, st.lb.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	lStats, err := listeners.GetStats(h.ctx, h.lb, st.listener.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]struct{ active, total, in, out, errs int }{
		"loadbalancer": {lbStats.ActiveConnections, lbStats.TotalConnections, lbStats.BytesIn, lbStats.BytesOut, lbStats.RequestErrors},
		"listener":     {lStats.ActiveConnections, lStats.TotalConnections, lStats.BytesIn, lStats.BytesOut, lStats.RequestErrors},
	} {
		if s.active != 0 || s.total != 11 || s.in <= 0 || s.out <= 0 || s.errs != 1 {
			t.Fatalf("%s stats %+v", name, s)
		}
	}
}

func TestRoundRobin_SpreadsByWeightSmoothly(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	h.addNode("10.1.0.2", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1", "10.1.0.2")
	three := 3
	h.updateMember(st, st.members[0].ID, pools.UpdateMemberOpts{Weight: &three})
	var seq []string
	for i := 0; i < 8; i++ {
		r := get(st.vipURL)
		if r.status != 200 {
			t.Fatalf("%+v", r)
		}
		if r.member == st.members[0].ID {
			seq = append(seq, "a")
		} else {
			seq = append(seq, "b")
		}
	}
	if got := join(seq); got != "aabaaaba" {
		t.Fatalf("sequence %s, want aabaaaba (weights 3:1, smooth)", got)
	}
}

func TestSourceIP_PinsAClientToOneMember(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	h.addNode("10.1.0.2", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodSourceIp, false, "10.1.0.1", "10.1.0.2")
	first := get(st.vipURL).member
	for i := 0; i < 5; i++ {
		if r := get(st.vipURL); r.member != first {
			t.Fatalf("SOURCE_IP moved the client from %s to %s", first, r.member)
		}
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

func TestDeletePool_BreaksInFlightAndVIPAnswers503(t *testing.T) {
	h, st := drainStack(t)
	wait := inFlight(st.vipURL, 2)
	h.waitInFlight(st.members[0].ID, 1)
	h.waitInFlight(st.members[1].ID, 1)
	if err := pools.Delete(h.ctx, h.lb, st.pool.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	for _, r := range wait() {
		if r.err == nil {
			t.Fatalf("request survived its pool's deletion: %+v", r)
		}
	}
	for _, m := range st.members {
		if tr := h.traffic(m.ID); tr.Broken != 1 {
			t.Fatalf("member %s traffic %+v, want 1 broken", m.ID, tr)
		}
	}
	if r := get(st.vipURL); r.status != 503 {
		t.Fatalf("listener without pool answered %+v, want 503", r)
	}
	if l, _ := listeners.Get(h.ctx, h.lb, st.listener.ID).Extract(); l.DefaultPoolID != "" {
		t.Fatalf("listener still points at deleted pool %s", l.DefaultPoolID)
	}
}

func TestDeleteListener_BreaksInFlightCountedOnMembersAndClosesSocket(t *testing.T) {
	h, st := drainStack(t)
	wait := inFlight(st.vipURL, 2)
	h.waitInFlight(st.members[1].ID, 1)
	if err := listeners.Delete(h.ctx, h.lb, st.listener.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	for _, r := range wait() {
		if r.err == nil {
			t.Fatalf("request survived its listener's deletion: %+v", r)
		}
	}
	var broken int64
	for _, m := range st.members {
		broken += h.traffic(m.ID).Broken
	}
	if broken != 2 {
		t.Fatalf("broken %d, want 2", broken)
	}
	if r := get(st.vipURL); r.err == nil {
		t.Fatalf("deleted listener still answers: %+v", r)
	}
	if p, _ := pools.Get(h.ctx, h.lb, st.pool.ID).Extract(); len(p.Listeners) != 0 {
		t.Fatalf("pool still lists listener: %+v", p.Listeners)
	}
}

func TestFirstHealthCheck_WithoutTimeScalerIsHalfAnUpdateCycle(t *testing.T) {
	h := newHarness(t)
	h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, true)
	h.env.setDelay("lb_update", 600*time.Millisecond) // first check 300 ms after the commit
	m, err := pools.CreateMember(h.ctx, h.lb, st.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.1", ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if m.OperatingStatus != "OFFLINE" || m.ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("new member %s/%s", m.ProvisioningStatus, m.OperatingStatus)
	}
	h.waitLB(st.lb.ID, "ACTIVE")
	committed := time.Now()
	if got := h.memberStatus(st.pool.ID, m.ID); got != "OFFLINE" {
		t.Fatalf("right after commit %s, want OFFLINE until the first check", got)
	}
	if r := get(st.vipURL); r.status != 503 {
		t.Fatalf("unchecked member got traffic: %+v", r)
	}
	h.waitMemberStatus(st.pool.ID, m.ID, "ONLINE")
	if e := time.Since(committed); e < 250*time.Millisecond {
		t.Fatalf("ONLINE after %v, want about 300 ms", e)
	}
	if r := get(st.vipURL); r.status != 200 || r.member != m.ID {
		t.Fatalf("checked member: %+v", r)
	}
}

// Each web node names itself in X-Served-By, on its refusals too, so a load test through the VIP
// can count the load per member; the load balancer's own 503 names nobody.
func TestProxy_PassesTheNodesServedByHeader(t *testing.T) {
	h := newHarness(t)
	first := h.addNode("10.1.0.1", webnodeCapacity(1000, time.Millisecond))
	h.addNode("10.1.0.2", webnodeCapacity(1000, time.Millisecond))
	st := h.buildStack(pools.LBMethodRoundRobin, false, "10.1.0.1", "10.1.0.2")
	seen := map[string]int{}
	for range 6 {
		resp, err := http.Get(st.vipURL)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		seen[resp.Header.Get(webnode.ServedByHeader)]++
	}
	if seen["10.1.0.1"] != 3 || seen["10.1.0.2"] != 3 {
		t.Fatalf("X-Served-By over 6 round-robin requests: %v", seen)
	}
	first.SetHealthy(false)
	h.env.nodes.Remove("10.1.0.2")
	for range 4 {
		resp, err := http.Get(st.vipURL)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		got := resp.Header.Get(webnode.ServedByHeader)
		switch resp.StatusCode {
		case http.StatusInternalServerError:
			if got != "10.1.0.1" {
				t.Errorf("the node's own 500 names %q", got)
			}
		case http.StatusServiceUnavailable:
			if got != "" {
				t.Errorf("the load balancer's 503 names %q", got)
			}
		default:
			t.Errorf("status %d", resp.StatusCode)
		}
	}
}
