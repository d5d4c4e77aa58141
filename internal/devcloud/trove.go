package devcloud

import (
	"fmt"
	"net/http"
)

func troveError(w http.ResponseWriter, status int, format string, args ...any) {
	writeServiceError(w, "database", status, fmt.Sprintf(format, args...))
}

func (c *Cloud) troveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		v1 := map[string]any{"id": "v1.0", "status": "CURRENT", "updated": "2012-08-01T00:00:00Z",
			"links": []any{map[string]any{"rel": "self", "href": base + "/database/v1.0/"}}}
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{v1}})
			return
		}
		if segs[0] != "v1.0" || len(segs) < 2 {
			if len(segs) == 1 && segs[0] == "v1.0" {
				writeJSON(w, http.StatusOK, map[string]any{"version": v1})
				return
			}
			troveError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		tok := tokenFrom(r)
		if segs[1] != tok.ProjectID && !contains(tok.Roles, "admin") {
			// Trove checks the URL's project against the token's.
			troveError(w, http.StatusUnauthorized, "User does not have admin privileges.")
			return
		}
		t := &troveReq{c: c, w: w, r: r, tok: tok, project: segs[1], base: base + "/database/v1.0/" + segs[1]}
		rest := segs[2:]
		if len(rest) == 0 {
			troveError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		switch rest[0] {
		case "instances":
			t.instances(rest[1:])
		case "backups":
			t.backups(rest[1:])
		case "datastores":
			t.datastores(rest[1:])
		case "flavors":
			t.flavors(rest[1:])
		case "limits":
			t.limits()
		case "mgmt":
			if len(rest) == 3 && rest[1] == "quotas" {
				t.quotas(rest[2])
				return
			}
			troveError(w, http.StatusNotFound, "The resource could not be found.")
		default:
			troveError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

type troveReq struct {
	c       *Cloud
	w       http.ResponseWriter
	r       *http.Request
	tok     *token
	project string
	base    string
}

func (t *troveReq) links(kind, id string) []any {
	return []any{map[string]any{"rel": "self", "href": t.base + "/" + kind + "/" + id}, map[string]any{"rel": "bookmark", "href": t.base + "/" + kind + "/" + id}}
}

// visible returns the instance if it is in the URL's project, or answers 404. Callers hold c.mu.
func (t *troveReq) visible(id string) *dbInstance {
	db := t.c.st.dbs[id]
	if db == nil || db.ProjectID != t.project {
		troveError(t.w, http.StatusNotFound, "Resource %s cannot be found.", id)
		return nil
	}
	return db
}

// lockVisible takes c.mu and returns the instance as visible does; when there is none it
// releases c.mu. Handlers that answer after work outside the lock use it.
func (t *troveReq) lockVisible(id string) *dbInstance {
	t.c.mu.Lock()
	db := t.visible(id)
	if db == nil {
		t.c.mu.Unlock()
	}
	return db
}
