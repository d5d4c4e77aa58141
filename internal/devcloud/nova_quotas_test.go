package devcloud

import (
	"sort"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// setNovaQuota is the admin's PUT, failing the test unless Nova accepts it.
func setNovaQuota(t *testing.T, c *Cloud, quota map[string]any) {
	t.Helper()
	admin := computeClient(t, provider(t, adminAuth(c)), "2.93")
	if r := wireCall(t, admin, "PUT", admin.ServiceURL("os-quota-sets", c.Seed().ProjectID), map[string]any{"quota_set": quota}); r.status != 200 {
		t.Fatalf("quota update %v: %s", quota, r.text)
	}
}

func TestNova_QuotaDetailShowsLimitInUseReservedAsNovaPerMicroversion(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	cc := computeClient(t, provider(t, demoAuth(c)), "2.93")
	ctx := testCtx(t)
	// Before 2.92 Nova generates the key.
	if _, err := keypairs.Create(ctx, computeClient(t, provider(t, demoAuth(c)), "2.10"), keypairs.CreateOpts{Name: "ops"}).Extract(); err != nil {
		t.Fatal(err)
	}
	g, err := servergroups.Create(ctx, cc, servergroups.CreateOpts{Name: "web", Policy: "anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	createServer(t, c, cc, "web02", nil, servers.SchedulerHintOpts{Group: g.ID})

	detail := func(mv string) map[string]any {
		sc := computeClient(t, provider(t, demoAuth(c)), mv)
		return wireCall(t, sc, "GET", sc.ServiceURL("os-quota-sets", s.ProjectID, "detail"), nil).object(t, "quota_set")
	}
	all := "cores,fixed_ips,floating_ips,id,injected_file_content_bytes,injected_file_path_bytes,injected_files,instances,key_pairs," +
		"metadata_items,ram,security_group_rules,security_groups,server_group_members,server_groups"
	q := detail("2.1")
	if keysOf(q) != all || q["id"] != s.ProjectID {
		t.Fatalf("2.1 detail keys = %s", keysOf(q))
	}
	// web01 (m1.small) and web02 (m1.tiny). key_pairs and server_group_members are counted per
	// user and per group: Nova shows 0 for the project.
	for res, want := range map[string][3]float64{"instances": {10, 2, 0}, "cores": {20, 2, 0}, "ram": {51200, 2048 + 512, 0},
		"server_groups": {10, 1, 0}, "server_group_members": {10, 0, 0}, "key_pairs": {100, 0, 0}, "metadata_items": {128, 0, 0},
		"floating_ips": {-1, 0, 0}, "fixed_ips": {-1, 0, 0}, "security_groups": {-1, 0, 0}, "security_group_rules": {-1, 0, 0},
		"injected_files": {5, 0, 0}, "injected_file_content_bytes": {10240, 0, 0}, "injected_file_path_bytes": {255, 0, 0}} {
		e := q[res].(map[string]any)
		if e["limit"] != want[0] || e["in_use"] != want[1] || e["reserved"] != want[2] || len(e) != 3 {
			t.Errorf("%s = %+v, want limit %v in_use %v reserved 0", res, e, want[0], want[1])
		}
	}
	if got := keysOf(detail("2.36")); got != "cores,id,injected_file_content_bytes,injected_file_path_bytes,injected_files,instances,key_pairs,metadata_items,ram,server_group_members,server_groups" {
		t.Fatalf("2.36 detail keys = %s", got)
	}
	if got := keysOf(detail("2.57")); got != "cores,id,instances,key_pairs,metadata_items,ram,server_group_members,server_groups" {
		t.Fatalf("2.57 detail keys = %s", got)
	}
	gq, err := quotasets.GetDetail(ctx, cc, s.ProjectID).Extract()
	if err != nil || gq.Instances.InUse != 2 || gq.Cores.Limit != 20 || gq.ServerGroupMembers.InUse != 0 {
		t.Fatalf("gophercloud detail = %+v, %v", gq, err)
	}
	defaults := wireCall(t, cc, "GET", cc.ServiceURL("os-quota-sets", s.ProjectID, "defaults"), nil).object(t, "quota_set")
	for res, want := range map[string]float64{"instances": 10, "cores": 20, "ram": 51200, "server_groups": 10, "server_group_members": 10,
		"key_pairs": 100, "metadata_items": 128} {
		if defaults[res] != want {
			t.Errorf("default %s = %v, want %v", res, defaults[res], want)
		}
	}
	wireCall(t, cc, "GET", cc.ServiceURL("os-quota-sets", s.AdminProjectID, "detail"), nil).
		fault(t, 403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed.")
}

func TestNova_QuotaUpdateIsAdminOnlyAndValidatedAsNova(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	admin := computeClient(t, provider(t, adminAuth(c)), "2.1")
	admin93 := computeClient(t, provider(t, adminAuth(c)), "2.93")
	url := admin.ServiceURL("os-quota-sets", s.ProjectID)
	for _, tc := range []struct {
		name string
		sc   *gophercloud.ServiceClient
		qs   map[string]any
		msg  string
	}{
		{"unknown", admin, map[string]any{"bogus": 5}, "Invalid input for field/attribute quota_set. Value: {'bogus': 5}. Additional properties are not allowed ('bogus' was unexpected)"},
		{"below -1", admin, map[string]any{"instances": -2}, "Invalid input for field/attribute instances. Value: -2. -2 is less than the minimum of -1"},
		{"not a number", admin, map[string]any{"instances": "abc"}, "Invalid input for field/attribute instances. Value: abc. 'abc' does not match '^-?[0-9]+$'"},
		{"proxy quota after 2.36", admin93, map[string]any{"floating_ips": 5}, "Invalid input for field/attribute quota_set. Value: {'floating_ips': 5}. Additional properties are not allowed ('floating_ips' was unexpected)"},
		{"below usage", admin93, map[string]any{"instances": 0}, "Quota limit 0 for instances must be greater than or equal to already used and reserved 1."},
		{"networks", admin, map[string]any{"networks": 5}, "The networks quota has been removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wireCall(t, tc.sc, "PUT", url, map[string]any{"quota_set": tc.qs}).fault(t, 400, "badRequest", tc.msg)
		})
	}
	// Nova's answer to an update has no id; integer strings are accepted; force skips the usage check.
	up := wireCall(t, admin93, "PUT", url, map[string]any{"quota_set": map[string]any{"instances": "3", "server_groups": 1}}).object(t, "quota_set")
	if _, hasID := up["id"]; hasID || up["instances"] != 3.0 || up["server_groups"] != 1.0 ||
		keysOf(up) != "cores,instances,key_pairs,metadata_items,ram,server_group_members,server_groups" {
		t.Fatalf("update answer = %+v", up)
	}
	forced := wireCall(t, admin93, "PUT", url, map[string]any{"quota_set": map[string]any{"instances": 0, "force": true}}).object(t, "quota_set")
	if forced["instances"] != 0.0 {
		t.Fatalf("forced update = %+v", forced)
	}
	demo := computeClient(t, provider(t, demoAuth(c)), "2.93")
	wireCall(t, demo, "PUT", url, map[string]any{"quota_set": map[string]any{"instances": 20}}).
		fault(t, 403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
	wireCall(t, admin93, "GET", admin93.ServiceURL("os-quota-sets", "00000000000000000000000000000000"), nil).
		fault(t, 400, "badRequest", "Project ID 00000000000000000000000000000000 is not a valid project.")
	if r := wireCall(t, admin93, "DELETE", url, nil); r.status != 202 {
		t.Fatalf("reset: %d %s", r.status, r.text)
	}
	if q, _ := quotasets.Get(testCtx(t), demo, s.ProjectID).Extract(); q.Instances != 10 || q.ServerGroups != 10 {
		t.Fatalf("after the reset = %+v", q)
	}
}

func TestNova_ServerCreateOverSeveralQuotasNamesThemSortedAsNova(t *testing.T) {
	c := startCloud(t)
	// web01 is an m1.small: 1 instance, 1 core, 2048 MB.
	setNovaQuota(t, c, map[string]any{"instances": 1, "cores": 1, "ram": 2048})
	cc := computeClient(t, provider(t, demoAuth(c)), "2.93")
	s := c.Seed()
	r := wireCall(t, cc, "POST", cc.ServiceURL("servers"), map[string]any{"server": map[string]any{"name": "web02", "imageRef": s.BaseImageID,
		"flavorRef": s.FlavorIDs["m1.tiny"], "networks": []any{map[string]any{"uuid": s.NetworkID}}}})
	r.fault(t, 403, "forbidden", "Quota exceeded for cores, instances, ram: Requested 1, 1, 512, but already used 1, 1, 2048 of 1, 1, 2048 cores, instances, ram")
	setNovaQuota(t, c, map[string]any{"instances": -1, "cores": -1, "ram": 2560})
	createServer(t, c, cc, "fits", nil, nil)
	r = wireCall(t, cc, "POST", cc.ServiceURL("servers"), map[string]any{"server": map[string]any{"name": "web03", "imageRef": s.BaseImageID,
		"flavorRef": s.FlavorIDs["m1.tiny"], "networks": []any{map[string]any{"uuid": s.NetworkID}}}})
	r.fault(t, 403, "forbidden", "Quota exceeded for ram: Requested 512, but already used 2560 of 2560 ram")
}

func TestNova_FullServerGroupIs403AfterTheInstanceQuota(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	cc := computeClient(t, provider(t, demoAuth(c)), "2.93")
	g, err := servergroups.Create(testCtx(t), cc, servergroups.CreateOpts{Name: "web", Policy: "soft-anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	setNovaQuota(t, c, map[string]any{"server_group_members": 1})
	createServer(t, c, cc, "in-group", nil, servers.SchedulerHintOpts{Group: g.ID})
	create := map[string]any{"server": map[string]any{"name": "second", "imageRef": s.BaseImageID, "flavorRef": s.FlavorIDs["m1.tiny"],
		"networks": []any{map[string]any{"uuid": s.NetworkID}}}, "os:scheduler_hints": map[string]any{"group": g.ID}}
	wireCall(t, cc, "POST", cc.ServiceURL("servers"), create).fault(t, 403, "forbidden", "Quota exceeded, too many servers in group")
	// Nova counts instances before the group's members.
	setNovaQuota(t, c, map[string]any{"instances": 2})
	wireCall(t, cc, "POST", cc.ServiceURL("servers"), create).
		fault(t, 403, "forbidden", "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")
	// Unlimited members.
	setNovaQuota(t, c, map[string]any{"instances": 10, "server_group_members": -1})
	if r := wireCall(t, cc, "POST", cc.ServiceURL("servers"), create); r.status != 202 {
		t.Fatalf("create with unlimited members: %s", r.text)
	}
}

func TestNova_ServerGroupAndKeypairQuotasAre403(t *testing.T) {
	c := startCloud(t)
	// Before 2.92 Nova generates key pairs.
	cc := computeClient(t, provider(t, demoAuth(c)), "2.91")
	ctx := testCtx(t)
	setNovaQuota(t, c, map[string]any{"server_groups": 1, "key_pairs": 1})
	if _, err := servergroups.Create(ctx, cc, servergroups.CreateOpts{Name: "a", Policy: "affinity"}).Extract(); err != nil {
		t.Fatal(err)
	}
	wireCall(t, cc, "POST", cc.ServiceURL("os-server-groups"), map[string]any{"server_group": map[string]any{"name": "b", "policy": "affinity"}}).
		fault(t, 403, "forbidden", "Quota exceeded, too many server groups.")
	if _, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: "one"}).Extract(); err != nil {
		t.Fatal(err)
	}
	wireCall(t, cc, "POST", cc.ServiceURL("os-keypairs"), map[string]any{"keypair": map[string]any{"name": "two"}}).
		fault(t, 403, "forbidden", "Quota exceeded, too many key pairs.")
	setNovaQuota(t, c, map[string]any{"server_groups": -1, "key_pairs": -1})
	if _, err := servergroups.Create(ctx, cc, servergroups.CreateOpts{Name: "b", Policy: "affinity"}).Extract(); err != nil {
		t.Fatalf("server group with an unlimited quota: %v", err)
	}
	if _, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: "two"}).Extract(); err != nil {
		t.Fatalf("key pair with an unlimited quota: %v", err)
	}
}

func TestNova_LimitsAbsoluteFieldsPerMicroversion(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.93")
	if _, err := servergroups.Create(testCtx(t), cc, servergroups.CreateOpts{Name: "a", Policy: "affinity"}).Extract(); err != nil {
		t.Fatal(err)
	}
	abs := func(mv string) map[string]any {
		sc := computeClient(t, pc, mv)
		return wireCall(t, sc, "GET", sc.ServiceURL("limits"), nil).object(t, "limits")["absolute"].(map[string]any)
	}
	base := "maxServerGroupMembers,maxServerGroups,maxServerMeta,maxTotalCores,maxTotalInstances,maxTotalKeypairs,maxTotalRAMSize," +
		"totalCoresUsed,totalInstancesUsed,totalRAMUsed,totalServerGroupsUsed"
	a := abs("2.93")
	if keysOf(a) != base || a["totalServerGroupsUsed"] != 1.0 || a["totalInstancesUsed"] != 1.0 || a["maxTotalRAMSize"] != 51200.0 {
		t.Fatalf("2.93 limits = %+v", a)
	}
	if got := keysOf(abs("2.36")); got != "maxImageMeta,maxPersonality,maxPersonalitySize,"+base {
		t.Fatalf("2.36 limits = %s", got)
	}
	old := abs("2.1")
	if old["maxTotalFloatingIps"] != -1.0 || old["maxSecurityGroups"] != -1.0 || old["totalFloatingIpsUsed"] != 0.0 || old["maxPersonality"] != 5.0 {
		t.Fatalf("2.1 limits = %+v", old)
	}
}
