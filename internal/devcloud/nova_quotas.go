package devcloud

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// defaultNovaQuota is Nova's [quota] defaults as the lab (Zed) shows them; the four resources
// of nova-network's proxy API are unlimited there.
func defaultNovaQuota() map[string]int {
	return map[string]int{"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
		"server_groups": 10, "server_group_members": 10, "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
		"fixed_ips": -1, "floating_ips": -1, "security_groups": -1, "security_group_rules": -1}
}

// novaHiddenQuotas are the quota resources a microversion no longer shows or accepts
// (FILTERED_QUOTAS_2_36 and FILTERED_QUOTAS_2_57 in Nova's quota_sets controller).
func novaHiddenQuotas(mv microversion) map[string]bool {
	hidden := map[string]bool{}
	if mv >= 36 {
		for _, k := range []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"} {
			hidden[k] = true
		}
	}
	if mv >= 57 {
		for _, k := range []string{"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"} {
			hidden[k] = true
		}
	}
	return hidden
}

// novaLimitExceeded reports whether adding delta to used goes over limit (-1 is unlimited).
func novaLimitExceeded(limit, used, delta int) bool {
	return limit >= 0 && used+delta > limit
}

// novaUsage counts what Nova's quota engine counts for a project: instances with their cores
// and RAM (ERROR and deleting servers included), and server groups. key_pairs and
// server_group_members are per user and per group, and Nova always reports them as 0 in a
// project's quota detail. Callers hold c.mu.
func (c *Cloud) novaUsage(project string) map[string]int {
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
	for _, g := range c.st.groups {
		if g.ProjectID == project {
			used["server_groups"]++
		}
	}
	return used
}

// novaQuota is the project's limits, the defaults for a project Nova has no row for. Callers
// hold c.mu.
func (c *Cloud) novaQuota(project string) map[string]int {
	if q := c.st.quotas[project]; q != nil {
		return q
	}
	return defaultNovaQuota()
}

// novaQuotaCheck returns Nova's TooManyInstances message when the request does not fit
// (nova.compute.utils.check_num_instances_quota: the resources over quota in sorted order).
// Callers hold c.mu.
func (c *Cloud) novaQuotaCheck(project string, instances, cores, ram int) string {
	q := c.novaQuota(project)
	used := c.novaUsage(project)
	req := map[string]int{"instances": instances, "cores": cores, "ram": ram}
	var overs, reqs, useds, allowed []string
	for _, res := range []string{"cores", "instances", "ram"} {
		if novaLimitExceeded(q[res], used[res], req[res]) {
			overs = append(overs, res)
			reqs = append(reqs, strconv.Itoa(req[res]))
			useds = append(useds, strconv.Itoa(used[res]))
			allowed = append(allowed, strconv.Itoa(q[res]))
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
	action := "show"
	switch {
	case len(rest) == 2 && rest[1] == "detail":
		action = "detail"
	case len(rest) == 2 && rest[1] == "defaults":
		action = "defaults"
	case n.r.Method == http.MethodPut:
		action = "update"
	case n.r.Method == http.MethodDelete:
		action = "delete"
	}
	ownProject := projectID == n.tok.ProjectID && (action == "show" || action == "detail" || action == "defaults")
	if !ownProject && !n.isAdmin() {
		novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:%s to be performed.", action)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.projects[projectID] == nil {
		novaError(n.w, http.StatusBadRequest, "Project ID %s is not a valid project.", projectID)
		return
	}
	hidden := novaHiddenQuotas(n.mv)
	view := func(q map[string]int, detail, withID bool) map[string]any {
		used := c.novaUsage(projectID)
		m := map[string]any{}
		if withID {
			m["id"] = projectID
		}
		for k, v := range q {
			switch {
			case hidden[k]:
			case detail:
				m[k] = map[string]any{"limit": v, "in_use": used[k], "reserved": 0}
			default:
				m[k] = v
			}
		}
		return m
	}
	switch {
	case len(rest) == 1 && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(c.novaQuota(projectID), false, true)})
	case action == "detail" && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(c.novaQuota(projectID), true, true)})
	case action == "defaults" && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(defaultNovaQuota(), false, true)})
	case len(rest) == 1 && n.r.Method == http.MethodPut:
		n.updateQuotaSet(projectID, hidden)
	case len(rest) == 1 && n.r.Method == http.MethodDelete:
		delete(c.st.quotas, projectID)
		n.w.WriteHeader(http.StatusAccepted)
	default:
		n.methodNotAllowed()
	}
}

