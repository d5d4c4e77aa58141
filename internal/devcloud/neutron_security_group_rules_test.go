package devcloud

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
)

func listRules(t *testing.T, nc *gophercloud.ServiceClient, opts rules.ListOpts) []rules.SecGroupRule {
	t.Helper()
	pages, err := rules.List(nc, opts).AllPages(testCtx(t))
	if err != nil {
		t.Fatalf("list rules %+v: %v", opts, err)
	}
	list, _ := rules.ExtractRules(pages)
	return list
}

func TestNeutron_NewSecurityGroupHasNeutronsEgressRulesAndDefaultHasFour(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	sg := wireCall(t, nc, "POST", nc.ServiceURL("security-groups"), map[string]any{"security_group": map[string]any{"name": "web", "description": "d"}})
	if sg.status != 201 {
		t.Fatalf("create group: %s", sg.text)
	}
	g := sg.object(t, "security_group")
	got := map[string]bool{}
	for _, r := range g["security_group_rules"].([]any) {
		m := r.(map[string]any)
		if m["direction"] != "egress" || m["protocol"] != nil || m["remote_ip_prefix"] != nil || m["remote_group_id"] != nil ||
			m["description"] != nil || m["security_group_id"] != g["id"] || m["normalized_cidr"] != nil {
			t.Fatalf("rule of a new group = %+v", m)
		}
		got[m["ethertype"].(string)] = true
	}
	if len(got) != 2 || !got["IPv4"] || !got["IPv6"] || g["stateful"] != true || g["shared"] != false || g["description"] != "d" {
		t.Fatalf("new group = %+v", g)
	}
	def := listRules(t, nc, rules.ListOpts{SecGroupID: c.Seed().SecurityGroupID})
	ingressFromGroup := 0
	for _, r := range def {
		if r.Direction == "ingress" && r.RemoteGroupID == c.Seed().SecurityGroupID {
			ingressFromGroup++
		}
	}
	if len(def) != 4 || ingressFromGroup != 2 {
		t.Fatalf("default group rules = %+v", def)
	}
}

