package devcloud

import (
	"net/http"
	"time"
)

func (n *novaReq) serverMetadata(id string, rest []string) {
	c := n.c
	var body struct {
		Metadata map[string]string `json:"metadata"`
		Meta     map[string]string `json:"meta"`
	}
	if n.r.Method == http.MethodPut || n.r.Method == http.MethodPost {
		if err := readJSON(n.r, &body); err != nil {
			novaError(n.w, http.StatusBadRequest, "Malformed request body")
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	now := time.Now().UTC()
	if len(rest) == 0 {
		switch n.r.Method {
		case http.MethodGet:
		case http.MethodPut:
			if body.Metadata == nil {
				novaError(n.w, http.StatusBadRequest, "Malformed request body")
				return
			}
			s.Metadata, s.Updated = copyStrMap(body.Metadata), now
		case http.MethodPost:
			if body.Metadata == nil {
				novaError(n.w, http.StatusBadRequest, "Malformed request body")
				return
			}
			for k, v := range body.Metadata {
				s.Metadata[k] = v
			}
			s.Updated = now
		default:
			n.methodNotAllowed()
			return
		}
		if limit := c.st.quotas[s.ProjectID]["metadata_items"]; len(s.Metadata) > limit {
			novaError(n.w, http.StatusForbidden, "Maximum number of metadata items exceeds %d", limit)
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"metadata": copyStrMap(s.Metadata)})
		return
	}
	key := rest[0]
	switch n.r.Method {
	case http.MethodGet:
		v, ok := s.Metadata[key]
		if !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodPut:
		v, ok := body.Meta[key]
		if !ok || len(body.Meta) != 1 {
			novaError(n.w, http.StatusBadRequest, "Request body and URI mismatch")
			return
		}
		s.Metadata[key], s.Updated = v, now
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodDelete:
		if _, ok := s.Metadata[key]; !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		delete(s.Metadata, key)
		s.Updated = now
		n.w.WriteHeader(http.StatusNoContent)
	default:
		n.methodNotAllowed()
	}
}

func (n *novaReq) serverTags(id string, rest []string) {
	if n.mv < 26 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if n.r.Method == http.MethodPut && len(rest) == 0 {
		if err := readJSON(n.r, &body); err != nil || body.Tags == nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute tags.")
			return
		}
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	now := time.Now().UTC()
	if len(rest) == 0 {
		switch n.r.Method {
		case http.MethodGet:
		case http.MethodPut:
			if len(body.Tags) > 50 {
				novaError(n.w, http.StatusBadRequest, "The number of tags exceeded the per-server limit 50")
				return
			}
			s.Tags, s.Updated = dedupe(body.Tags), now
		case http.MethodDelete:
			s.Tags, s.Updated = []string{}, now
			n.w.WriteHeader(http.StatusNoContent)
			return
		default:
			n.methodNotAllowed()
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"tags": append([]string{}, s.Tags...)})
		return
	}
	tag := rest[0]
	switch n.r.Method {
	case http.MethodGet:
		if !contains(s.Tags, tag) {
			novaError(n.w, http.StatusNotFound, "Tag '%s' could not be found.", tag)
			return
		}
		n.w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if contains(s.Tags, tag) {
			n.w.WriteHeader(http.StatusNoContent)
			return
		}
		s.Tags, s.Updated = append(s.Tags, tag), now
		n.w.Header().Set("Location", n.base+"/compute/v2.1/servers/"+s.ID+"/tags/"+tag)
		n.w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if !contains(s.Tags, tag) {
			novaError(n.w, http.StatusNotFound, "Tag '%s' could not be found.", tag)
			return
		}
		s.Tags, s.Updated = removeString(s.Tags, tag), now
		n.w.WriteHeader(http.StatusNoContent)
	default:
		n.methodNotAllowed()
	}
}

func dedupe(list []string) []string {
	out := []string{}
	for _, v := range list {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
