package devcloud

import (
	"net/http"
	"time"
)

// serverSubresource routes a server's key-value sub-collection (metadata, tags): collection
// answers /servers/{id}/<name> and item /servers/{id}/<name>/{key}, both under c.mu once the
// caller is known to see the server. Callers read the request body first, as Nova validates it
// before looking the server up.
func (n *novaReq) serverSubresource(id string, rest []string, collection func(s *server), item func(s *server, key string)) {
	n.withServer(id, func(s *server) {
		if len(rest) == 0 {
			collection(s)
			return
		}
		item(s, rest[0])
	})
}

// serverMetadata serves /servers/{id}/metadata: GET, PUT (replace), POST (merge), and one key's
// GET, PUT and DELETE.
func (n *novaReq) serverMetadata(id string, rest []string) {
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
	n.serverSubresource(id, rest,
		func(s *server) { n.metadataCollection(s, body.Metadata) },
		func(s *server, key string) { n.metadataItem(s, key, body.Meta) })
}

func (n *novaReq) metadataCollection(s *server, metadata map[string]string) {
	switch n.r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		if metadata == nil {
			novaError(n.w, http.StatusBadRequest, "Malformed request body")
			return
		}
		if n.r.Method == http.MethodPut {
			s.Metadata = copyStrMap(metadata)
		} else {
			for k, v := range metadata {
				s.Metadata[k] = v
			}
		}
		s.Updated = time.Now().UTC()
	default:
		n.methodNotAllowed()
		return
	}
	if limit := n.c.novaQuota(s.ProjectID)["metadata_items"]; novaLimitExceeded(limit, 0, len(s.Metadata)) {
		novaError(n.w, http.StatusForbidden, "Maximum number of metadata items exceeds %d", limit)
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"metadata": copyStrMap(s.Metadata)})
}

func (n *novaReq) metadataItem(s *server, key string, meta map[string]string) {
	switch n.r.Method {
	case http.MethodGet:
		v, ok := s.Metadata[key]
		if !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodPut:
		v, ok := meta[key]
		if !ok || len(meta) != 1 {
			novaError(n.w, http.StatusBadRequest, "Request body and URI mismatch")
			return
		}
		s.Metadata[key], s.Updated = v, time.Now().UTC()
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodDelete:
		if _, ok := s.Metadata[key]; !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		delete(s.Metadata, key)
		s.Updated = time.Now().UTC()
		n.w.WriteHeader(http.StatusNoContent)
	default:
		n.methodNotAllowed()
	}
}

// serverTags serves /servers/{id}/tags (microversion 2.26 on): GET, PUT (replace), DELETE (all),
// and one tag's GET, PUT and DELETE.
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
	n.serverSubresource(id, rest,
		func(s *server) { n.tagCollection(s, body.Tags) },
		n.tagItem)
}

func (n *novaReq) tagCollection(s *server, tags []string) {
	switch n.r.Method {
	case http.MethodGet:
	case http.MethodPut:
		if len(tags) > 50 {
			novaError(n.w, http.StatusBadRequest, "The number of tags exceeded the per-server limit 50")
			return
		}
		s.Tags, s.Updated = dedupe(tags), time.Now().UTC()
	case http.MethodDelete:
		s.Tags, s.Updated = []string{}, time.Now().UTC()
		n.w.WriteHeader(http.StatusNoContent)
		return
	default:
		n.methodNotAllowed()
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"tags": append([]string{}, s.Tags...)})
}

func (n *novaReq) tagItem(s *server, tag string) {
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
		s.Tags, s.Updated = append(s.Tags, tag), time.Now().UTC()
		n.w.Header().Set("Location", n.base+"/compute/v2.1/servers/"+s.ID+"/tags/"+tag)
		n.w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if !contains(s.Tags, tag) {
			novaError(n.w, http.StatusNotFound, "Tag '%s' could not be found.", tag)
			return
		}
		s.Tags, s.Updated = removeString(s.Tags, tag), time.Now().UTC()
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