func TestNeutron_SecurityGroupRuleCreateShowListFilterDelete(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	sg, err := groups.Create(ctx, nc, groups.CreateOpts{Name: "web"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	web, err := rules.Create(ctx, nc, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 80, PortRangeMax: 80, RemoteIPPrefix: "0.0.0.0/0", Description: "http"}).Extract()
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	if web.Protocol != "tcp" || web.PortRangeMin != 80 || web.PortRangeMax != 80 || web.RemoteIPPrefix != "0.0.0.0/0" ||
		web.Description != "http" || web.ProjectID != c.Seed().ProjectID {
		t.Fatalf("rule = %+v", web)
	}
	// A bare address gets its full mask; host bits are kept, the network is in normalized_cidr.
	host := wireCall(t, nc, "POST", nc.ServiceURL("security-group-rules"), map[string]any{"security_group_rule": map[string]any{
		"security_group_id": sg.ID, "direction": "ingress", "remote_ip_prefix": "10.0.0.5/24", "ethertype": "ipv4"}})
	hr := host.object(t, "security_group_rule")
	if host.status != 201 || hr["remote_ip_prefix"] != "10.0.0.5/24" || hr["normalized_cidr"] != "10.0.0.0/24" || hr["ethertype"] != "IPv4" ||
		hr["description"] != "" || hr["protocol"] != nil {
		t.Fatalf("prefix rule: %s", host.text)
	}
	icmp, err := rules.Create(ctx, nc, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType6, Protocol: rules.ProtocolICMP}).Extract()
	if err != nil || icmp.Protocol != "ipv6-icmp" {
		t.Fatalf("IPv6 icmp rule is stored as ipv6-icmp: %+v, %v", icmp, err)
	}
	all, err := rules.Create(ctx, nc, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: rules.ProtocolUDP,
		PortRangeMin: 1, PortRangeMax: 65535}).Extract()
	if err != nil || all.PortRangeMin != 0 || all.PortRangeMax != 0 {
		t.Fatalf("the whole port range is stored as none: %+v, %v", all, err)
	}
	got, err := rules.Get(ctx, nc, web.ID).Extract()
	if err != nil || got.ID != web.ID || got.SecGroupID != sg.ID {
		t.Fatalf("show: %+v, %v", got, err)
	}
	if l := listRules(t, nc, rules.ListOpts{SecGroupID: sg.ID}); len(l) != 6 {
		t.Fatalf("group's rules = %d, want 2 egress + 4", len(l))
	}
	for _, opts := range []rules.ListOpts{{SecGroupID: sg.ID, Direction: "ingress", Protocol: "tcp"}, {PortRangeMin: 80}, {RemoteIPPrefix: "0.0.0.0/0"}, {Description: "http"}} {
		if l := listRules(t, nc, opts); len(l) != 1 || l[0].ID != web.ID {
			t.Fatalf("list %+v = %+v", opts, l)
		}
	}
	fields := wireCall(t, nc, "GET", nc.ServiceURL("security-group-rules")+"?security_group_id="+sg.ID+"&protocol=tcp&fields=id&fields=port_range_min", nil)
	if l := fields.list(t, "security_group_rules"); len(l) != 1 || len(l[0].(map[string]any)) != 2 {
		t.Fatalf("fields: %s", fields.text)
	}
	// The group shows its rules.
	g, _ := groups.Get(ctx, nc, sg.ID).Extract()
	if len(g.Rules) != 6 {
		t.Fatalf("group rules = %+v", g.Rules)
	}
	if err := rules.Delete(ctx, nc, web.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	wireCall(t, nc, "GET", nc.ServiceURL("security-group-rules", web.ID), nil).
		neutronFault(t, 404, "SecurityGroupRuleNotFound", "Security group rule "+web.ID+" does not exist")
	wireCall(t, nc, "DELETE", nc.ServiceURL("security-group-rules", web.ID), nil).
		neutronFault(t, 404, "SecurityGroupRuleNotFound", "Security group rule "+web.ID+" does not exist")
	// Another project sees none of these rules.
	admin := networkClient(t, provider(t, adminAuth(c)))
	if seen := wireCall(t, admin, "GET", admin.ServiceURL("security-group-rules", icmp.ID), nil); seen.status != 200 {
		t.Fatalf("admin show of demo's rule: %s", seen.text)
	}
	other := wireCall(t, admin, "POST", admin.ServiceURL("security-group-rules"), map[string]any{"security_group_rule": map[string]any{
		"security_group_id": sg.ID, "direction": "ingress"}})
	other.neutronFault(t, 404, "SecurityGroupNotFound", "Security group "+sg.ID+" does not exist")
	// Deleting the group takes its rules with it.
	if err := groups.Delete(ctx, nc, sg.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if l := listRules(t, admin, rules.ListOpts{SecGroupID: sg.ID}); len(l) != 0 {
		t.Fatalf("rules of a deleted group: %+v", l)
	}
}

func TestNeutron_DuplicateSecurityGroupRuleIs409SecurityGroupRuleExists(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	sg, _ := groups.Create(testCtx(t), nc, groups.CreateOpts{Name: "web"}).Extract()
	post := func(rule map[string]any) wireReply {
		rule["security_group_id"] = sg.ID
		return wireCall(t, nc, "POST", nc.ServiceURL("security-group-rules"), map[string]any{"security_group_rule": rule})
	}
	first := post(map[string]any{"direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"})
	id := first.object(t, "security_group_rule")["id"].(string)
	exists := "Security group rule already exists. Rule id is " + id + "."
	// As Neutron's _rule_to_key: 0.0.0.0/0 is no prefix, protocol 6 is tcp, a description does not count.
	post(map[string]any{"direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}).
		neutronFault(t, 409, "SecurityGroupRuleExists", exists)
	post(map[string]any{"direction": "ingress", "protocol": "TCP", "port_range_min": 80, "port_range_max": 80}).
		neutronFault(t, 409, "SecurityGroupRuleExists", exists)
	post(map[string]any{"direction": "ingress", "protocol": "6", "port_range_min": 80, "port_range_max": 80, "description": "again"}).
		neutronFault(t, 409, "SecurityGroupRuleExists", exists)
	var egressV4 string
	for _, r := range listRules(t, nc, rules.ListOpts{SecGroupID: sg.ID, Direction: "egress", EtherType: "IPv4"}) {
		egressV4 = r.ID
	}
	post(map[string]any{"direction": "egress"}).neutronFault(t, 409, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is "+egressV4+".")
	// A different prefix is a different rule.
	if other := post(map[string]any{"direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "10.0.0.0/8"}); other.status != 201 {
		t.Fatalf("rule with another prefix: %s", other.text)
	}
}

func TestNeutron_SecurityGroupRuleValidationErrorsAreNeutrons(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	sg, _ := groups.Create(testCtx(t), nc, groups.CreateOpts{Name: "web"}).Extract()
	const missing = "00000000-0000-0000-0000-000000000000"
	protocols := "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', " +
		"'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp']"
	for _, tc := range []struct {
		name     string
		rule     map[string]any
		status   int
		typ, msg string
	}{
		{"no group", map[string]any{"direction": "ingress"}, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'security_group_id' not specified"},
		{"bad direction", map[string]any{"security_group_id": sg.ID, "direction": "sideways"}, 400, "HTTPBadRequest", "Invalid input for direction. Reason: sideways is not in valid_values."},
		{"unknown attribute", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "bogus": 1}, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'bogus'"},
		{"bad protocol", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "protocol": "any"}, 400, "SecurityGroupRuleInvalidProtocol",
			"Security group rule protocol any not supported. Only protocol values " + protocols + " and integer representations [0 to 255] are supported."},
		{"min above max", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, 400,
			"SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
		{"min without max", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "protocol": "tcp", "port_range_min": 22}, 400,
			"SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
		{"port 0", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "protocol": "tcp", "port_range_min": 0, "port_range_max": 0}, 400,
			"SecurityGroupInvalidPortValue", "Invalid value for port 0"},
		{"port too big", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "protocol": "tcp", "port_range_min": 70000, "port_range_max": 70000}, 400,
			"SecurityGroupInvalidPortValue", "Invalid value for port 70000"},
		{"ports without protocol", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "port_range_min": 22}, 400,
			"SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given."},
		{"bad CIDR", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "remote_ip_prefix": "bad"}, 400, "InvalidCIDR", "Invalid CIDR bad given as IP prefix."},
		{"CIDR of the other family", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/24"}, 400,
			"SecurityGroupRuleParameterConflict", "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/24"},
		{"two remotes", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "remote_ip_prefix": "10.0.0.0/24", "remote_group_id": sg.ID}, 400,
			"SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."},
		{"missing group", map[string]any{"security_group_id": missing, "direction": "ingress"}, 404, "SecurityGroupNotFound", "Security group " + missing + " does not exist"},
		{"missing remote group", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "remote_group_id": missing}, 404, "SecurityGroupNotFound",
			"Security group " + missing + " does not exist"},
		{"bad ethertype", map[string]any{"security_group_id": sg.ID, "direction": "ingress", "ethertype": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType",
			"Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6']."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wireCall(t, nc, "POST", nc.ServiceURL("security-group-rules"), map[string]any{"security_group_rule": tc.rule}).neutronFault(t, tc.status, tc.typ, tc.msg)
		})
	}
	if l := listRules(t, nc, rules.ListOpts{SecGroupID: sg.ID}); len(l) != 2 {
		t.Fatalf("refused rules were stored: %+v", l)
	}
	// The lab's Neutron has no update for a rule: its PUT is a 500.
	id := listRules(t, nc, rules.ListOpts{SecGroupID: sg.ID})[0].ID
	wireCall(t, nc, "PUT", nc.ServiceURL("security-group-rules", id), map[string]any{"security_group_rule": map[string]any{"description": "x"}}).
		neutronFault(t, 500, "HTTPInternalServerError", "Request Failed: internal server error while processing your request.")
}

