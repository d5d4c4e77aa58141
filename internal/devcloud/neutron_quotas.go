package devcloud

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// neutronQuotaDefaults are Neutron's [QUOTAS] defaults, which the lab (Zed) shows too.
var neutronQuotaDefaults = map[string]int{"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10,
	"floatingip": 50, "rbac_policy": 10, "security_group": 10, "security_group_rule": 100}

// neutronQuotaLimits is the project's limit of every resource. Callers hold c.mu.
func (c *Cloud) neutronQuotaLimits(project string) map[string]int {
	out := map[string]int{}
	for k, v := range neutronQuotaDefaults {
		out[k] = v
	}
	for k, v := range c.st.neutronQuotas[project] {
		out[k] = v
	}
	return out
}

// neutronUsage counts what the project owns, as Neutron's quota engine does: ports without a
// project (router gateways, floating IPs' own ports) count for nobody. Callers hold c.mu.
func (c *Cloud) neutronUsage(project string) map[string]int {
	st := c.st
	return map[string]int{
		"network":             countOwned(st.networks, project, func(n *network) string { return n.ProjectID }),
		"subnet":              countOwned(st.subnets, project, func(s *subnet) string { return s.ProjectID }),
		"port":                countOwned(st.ports, project, func(p *port) string { return p.ProjectID }),
		"router":              countOwned(st.routers, project, func(r *router) string { return r.ProjectID }),
		"floatingip":          countOwned(st.floatingIPs, project, func(f *floatingIP) string { return f.ProjectID }),
		"security_group":      countOwned(st.secGroups, project, func(g *secGroup) string { return g.ProjectID }),
		"security_group_rule": countOwned(st.sgRules, project, func(r *secGroupRule) string { return r.ProjectID }),
	}
}

