package devcloud

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/quotas"
)

func lbClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	lc, err := openstack.NewLoadBalancerV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

var octaviaUnlimited = map[string]float64{"load_balancer": -1, "listener": -1, "member": -1, "pool": -1, "health_monitor": -1, "l7policy": -1, "l7rule": -1}

func checkQuota(t *testing.T, got map[string]any, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("quota = %+v, want %+v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("quota %s = %v, want %v (%+v)", k, got[k], v, got)
		}
	}
}

func TestOctavia_QuotaShowDefaultsAndPolicyAsOctavia(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	demo := lbClient(t, provider(t, demoAuth(c)))
	admin := lbClient(t, provider(t, adminAuth(c)))
	checkQuota(t, wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", s.ProjectID), nil).object(t, "quota"), octaviaUnlimited)
	checkQuota(t, wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", s.ProjectID, "default"), nil).object(t, "quota"), octaviaUnlimited)
	// "defaults" is read as a project id: another project's for a member, the defaults for an admin.
	wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", "defaults"), nil).octaviaFault(t, 403, "Policy does not allow this request to be performed.")
	checkQuota(t, wireCall(t, admin, "GET", admin.ServiceURL("lbaas", "quotas", "defaults"), nil).object(t, "quota"), octaviaUnlimited)
	wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", s.AdminProjectID), nil).octaviaFault(t, 403, "Policy does not allow this request to be performed.")
	wireCall(t, demo, "PUT", demo.ServiceURL("lbaas", "quotas", s.ProjectID), map[string]any{"quota": map[string]any{"load_balancer": 5}}).
		octaviaFault(t, 403, "Policy does not allow this request to be performed.")
	wireCall(t, demo, "DELETE", demo.ServiceURL("lbaas", "quotas", s.ProjectID), nil).octaviaFault(t, 403, "Policy does not allow this request to be performed.")
	// gophercloud reads it too.
	q, err := quotas.Get(testCtx(t), demo, s.ProjectID).Extract()
	if err != nil || q.Loadbalancer != -1 || q.Member != -1 {
		t.Fatalf("gophercloud quota = %+v, %v", q, err)
	}
}

func TestOctavia_AdminQuotaUpdateListAndResetAsOctavia(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	demo := lbClient(t, provider(t, demoAuth(c)))
	admin := lbClient(t, provider(t, adminAuth(c)))
	url := admin.ServiceURL("lbaas", "quotas", s.ProjectID)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		msg    string
	}{
		{"unknown", map[string]any{"quota": map[string]any{"bogus": 1}}, 400, "Unknown attribute for argument quotas.quota: bogus"},
		{"below -1", map[string]any{"quota": map[string]any{"member": -5}}, 400, "Invalid input for field/attribute member. Value: '-5'. Value should be greater or equal to -1"},
		{"above max", map[string]any{"quota": map[string]any{"member": 2000000001}}, 400, "Invalid input for field/attribute member. Value: '2000000001'. Value should be lower or equal to 2000000000"},
		{"not a number", map[string]any{"quota": map[string]any{"member": "x"}}, 400, "Invalid input for field/attribute quotas. Value: '{'quota': {'member': 'x'}}'. invalid literal for int() with base 10: 'x'"},
		{"no quota key", map[string]any{}, 500, "'quota'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wireCall(t, admin, "PUT", url, tc.body).octaviaFault(t, tc.status, tc.msg)
		})
	}
	up := wireCall(t, admin, "PUT", url, map[string]any{"quota": map[string]any{"loadbalancer": 5, "member": "3", "health_monitor": 2}})
	if up.status != 202 {
		t.Fatalf("update: %s", up.text)
	}
	want := map[string]float64{"load_balancer": 5, "listener": -1, "member": 3, "pool": -1, "health_monitor": 2, "l7policy": -1, "l7rule": -1}
	checkQuota(t, up.object(t, "quota"), want)
	checkQuota(t, wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", s.ProjectID), nil).object(t, "quota"), want)
	// The list shows the stored row, null for defaults, with the deprecated keys alongside.
	list := wireCall(t, admin, "GET", admin.ServiceURL("lbaas", "quotas"), nil)
	rows := list.list(t, "quotas")
	if len(rows) != 1 || list.json["quotas_links"] == nil {
		t.Fatalf("quota list: %s", list.text)
	}
	row := rows[0].(map[string]any)
	if keysOf(row) != "health_monitor,healthmonitor,l7policy,l7rule,listener,load_balancer,loadbalancer,member,pool,project_id,tenant_id" ||
		row["project_id"] != s.ProjectID || row["loadbalancer"] != 5.0 || row["load_balancer"] != 5.0 || row["healthmonitor"] != 2.0 ||
		row["listener"] != nil || row["pool"] != nil {
		t.Fatalf("quota row = %+v", row)
	}
	// A member sees its own row only.
	if own := wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas"), nil).list(t, "quotas"); len(own) != 1 {
		t.Fatalf("member's list = %+v", own)
	}
	if adminOwn := wireCall(t, admin, "GET", admin.ServiceURL("lbaas", "quotas")+"?project_id="+s.AdminProjectID, nil).list(t, "quotas"); len(adminOwn) != 0 {
		t.Fatalf("filtered list = %+v", adminOwn)
	}
	// null puts one resource back to the default; DELETE resets all and keeps the row.
	back := wireCall(t, admin, "PUT", url, map[string]any{"quota": map[string]any{"member": nil}}).object(t, "quota")
	if back["member"] != -1.0 || back["load_balancer"] != 5.0 {
		t.Fatalf("after null member = %+v", back)
	}
	del := wireCall(t, admin, "DELETE", url, nil)
	if del.status != 202 || del.text != "" {
		t.Fatalf("reset: %d %q", del.status, del.text)
	}
	checkQuota(t, wireCall(t, demo, "GET", demo.ServiceURL("lbaas", "quotas", s.ProjectID), nil).object(t, "quota"), octaviaUnlimited)
	kept := wireCall(t, admin, "GET", admin.ServiceURL("lbaas", "quotas"), nil).list(t, "quotas")
	if len(kept) != 1 || kept[0].(map[string]any)["load_balancer"] != nil {
		t.Fatalf("rows after the reset = %+v", kept)
	}
}

