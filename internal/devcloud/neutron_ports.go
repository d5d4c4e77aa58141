package devcloud

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

func (c *Cloud) portView(p *port, admin bool) map[string]any {
	var ips []any
	for _, ip := range p.FixedIPs {
		ips = append(ips, map[string]any{"subnet_id": ip.SubnetID, "ip_address": ip.Address.String()})
	}
	status := "DOWN"
	if p.DeviceID != "" {
		status = "ACTIVE"
	}
	m := map[string]any{
		"id": p.ID, "name": p.Name, "network_id": p.NetworkID, "tenant_id": p.ProjectID, "project_id": p.ProjectID,
		"mac_address": p.MAC, "fixed_ips": ips, "device_id": p.DeviceID, "device_owner": p.DeviceOwner, "status": status,
		"admin_state_up": p.AdminUp, "security_groups": append([]string{}, p.SecurityGroups...), "allowed_address_pairs": []any{},
		"extra_dhcp_opts": []any{}, "binding:vnic_type": "normal", "port_security_enabled": true, "description": p.Description,
		"tags": append([]string{}, p.Tags...), "created_at": neutronTime(p.Created), "updated_at": neutronTime(p.Updated), "revision_number": 1,
	}
	if admin {
		// Neutron's policy shows the binding attributes to admins only.
		host, vif := "", "unbound"
		if s := c.st.servers[p.DeviceID]; s != nil && s.Host != "" {
			host, vif = s.Host, "ovs"
		}
		m["binding:host_id"], m["binding:vif_type"], m["binding:vif_details"], m["binding:profile"] = host, vif, map[string]any{}, map[string]any{}
	}
	return m
}

func (c *Cloud) portViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.portOrder {
		p := c.st.ports[id]
		if p.ProjectID != project && !admin {
			continue
		}
		out = append(out, c.portView(p, admin))
	}
	return out
}

// allocatePortLocked creates a port with the lowest free address of the subnet (the network's
// first subnet when subnetID is empty), or the requested address.
func (c *Cloud) allocatePortLocked(project, networkID, subnetID, name, wantIP string) (*port, error) {
	n := c.st.networks[networkID]
	if n == nil {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", networkID)
	}
	if subnetID == "" {
		if len(n.Subnets) == 0 {
			return nil, nErr(http.StatusBadRequest, "BadRequest", "Network %s has no subnet to allocate an address from.", networkID)
		}
		subnetID = n.Subnets[0]
	}
	s := c.st.subnets[subnetID]
	if s == nil || s.NetworkID != networkID {
		return nil, nErr(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: Failed to create port on network %s, because fixed_ips included invalid subnet %s.", networkID, subnetID)
	}
	used := map[netip.Addr]bool{}
	for _, p := range c.st.ports {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == subnetID {
				used[ip.Address] = true
			}
		}
	}
	var addr netip.Addr
	if wantIP != "" {
		a, err := netip.ParseAddr(wantIP)
		if err != nil || !s.CIDR.Contains(a) {
			return nil, nErr(http.StatusBadRequest, "InvalidIpForSubnet", "IP address %s is not a valid IP for the specified subnet.", wantIP)
		}
		if used[a] {
			return nil, nErr(http.StatusConflict, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", wantIP, subnetID)
		}
		addr = a
	} else {
	pools:
		for _, pool := range s.Pools {
			for a := pool[0]; a.Compare(pool[1]) <= 0; a = a.Next() {
				if !used[a] {
					addr = a
					break pools
				}
			}
		}
		if !addr.IsValid() {
			return nil, nErr(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", networkID)
		}
	}
	now := time.Now().UTC()
	b := c.rng.Uint32()
	p := &port{ID: c.newID(), Name: name, NetworkID: networkID, ProjectID: project,
		MAC:      fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", byte(b>>16), byte(b>>8), byte(b)),
		FixedIPs: []fixedIP{{SubnetID: subnetID, Address: addr}}, AdminUp: true, Tags: []string{}, Created: now, Updated: now}
	if sg := c.findSecGroup(project, "default"); sg != nil {
		p.SecurityGroups = []string{sg.ID}
	}
	c.st.ports[p.ID] = p
	c.st.portOrder = append(c.st.portOrder, p.ID)
	return p, nil
}

func (c *Cloud) deletePortLocked(id string) {
	c.disassociatePort(id)
	delete(c.st.ports, id)
	c.st.portOrder = removeString(c.st.portOrder, id)
}

func (c *Cloud) createPort(project string, body map[string]any) (map[string]any, *neutronErr) {
	netID, _ := body["network_id"].(string)
	n := c.st.networks[netID]
	if n == nil || (n.ProjectID != project && !n.Shared) {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", netID)
	}
	subnetID, ip := "", ""
	if ips, ok := body["fixed_ips"].([]any); ok && len(ips) > 0 {
		m, _ := ips[0].(map[string]any)
		subnetID, _ = m["subnet_id"].(string)
		ip, _ = m["ip_address"].(string)
	}
	name, _ := body["name"].(string)
	p, err := c.allocatePortLocked(project, netID, subnetID, name, ip)
	if err != nil {
		return nil, asNeutronErr(err)
	}
	p.DeviceID, _ = body["device_id"].(string)
	p.DeviceOwner, _ = body["device_owner"].(string)
	p.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		p.AdminUp = v
	}
	if sgs, ok := body["security_groups"].([]any); ok {
		p.SecurityGroups = nil
		for _, sg := range sgs {
			id := fmt.Sprint(sg)
			if c.st.secGroups[id] == nil {
				c.deletePortLocked(p.ID)
				return nil, nErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
			}
			p.SecurityGroups = append(p.SecurityGroups, id)
		}
	}
	return c.portView(p, false), nil
}

func (c *Cloud) updatePort(project, id string, body map[string]any) (map[string]any, *neutronErr) {
	p := c.st.ports[id]
	if v, ok := body["name"].(string); ok {
		p.Name = v
	}
	if v, ok := body["description"].(string); ok {
		p.Description = v
	}
	if v, ok := body["device_id"].(string); ok {
		p.DeviceID = v
	}
	if v, ok := body["device_owner"].(string); ok {
		p.DeviceOwner = v
	}
	if v, ok := body["admin_state_up"].(bool); ok {
		p.AdminUp = v
	}
	p.Updated = time.Now().UTC()
	return c.portView(p, false), nil
}

func (c *Cloud) deletePort(project, id string) *neutronErr {
	p := c.st.ports[id]
	if strings.HasPrefix(p.DeviceOwner, "compute:") {
		// Deleting a bound port detaches it from the server, as Neutron does.
		if s := c.st.servers[p.DeviceID]; s != nil {
			s.Ports = removeString(s.Ports, id)
		}
	}
	c.deletePortLocked(id)
	return nil
}