// neutronQuotaCheck answers Neutron's OverQuota (409) when creating delta more of resource
// would exceed the project's limit. Callers hold c.mu.
func (c *Cloud) neutronQuotaCheck(project, resource string, delta int) *neutronErr {
	limit := c.neutronQuotaLimits(project)[resource]
	if limit < 0 || c.neutronUsage(project)[resource]+delta <= limit {
		return nil
	}
	return nErr(http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['%s'].", resource)
}

type quotaDelta struct {
	resource string
	n        int
}

// quotaDeltas is what a POST of one object of kind adds to each quota resource, in the order
// Neutron checks them: a security group comes with its two egress rules.
func quotaDeltas(kind string) []quotaDelta {
	switch kind {
	case "security_group":
		return []quotaDelta{{"security_group", 1}, {"security_group_rule", 2}}
	case "network", "subnet", "port", "router", "floatingip", "security_group_rule":
		return []quotaDelta{{kind, 1}}
	}
	return nil
}

// neutronCreateQuotaCheck is the quota check of a POST of one object of kind. Callers hold c.mu.
func (c *Cloud) neutronCreateQuotaCheck(project, kind string) *neutronErr {
	for _, d := range quotaDeltas(kind) {
		if err := c.neutronQuotaCheck(project, d.resource, d.n); err != nil {
			return err
		}
	}
	return nil
}

// quotas serves /v2.0/quotas: the project's limits (its own, or any for an admin), the usage
// detail, the defaults, and the admin's list, update and reset.
func (nr *neutronReq) quotas(rest []string) {
	c, w, r := nr.c, nr.w, nr.r
	admin := contains(nr.tok.Roles, "admin")
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		if !admin {
			neutronError(w, http.StatusForbidden, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
			return
		}
		c.mu.Lock()
		projects := make([]string, 0, len(c.st.neutronQuotas))
		for p := range c.st.neutronQuotas {
			projects = append(projects, p)
		}
		sort.Strings(projects)
		out := []any{}
		for _, p := range projects {
			m := map[string]any{"project_id": p, "tenant_id": p}
			for k, v := range c.neutronQuotaLimits(p) {
				m[k] = v
			}
			out = append(out, m)
		}
		c.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"quotas": out})
		return
	case len(rest) == 0:
		neutronError(w, http.StatusNotImplemented, "HTTPNotImplemented", "POST requests are not supported on this resource.")
		return
	case len(rest) == 1 && (rest[0] == "tenant" || rest[0] == "project") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{rest[0]: map[string]any{rest[0] + "_id": nr.tok.ProjectID}})
		return
	}
	project := rest[0]
	if r.Method == http.MethodPut || r.Method == http.MethodDelete {
		action := map[string]string{http.MethodPut: "update_quota", http.MethodDelete: "delete_quota"}[r.Method]
		if !admin {
			neutronError(w, http.StatusForbidden, "PolicyNotAuthorized", "rule:%s is disallowed by policy", action)
			return
		}
		if len(rest) != 1 {
			neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
			return
		}
		if r.Method == http.MethodDelete {
			c.mu.Lock()
			delete(c.st.neutronQuotas, project)
			c.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		nr.updateQuota(project)
		return
	}
	if r.Method != http.MethodGet {
		neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
		return
	}
	if project != nr.tok.ProjectID && !admin {
		neutronError(w, http.StatusForbidden, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(rest) == 1:
		writeJSON(w, http.StatusOK, map[string]any{"quota": c.neutronQuotaLimits(project)})
	case len(rest) == 2 && rest[1] == "default":
		writeJSON(w, http.StatusOK, map[string]any{"quota": neutronQuotaDefaults})
	case len(rest) == 2 && rest[1] == "details":
		used := c.neutronUsage(project)
		out := map[string]any{}
		for k, v := range c.neutronQuotaLimits(project) {
			out[k] = map[string]any{"limit": v, "used": used[k], "reserved": 0}
		}
		writeJSON(w, http.StatusOK, map[string]any{"quota": out})
	default:
		neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
	}
}

// updateQuota is the admin's PUT /v2.0/quotas/{project}, validated as Neutron's attribute
// layer does (integers or integer strings from -1) and, with check_limit, against usage.
func (nr *neutronReq) updateQuota(project string) {
	c, w := nr.c, nr.w
	var body map[string]map[string]any
	if err := readJSON(nr.r, &body); err != nil {
		neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "%s", err.Error())
		return
	}
	req, ok := body["quota"]
	if !ok {
		neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Resource body required")
		return
	}
	checkLimit, _ := req["check_limit"].(bool)
	delete(req, "check_limit")
	delete(req, "force")
	var unknown []string
	for k := range req {
		if _, known := neutronQuotaDefaults[k]; !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
		return
	}
	limits := map[string]int{}
	for k, v := range req {
		n, err := quotaInt(v)
		if err != nil {
			neutronError(w, http.StatusBadRequest, "InvalidInput", "Invalid input for operation: '%v' is not an integer.", pyStr(v))
			return
		}
		if n < -1 {
			neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Invalid input for %s. Reason: '%d' is too small - must be at least '-1'.", k, n)
			return
		}
		limits[k] = n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if checkLimit {
		used := c.neutronUsage(project)
		for _, k := range sortedKeys(limits) {
			if l := limits[k]; l >= 0 && used[k] > l {
				neutronError(w, http.StatusBadRequest, "HTTPBadRequest",
					"Quota limit %d for %s must be greater than or equal to already used %d", l, k, used[k])
				return
			}
		}
	}
	q := c.st.neutronQuotas[project]
	if q == nil {
		q = map[string]int{}
		c.st.neutronQuotas[project] = q
	}
	for k, v := range limits {
		q[k] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota": c.neutronQuotaLimits(project)})
}

// quotaInt converts as Neutron's convert_to_int: a JSON integer or a string of one.
func quotaInt(v any) (int, error) {
	switch n := v.(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, fmt.Errorf("%v is not an integer", n)
		}
		return int(n), nil
	case string:
		return strconv.Atoi(strings.TrimSpace(n))
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
