package devcloud

import (
	"net/http"
	"sort"
)

func (c *Cloud) groupView(g *serverGroup, mv microversion) map[string]any {
	m := map[string]any{"id": g.ID, "name": g.Name, "members": append([]string{}, g.Members...)}
	if mv >= 64 {
		m["policy"] = g.Policy
		rules := g.Rules
		if rules == nil {
			rules = map[string]any{}
		}
		m["rules"] = rules
	} else {
		m["policies"] = []string{g.Policy}
		m["metadata"] = map[string]any{}
	}
	if mv >= 13 {
		m["project_id"], m["user_id"] = g.ProjectID, g.UserID
	}
	return m
}

var groupPolicies = map[string]bool{"anti-affinity": true, "affinity": true, "soft-anti-affinity": true, "soft-affinity": true}

func (n *novaReq) serverGroups(rest []string) {
	c := n.c
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		c.mu.Lock()
		defer c.mu.Unlock()
		ids := make([]string, 0, len(c.st.groups))
		for id, g := range c.st.groups {
			if g.ProjectID == n.tok.ProjectID {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		out := []any{}
		for _, id := range ids {
			out = append(out, c.groupView(c.st.groups[id], n.mv))
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"server_groups": out})
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		var req struct {
			SG struct {
				Name     string         `json:"name"`
				Policies []string       `json:"policies"`
				Policy   string         `json:"policy"`
				Rules    map[string]any `json:"rules"`
			} `json:"server_group"`
		}
		if err := readJSON(n.r, &req); err != nil || req.SG.Name == "" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server_group. 'name' is a required property")
			return
		}
		policy := req.SG.Policy
		if n.mv < 64 {
			if len(req.SG.Policies) != 1 {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute policies. Value: %v. %v is too long", req.SG.Policies, req.SG.Policies)
				return
			}
			policy = req.SG.Policies[0]
		}
		if !groupPolicies[policy] {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute policy. Value: %s. '%s' is not one of ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']", policy, policy)
			return
		}
		if len(req.SG.Rules) > 0 && policy != "anti-affinity" {
			novaError(n.w, http.StatusBadRequest, "Only anti-affinity policy supports rules.")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		count := 0
		for _, g := range c.st.groups {
			if g.ProjectID == n.tok.ProjectID {
				count++
			}
		}
		if novaLimitExceeded(c.novaQuota(n.tok.ProjectID)["server_groups"], count, 1) {
			novaError(n.w, http.StatusForbidden, "Quota exceeded, too many server groups.")
			return
		}
		g := &serverGroup{ID: c.newID(), Name: req.SG.Name, ProjectID: n.tok.ProjectID, UserID: n.tok.UserID, Policy: policy, Rules: req.SG.Rules}
		c.st.groups[g.ID] = g
		writeJSON(n.w, http.StatusOK, map[string]any{"server_group": c.groupView(g, n.mv)})
	case len(rest) == 1:
		c.mu.Lock()
		defer c.mu.Unlock()
		g := c.st.groups[rest[0]]
		if g == nil || (g.ProjectID != n.tok.ProjectID && !n.isAdmin()) {
			novaError(n.w, http.StatusNotFound, "Instance group %s could not be found.", rest[0])
			return
		}
		switch n.r.Method {
		case http.MethodGet:
			writeJSON(n.w, http.StatusOK, map[string]any{"server_group": c.groupView(g, n.mv)})
		case http.MethodDelete:
			delete(c.st.groups, g.ID)
			for _, s := range c.st.servers {
				if s.GroupID == g.ID {
					s.GroupID = ""
				}
			}
			n.w.WriteHeader(http.StatusNoContent)
		default:
			n.methodNotAllowed()
		}
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}
