package octavia

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Quotas: /v2/lbaas/quotas as Octavia serves it. Its quota API shows limits only, never
// usage: a client learns usage by listing the project's objects (loadbalancers, listeners,
// pools, healthmonitors, each pool's members), which is what these checks count too. Creating
// over a limit is Octavia's 403 "Quota has been met for resources: <Name>".

// AdminChecker is optionally implemented by Env: callers it reports as admin may read and
// change any project's quotas. Without it no caller is admin.
type AdminChecker interface {
	IsAdmin(r *http.Request) bool
}

// maxQuota is Octavia's consts.MAX_QUOTA.
const maxQuota = 2000000000

// quotaResources are the keys of a quota in Octavia's order.
var quotaResources = []string{"load_balancer", "listener", "member", "pool", "health_monitor", "l7policy", "l7rule"}

// quotaAliases are the deprecated spellings Octavia still accepts and shows in lists.
var quotaAliases = map[string]string{"loadbalancer": "load_balancer", "healthmonitor": "health_monitor"}

// quotaNames are the resource names in QuotaException's message (data_models' _name()).
var quotaNames = map[string]string{"load_balancer": "Load Balancer", "listener": "Listener", "pool": "Pool",
	"health_monitor": "Health Monitor", "member": "Member", "l7policy": "L7 Policy", "l7rule": "L7 Rule"}

// projectQuota is a project's quota row: nil means the default, which is unlimited (-1), as
// Octavia's default_*_quota options are.
type projectQuota map[string]*int

func (s *Service) isAdmin(r *http.Request) bool {
	a, ok := s.env.(AdminChecker)
	return ok && a.IsAdmin(r)
}

func policyDenied() *apiError {
	return fault(http.StatusForbidden, "Policy does not allow this request to be performed.")
}

// quotaRow returns the project's row, creating an empty one: Octavia creates it on the first
// quota check or update, and lists it from then on. Callers hold s.mu.
func (s *Service) quotaRow(project string) projectQuota {
	if s.quotas == nil {
		s.quotas = map[string]projectQuota{}
	}
	q := s.quotas[project]
	if q == nil {
		q = projectQuota{}
		s.quotas[project] = q
	}
	return q
}

// quotaLimits resolves a project's limits. Callers hold s.mu.
func (s *Service) quotaLimits(project string) map[string]int {
	out := map[string]int{}
	row := s.quotas[project]
	for _, k := range quotaResources {
		out[k] = -1
		if v := row[k]; v != nil {
			out[k] = *v
		}
	}
	return out
}

// quotaUsage counts the project's objects of resource, those being deleted included (Octavia
// frees the quota once the object is gone). Callers hold s.mu.
func (s *Service) quotaUsage(project, resource string) int {
	n := 0
	count := func(owner string) {
		if owner == project {
			n++
		}
	}
	switch resource {
	case "load_balancer":
		for _, o := range s.lbs {
			count(o.ProjectID)
		}
	case "listener":
		for _, o := range s.listeners {
			count(o.ProjectID)
		}
	case "pool":
		for _, o := range s.pools {
			count(o.ProjectID)
		}
	case "health_monitor":
		for _, o := range s.monitors {
			count(o.ProjectID)
		}
	case "member":
		for _, o := range s.members {
			count(o.ProjectID)
		}
	}
	return n
}

// quotaMet answers Octavia's 403 when count more of resource would go over the project's
// limit (repositories.check_quota_met). Callers hold s.mu.
func (s *Service) quotaMet(project, resource string, count int) *apiError {
	if project == "" || count <= 0 {
		return nil
	}
	s.quotaRow(project)
	limit := s.quotaLimits(project)[resource]
	if limit == -1 || s.quotaUsage(project, resource)+count <= limit {
		return nil
	}
	return fault(http.StatusForbidden, "Quota has been met for resources: %s", quotaNames[resource])
}

func quotaView(limits map[string]int) map[string]any {
	m := map[string]any{}
	for k, v := range limits {
		m[k] = v
	}
	return map[string]any{"quota": m}
}

