package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func defaultNovaQuota() map[string]int {
	return map[string]int{"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
		"server_groups": 10, "server_group_members": 10, "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255}
}

// novaQuotaCheck returns Nova's quota message when the request does not fit. Callers hold c.mu.
func (c *Cloud) novaQuotaCheck(project string, instances, cores, ram int) string {
	q := c.st.quotas[project]
	used := map[string]int{}
	for _, s := range c.st.servers {
		if s.ProjectID != project || s.Deleted {
			continue
		}
		used["instances"]++
		if f := c.st.flavors[s.FlavorID]; f != nil {
			used["cores"] += f.VCPUs
			used["ram"] += f.RAM
		}
	}
	req := map[string]int{"instances": instances, "cores": cores, "ram": ram}
	var overs, reqs, useds, allowed []string
	for _, res := range []string{"cores", "instances", "ram"} {
		limit, ok := q[res]
		if !ok || limit < 0 {
			continue
		}
		if used[res]+req[res] > limit {
			overs = append(overs, res)
			reqs = append(reqs, strconv.Itoa(req[res]))
			useds = append(useds, strconv.Itoa(used[res]))
			allowed = append(allowed, strconv.Itoa(limit))
		}
	}
	if len(overs) == 0 {
		return ""
	}
	o := strings.Join(overs, ", ")
	return fmt.Sprintf("Quota exceeded for %s: Requested %s, but already used %s of %s %s", o, strings.Join(reqs, ", "), strings.Join(useds, ", "), strings.Join(allowed, ", "), o)
}

func (n *novaReq) quotaSets(rest []string) {
	if len(rest) == 0 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	c := n.c
	projectID := rest[0]
	if projectID != n.tok.ProjectID && !n.isAdmin() {
		novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.quotas[projectID]
	if q == nil {
		if c.st.projects[projectID] == nil {
			novaError(n.w, http.StatusBadRequest, "Project ID %s is not a valid project.", projectID)
			return
		}
		q = defaultNovaQuota()
		c.st.quotas[projectID] = q
	}
	view := func(detail bool) map[string]any {
		used := map[string]int{}
		for _, s := range c.st.servers {
			if s.ProjectID == projectID && !s.Deleted {
				used["instances"]++
				if f := c.st.flavors[s.FlavorID]; f != nil {
					used["cores"] += f.VCPUs
					used["ram"] += f.RAM
				}
			}
		}
		for _, g := range c.st.groups {
			if g.ProjectID == projectID {
				used["server_groups"]++
			}
		}
		m := map[string]any{"id": projectID}
		for k, v := range q {
			if detail {
				m[k] = map[string]any{"limit": v, "in_use": used[k], "reserved": 0}
			} else {
				m[k] = v
			}
		}
		return m
	}
	switch {
	case len(rest) == 1 && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(false)})
	case len(rest) == 2 && rest[1] == "detail" && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(true)})
	case len(rest) == 2 && rest[1] == "defaults" && n.r.Method == http.MethodGet:
		m := map[string]any{"id": projectID}
		for k, v := range defaultNovaQuota() {
			m[k] = v
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": m})
	case len(rest) == 1 && n.r.Method == http.MethodPut:
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
			return
		}
		var req struct {
			QS map[string]any `json:"quota_set"`
		}
		if err := readJSON(n.r, &req); err != nil || req.QS == nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set.")
			return
		}
		for k, v := range req.QS {
			if k == "force" {
				continue
			}
			f, ok := v.(float64)
			if _, known := q[k]; !ok || !known || f < -1 {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set. Additional properties are not allowed ('%s' was unexpected)", k)
				return
			}
		}
		for k, v := range req.QS {
			if f, ok := v.(float64); ok {
				q[k] = int(f)
			}
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(false)})
	case len(rest) == 1 && n.r.Method == http.MethodDelete:
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.")
			return
		}
		c.st.quotas[projectID] = defaultNovaQuota()
		n.w.WriteHeader(http.StatusAccepted)
	default:
		n.methodNotAllowed()
	}
}

func (n *novaReq) limits() {
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.quotas[n.tok.ProjectID]
	inst, cores, ram := 0, 0, 0
	for _, s := range c.st.servers {
		if s.ProjectID == n.tok.ProjectID && !s.Deleted {
			inst++
			if f := c.st.flavors[s.FlavorID]; f != nil {
				cores += f.VCPUs
				ram += f.RAM
			}
		}
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": map[string]any{
		"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
		"maxServerMeta": q["metadata_items"], "maxTotalKeypairs": q["key_pairs"], "maxServerGroups": q["server_groups"],
		"maxServerGroupMembers": q["server_group_members"], "totalInstancesUsed": inst, "totalCoresUsed": cores, "totalRAMUsed": ram,
	}}})
}
