package devcloud

import (
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Floating IPs follow an L3 agent's life cycle: DOWN when created; a change of association
// leaves the status as it was until the agent applied it (after the fip_update delay), then
// ACTIVE when associated, DOWN when not.

// fipAttrs are the attributes a floating IP's POST may carry; fipUpdatable those of a PUT.
var (
	fipAttrs = map[string]bool{"floating_network_id": true, "floating_ip_address": true, "subnet_id": true, "port_id": true,
		"fixed_ip_address": true, "description": true, "tenant_id": true, "project_id": true, "qos_policy_id": true}
	fipUpdatable = map[string]bool{"port_id": true, "fixed_ip_address": true, "description": true, "qos_policy_id": true}
)

func (c *Cloud) floatingIPView(f *floatingIP) map[string]any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var details any
	if p := c.st.ports[f.PortID]; p != nil {
		status := "DOWN"
		if p.DeviceID != "" {
			status = "ACTIVE"
		}
		details = map[string]any{"name": p.Name, "network_id": p.NetworkID, "mac_address": p.MAC, "admin_state_up": p.AdminUp,
			"status": status, "device_id": p.DeviceID, "device_owner": p.DeviceOwner}
	}
	return map[string]any{"id": f.ID, "tenant_id": f.ProjectID, "project_id": f.ProjectID, "floating_ip_address": f.Address,
		"floating_network_id": f.NetworkID, "router_id": null(f.RouterID), "port_id": null(f.PortID),
		"fixed_ip_address": null(f.FixedIP), "status": f.Status, "description": f.Description, "port_details": details,
		"tags": append([]string{}, f.Tags...), "created_at": neutronTime(f.Created), "updated_at": neutronTime(f.Updated),
		"revision_number": f.Revision}
}

func (c *Cloud) floatingIPViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.fipOrder {
		if f := c.st.floatingIPs[id]; f.ProjectID == project || admin {
			out = append(out, c.floatingIPView(f))
		}
	}
	return out
}

