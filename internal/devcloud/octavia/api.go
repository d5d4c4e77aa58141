package octavia

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// apiError is an Octavia (WSME) fault: {"faultcode", "faultstring", "debuginfo"}.
type apiError struct {
	code int
	msg  string
	// webob: the fault comes from pecan's routing rather than a WSME controller, and its body
	// is webob's {"code", "title", "description"} (as the lab answers a missing parent pool).
	webob bool
}

func (e *apiError) Error() string { return e.msg }

func fault(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFound(resource, id string) *apiError {
	return fault(http.StatusNotFound, "%s %s not found.", resource, id)
}

func immutable(lbID string) *apiError {
	return fault(http.StatusConflict, "Load Balancer %s is immutable and cannot be updated.", lbID)
}

func invalidField(field string, value any, why string) *apiError {
	return fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%v'. %s", field, value, why)
}

func validation(format string, args ...any) *apiError {
	return fault(http.StatusBadRequest, "Validation failure: "+format, args...)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func writeFault(w http.ResponseWriter, e *apiError) {
	if e.webob {
		// Octavia's status line says "404 Bad Request" here; Go writes the standard reason.
		writeJSON(w, e.code, map[string]any{"code": e.code, "title": "Bad Request", "description": e.msg})
		return
	}
	faultcode := "Client"
	if e.code >= 500 {
		faultcode = "Server"
	}
	writeJSON(w, e.code, map[string]any{"faultcode": faultcode, "faultstring": e.msg, "debuginfo": nil})
}

// reply is what a handler produced: a status and a JSON body (nil for none).
type reply struct {
	code int
	body any
}

// Handler serves the Octavia API: "/" (version discovery), "/v2/lbaas/..."
// and "/v2.0/lbaas/..." (the path gophercloud uses), and both without lbaas/.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveAPI)
}

func (s *Service) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "":
		s.versions(w, r)
		return
	case path == "/v2" || path == "/v2.0":
		s.versions(w, r)
		return
	case strings.HasPrefix(path, "/v2.0/"):
		path = strings.TrimPrefix(path, "/v2.0")
	case strings.HasPrefix(path, "/v2/"):
		path = strings.TrimPrefix(path, "/v2")
	default:
		writeFault(w, fault(http.StatusNotFound, "The resource could not be found."))
		return
	}
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if seg[0] != "lbaas" {
		// Octavia's v2 root serves its collections without lbaas/ too (gophercloud's quotas
		// use /v2.0/quotas).
		seg = append([]string{"lbaas"}, seg...)
	}
	if len(seg) < 2 {
		writeFault(w, fault(http.StatusNotFound, "The resource could not be found."))
		return
	}
	var rep reply
	var err *apiError
	switch seg[1] {
	case "loadbalancers":
		rep, err = s.routeLoadBalancers(r, seg[2:])
	case "listeners":
		rep, err = s.routeListeners(r, seg[2:])
	case "pools":
		rep, err = s.routePools(r, seg[2:])
	case "healthmonitors":
		rep, err = s.routeMonitors(r, seg[2:])
	case "quotas":
		rep, err = s.routeQuotas(r, seg[2:])
	default:
		err = fault(http.StatusNotFound, "The resource could not be found.")
	}
	if err != nil {
		writeFault(w, err)
		return
	}
	if rep.code == http.StatusNoContent || rep.body == nil {
		w.WriteHeader(rep.code)
		return
	}
	writeJSON(w, rep.code, rep.body)
}

func methodNotAllowed() *apiError {
	return fault(http.StatusMethodNotAllowed, "The method specified is not allowed for this resource.")
}

