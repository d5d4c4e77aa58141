package devcloud

import (
	"net/http"
	"time"
)

// tagKinds maps a collection that has Neutron's tag extension to its resource kind.
var tagKinds = map[string]string{"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
	"security-groups": "security_group", "floatingips": "floatingip"}

// taggable returns the tag list of an object the caller may see, and a function that records
// a change of it (Neutron bumps the revision). Callers hold c.mu.
func (c *Cloud) taggable(collection, id, project string, admin bool) (*[]string, func(), *neutronErr) {
	kind, ok := tagKinds[collection]
	if !ok {
		return nil, nil, nErr(http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
	}
	now := time.Now().UTC()
	owned := func(owner string) bool { return owner == project || admin }
	switch kind {
	case "network":
		if n := c.st.networks[id]; n != nil && (owned(n.ProjectID) || n.Shared || n.External) {
			return &n.Tags, func() { n.Updated = now }, nil
		}
	case "subnet":
		if s := c.st.subnets[id]; s != nil && owned(s.ProjectID) {
			return &s.Tags, func() { s.Updated = now }, nil
		}
	case "port":
		if p := c.st.ports[id]; p != nil && owned(p.ProjectID) {
			return &p.Tags, func() { p.Updated = now }, nil
		}
	case "router":
		if r := c.st.routers[id]; r != nil && owned(r.ProjectID) {
			return &r.Tags, func() { r.Updated = now }, nil
		}
	case "security_group":
		if g := c.st.secGroups[id]; g != nil && owned(g.ProjectID) {
			return &g.Tags, func() { g.Updated, g.Revision = now, g.Revision+1 }, nil
		}
	case "floatingip":
		if f := c.st.floatingIPs[id]; f != nil && owned(f.ProjectID) {
			return &f.Tags, func() { f.Updated, f.Revision = now, f.Revision+1 }, nil
		}
	}
	return nil, nil, neutronNotFound(kind, id)
}

// tags serves /v2.0/{collection}/{id}/tags[/{tag}] (the standard-attr-tag extension).
func (nr *neutronReq) tags(collection, id string, rest []string) {
	c, w, r := nr.c, nr.w, nr.r
	c.mu.Lock()
	defer c.mu.Unlock()
	tags, touched, err := c.taggable(collection, id, nr.tok.ProjectID, contains(nr.tok.Roles, "admin"))
	if err != nil {
		neutronError(w, err.status, err.typ, "%s", err.msg)
		return
	}
	if len(rest) > 1 {
		neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
		return
	}
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut:
			var body struct {
				Tags []string `json:"tags"`
			}
			if err := readJSON(r, &body); err != nil || body.Tags == nil {
				neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Invalid input for tags. Reason: the body needs a list of tags.")
				return
			}
			*tags = []string{}
			for _, t := range body.Tags {
				if !contains(*tags, t) {
					*tags = append(*tags, t)
				}
			}
			touched()
		case http.MethodDelete:
			*tags = []string{}
			touched()
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"tags": append([]string{}, *tags...)})
		return
	}
	tag := rest[0]
	switch r.Method {
	case http.MethodGet, http.MethodDelete:
		if !contains(*tags, tag) {
			neutronError(w, http.StatusNotFound, "TagNotFound", "Tag %s could not be found.", tag)
			return
		}
		if r.Method == http.MethodDelete {
			*tags = removeString(*tags, tag)
			touched()
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if !contains(*tags, tag) {
			*tags = append(*tags, tag)
			touched()
		}
		// Neutron answers the creation of one tag with a JSON null.
		writeJSON(w, http.StatusCreated, nil)
		_, _ = w.Write([]byte("null"))
	default:
		neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
	}
}
