package devcloud

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// Routers are database objects only, as on the lab: there is no L3 agent.

func (c *Cloud) routerViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.routerOrder {
		rt := c.st.routers[id]
		if rt.ProjectID != project && !admin {
			continue
		}
		out = append(out, map[string]any{
			"id": rt.ID, "name": rt.Name, "status": "ACTIVE", "admin_state_up": rt.AdminUp, "external_gateway_info": c.gatewayInfo(rt),
			"routes": []any{}, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID, "description": rt.Description,
			"distributed": false, "ha": false, "availability_zone_hints": []string{}, "availability_zones": []string{"nova"},
			"flavor_id": nil, "tags": append([]string{}, rt.Tags...), "created_at": neutronTime(rt.Created), "updated_at": neutronTime(rt.Updated), "revision_number": 1,
		})
	}
	return out
}

// gatewayInfo is the router's external_gateway_info: null without a gateway.
func (c *Cloud) gatewayInfo(rt *router) any {
	gw := c.st.ports[rt.GatewayPortID]
	if gw == nil {
		return nil
	}
	ips := []any{}
	for _, ip := range gw.FixedIPs {
		ips = append(ips, map[string]any{"subnet_id": ip.SubnetID, "ip_address": ip.Address.String()})
	}
	return map[string]any{"network_id": gw.NetworkID, "external_fixed_ips": ips, "enable_snat": rt.EnableSNAT}
}

func (c *Cloud) routerView(project, id string) map[string]any {
	for _, v := range c.routerViews(project, true) {
		if v["id"] == id {
			return v
		}
	}
	return nil
}

func (c *Cloud) createRouter(project string, body map[string]any) (map[string]any, *neutronErr) {
	now := time.Now().UTC()
	rt := &router{ID: c.newID(), ProjectID: project, AdminUp: true, Created: now, Updated: now}
	rt.Name, _ = body["name"].(string)
	rt.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		rt.AdminUp = v
	}
	if gw, ok := body["external_gateway_info"].(map[string]any); ok && gw["network_id"] != nil {
		if err := c.setRouterGateway(rt, gw); err != nil {
			return nil, err
		}
	}
	c.st.routers[rt.ID] = rt
	c.st.routerOrder = append(c.st.routerOrder, rt.ID)
	return c.routerView(project, rt.ID), nil
}

func (c *Cloud) updateRouter(project, id string, body map[string]any) (map[string]any, *neutronErr) {
	rt := c.st.routers[id]
	if gw, ok := body["external_gateway_info"]; ok {
		info, _ := gw.(map[string]any)
		if info == nil || info["network_id"] == nil {
			if err := c.clearRouterGateway(rt); err != nil {
				return nil, err
			}
		} else if err := c.setRouterGateway(rt, info); err != nil {
			return nil, err
		}
	}
	if v, ok := body["name"].(string); ok {
		rt.Name = v
	}
	if v, ok := body["description"].(string); ok {
		rt.Description = v
	}
	if v, ok := body["admin_state_up"].(bool); ok {
		rt.AdminUp = v
	}
	rt.Updated = time.Now().UTC()
	return c.routerView(project, id), nil
}

// setRouterGateway plugs the router into an external network through a port of no project
// (owner network:router_gateway), as Neutron does; an existing gateway elsewhere is replaced.
func (c *Cloud) setRouterGateway(rt *router, info map[string]any) *neutronErr {
	netID, _ := info["network_id"].(string)
	n := c.st.networks[netID]
	if n == nil {
		return nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", netID)
	}
	if !n.External {
		return nErr(http.StatusBadRequest, "BadRequest", "Bad router request: Network %s is not an external network.", netID)
	}
	if gw := c.st.ports[rt.GatewayPortID]; gw != nil {
		if gw.NetworkID == netID {
			if v, ok := info["enable_snat"].(bool); ok {
				rt.EnableSNAT = v
			}
			return nil
		}
		if err := c.clearRouterGateway(rt); err != nil {
			return err
		}
	}
	p, err := c.allocatePortLocked("", netID, "", "", "")
	if err != nil {
		return asNeutronErr(err)
	}
	p.DeviceID, p.DeviceOwner = rt.ID, "network:router_gateway"
	rt.GatewayPortID, rt.EnableSNAT = p.ID, true
	if v, ok := info["enable_snat"].(bool); ok {
		rt.EnableSNAT = v
	}
	return nil
}

// clearRouterGateway unplugs the router from its external network unless floating IPs
// reach their ports through it.
func (c *Cloud) clearRouterGateway(rt *router) *neutronErr {
	gw := c.st.ports[rt.GatewayPortID]
	if gw == nil {
		return nil
	}
	for _, f := range c.st.floatingIPs {
		if f.RouterID == rt.ID {
			return nErr(http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp",
				"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", rt.ID, gw.NetworkID)
		}
	}
	c.deletePortLocked(gw.ID)
	rt.GatewayPortID = ""
	return nil
}

