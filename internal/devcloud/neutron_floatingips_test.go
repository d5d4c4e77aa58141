package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// web01Port is the seeded web01's port.
func web01Port(t *testing.T, c *Cloud, nc *gophercloud.ServiceClient) ports.Port {
	t.Helper()
	pages, err := ports.List(nc, ports.ListOpts{DeviceID: c.Seed().Web01ServerID}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := ports.ExtractPorts(pages)
	if len(list) != 1 {
		t.Fatalf("web01 ports = %+v", list)
	}
	return list[0]
}

func waitFloatingIPStatus(t *testing.T, nc *gophercloud.ServiceClient, id, status string) *floatingips.FloatingIP {
	t.Helper()
	var fip *floatingips.FloatingIP
	eventually(t, 5*time.Second, "floating IP "+id+" "+status, func() bool {
		var err error
		fip, err = floatingips.Get(testCtx(t), nc, id).Extract()
		if err != nil {
			t.Fatalf("get floating IP: %v", err)
		}
		return fip.Status == status
	})
	return fip
}

func TestNeutron_SeedHasExternalPublicNetworkAndRouter1LikeDevStack(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	pub, err := networks.Get(ctx, nc, s.PublicNetworkID).Extract()
	if err != nil {
		t.Fatalf("demo cannot see the external network: %v", err)
	}
	if pub.Name != "public" || pub.ProjectID != s.AdminProjectID || len(pub.Subnets) != 1 {
		t.Fatalf("public = %+v", pub)
	}
	ext := wireCall(t, nc, "GET", nc.ServiceURL("networks")+"?router:external=true", nil)
	if l := ext.list(t, "networks"); len(l) != 1 || l[0].(map[string]any)["id"] != s.PublicNetworkID {
		t.Fatalf("external networks = %s", ext.text)
	}
	// As on the lab: another project's subnet of an external network is not shown.
	wireCall(t, nc, "GET", nc.ServiceURL("subnets", s.PublicSubnetID), nil).
		neutronFault(t, 404, "SubnetNotFound", "Subnet "+s.PublicSubnetID+" could not be found.")
	rt := wireCall(t, nc, "GET", nc.ServiceURL("routers", s.RouterID), nil).object(t, "router")
	gw, _ := rt["external_gateway_info"].(map[string]any)
	ips, _ := gw["external_fixed_ips"].([]any)
	if rt["name"] != "router1" || gw["network_id"] != s.PublicNetworkID || gw["enable_snat"] != true || len(ips) != 1 ||
		!strings.HasPrefix(ips[0].(map[string]any)["ip_address"].(string), "203.0.113.") {
		t.Fatalf("router1 = %+v", rt)
	}
	admin := networkClient(t, provider(t, adminAuth(c)))
	gwPorts := wireCall(t, admin, "GET", admin.ServiceURL("ports")+"?device_owner=network:router_gateway", nil).list(t, "ports")
	if len(gwPorts) != 1 || gwPorts[0].(map[string]any)["device_id"] != s.RouterID || gwPorts[0].(map[string]any)["project_id"] != "" {
		t.Fatalf("router gateway ports = %+v", gwPorts)
	}
	iface := wireCall(t, nc, "GET", nc.ServiceURL("ports")+"?device_owner=network:router_interface", nil).list(t, "ports")
	if len(iface) != 1 || iface[0].(map[string]any)["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.1" {
		t.Fatalf("router1 interface = %+v", iface)
	}
}

func TestNeutron_FloatingIPAssociateThenActiveThenDisassociateThenDown(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID, Description: "web"}).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if fip.Status != "DOWN" || fip.PortID != "" || fip.RouterID != "" || fip.ProjectID != s.ProjectID ||
		!strings.HasPrefix(fip.FloatingIP, "203.0.113.") || fip.Description != "web" {
		t.Fatalf("new floating IP = %+v", fip)
	}
	raw := wireCall(t, nc, "GET", nc.ServiceURL("floatingips", fip.ID), nil).object(t, "floatingip")
	for _, k := range []string{"port_id", "fixed_ip_address", "router_id", "port_details"} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Fatalf("%s = %v (present %v), want null: %+v", k, v, ok, raw)
		}
	}
	port := web01Port(t, c, nc)
	up, err := floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: &port.ID}).Extract()
	if err != nil {
		t.Fatalf("associate: %v", err)
	}
	// The answer shows the association; the status changes once the agent applied it.
	if up.PortID != port.ID || up.FixedIP != s.Web01Address || up.RouterID != s.RouterID || up.Status != "DOWN" {
		t.Fatalf("associated = %+v", up)
	}
	waitFloatingIPStatus(t, nc, fip.ID, "ACTIVE")
	details := wireCall(t, nc, "GET", nc.ServiceURL("floatingips", fip.ID), nil).object(t, "floatingip")["port_details"].(map[string]any)
	if details["device_id"] != s.Web01ServerID || details["device_owner"] != "compute:nova" || details["status"] != "ACTIVE" ||
		details["network_id"] != s.NetworkID || details["mac_address"] != port.MACAddress {
		t.Fatalf("port_details = %+v", details)
	}
	for _, opts := range []floatingips.ListOpts{{PortID: port.ID}, {FloatingIP: fip.FloatingIP}, {FloatingNetworkID: s.PublicNetworkID}, {Status: "ACTIVE"}, {RouterID: s.RouterID}} {
		pages, err := floatingips.List(nc, opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if list, _ := floatingips.ExtractFloatingIPs(pages); len(list) != 1 || list[0].ID != fip.ID {
			t.Fatalf("list %+v = %+v", opts, list)
		}
	}
	pages, _ := floatingips.List(nc, floatingips.ListOpts{Status: "DOWN"}).AllPages(ctx)
	if list, _ := floatingips.ExtractFloatingIPs(pages); len(list) != 0 {
		t.Fatalf("DOWN floating IPs = %+v", list)
	}
	// gophercloud sends "port_id": null for an empty PortID.
	empty := ""
	down, err := floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: &empty}).Extract()
	if err != nil || down.PortID != "" || down.FixedIP != "" || down.RouterID != "" {
		t.Fatalf("disassociate: %+v, %v", down, err)
	}
	waitFloatingIPStatus(t, nc, fip.ID, "DOWN")
	if err := floatingips.Delete(ctx, nc, fip.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	wireCall(t, nc, "GET", nc.ServiceURL("floatingips", fip.ID), nil).
		neutronFault(t, 404, "FloatingIPNotFound", "Floating IP "+fip.ID+" could not be found")
	wireCall(t, nc, "DELETE", nc.ServiceURL("floatingips", fip.ID), nil).
		neutronFault(t, 404, "FloatingIPNotFound", "Floating IP "+fip.ID+" could not be found")
	// Its address went back to the pool with its port.
	admin := networkClient(t, provider(t, adminAuth(c)))
	if l := wireCall(t, admin, "GET", admin.ServiceURL("ports")+"?device_owner=network:floatingip", nil).list(t, "ports"); len(l) != 0 {
		t.Fatalf("floating IP ports left: %+v", l)
	}
}

