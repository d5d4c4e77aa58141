package devcloud

import (
	"fmt"
	"net/http"
)

// quotas serves /v2/quotas and /v2/quotas/{project_id}. Reading another project's quotas
// needs admin with X-Auth-All-Projects (Zed's legacy policy: get_quotas checks the project
// unless all_tenants); changing or resetting them is admin-only.
func (d *dnsReq) quotas(rest []string) {
	if len(rest) > 1 {
		d.notFound()
		return
	}
	project := d.project
	if len(rest) == 1 {
		project = rest[0]
	}
	switch d.r.Method {
	case http.MethodGet:
		if !d.mayReadQuotas(project) {
			return
		}
		d.c.mu.Lock()
		defer d.c.mu.Unlock()
		writeJSON(d.w, http.StatusOK, d.quotaView(project))
	case http.MethodPatch:
		if len(rest) == 0 {
			d.methodNotAllowed()
			return
		}
		d.setQuotas(project)
	case http.MethodDelete:
		if len(rest) == 0 {
			d.methodNotAllowed()
			return
		}
		if !d.admin() {
			d.fail(http.StatusForbidden, "forbidden", "")
			return
		}
		d.c.mu.Lock()
		delete(d.c.st.dnsQuotas, project)
		d.c.mu.Unlock()
		d.w.WriteHeader(http.StatusNoContent)
	default:
		d.methodNotAllowed()
	}
}

func (d *dnsReq) mayReadQuotas(project string) bool {
	if project != d.project && !d.allProjects {
		d.fail(http.StatusForbidden, "forbidden", "")
		return false
	}
	return true
}

func (d *dnsReq) quotaView(project string) map[string]any {
	out := map[string]any{}
	for _, k := range dnsQuotaOrder {
		out[k] = d.quota(project, k)
	}
	return out
}

func (d *dnsReq) setQuotas(project string) {
	if !d.admin() || (project != d.project && !d.allProjects) {
		d.fail(http.StatusForbidden, "forbidden", "")
		return
	}
	body, ok := d.readBody()
	if !ok {
		return
	}
	values := map[string]int{}
	for k, v := range body {
		if _, known := dnsDefaultQuotas[k]; !known {
			d.failValue(fmt.Sprintf("Field value %s is invalid", k))
			return
		}
		n, isNum := v.(float64)
		if !isNum || n != float64(int(n)) {
			d.failValue(fmt.Sprintf("invalid literal for int() with base 10: '%v'", v))
			return
		}
		if n < 0 {
			d.failValue("Value must be >= 0 for field hard_limit")
			return
		}
		values[k] = int(n)
	}
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	q := d.c.st.dnsQuotas[project]
	if q == nil {
		q = map[string]int{}
		d.c.st.dnsQuotas[project] = q
	}
	for k, v := range values {
		q[k] = v
	}
	writeJSON(d.w, http.StatusOK, d.quotaView(project))
}