func (c *Cloud) deleteRouter(project, id string) *neutronErr {
	var attached []string
	for _, pid := range c.st.portOrder {
		if p := c.st.ports[pid]; p.DeviceID == id && p.DeviceOwner == "network:router_interface" {
			attached = append(attached, p.ID)
		}
	}
	if len(attached) > 0 {
		sort.Strings(attached)
		return nErr(http.StatusConflict, "RouterInUse", "Router %s has ports still attached: %s", id, strings.Join(attached, ", "))
	}
	if gw := c.st.routers[id].GatewayPortID; gw != "" {
		c.deletePortLocked(gw)
	}
	delete(c.st.routers, id)
	c.st.routerOrder = removeString(c.st.routerOrder, id)
	return nil
}

// routerForFloatingIP finds the router that joins a subnet to an external network: an
// interface on the subnet and a gateway on the network, the one whose interface holds the
// subnet's gateway address first (Neutron's get_router_for_floatingip).
func (c *Cloud) routerForFloatingIP(subnetID, externalNetID string) string {
	sn := c.st.subnets[subnetID]
	first := ""
	for _, pid := range c.st.portOrder {
		p := c.st.ports[pid]
		if p.DeviceOwner != "network:router_interface" || len(p.FixedIPs) == 0 || p.FixedIPs[0].SubnetID != subnetID {
			continue
		}
		rt := c.st.routers[p.DeviceID]
		if rt == nil {
			continue
		}
		if gw := c.st.ports[rt.GatewayPortID]; gw == nil || gw.NetworkID != externalNetID {
			continue
		}
		if sn != nil && p.FixedIPs[0].Address == sn.Gateway {
			return rt.ID
		}
		if first == "" {
			first = rt.ID
		}
	}
	return first
}

// routerInterface attaches a subnet through a port holding its gateway address, or detaches it.
func (nr *neutronReq) routerInterface(routerID string, add bool) {
	var body struct {
		SubnetID string `json:"subnet_id"`
		PortID   string `json:"port_id"`
	}
	if err := readJSON(nr.r, &body); err != nil || (body.SubnetID == "" && body.PortID == "") {
		neutronError(nr.w, http.StatusBadRequest, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.")
		return
	}
	c := nr.c
	c.mu.Lock()
	defer c.mu.Unlock()
	rt := c.st.routers[routerID]
	if rt == nil || (rt.ProjectID != nr.tok.ProjectID && !contains(nr.tok.Roles, "admin")) {
		neutronError(nr.w, http.StatusNotFound, "RouterNotFound", "Router %s could not be found", routerID)
		return
	}
	var p *port
	for _, id := range c.st.portOrder {
		cand := c.st.ports[id]
		if cand.DeviceID != routerID || cand.DeviceOwner != "network:router_interface" {
			continue
		}
		if cand.ID == body.PortID || (len(cand.FixedIPs) > 0 && cand.FixedIPs[0].SubnetID == body.SubnetID) {
			p = cand
		}
	}
	if add {
		if p != nil {
			neutronError(nr.w, http.StatusBadRequest, "BadRequest", "Bad router request: Router already has a port on subnet %s.", body.SubnetID)
			return
		}
		if body.PortID != "" {
			p = c.st.ports[body.PortID]
			if p == nil {
				neutronError(nr.w, http.StatusNotFound, "PortNotFound", "Port %s could not be found.", body.PortID)
				return
			}
		} else {
			sn := c.st.subnets[body.SubnetID]
			if sn == nil {
				neutronError(nr.w, http.StatusNotFound, "SubnetNotFound", "Subnet %s could not be found.", body.SubnetID)
				return
			}
			np, err := c.allocatePortLocked(rt.ProjectID, sn.NetworkID, sn.ID, "", sn.Gateway.String())
			if err != nil {
				ne := asNeutronErr(err)
				neutronError(nr.w, ne.status, ne.typ, "%s", ne.msg)
				return
			}
			p = np
		}
		p.DeviceID, p.DeviceOwner, p.Updated = routerID, "network:router_interface", time.Now().UTC()
	} else {
		if p == nil {
			neutronError(nr.w, http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", routerID, body.SubnetID)
			return
		}
		if len(p.FixedIPs) > 0 && c.floatingIPsThrough(routerID, p.FixedIPs[0].SubnetID) {
			subnet := p.FixedIPs[0].SubnetID
			neutronError(nr.w, http.StatusConflict, "RouterInterfaceInUseByFloatingIP",
				"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", subnet, routerID)
			return
		}
		c.deletePortLocked(p.ID)
	}
	subnetID := ""
	if len(p.FixedIPs) > 0 {
		subnetID = p.FixedIPs[0].SubnetID
	}
	writeJSON(nr.w, http.StatusOK, map[string]any{"id": routerID, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID,
		"port_id": p.ID, "network_id": p.NetworkID, "subnet_id": subnetID, "subnet_ids": []string{subnetID}})
}