func TestNeutron_FloatingIPCreatedWithPortIsAssociatedAndASecondOneOnThatPortIs409(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	port := web01Port(t, c, nc)
	first, err := floatingips.Create(testCtx(t), nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID, PortID: port.ID}).Extract()
	if err != nil || first.PortID != port.ID || first.FixedIP != s.Web01Address || first.RouterID != s.RouterID {
		t.Fatalf("create with port: %+v, %v", first, err)
	}
	waitFloatingIPStatus(t, nc, first.ID, "ACTIVE")
	second := wireCall(t, nc, "POST", nc.ServiceURL("floatingips"), map[string]any{"floatingip": map[string]any{
		"floating_network_id": s.PublicNetworkID, "port_id": port.ID}})
	e := second.json["NeutronError"].(map[string]any)
	msg, _ := e["message"].(string)
	// Neutron names the address and id it had allocated for the refused floating IP.
	if second.status != 409 || e["type"] != "FloatingIPPortAlreadyAssociated" || !strings.HasPrefix(msg, "Cannot associate floating IP 203.0.113.") ||
		!strings.HasSuffix(msg, ") with port "+port.ID+" using fixed IP "+s.Web01Address+", as that fixed IP already has a floating IP on external network "+s.PublicNetworkID+".") {
		t.Fatalf("second floating IP on the port: %s", second.text)
	}
	pages, _ := floatingips.List(nc, floatingips.ListOpts{}).AllPages(testCtx(t))
	if list, _ := floatingips.ExtractFloatingIPs(pages); len(list) != 1 {
		t.Fatalf("the refused floating IP was kept: %+v", list)
	}
	// An other floating IP of the project cannot take the port either.
	other, _ := floatingips.Create(testCtx(t), nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID}).Extract()
	wireCall(t, nc, "PUT", nc.ServiceURL("floatingips", other.ID), map[string]any{"floatingip": map[string]any{"port_id": port.ID}}).
		neutronFault(t, 409, "FloatingIPPortAlreadyAssociated", "Cannot associate floating IP "+other.FloatingIP+" ("+other.ID+") with port "+
			port.ID+" using fixed IP "+s.Web01Address+", as that fixed IP already has a floating IP on external network "+s.PublicNetworkID+".")
}