// Creating any object over the project's quota is Octavia's 403 naming the resource; the
// client counts usage by listing, and so do the checks.
func TestOctavia_CreateOverQuotaIs403QuotaHasBeenMetForEveryObject(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	demo := lbClient(t, provider(t, demoAuth(c)))
	admin := lbClient(t, provider(t, adminAuth(c)))
	ctx := testCtx(t)
	setQuota := func(q map[string]any) {
		t.Helper()
		if r := wireCall(t, admin, "PUT", admin.ServiceURL("lbaas", "quotas", s.ProjectID), map[string]any{"quota": q}); r.status != 202 {
			t.Fatalf("set quota %v: %s", q, r.text)
		}
	}
	setQuota(map[string]any{"load_balancer": 1, "listener": 1, "pool": 1, "health_monitor": 1, "member": 2})
	lb, err := loadbalancers.Create(ctx, demo, loadbalancers.CreateOpts{Name: "one", VipSubnetID: s.SubnetID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	wireCall(t, demo, "POST", demo.ServiceURL("lbaas", "loadbalancers"), map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": s.SubnetID}}).
		octaviaFault(t, 403, "Quota has been met for resources: Load Balancer")
	// The refused load balancer took no VIP port.
	nc := networkClient(t, provider(t, demoAuth(c)))
	if vips := wireCall(t, nc, "GET", nc.ServiceURL("ports")+"?device_owner=Octavia", nil).list(t, "ports"); len(vips) != 1 {
		t.Fatalf("VIP ports = %d, want 1", len(vips))
	}
	waitLBActive(t, demo, lb.ID)
	l, err := listeners.Create(ctx, demo, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// The quota check comes before the load balancer's immutable check, as in Octavia.
	wireCall(t, demo, "POST", demo.ServiceURL("lbaas", "listeners"), map[string]any{"listener": map[string]any{"loadbalancer_id": lb.ID, "protocol": "HTTP", "protocol_port": 81}}).
		octaviaFault(t, 403, "Quota has been met for resources: Listener")
	waitLBActive(t, demo, lb.ID)
	p, err := pools.Create(ctx, demo, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, demo, lb.ID)
	wireCall(t, demo, "POST", demo.ServiceURL("lbaas", "pools"), map[string]any{"pool": map[string]any{"loadbalancer_id": lb.ID, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}).
		octaviaFault(t, 403, "Quota has been met for resources: Pool")
	if _, err := monitors.Create(ctx, demo, monitors.CreateOpts{PoolID: p.ID, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, demo, lb.ID)
	// A second pool (allowed once the pool quota grows) cannot get a monitor.
	setQuota(map[string]any{"pool": 2})
	p2, err := pools.Create(ctx, demo, pools.CreateOpts{LoadbalancerID: lb.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, demo, lb.ID)
	wireCall(t, demo, "POST", demo.ServiceURL("lbaas", "healthmonitors"), map[string]any{"healthmonitor": map[string]any{"pool_id": p2.ID, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}}).
		octaviaFault(t, 403, "Quota has been met for resources: Health Monitor")
	for _, addr := range []string{"10.0.0.21", "10.0.0.22"} {
		if _, err := pools.CreateMember(ctx, demo, p.ID, pools.CreateMemberOpts{Address: addr, ProtocolPort: 80}).Extract(); err != nil {
			t.Fatal(err)
		}
		waitLBActive(t, demo, lb.ID)
	}
	wireCall(t, demo, "POST", demo.ServiceURL("lbaas", "pools", p.ID, "members"), map[string]any{"member": map[string]any{"address": "10.0.0.23", "protocol_port": 80}}).
		octaviaFault(t, 403, "Quota has been met for resources: Member")
	// A batch counts the members it adds net of those it drops: replacing one member fits...
	batch := func(addrs ...string) wireReply {
		var ms []any
		for _, a := range addrs {
			ms = append(ms, map[string]any{"address": a, "protocol_port": 80})
		}
		return wireCall(t, demo, "PUT", demo.ServiceURL("lbaas", "pools", p.ID, "members"), map[string]any{"members": ms})
	}
	if r := batch("10.0.0.21", "10.0.0.23"); r.status != 202 {
		t.Fatalf("batch replacing a member: %s", r.text)
	}
	waitLBActive(t, demo, lb.ID)
	// ...adding one more does not, and neither does an additive batch on a full pool.
	batch("10.0.0.21", "10.0.0.23", "10.0.0.24").octaviaFault(t, 403, "Quota has been met for resources: Member")
	wireCall(t, demo, "PUT", demo.ServiceURL("lbaas", "pools", p.ID, "members")+"?additive_only=true",
		map[string]any{"members": []any{map[string]any{"address": "10.0.0.25", "protocol_port": 80}}}).octaviaFault(t, 403, "Quota has been met for resources: Member")
	members, _ := pools.ListMembers(demo, p.ID, pools.ListMembersOpts{}).AllPages(ctx)
	if list, _ := pools.ExtractMembers(members); len(list) != 2 {
		t.Fatalf("members after the refused batches = %+v", list)
	}
	// Raising the quota lets the batch through.
	setQuota(map[string]any{"member": -1})
	if r := batch("10.0.0.21", "10.0.0.23", "10.0.0.24"); r.status != 202 {
		t.Fatalf("batch with an unlimited quota: %s", r.text)
	}
}
