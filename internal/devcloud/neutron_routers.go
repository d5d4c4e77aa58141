package devcloud

import (
	"net/http"
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
			"id": rt.ID, "name": rt.Name, "status": "ACTIVE", "admin_state_up": rt.AdminUp, "external_gateway_info": nil,
			"routes": []any{}, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID, "description": rt.Description,
			"distributed": false, "ha": false, "availability_zone_hints": []string{}, "availability_zones": []string{"nova"},
			"flavor_id": nil, "tags": []string{}, "created_at": neutronTime(rt.Created), "updated_at": neutronTime(rt.Updated), "revision_number": 1,
		})
	}
	return out
}

func (c *Cloud) createRouter(project string, body map[string]any) (map[string]any, *neutronErr) {
	now := time.Now().UTC()
	rt := &router{ID: c.newID(), ProjectID: project, AdminUp: true, Created: now, Updated: now}
	rt.Name, _ = body["name"].(string)
	rt.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		rt.AdminUp = v
	}
	c.st.routers[rt.ID] = rt
	c.st.routerOrder = append(c.st.routerOrder, rt.ID)
	for _, v := range c.routerViews(project, false) {
		if v["id"] == rt.ID {
			return v, nil
		}
	}
	return nil, nil
}

func (c *Cloud) deleteRouter(project, id string) *neutronErr {
	for _, p := range c.st.ports {
		if p.DeviceID == id && p.DeviceOwner == "network:router_interface" {
			return nErr(http.StatusConflict, "RouterInUse", "Router %s still has ports", id)
		}
	}
	delete(c.st.routers, id)
	c.st.routerOrder = removeString(c.st.routerOrder, id)
	return nil
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
		c.deletePortLocked(p.ID)
	}
	subnetID := ""
	if len(p.FixedIPs) > 0 {
		subnetID = p.FixedIPs[0].SubnetID
	}
	writeJSON(nr.w, http.StatusOK, map[string]any{"id": routerID, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID,
		"port_id": p.ID, "network_id": p.NetworkID, "subnet_id": subnetID, "subnet_ids": []string{subnetID}})
}