func TestNeutron_FloatingIPErrorsAreNeutrons(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	pc := provider(t, demoAuth(c))
	nc := networkClient(t, pc)
	ctx := testCtx(t)
	// A network with a subnet and a port, but no router to public.
	n, _ := networks.Create(ctx, nc, networks.CreateOpts{Name: "isolated"}).Extract()
	sub, _ := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.9.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	lonely, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	web := web01Port(t, c, nc)
	fip, _ := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID}).Extract()
	const missing = "00000000-0000-0000-0000-000000000000"
	url, one := nc.ServiceURL("floatingips"), nc.ServiceURL("floatingips", fip.ID)
	create := func(body map[string]any) map[string]any { return map[string]any{"floatingip": body} }
	for _, tc := range []struct {
		name, method, url string
		body              map[string]any
		status            int
		typ, msg          string
	}{
		{"no network", "POST", url, create(map[string]any{}), 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'floating_network_id' not specified"},
		{"missing network", "POST", url, create(map[string]any{"floating_network_id": missing}), 404, "NetworkNotFound", "Network " + missing + " could not be found."},
		{"not external", "POST", url, create(map[string]any{"floating_network_id": s.NetworkID}), 400, "BadRequest",
			"Bad floatingip request: Network " + s.NetworkID + " is not a valid external network."},
		{"address as member", "POST", url, create(map[string]any{"floating_network_id": s.PublicNetworkID, "floating_ip_address": "203.0.113.77"}), 403,
			"PolicyNotAuthorized", "(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy"},
		{"tags on create", "POST", url, create(map[string]any{"floating_network_id": s.PublicNetworkID, "tags": []string{"a"}}), 400,
			"HTTPBadRequest", "Attribute 'tags' not allowed in POST"},
		{"unrouted port", "POST", url, create(map[string]any{"floating_network_id": s.PublicNetworkID, "port_id": lonely.ID}), 404,
			"ExternalGatewayForFloatingIPNotFound", "External network " + s.PublicNetworkID + " is not reachable from subnet " + sub.ID +
				".  Therefore, cannot associate Port " + lonely.ID + " with a Floating IP."},
		{"unrouted port on update", "PUT", one, create(map[string]any{"port_id": lonely.ID}), 404,
			"ExternalGatewayForFloatingIPNotFound", "External network " + s.PublicNetworkID + " is not reachable from subnet " + sub.ID +
				".  Therefore, cannot associate Port " + lonely.ID + " with a Floating IP."},
		{"missing port", "PUT", one, create(map[string]any{"port_id": missing}), 404, "PortNotFound", "Port " + missing + " could not be found."},
		{"fixed IP not on port", "PUT", one, create(map[string]any{"port_id": web.ID, "fixed_ip_address": "10.0.0.200"}), 400, "BadRequest",
			"Bad floatingip request: Port " + web.ID + " does not have fixed ip 10.0.0.200."},
		{"fixed IP without port", "PUT", one, create(map[string]any{"fixed_ip_address": s.Web01Address}), 400, "BadRequest",
			"Bad floatingip request: fixed_ip_address cannot be specified without a port_id"},
		{"read-only network", "PUT", one, create(map[string]any{"floating_network_id": s.PublicNetworkID}), 400, "HTTPBadRequest",
			"Cannot update read-only attribute floating_network_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wireCall(t, nc, tc.method, tc.url, tc.body).neutronFault(t, tc.status, tc.typ, tc.msg)
		})
	}
	// None of the refused requests left a floating IP or changed the one there is.
	pages, _ := floatingips.List(nc, floatingips.ListOpts{}).AllPages(ctx)
	if list, _ := floatingips.ExtractFloatingIPs(pages); len(list) != 1 || list[0].PortID != "" {
		t.Fatalf("floating IPs after the errors = %+v", list)
	}
	// An admin may choose the address; a taken one is Neutron's IpAddressAlreadyAllocated.
	admin := networkClient(t, provider(t, adminAuth(c)))
	chosen := wireCall(t, admin, "POST", url, create(map[string]any{"floating_network_id": s.PublicNetworkID, "floating_ip_address": "203.0.113.77"}))
	if chosen.status != 201 || chosen.object(t, "floatingip")["floating_ip_address"] != "203.0.113.77" {
		t.Fatalf("admin's chosen address: %s", chosen.text)
	}
	taken := wireCall(t, admin, "POST", url, create(map[string]any{"floating_network_id": s.PublicNetworkID, "floating_ip_address": "203.0.113.77"}))
	if taken.status != 409 || taken.json["NeutronError"].(map[string]any)["type"] != "IpAddressAlreadyAllocated" {
		t.Fatalf("taken address: %s", taken.text)
	}
}