func TestNeutron_SecurityGroupUpdateAndDefaultGroupRules(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	sg, _ := groups.Create(ctx, nc, groups.CreateOpts{Name: "web"}).Extract()
	name, desc := "web2", "new"
	upd, err := groups.Update(ctx, nc, sg.ID, groups.UpdateOpts{Name: name, Description: &desc}).Extract()
	if err != nil || upd.Name != "web2" || upd.Description != "new" {
		t.Fatalf("update group: %+v, %v", upd, err)
	}
	stateless := wireCall(t, nc, "PUT", nc.ServiceURL("security-groups", sg.ID), map[string]any{"security_group": map[string]any{"stateful": false}})
	if stateless.object(t, "security_group")["stateful"] != false {
		t.Fatalf("stateful=false: %s", stateless.text)
	}
	wireCall(t, nc, "PUT", nc.ServiceURL("security-groups", s.SecurityGroupID), map[string]any{"security_group": map[string]any{"name": "x"}}).
		neutronFault(t, 409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
	wireCall(t, nc, "POST", nc.ServiceURL("security-groups"), map[string]any{"security_group": map[string]any{"name": "Default"}}).
		neutronFault(t, 409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	wireCall(t, nc, "POST", nc.ServiceURL("security-groups"), map[string]any{"security_group": map[string]any{"name": "t", "tags": []string{"x"}}}).
		neutronFault(t, 400, "HTTPBadRequest", "Attribute 'tags' not allowed in POST")
	wireCall(t, nc, "GET", nc.ServiceURL("security-groups", "00000000-0000-0000-0000-000000000000"), nil).
		neutronFault(t, 404, "SecurityGroupNotFound", "Security group 00000000-0000-0000-0000-000000000000 does not exist")
	// The default group's rules may be deleted like any other.
	def := listRules(t, nc, rules.ListOpts{SecGroupID: s.SecurityGroupID, Direction: "ingress"})
	if err := rules.Delete(ctx, nc, def[0].ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if l := listRules(t, nc, rules.ListOpts{SecGroupID: s.SecurityGroupID}); len(l) != 3 {
		t.Fatalf("default group rules after a delete = %d", len(l))
	}
}
