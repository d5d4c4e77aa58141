package devcloud

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
)

func TestNeutron_QuotaShowDefaultTenantAndPolicy(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	want := map[string]float64{"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
		"rbac_policy": 10, "security_group": 10, "security_group_rule": 100}
	for _, path := range [][]string{{"quotas", s.ProjectID}, {"quotas", s.ProjectID + ".json"}, {"quotas", s.ProjectID, "default"}} {
		q := wireCall(t, nc, "GET", nc.ServiceURL(path...), nil).object(t, "quota")
		if len(q) != len(want) {
			t.Fatalf("%v = %+v", path, q)
		}
		for k, v := range want {
			if q[k] != v {
				t.Fatalf("%v: %s = %v, want %v", path, k, q[k], v)
			}
		}
	}
	detail := wireCall(t, nc, "GET", nc.ServiceURL("quotas", s.ProjectID, "details.json"), nil).object(t, "quota")
	fip := detail["floatingip"].(map[string]any)
	if len(detail) != len(want) || fip["limit"] != 50.0 || fip["used"] != 0.0 || fip["reserved"] != 0.0 {
		t.Fatalf("details = %+v", detail)
	}
	tenant := wireCall(t, nc, "GET", nc.ServiceURL("quotas", "tenant"), nil).object(t, "tenant")
	if tenant["tenant_id"] != s.ProjectID {
		t.Fatalf("quotas/tenant = %+v", tenant)
	}
	wireCall(t, nc, "GET", nc.ServiceURL("quotas", s.AdminProjectID), nil).neutronFault(t, 403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
	wireCall(t, nc, "GET", nc.ServiceURL("quotas"), nil).neutronFault(t, 403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
	wireCall(t, nc, "PUT", nc.ServiceURL("quotas", s.ProjectID), map[string]any{"quota": map[string]any{"floatingip": 40}}).
		neutronFault(t, 403, "PolicyNotAuthorized", "rule:update_quota is disallowed by policy")
	wireCall(t, nc, "DELETE", nc.ServiceURL("quotas", s.ProjectID), nil).neutronFault(t, 403, "PolicyNotAuthorized", "rule:delete_quota is disallowed by policy")
}

func TestNeutron_AdminQuotaUpdateListAndResetWithNeutronsValidation(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	admin := networkClient(t, provider(t, adminAuth(c)))
	ctx := testCtx(t)
	url := admin.ServiceURL("quotas", s.ProjectID)
	for _, tc := range []struct {
		name     string
		quota    map[string]any
		typ, msg string
	}{
		{"unknown", map[string]any{"bogus": 40}, "HTTPBadRequest", "Unrecognized attribute(s) 'bogus'"},
		{"below -1", map[string]any{"floatingip": -5}, "HTTPBadRequest", "Invalid input for floatingip. Reason: '-5' is too small - must be at least '-1'."},
		{"not an integer", map[string]any{"floatingip": "abc"}, "InvalidInput", "Invalid input for operation: 'abc' is not an integer."},
		{"below usage with check_limit", map[string]any{"port": 1, "check_limit": true}, "HTTPBadRequest",
			"Quota limit 1 for port must be greater than or equal to already used 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wireCall(t, admin, "PUT", url, map[string]any{"quota": tc.quota}).neutronFault(t, 400, tc.typ, tc.msg)
		})
	}
	// gophercloud's update; an integer string is accepted too.
	q, err := quotas.Update(ctx, admin, s.ProjectID, quotas.UpdateOpts{FloatingIP: gophercloud.IntToPointer(7)}).Extract()
	if err != nil || q.FloatingIP != 7 || q.Port != 500 {
		t.Fatalf("update: %+v, %v", q, err)
	}
	str := wireCall(t, admin, "PUT", url, map[string]any{"quota": map[string]any{"router": "3", "force": true}}).object(t, "quota")
	if str["router"] != 3.0 || str["floatingip"] != 7.0 {
		t.Fatalf("string quota: %+v", str)
	}
	list := wireCall(t, admin, "GET", admin.ServiceURL("quotas"), nil).list(t, "quotas")
	if len(list) != 1 {
		t.Fatalf("non-default quotas = %+v", list)
	}
	if e := list[0].(map[string]any); e["project_id"] != s.ProjectID || e["tenant_id"] != s.ProjectID || e["floatingip"] != 7.0 || e["network"] != 100.0 {
		t.Fatalf("listed quota = %+v", e)
	}
	if r := wireCall(t, admin, "DELETE", url, nil); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.text)
	}
	if l := wireCall(t, admin, "GET", admin.ServiceURL("quotas"), nil).list(t, "quotas"); len(l) != 0 {
		t.Fatalf("quotas after the reset = %+v", l)
	}
	demo := networkClient(t, provider(t, demoAuth(c)))
	if got, _ := quotas.Get(ctx, demo, s.ProjectID).Extract(); got.FloatingIP != 50 {
		t.Fatalf("floatingip after the reset = %d", got.FloatingIP)
	}
}