func TestNeutron_RouterGatewayAndInterfaceAreInUseByAFloatingIP(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	port := web01Port(t, c, nc)
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID, PortID: port.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	wireCall(t, nc, "PUT", nc.ServiceURL("routers", s.RouterID), map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{}}}).
		neutronFault(t, 409, "RouterExternalGatewayInUseByFloatingIp", "Gateway cannot be updated for router "+s.RouterID+
			", since a gateway to external network "+s.PublicNetworkID+" is required by one or more floating IPs.")
	wireCall(t, nc, "PUT", nc.ServiceURL("routers", s.RouterID, "remove_router_interface"), map[string]any{"subnet_id": s.SubnetID}).
		neutronFault(t, 409, "RouterInterfaceInUseByFloatingIP", "Router interface for subnet "+s.SubnetID+" on router "+s.RouterID+
			" cannot be deleted, as it is required by one or more floating IPs.")
	iface := wireCall(t, nc, "GET", nc.ServiceURL("ports")+"?device_owner=network:router_interface", nil).list(t, "ports")[0].(map[string]any)["id"].(string)
	wireCall(t, nc, "DELETE", nc.ServiceURL("routers", s.RouterID), nil).
		neutronFault(t, 409, "RouterInUse", "Router "+s.RouterID+" has ports still attached: "+iface)
	empty := ""
	if _, err := floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: &empty}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := routers.RemoveInterface(ctx, nc, s.RouterID, routers.RemoveInterfaceOpts{SubnetID: s.SubnetID}).Extract(); err != nil {
		t.Fatalf("remove interface once the floating IP is gone: %v", err)
	}
	cleared, err := routers.Update(ctx, nc, s.RouterID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{}}).Extract()
	if err != nil || cleared.GatewayInfo.NetworkID != "" {
		t.Fatalf("clear gateway: %+v, %v", cleared, err)
	}
	// Without a router the port cannot get a floating IP; with the gateway and interface back it can.
	wireCall(t, nc, "PUT", nc.ServiceURL("floatingips", fip.ID), map[string]any{"floatingip": map[string]any{"port_id": port.ID}}).
		neutronFault(t, 404, "ExternalGatewayForFloatingIPNotFound", "External network "+s.PublicNetworkID+" is not reachable from subnet "+
			s.SubnetID+".  Therefore, cannot associate Port "+port.ID+" with a Floating IP.")
	if _, err := routers.Update(ctx, nc, s.RouterID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: s.PublicNetworkID}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := routers.AddInterface(ctx, nc, s.RouterID, routers.AddInterfaceOpts{SubnetID: s.SubnetID}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: &port.ID}).Extract(); err != nil {
		t.Fatalf("associate through the rebuilt router: %v", err)
	}
	// A gateway only goes to an external network.
	wireCall(t, nc, "PUT", nc.ServiceURL("routers", s.RouterID), map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": s.NetworkID}}}).
		neutronFault(t, 400, "BadRequest", "Bad router request: Network "+s.NetworkID+" is not an external network.")
}