var novaIntString = regexp.MustCompile(`^-?[0-9]+$`)

// updateQuotaSet is the admin's PUT, validated as Nova's quota_sets schema (integers or
// integer strings, at least -1, no unknown or hidden resources) and, without force, against
// usage. Nova's answer has no "id". Callers hold c.mu.
func (n *novaReq) updateQuotaSet(projectID string, hidden map[string]bool) {
	c := n.c
	var req struct {
		QS map[string]any `json:"quota_set"`
	}
	if err := readJSON(n.r, &req); err != nil || req.QS == nil {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set. Value: None. None is not of type 'object'")
		return
	}
	if _, ok := req.QS["networks"]; ok {
		novaError(n.w, http.StatusBadRequest, "The networks quota has been removed")
		return
	}
	defaults := defaultNovaQuota()
	for _, k := range sortedKeys(req.QS) {
		if _, known := defaults[k]; (!known || hidden[k]) && k != "force" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set. Value: %s. Additional properties are not allowed ('%s' was unexpected)",
				pyRepr(req.QS), k)
			return
		}
	}
	force := false
	switch f := req.QS["force"].(type) {
	case bool:
		force = f
	case string:
		force, _ = strconv.ParseBool(f)
	}
	values := map[string]int{}
	for _, k := range sortedKeys(req.QS) {
		if k == "force" {
			continue
		}
		var v int
		switch x := req.QS[k].(type) {
		case float64:
			if x != float64(int(x)) {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %v. %v is not of type 'integer', 'string'", k, x, x)
				return
			}
			v = int(x)
		case string:
			if !novaIntString.MatchString(x) {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. '%s' does not match '^-?[0-9]+$'", k, x, x)
				return
			}
			v, _ = strconv.Atoi(x)
		default:
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. %s is not of type 'integer', 'string'", k, pyStr(x), pyStr(x))
			return
		}
		if v < -1 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %d. %d is less than the minimum of -1", k, v, v)
			return
		}
		values[k] = v
	}
	if !force {
		used := c.novaUsage(projectID)
		for _, k := range sortedKeys(values) {
			if v := values[k]; v >= 0 && v < used[k] {
				novaError(n.w, http.StatusBadRequest, "Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, k, used[k])
				return
			}
		}
	}
	q := c.st.quotas[projectID]
	if q == nil {
		q = defaultNovaQuota()
		c.st.quotas[projectID] = q
	}
	for k, v := range values {
		q[k] = v
	}
	out := map[string]any{}
	for k, v := range q {
		if !hidden[k] {
			out[k] = v
		}
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": out})
}

// limits is GET /limits: absolute limits and usage, with the nova-network and personality
// entries that microversions 2.36 and 2.57 dropped.
func (n *novaReq) limits() {
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	project := n.tok.ProjectID
	if t := n.r.URL.Query().Get("tenant_id"); t != "" && n.isAdmin() {
		project = t
	}
	q := c.novaQuota(project)
	used := c.novaUsage(project)
	abs := map[string]any{
		"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
		"maxServerMeta": q["metadata_items"], "maxTotalKeypairs": q["key_pairs"], "maxServerGroups": q["server_groups"],
		"maxServerGroupMembers": q["server_group_members"], "totalInstancesUsed": used["instances"], "totalCoresUsed": used["cores"],
		"totalRAMUsed": used["ram"], "totalServerGroupsUsed": used["server_groups"],
	}
	if n.mv < 57 {
		abs["maxImageMeta"], abs["maxPersonality"], abs["maxPersonalitySize"] = q["metadata_items"], q["injected_files"], q["injected_file_content_bytes"]
	}
	if n.mv < 36 {
		abs["maxTotalFloatingIps"], abs["maxSecurityGroups"], abs["maxSecurityGroupRules"] = q["floating_ips"], q["security_groups"], q["security_group_rules"]
		abs["totalFloatingIpsUsed"], abs["totalSecurityGroupsUsed"] = 0, 0
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
}
