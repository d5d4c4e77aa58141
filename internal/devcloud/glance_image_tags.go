package devcloud

import (
	"net/http"
	"sort"
	"time"
)

// tag adds (PUT) or removes (DELETE) one tag.
func (g *glanceReq) tag(id, tag string) {
	g.withImage(id, func(img *image) {
		if g.r.Method == http.MethodPut {
			if !contains(img.Tags, tag) {
				img.Tags = append(img.Tags, tag)
				sort.Strings(img.Tags)
			}
		} else {
			if !contains(img.Tags, tag) {
				writeGlanceError(g.w, http.StatusNotFound, "Tag "+tag+" not found.")
				return
			}
			img.Tags = removeString(img.Tags, tag)
		}
		img.Updated = time.Now().UTC()
		g.w.WriteHeader(http.StatusNoContent)
	})
}
