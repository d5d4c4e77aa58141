package devcloud

import (
	"net/http"
	"strings"
)

func glanceVersions(base string) map[string]any {
	var vs []any
	for i, v := range []string{"2.16", "2.15", "2.9", "2.0"} {
		status := "SUPPORTED"
		if i == 0 {
			status = "CURRENT"
		}
		vs = append(vs, map[string]any{"id": "v" + v, "status": status, "links": []any{map[string]any{"rel": "self", "href": base + "/image/v2/"}}})
	}
	return map[string]any{"versions": vs}
}

func (c *Cloud) glanceHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w = glanceJSONErrors{w}
		}
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusMultipleChoices, glanceVersions(base))
			return
		}
		if len(segs) == 1 && segs[0] == "versions" {
			writeJSON(w, http.StatusOK, glanceVersions(base))
			return
		}
		if segs[0] != "v2" || len(segs) < 2 || segs[1] != "images" {
			writeGlanceError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		g := &glanceReq{c: c, w: w, r: r, tok: tokenFrom(r)}
		rest := segs[2:]
		switch {
		case len(rest) == 0 && r.Method == http.MethodGet:
			g.list()
		case len(rest) == 0 && r.Method == http.MethodPost:
			g.create()
		case len(rest) == 1 && r.Method == http.MethodGet:
			g.get(rest[0])
		case len(rest) == 1 && r.Method == http.MethodDelete:
			g.delete(rest[0])
		case len(rest) == 1 && r.Method == http.MethodPatch:
			g.patch(rest[0])
		case len(rest) == 2 && rest[1] == "file" && r.Method == http.MethodPut:
			g.upload(rest[0])
		case len(rest) == 3 && rest[1] == "tags" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
			g.tag(rest[0], rest[2])
		default:
			writeGlanceError(w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
		}
	})
}

type glanceReq struct {
	c   *Cloud
	w   http.ResponseWriter
	r   *http.Request
	tok *token
}

func (g *glanceReq) admin() bool { return contains(g.tok.Roles, "admin") }

func (c *Cloud) imageVisible(img *image, project string, admin bool) bool {
	return admin || img.Owner == project || img.Visibility == "public" || img.Visibility == "community" || img.Visibility == "shared"
}

func (g *glanceReq) find(id string) *image {
	img := g.c.st.images[id]
	if img == nil || !g.c.imageVisible(img, g.tok.ProjectID, g.admin()) {
		writeGlanceError(g.w, http.StatusNotFound, "No image found with ID "+id)
		return nil
	}
	return img
}

// withImage runs fn under c.mu on the image id names, once the caller is known to see it;
// otherwise the caller gets Glance's 404.
func (g *glanceReq) withImage(id string, fn func(img *image)) {
	g.c.mu.Lock()
	defer g.c.mu.Unlock()
	if img := g.find(id); img != nil {
		fn(img)
	}
}

// withOwnImage is withImage for a change only the image's owner or an admin may make; action
// is Glance's policy name for it (delete_image, modify_image, upload_image).
func (g *glanceReq) withOwnImage(id, action string, fn func(img *image)) {
	g.withImage(id, func(img *image) {
		if img.Owner != g.tok.ProjectID && !g.admin() {
			g.notAuthorized(action)
			return
		}
		fn(img)
	})
}

func (g *glanceReq) notAuthorized(action string) {
	writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete "+action+" action.")
}
