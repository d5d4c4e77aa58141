package devcloud

import (
	"net/http"
	"time"
)

func (c *Cloud) networkViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.networkOrder {
		n := c.st.networks[id]
		// External networks are visible to every project (Neutron's "external" policy rule).
		if n.ProjectID != project && !n.Shared && !n.External && !admin {
			continue
		}
		out = append(out, map[string]any{
			"id": n.ID, "name": n.Name, "status": "ACTIVE", "subnets": append([]string{}, n.Subnets...), "admin_state_up": n.AdminUp,
			"shared": n.Shared, "tenant_id": n.ProjectID, "project_id": n.ProjectID, "mtu": n.MTU, "router:external": n.External,
			"availability_zone_hints": []string{}, "availability_zones": []string{"nova"}, "ipv4_address_scope": nil, "ipv6_address_scope": nil,
			"description": n.Description, "tags": append([]string{}, n.Tags...), "port_security_enabled": true, "l2_adjacency": true,
			"created_at": neutronTime(n.Created), "updated_at": neutronTime(n.Updated), "revision_number": 1,
		})
	}
	return out
}

func (c *Cloud) networkView(project, id string) map[string]any {
	for _, v := range c.networkViews(project, true) {
		if v["id"] == id {
			return v
		}
	}
	return nil
}

func (c *Cloud) createNetwork(project string, body map[string]any) (map[string]any, *neutronErr) {
	now := time.Now().UTC()
	n := &network{ID: c.newID(), ProjectID: project, AdminUp: true, MTU: 1450, Created: now, Updated: now}
	n.Name, _ = body["name"].(string)
	n.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		n.AdminUp = v
	}
	if v, ok := body["shared"].(bool); ok {
		n.Shared = v
	}
	c.st.networks[n.ID] = n
	c.st.networkOrder = append(c.st.networkOrder, n.ID)
	return c.networkView(project, n.ID), nil
}

func (c *Cloud) deleteNetwork(project, id string) *neutronErr {
	for _, p := range c.st.ports {
		if p.NetworkID == id && p.DeviceOwner != "network:dhcp" {
			return nErr(http.StatusConflict, "NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
		}
	}
	for _, sid := range c.st.networks[id].Subnets {
		delete(c.st.subnets, sid)
		c.st.subnetOrder = removeString(c.st.subnetOrder, sid)
	}
	delete(c.st.networks, id)
	c.st.networkOrder = removeString(c.st.networkOrder, id)
	return nil
}