// Each create over quota is Neutron's 409 OverQuota naming the resource.
func TestNeutron_CreateOverQuotaIs409OverQuotaForEveryResource(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	demo := networkClient(t, provider(t, demoAuth(c)))
	admin := networkClient(t, provider(t, adminAuth(c)))
	detail, err := quotas.GetDetail(testCtx(t), demo, s.ProjectID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// Every limit at the current usage: nothing more fits.
	full := map[string]any{"network": detail.Network.Used, "subnet": detail.Subnet.Used, "port": detail.Port.Used, "router": detail.Router.Used,
		"floatingip": 0, "security_group": detail.SecurityGroup.Used, "security_group_rule": detail.SecurityGroupRule.Used}
	if r := wireCall(t, admin, "PUT", admin.ServiceURL("quotas", s.ProjectID), map[string]any{"quota": full}); r.status != 200 {
		t.Fatalf("set quotas: %s", r.text)
	}
	for _, tc := range []struct{ collection, kind, resource string }{
		{"networks", "network", "network"},
		{"subnets", "subnet", "subnet"},
		{"ports", "port", "port"},
		{"routers", "router", "router"},
		{"floatingips", "floatingip", "floatingip"},
		{"security-groups", "security_group", "security_group"},
		{"security-group-rules", "security_group_rule", "security_group_rule"},
	} {
		body := map[string]any{"name": "over", "network_id": s.NetworkID, "cidr": "10.8.0.0/24", "ip_version": 4,
			"floating_network_id": s.PublicNetworkID, "security_group_id": s.SecurityGroupID, "direction": "ingress", "protocol": "tcp",
			"port_range_min": 22, "port_range_max": 22}
		t.Run(tc.kind, func(t *testing.T) {
			wireCall(t, demo, "POST", demo.ServiceURL(tc.collection), map[string]any{tc.kind: body}).
				neutronFault(t, 409, "OverQuota", "Quota exceeded for resources: ['"+tc.resource+"'].")
		})
	}
	// A group fits but its two egress rules do not.
	wireCall(t, admin, "PUT", admin.ServiceURL("quotas", s.ProjectID), map[string]any{"quota": map[string]any{"security_group": -1, "security_group_rule": detail.SecurityGroupRule.Used + 1}})
	wireCall(t, demo, "POST", demo.ServiceURL("security-groups"), map[string]any{"security_group": map[string]any{"name": "web"}}).
		neutronFault(t, 409, "OverQuota", "Quota exceeded for resources: ['security_group_rule'].")
	after, _ := quotas.GetDetail(testCtx(t), demo, s.ProjectID).Extract()
	if after.Network.Used != detail.Network.Used || after.SecurityGroup.Used != detail.SecurityGroup.Used || after.FloatingIP.Used != 0 {
		t.Fatalf("refused creates changed the usage: %+v", after)
	}
	// -1 is unlimited.
	wireCall(t, admin, "PUT", admin.ServiceURL("quotas", s.ProjectID), map[string]any{"quota": map[string]any{"floatingip": -1}})
	if r := wireCall(t, demo, "POST", demo.ServiceURL("floatingips"), map[string]any{"floatingip": map[string]any{"floating_network_id": s.PublicNetworkID}}); r.status != 201 {
		t.Fatalf("floating IP with an unlimited quota: %s", r.text)
	}
	if d, _ := quotas.GetDetail(testCtx(t), demo, s.ProjectID).Extract(); d.FloatingIP.Used != 1 || d.FloatingIP.Limit != -1 {
		t.Fatalf("floatingip detail = %+v", d.FloatingIP)
	}
}