func TestNeutron_DeletingAnAssociatedPortDisassociatesItsFloatingIP(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	p, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: s.NetworkID, Name: "spare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID, PortID: p.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitFloatingIPStatus(t, nc, fip.ID, "ACTIVE")
	if err := ports.Delete(ctx, nc, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got := waitFloatingIPStatus(t, nc, fip.ID, "DOWN")
	if got.PortID != "" || got.FixedIP != "" || got.RouterID != "" {
		t.Fatalf("floating IP after its port was deleted = %+v", got)
	}
}

func TestNeutron_FloatingIPAndSecurityGroupTagsSubresource(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	fip, _ := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID}).Extract()
	tags, err := attributestags.ReplaceAll(ctx, nc, "floatingips", fip.ID, attributestags.ReplaceAllOpts{Tags: []string{"x", "y"}}).Extract()
	if err != nil || strings.Join(tags, ",") != "x,y" {
		t.Fatalf("replace tags: %v, %v", tags, err)
	}
	added := wireCall(t, nc, "PUT", nc.ServiceURL("floatingips", fip.ID, "tags", "z"), nil)
	if added.status != http.StatusCreated || strings.TrimSpace(added.text) != "null" {
		t.Fatalf("add one tag: %d %q", added.status, added.text)
	}
	if ok, err := attributestags.Confirm(ctx, nc, "floatingips", fip.ID, "z").Extract(); err != nil || !ok {
		t.Fatalf("confirm z: %v %v", ok, err)
	}
	wireCall(t, nc, "GET", nc.ServiceURL("floatingips", fip.ID, "tags", "nope"), nil).neutronFault(t, 404, "TagNotFound", "Tag nope could not be found.")
	if err := attributestags.Delete(ctx, nc, "floatingips", fip.ID, "x").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	pages, _ := floatingips.List(nc, floatingips.ListOpts{Tags: "y,z"}).AllPages(ctx)
	if list, _ := floatingips.ExtractFloatingIPs(pages); len(list) != 1 || strings.Join(list[0].Tags, ",") != "y,z" {
		t.Fatalf("list by tags = %+v", list)
	}
	if got, _ := attributestags.List(ctx, nc, "security-groups", s.SecurityGroupID).Extract(); len(got) != 0 {
		t.Fatalf("default group tags = %v", got)
	}
	if _, err := attributestags.ReplaceAll(ctx, nc, "security-groups", s.SecurityGroupID, attributestags.ReplaceAllOpts{Tags: []string{"web"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	sg := wireCall(t, nc, "GET", nc.ServiceURL("security-groups", s.SecurityGroupID), nil).object(t, "security_group")
	if tags, _ := sg["tags"].([]any); len(tags) != 1 || tags[0] != "web" {
		t.Fatalf("group after tagging = %+v", sg)
	}
	const missing = "00000000-0000-0000-0000-000000000000"
	wireCall(t, nc, "GET", nc.ServiceURL("floatingips", missing, "tags"), nil).
		neutronFault(t, 404, "FloatingIPNotFound", "Floating IP "+missing+" could not be found")
}

// The provider gives the load balancer's VIP a floating IP: on devcloud its address is served
// on the VIP's loopback listener, listed by /_devcloud/vips.
func TestNeutron_FloatingIPOnLoadBalancerVIPIsServedOnTheVIPListener(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	pc := provider(t, demoAuth(c))
	nc := networkClient(t, pc)
	lc, err := openstack.NewLoadBalancerV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	lb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "web", VipSubnetID: s.SubnetID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	l, err := listeners.Create(ctx, lc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	pool, err := pools.Create(ctx, lc, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	if _, err := pools.CreateMember(ctx, lc, pool.ID, pools.CreateMemberOpts{Address: s.Web01Address, ProtocolPort: 80}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: s.PublicNetworkID, PortID: lb.VipPortID}).Extract()
	if err != nil {
		t.Fatalf("floating IP on the VIP port: %v", err)
	}
	if fip.FixedIP != lb.VipAddress || fip.RouterID != s.RouterID {
		t.Fatalf("floating IP = %+v, VIP %s", fip, lb.VipAddress)
	}
	type doc struct {
		VIPs []struct{ LoadBalancerID, ListenerID, VIPAddress, URL string } `json:"vips"`
		FIPs []FloatingIPTarget                                             `json:"floating_ips"`
	}
	var d doc
	control(t, c, "GET", "/vips", nil, &d)
	if len(d.FIPs) != 0 {
		t.Fatalf("a floating IP the agent has not applied yet is served: %+v", d.FIPs)
	}
	waitFloatingIPStatus(t, nc, fip.ID, "ACTIVE")
	control(t, c, "GET", "/vips", nil, &d)
	if len(d.VIPs) != 1 || len(d.FIPs) != 1 {
		t.Fatalf("vips document = %+v", d)
	}
	target := d.FIPs[0]
	if target.FloatingIPAddress != fip.FloatingIP || target.FloatingIPID != fip.ID || target.PortID != lb.VipPortID ||
		target.FixedIPAddress != lb.VipAddress || target.LoadBalancerID != lb.ID || target.ListenerID != l.ID || target.URL != d.VIPs[0].URL {
		t.Fatalf("floating IP target = %+v, VIP %+v", target, d.VIPs[0])
	}
	if got := c.FloatingIPTargets(); len(got) != 1 || got[0] != target {
		t.Fatalf("FloatingIPTargets() = %+v", got)
	}
	eventually(t, 5*time.Second, "web01 answers through the floating IP", func() bool {
		resp, err := http.Get(target.URL + "/")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	empty := ""
	if _, err := floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: &empty}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitFloatingIPStatus(t, nc, fip.ID, "DOWN")
	if got := c.FloatingIPTargets(); len(got) != 0 {
		t.Fatalf("a disassociated floating IP is still served: %+v", got)
	}
}
