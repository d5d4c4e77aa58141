package devcloud

import (
	"net/http"
)

// quotas serves Neutron's read-only quota view: the defaults, which devcloud does not enforce
// beyond address exhaustion.
func (nr *neutronReq) quotas(rest []string) {
	if nr.r.Method != http.MethodGet || len(rest) == 0 {
		neutronError(nr.w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
		return
	}
	project := rest[0]
	if project != nr.tok.ProjectID && !contains(nr.tok.Roles, "admin") {
		neutronError(nr.w, http.StatusForbidden, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
		return
	}
	limits := map[string]int{"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
		"security_group": 10, "security_group_rule": 100, "rbac_policy": 10}
	if len(rest) == 2 && rest[1] == "details" {
		nr.c.mu.Lock()
		st := nr.c.st
		used := map[string]int{
			"network":        countOwned(st.networks, project, func(n *network) string { return n.ProjectID }),
			"subnet":         countOwned(st.subnets, project, func(s *subnet) string { return s.ProjectID }),
			"port":           countOwned(st.ports, project, func(p *port) string { return p.ProjectID }),
			"router":         countOwned(st.routers, project, func(r *router) string { return r.ProjectID }),
			"security_group": countOwned(st.secGroups, project, func(g *secGroup) string { return g.ProjectID }),
		}
		nr.c.mu.Unlock()
		out := map[string]any{}
		for k, v := range limits {
			out[k] = map[string]any{"limit": v, "used": used[k], "reserved": 0}
		}
		writeJSON(nr.w, http.StatusOK, map[string]any{"quota": out})
		return
	}
	writeJSON(nr.w, http.StatusOK, map[string]any{"quota": limits})
}

// countOwned counts the objects of project.
func countOwned[T any](objs map[string]T, project string, owner func(T) string) int {
	n := 0
	for _, o := range objs {
		if owner(o) == project {
			n++
		}
	}
	return n
}
