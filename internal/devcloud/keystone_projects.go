package devcloud

import (
	"net/http"
	"sort"
)

// projects serves GET /v3/projects and /v3/projects/{id} with Keystone's default policy: a
// member reads its own project (the openstack CLI looks it up before quota commands), an admin
// reads and lists any.
func (c *Cloud) projects(w http.ResponseWriter, r *http.Request, rest []string) {
	if r.Method != http.MethodGet {
		writeKeystoneError(w, http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
		return
	}
	tok := tokenFrom(r)
	admin := tok != nil && contains(tok.Roles, "admin")
	base := baseURL(r) + "/identity/v3/projects"
	c.mu.Lock()
	defer c.mu.Unlock()
	view := func(p *project) map[string]any {
		return map[string]any{"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": "", "enabled": true,
			"parent_id": p.DomainID, "is_domain": false, "tags": []string{}, "options": map[string]any{},
			"links": map[string]any{"self": base + "/" + p.ID}}
	}
	if len(rest) == 1 {
		id := rest[0]
		if !admin && (tok == nil || tok.ProjectID != id) {
			writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:get_project.")
			return
		}
		p := c.st.projects[id]
		if p == nil {
			writeKeystoneError(w, http.StatusNotFound, "Could not find project: "+id+".")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"project": view(p)})
		return
	}
	if len(rest) > 1 {
		writeKeystoneError(w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	if !admin {
		writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:list_projects.")
		return
	}
	q := r.URL.Query()
	var list []*project
	for _, p := range c.st.projects {
		if (q.Get("name") == "" || p.Name == q.Get("name")) && (q.Get("domain_id") == "" || p.DomainID == q.Get("domain_id")) {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	out := []any{}
	for _, p := range list {
		out = append(out, view(p))
	}
	self := base
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out, "links": map[string]any{"next": nil, "self": self, "previous": nil}})
}