// quotaRowView is an entry of the list: the row as stored (null for defaults), with the
// deprecated keys alongside.
func quotaRowView(project string, row projectQuota) map[string]any {
	m := map[string]any{"project_id": project, "tenant_id": project}
	for _, k := range quotaResources {
		var v any
		if row[k] != nil {
			v = *row[k]
		}
		m[k] = v
	}
	for alias, k := range quotaAliases {
		m[alias] = m[k]
	}
	return m
}

func (s *Service) routeQuotas(r *http.Request, seg []string) (reply, *apiError) {
	caller := s.env.ProjectID(r)
	admin := s.isAdmin(r)
	s.mu.Lock()
	defer s.unlock()
	if len(seg) == 0 {
		if r.Method != http.MethodGet {
			return reply{}, methodNotAllowed()
		}
		want := r.URL.Query().Get("project_id")
		if !admin {
			want = caller
		}
		projects := make([]string, 0, len(s.quotas))
		for p := range s.quotas {
			if want == "" || p == want {
				projects = append(projects, p)
			}
		}
		sort.Strings(projects)
		out := []map[string]any{}
		for _, p := range projects {
			out = append(out, quotaRowView(p, s.quotas[p]))
		}
		return reply{http.StatusOK, map[string]any{"quotas": out, "quotas_links": []any{}}}, nil
	}
	project := seg[0]
	if len(seg) == 2 && seg[1] == "default" && r.Method == http.MethodGet {
		if project != caller && !admin {
			return reply{}, policyDenied()
		}
		return reply{http.StatusOK, quotaView(s.quotaLimits(""))}, nil
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	switch r.Method {
	case http.MethodGet:
		if project != caller && !admin {
			return reply{}, policyDenied()
		}
		return reply{http.StatusOK, quotaView(s.quotaLimits(project))}, nil
	case http.MethodPut:
		if !admin {
			return reply{}, policyDenied()
		}
		values, err := decodeQuotaPUT(r)
		if err != nil {
			return reply{}, err
		}
		row := s.quotaRow(project)
		for k, v := range values {
			row[k] = v
		}
		return reply{http.StatusAccepted, quotaView(s.quotaLimits(project))}, nil
	case http.MethodDelete:
		if !admin {
			return reply{}, policyDenied()
		}
		// Octavia resets the row to the defaults and keeps it.
		s.quotas[project] = projectQuota{}
		return reply{http.StatusAccepted, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

// decodeQuotaPUT reads {"quota": {...}} as WSME does for QuotaPUT: known keys (and their
// deprecated aliases), integers or integer strings from -1 to maxQuota, null for the default.
func decodeQuotaPUT(r *http.Request) (map[string]*int, *apiError) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute quotas. Value: 'None'. %s", err)
	}
	raw, ok := body["quota"]
	if !ok {
		// Octavia looks the key up without a check and fails with the KeyError.
		return nil, fault(http.StatusInternalServerError, "'quota'")
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute quotas. Value: '%s'. %s", raw, err)
	}
	out := map[string]*int{}
	for _, k := range sortedKeys(fields) {
		key := k
		if alias, ok := quotaAliases[k]; ok {
			key = alias
		}
		if quotaNames[key] == "" {
			return nil, fault(http.StatusBadRequest, "Unknown attribute for argument quotas.quota: %s", k)
		}
		var n int
		switch v := fields[k].(type) {
		case nil:
			out[key] = nil
			continue
		case float64:
			n = int(v)
		case string:
			i, err := strconv.Atoi(v)
			if err != nil {
				return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute quotas. Value: '{'quota': %s}'. invalid literal for int() with base 10: '%s'", pyMap(fields), v)
			}
			n = i
		default:
			return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%v'. Wrong type.", k, v)
		}
		if n < -1 {
			return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%d'. Value should be greater or equal to -1", k, n)
		}
		if n > maxQuota {
			return nil, fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%d'. Value should be lower or equal to %d", k, n, maxQuota)
		}
		out[key] = &n
	}
	return out, nil
}

// pyMap renders a decoded JSON object as Python's str() of a dict of strings and numbers.
func pyMap(m map[string]any) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		v := fmt.Sprint(m[k])
		switch x := m[k].(type) {
		case string:
			v = "'" + x + "'"
		case nil:
			v = "None"
		}
		parts = append(parts, fmt.Sprintf("'%s': %s", k, v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
