package devcloud

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// troveQuotaResources are Trove's quota resources in registration order (trove.quota.quota).
var troveQuotaResources = []string{"instances", "ram", "backups", "volumes"}

// defaultTroveQuota is Trove's defaults: max_instances_per_tenant 10, max_ram_per_tenant -1,
// max_backups_per_tenant 50, max_volumes_per_tenant 40 (GB).
func defaultTroveQuota() map[string]int {
	return map[string]int{"instances": 10, "ram": -1, "backups": 50, "volumes": 40}
}

// troveQuota is the project's limits; Trove answers the defaults for a project it has no
// row for. Callers hold c.mu.
func (c *Cloud) troveQuota(project string) map[string]int {
	q := defaultTroveQuota()
	for k, v := range c.st.dbQuotas[project] {
		q[k] = v
	}
	return q
}

// troveUsage is Trove's in_use per resource: instances, their flavors' RAM, their volume
// gigabytes and the backups. Callers hold c.mu.
func (c *Cloud) troveUsage(project string) map[string]int {
	used := map[string]int{}
	for _, db := range c.st.dbs {
		if db.ProjectID != project {
			continue
		}
		used["instances"]++
		used["volumes"] += db.VolumeSize
		if f := c.st.flavors[db.FlavorID]; f != nil {
			used["ram"] += f.RAM
		}
	}
	for _, b := range c.st.dbBackups {
		if b.ProjectID == project {
			used["backups"]++
		}
	}
	return used
}

// troveQuotaCheck returns Trove's QuotaExceeded message (answered with 413) when the deltas
// do not fit, naming the resources over quota in sorted order as Python prints a list.
// Callers hold c.mu.
func (c *Cloud) troveQuotaCheck(project string, deltas map[string]int) string {
	q, used := c.troveQuota(project), c.troveUsage(project)
	var overs []string
	for _, res := range sortedKeys(deltas) {
		if limit := q[res]; limit >= 0 && used[res]+deltas[res] > limit {
			overs = append(overs, "'"+res+"'")
		}
	}
	if len(overs) == 0 {
		return ""
	}
	return "Quota exceeded for resources: [" + strings.Join(overs, ", ") + "]."
}

// quotas serves /v1.0/{project}/mgmt/quotas/{user_project}: any project may read its own
// usage, an admin any project's, and only an admin may change limits.
func (t *troveReq) quotas(project string) {
	c := t.c
	admin := contains(t.tok.Roles, "admin")
	switch t.r.Method {
	case http.MethodGet:
		if project != t.project && !admin {
			troveError(t.w, http.StatusForbidden, "Operation not allowed for tenant %s.", t.project)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		q, used := c.troveQuota(project), c.troveUsage(project)
		out := []any{}
		for _, k := range troveQuotaResources {
			out = append(out, map[string]any{"resource": k, "in_use": used[k], "reserved": 0, "limit": q[k]})
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"quotas": out})
	case http.MethodPut:
		if !admin {
			// Trove maps its Forbidden to 401.
			troveError(t.w, http.StatusUnauthorized, "User does not have admin privileges.")
			return
		}
		var body struct {
			Quotas map[string]*int `json:"quotas"`
		}
		if err := readJSON(t.r, &body); err != nil || body.Quotas == nil {
			troveError(t.w, http.StatusBadRequest, "Invalid request body.")
			return
		}
		keys := make([]string, 0, len(body.Quotas))
		for k := range body.Quotas {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := body.Quotas[k]
			if v == nil || k == "xmlns" {
				continue
			}
			if *v < -1 {
				troveError(t.w, http.StatusBadRequest, "Quota limit '%d' for '%s' is too small - must be at least '-1'.", *v, k)
				return
			}
			if !contains(troveQuotaResources, k) {
				troveError(t.w, http.StatusNotFound, "Unknown quota resources %s.", k)
				return
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		q := c.st.dbQuotas[project]
		if q == nil {
			q = map[string]int{}
			c.st.dbQuotas[project] = q
		}
		set := map[string]int{}
		for _, k := range keys {
			if v := body.Quotas[k]; v != nil && k != "xmlns" {
				q[k], set[k] = *v, *v
			}
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"quotas": set})
	default:
		troveError(t.w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
	}
}

// limits is GET /v1.0/{project}/limits as Trove's LimitViews renders it: one ABSOLUTE entry
// with max_<resource> (no usage: Trove reports usage only through mgmt/quotas), then the rate
// limits of its default middleware, 200 requests a minute per verb.
func (t *troveReq) limits() {
	c := t.c
	c.mu.Lock()
	q := c.troveQuota(t.project)
	c.mu.Unlock()
	abs := map[string]any{"verb": "ABSOLUTE"}
	for _, k := range troveQuotaResources {
		abs["max_"+k] = q[k]
	}
	out := []any{abs}
	next := isoZ(time.Now())
	for _, rl := range []struct{ verb, uri, regex string }{
		{"POST", "*", ".*"}, {"PUT", "*", ".*"}, {"DELETE", "*", ".*"}, {"GET", "*", ".*"}, {"POST", "*/mgmt", "^/mgmt"},
	} {
		out = append(out, map[string]any{"verb": rl.verb, "uri": rl.uri, "regex": rl.regex, "value": 200, "remaining": 200,
			"unit": "MINUTE", "nextAvailable": next})
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"limits": out})
}