func unrecognized(body map[string]any, allowed map[string]bool) *neutronErr {
	var unknown []string
	for k := range body {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return nErr(http.StatusBadRequest, "HTTPBadRequest", "Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
}

func badFloatingIP(format string, args ...any) *neutronErr {
	return nErr(http.StatusBadRequest, "BadRequest", "Bad floatingip request: "+format, args...)
}

// createFloatingIP allocates an address on an external network and, with port_id, associates
// it at once; an association that fails leaves nothing behind, as in Neutron.
func (c *Cloud) createFloatingIP(project string, body map[string]any, admin bool) (map[string]any, *neutronErr) {
	if _, ok := body["tags"]; ok {
		return nil, nErr(http.StatusBadRequest, "HTTPBadRequest", "Attribute 'tags' not allowed in POST")
	}
	if err := unrecognized(body, fipAttrs); err != nil {
		return nil, err
	}
	netID, _ := body["floating_network_id"].(string)
	if netID == "" {
		return nil, nErr(http.StatusBadRequest, "HTTPBadRequest", "Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	wantIP, _ := body["floating_ip_address"].(string)
	if wantIP != "" && !admin {
		return nil, nErr(http.StatusForbidden, "PolicyNotAuthorized", "(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy")
	}
	if admin {
		for _, k := range []string{"project_id", "tenant_id"} {
			if v, _ := body[k].(string); v != "" {
				project = v
			}
		}
	}
	n := c.st.networks[netID]
	if n == nil {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", netID)
	}
	if !n.External {
		return nil, badFloatingIP("Network %s is not a valid external network.", netID)
	}
	subnetID, _ := body["subnet_id"].(string)
	ext, err := c.allocatePortLocked("", netID, subnetID, "", wantIP)
	if err != nil {
		return nil, asNeutronErr(err)
	}
	now := time.Now().UTC()
	f := &floatingIP{ID: c.newID(), ProjectID: project, NetworkID: netID, ExternalPortID: ext.ID,
		Address: ext.FixedIPs[0].Address.String(), Status: "DOWN", Tags: []string{}, Created: now, Updated: now}
	f.Description, _ = body["description"].(string)
	ext.DeviceID, ext.DeviceOwner = f.ID, "network:floatingip"
	portID, _ := body["port_id"].(string)
	fixedIP, _ := body["fixed_ip_address"].(string)
	if portID != "" || fixedIP != "" {
		if aerr := c.associateFloatingIP(f, project, admin, portID, fixedIP); aerr != nil {
			c.deletePortLocked(ext.ID)
			return nil, aerr
		}
	}
	c.st.floatingIPs[f.ID] = f
	c.st.fipOrder = append(c.st.fipOrder, f.ID)
	return c.floatingIPView(f), nil
}

// associateFloatingIP checks and applies an association of f with a port's fixed IP, in
// Neutron's order (l3_db._check_and_get_fip_assoc). An empty portID with an empty fixedIP
// disassociates. Callers hold c.mu.
func (c *Cloud) associateFloatingIP(f *floatingIP, project string, admin bool, portID, wantFixedIP string) *neutronErr {
	fixed := wantFixedIP
	if fixed != "" && portID == "" {
		return badFloatingIP("fixed_ip_address cannot be specified without a port_id")
	}
	if portID == "" {
		c.setAssociation(f, "", "", "")
		return nil
	}
	p := c.st.ports[portID]
	if p == nil || (!admin && p.ProjectID != project) {
		return nErr(http.StatusNotFound, "PortNotFound", "Port %s could not be found.", portID)
	}
	if p.ProjectID != f.ProjectID && !admin {
		return badFloatingIP("Cannot process floating IP association with Port %s, since that port is owned by a different tenant", portID)
	}
	if p.DeviceOwner == "network:dhcp" {
		// Neutron's message leaves its placeholder unfilled.
		return badFloatingIP("Port %%(id)s is unable to be assigned a floating IP")
	}
	subnetID := ""
	if fixed != "" {
		a, err := netip.ParseAddr(fixed)
		if err != nil || !a.Is4() {
			return badFloatingIP("Cannot process floating IP association with %s, since that is not an IPv4 address", fixed)
		}
		for _, ip := range p.FixedIPs {
			if ip.Address == a {
				subnetID = ip.SubnetID
			}
		}
		if subnetID == "" {
			return badFloatingIP("Port %s does not have fixed ip %s.", p.ID, fixed)
		}
	} else {
		var v4 []fixedIP
		for _, ip := range p.FixedIPs {
			if ip.Address.Is4() {
				v4 = append(v4, ip)
			}
		}
		switch len(v4) {
		case 0:
			return badFloatingIP("Cannot add floating IP to port %s that has no fixed IPv4 addresses", p.ID)
		case 1:
			fixed, subnetID = v4[0].Address.String(), v4[0].SubnetID
		default:
			return badFloatingIP("Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", p.ID)
		}
	}
	routerID := c.routerForFloatingIP(subnetID, f.NetworkID)
	if routerID == "" {
		return nErr(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", f.NetworkID, subnetID, p.ID)
	}
	if p.ID != f.PortID {
		for _, other := range c.st.floatingIPs {
			if other != f && other.PortID == p.ID && other.NetworkID == f.NetworkID && other.FixedIP == fixed {
				return nErr(http.StatusConflict, "FloatingIPPortAlreadyAssociated",
					"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
					f.Address, f.ID, p.ID, fixed, f.NetworkID)
			}
		}
	}
	c.setAssociation(f, p.ID, fixed, routerID)
	return nil
}

// setAssociation records an association (or none) and has the agent apply it after the
// fip_update delay. Callers hold c.mu.
func (c *Cloud) setAssociation(f *floatingIP, portID, fixedIP, routerID string) {
	changed := f.PortID != portID || f.FixedIP != fixedIP
	f.PortID, f.FixedIP, f.RouterID = portID, fixedIP, routerID
	if !changed {
		return
	}
	f.assoc++
	assoc, gen := f.assoc, c.gen
	c.afterGen(gen, c.Delay("fip_update"), func() func() {
		if c.st.floatingIPs[f.ID] != f || f.assoc != assoc {
			return nil
		}
		status := "DOWN"
		if f.PortID != "" {
			status = "ACTIVE"
		}
		if f.Status != status {
			f.Status, f.Updated, f.Revision = status, time.Now().UTC(), f.Revision+1
		}
		return nil
	})
}

func (c *Cloud) updateFloatingIP(project, id string, body map[string]any, admin bool) (map[string]any, *neutronErr) {
	for _, k := range []string{"floating_network_id", "floating_ip_address", "subnet_id", "tenant_id", "project_id"} {
		if _, ok := body[k]; ok {
			return nil, nErr(http.StatusBadRequest, "HTTPBadRequest", "Cannot update read-only attribute %s", k)
		}
	}
	if err := unrecognized(body, fipUpdatable); err != nil {
		return nil, err
	}
	f := c.st.floatingIPs[id]
	fixedIP, _ := body["fixed_ip_address"].(string)
	if v, ok := body["port_id"]; ok {
		portID, _ := v.(string)
		if err := c.associateFloatingIP(f, project, admin, portID, fixedIP); err != nil {
			return nil, err
		}
	} else if fixedIP != "" {
		// A new fixed IP without port_id applies to the port already associated.
		if err := c.associateFloatingIP(f, project, admin, f.PortID, fixedIP); err != nil {
			return nil, err
		}
	}
	if v, ok := body["description"].(string); ok {
		f.Description = v
	}
	f.Updated, f.Revision = time.Now().UTC(), f.Revision+1
	return c.floatingIPView(f), nil
}

func (c *Cloud) deleteFloatingIP(project, id string) *neutronErr {
	f := c.st.floatingIPs[id]
	delete(c.st.floatingIPs, id)
	c.st.fipOrder = removeString(c.st.fipOrder, id)
	c.deletePortLocked(f.ExternalPortID)
	return nil
}

// disassociatePort drops the association of every floating IP on a port being deleted, as
// Neutron does before it deletes a port. Callers hold c.mu.
func (c *Cloud) disassociatePort(portID string) {
	for _, f := range c.st.floatingIPs {
		if f.PortID == portID {
			c.setAssociation(f, "", "", "")
			f.Updated, f.Revision = time.Now().UTC(), f.Revision+1
		}
	}
}

// floatingIPsThrough reports whether a floating IP reaches a fixed IP of subnetID through the
// router. Callers hold c.mu.
func (c *Cloud) floatingIPsThrough(routerID, subnetID string) bool {
	for _, f := range c.st.floatingIPs {
		if f.RouterID != routerID {
			continue
		}
		if p := c.st.ports[f.PortID]; p != nil {
			for _, ip := range p.FixedIPs {
				if ip.SubnetID == subnetID && ip.Address.String() == f.FixedIP {
					return true
				}
			}
		}
	}
	return false
}