// versions answers discovery as Octavia's root controller does: one entry per
// minor version of v2, the last CURRENT.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	base := externalBase(r)
	minors := []struct{ id, updated string }{
		{"v2.0", "2016-12-11T00:00:00Z"}, {"v2.1", "2018-04-20T00:00:00Z"}, {"v2.2", "2018-07-31T00:00:00Z"},
		{"v2.3", "2018-12-18T00:00:00Z"}, {"v2.4", "2018-12-19T00:00:00Z"}, {"v2.5", "2019-01-21T00:00:00Z"},
		{"v2.6", "2019-01-25T00:00:00Z"}, {"v2.7", "2018-01-25T12:00:00Z"}, {"v2.8", "2019-02-12T00:00:00Z"},
		{"v2.9", "2019-03-04T00:00:00Z"}, {"v2.10", "2019-03-05T00:00:00Z"}, {"v2.11", "2019-06-24T00:00:00Z"},
		{"v2.12", "2019-09-11T00:00:00Z"}, {"v2.13", "2019-09-13T00:00:00Z"}, {"v2.14", "2019-09-20T00:00:00Z"},
		{"v2.15", "2020-03-10T00:00:00Z"}, {"v2.16", "2020-03-15T00:00:00Z"}, {"v2.17", "2020-04-29T00:00:00Z"},
		{"v2.18", "2020-04-29T01:00:00Z"}, {"v2.19", "2020-05-12T00:00:00Z"}, {"v2.20", "2020-08-24T00:00:00Z"},
		{"v2.21", "2020-09-03T00:00:00Z"}, {"v2.22", "2021-04-22T00:00:00Z"}, {"v2.23", "2021-05-17T00:00:00Z"},
		{"v2.24", "2021-05-27T00:00:00Z"}, {"v2.25", "2022-02-10T00:00:00Z"}, {"v2.26", "2022-08-29T00:00:00Z"},
		{"v2.27", "2023-05-05T00:00:00Z"},
	}
	out := make([]map[string]any, 0, len(minors))
	for i, v := range minors {
		status := "SUPPORTED"
		if i == len(minors)-1 {
			status = "CURRENT"
		}
		out = append(out, map[string]any{
			"id": v.id, "status": status, "updated": v.updated,
			"links": []map[string]string{{"href": base + "/v2", "rel": "self"}},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

// externalBase is the URL prefix the client used to reach this handler: the
// core mounts it under a prefix it strips, which RequestURI still carries.
func externalBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	uri := r.RequestURI
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	prefix := strings.TrimSuffix(uri, r.URL.Path)
	if prefix == uri && r.URL.Path != "" && r.URL.Path != "/" {
		prefix = ""
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(prefix, "/")
}

// decodeBody reads {"<root>": {...}} into dst.
func decodeBody(r *http.Request, root string, dst any) *apiError {
	var env map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
		return fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: 'None'. %s", root, err)
	}
	raw, ok := env[root]
	if !ok || string(raw) == "null" {
		return fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: 'None'. Mandatory field missing.", root)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fault(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%s'. %s", root, raw, err)
	}
	return nil
}

func idRefs(ids ...string) []map[string]string {
	out := []map[string]string{}
	for _, id := range ids {
		if id != "" {
			out = append(out, map[string]string{"id": id})
		}
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func tagsOrEmpty(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// visible reports whether the caller's project may see an object; an empty
// project (a caller the core did not scope) sees everything.
func visible(project, owner string) bool {
	return project == "" || project == owner
}

// listReply filters views by the query (any attribute, plus Octavia's tag
// filters), then pages them with limit/marker and a next link.
func listReply(r *http.Request, collection string, views []map[string]any) reply {
	q := r.URL.Query()
	var out []map[string]any
	for _, v := range views {
		if matches(v, q) {
			out = append(out, v)
		}
	}
	if key := q.Get("sort_key"); key != "" {
		desc := q.Get("sort_dir") == "desc"
		sortViews(out, key, desc)
	}
	if m := q.Get("marker"); m != "" {
		for i, v := range out {
			if v["id"] == m {
				out = out[i+1:]
				break
			}
		}
	}
	links := []map[string]string{}
	if l := q.Get("limit"); l != "" {
		var n int
		if _, err := fmt.Sscan(l, &n); err == nil && n > 0 && len(out) > n {
			out = out[:n]
			next := r.URL.Query()
			next.Set("marker", fmt.Sprint(out[n-1]["id"]))
			links = append(links, map[string]string{"rel": "next",
				"href": externalBase(r) + r.URL.Path + "?" + next.Encode()})
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	if fields := q["fields"]; len(fields) > 0 {
		for i, v := range out {
			slim := map[string]any{}
			for _, f := range fields {
				for _, name := range strings.Split(f, ",") {
					if val, ok := v[name]; ok {
						slim[name] = val
					}
				}
			}
			out[i] = slim
		}
	}
	return reply{http.StatusOK, map[string]any{collection: out, collection + "_links": links}}
}

var nonFilterParams = map[string]bool{"limit": true, "marker": true, "sort_key": true, "sort_dir": true,
	"fields": true, "page_reverse": true, "tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true}

func matches(v map[string]any, q map[string][]string) bool {
	for key, want := range q {
		if nonFilterParams[key] {
			continue
		}
		got, ok := v[key]
		if !ok {
			continue // Octavia ignores unknown filters
		}
		nullMatchesEmpty := got == nil && want[0] == ""
		if fmt.Sprint(got) != want[0] && !nullMatchesEmpty {
			return false
		}
	}
	tags, _ := v["tags"].([]string)
	has := map[string]bool{}
	for _, t := range tags {
		has[t] = true
	}
	split := func(key string) []string {
		var out []string
		for _, s := range q[key] {
			for _, t := range strings.Split(s, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	for _, t := range split("tags") {
		if !has[t] {
			return false
		}
	}
	if anyOf := split("tags-any"); len(anyOf) > 0 {
		found := false
		for _, t := range anyOf {
			found = found || has[t]
		}
		if !found {
			return false
		}
	}
	if not := split("not-tags"); len(not) > 0 {
		all := true
		for _, t := range not {
			all = all && has[t]
		}
		if all {
			return false
		}
	}
	for _, t := range split("not-tags-any") {
		if has[t] {
			return false
		}
	}
	return true
}

func sortViews(v []map[string]any, key string, desc bool) {
	less := func(i, j int) bool { return fmt.Sprint(v[i][key]) < fmt.Sprint(v[j][key]) }
	for i := 1; i < len(v); i++ { // insertion sort keeps it stable and short
		for j := i; j > 0; j-- {
			a, b := j, j-1
			if desc {
				a, b = b, a
			}
			if !less(a, b) {
				break
			}
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// cycle is what a commit needs to know about its update cycle.
type cycle struct {
	// healthDelay is how long after this commit a health monitor's first
	// check of a member passes.
	healthDelay func(m *monitor) time.Duration
}

// delayed runs commit under s.mu after Env.Delay(name). Env.Delay is called
// once s.mu is released (see later); a Reset in between cancels the commit.
func (s *Service) delayed(name string, commit func(c cycle)) {
	gen := s.gen
	s.later(func() {
		d := s.env.Delay(name)
		scale := -1.0
		if ts, ok := s.env.(TimeScaler); ok {
			scale = ts.TimeScale()
		}
		c := cycle{healthDelay: func(m *monitor) time.Duration {
			if scale >= 0 {
				if scale == 0 {
					scale = 1
				}
				return time.Duration(float64(m.Delay) * scale * float64(time.Second))
			}
			return d / 2
		}}
		s.mu.Lock()
		if s.gen == gen {
			s.schedule(d, func() { commit(c) })
		}
		s.unlock()
	})
}

// updateCycle puts lb in PENDING_UPDATE now and, after lb_update, runs
// commit and sets the load balancer ACTIVE again. The parents a change
// touches (a member's pool and listener, a pool's listener) go through
// PENDING_UPDATE with it, as Octavia locks them too.
func (s *Service) updateCycle(lb *loadBalancer, commit func(c cycle), touched ...*base) {
	s.setLBStatus(lb, statusPendingUpdate)
	var marked []*base
	for _, b := range touched {
		if b != nil && b.ProvisioningStatus == statusActive {
			b.ProvisioningStatus = statusPendingUpdate
			marked = append(marked, b)
		}
	}
	s.delayed("lb_update", func(c cycle) {
		if s.lbs[lb.ID] != lb {
			return
		}
		commit(c)
		for _, b := range marked {
			if b.ProvisioningStatus == statusPendingUpdate {
				b.ProvisioningStatus = statusActive
			}
		}
		s.setLBStatus(lb, statusActive)
	})
}

// parentsOfPool are the objects a change under pool p locks with it.
func (s *Service) parentsOfPool(p *pool) []*base {
	return append([]*base{&p.base}, s.listenerOfPool(p)...)
}

// listenerOfPool is the listener a change to pool p locks with it.
func (s *Service) listenerOfPool(p *pool) []*base {
	var out []*base
	for _, l := range s.poolListeners(p) {
		out = append(out, &l.base)
	}
	return out
}

// poolListeners are the listeners whose default pool is p: Octavia lets one pool be the
// default of several listeners of its load balancer (say HTTP on 80 and 8080).
func (s *Service) poolListeners(p *pool) []*listener {
	var out []*listener
	for _, l := range s.listeners {
		if l.DefaultPoolID == p.ID || l.ID == p.ListenerID {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Service) setLBStatus(lb *loadBalancer, status string) {
	lb.ProvisioningStatus = status
	lb.UpdatedAt = time.Now()
	s.emit("lb.status", map[string]any{"id": lb.ID, "lb_id": lb.ID, "provisioning_status": status})
}

// changeChild starts the PUT or DELETE of an object under load balancer lbID, as Octavia does:
// refused while the load balancer is busy; otherwise obj goes to status at once, and commit
// runs at the end of the load balancer's update cycle with the parents in touched locked too.
func (s *Service) changeChild(lbID string, obj *base, status string, commit func(c cycle), touched ...*base) *apiError {
	lb, err := s.mutableLB(lbID)
	if err != nil {
		return err
	}
	obj.ProvisioningStatus = status
	s.updateCycle(lb, commit, touched...)
	return nil
}

// previewReply answers a PUT with obj as it will be once the update cycle applies the change.
func previewReply[T any](root string, obj T, apply func(*T), view func(*T) map[string]any) reply {
	apply(&obj)
	return reply{http.StatusOK, map[string]any{root: view(&obj)}}
}

// mutableLB finds the load balancer a mutating call targets and refuses the
// call while any change on it is in progress, as Octavia does.
func (s *Service) mutableLB(id string) (*loadBalancer, *apiError) {
	lb := s.lbs[id]
	if lb == nil {
		return nil, notFound("Load Balancer", id)
	}
	if lb.pending() {
		return nil, immutable(lb.ID)
	}
	return lb, nil
}
