package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (c *Cloud) imageView(img *image) map[string]any {
	m := map[string]any{}
	for k, v := range img.Properties {
		m[k] = v
	}
	size := any(nil)
	if img.Status == "active" {
		size = img.Size
	}
	checksum := any(nil)
	if img.Checksum != "" {
		checksum = img.Checksum
	}
	for k, v := range map[string]any{
		"id": img.ID, "name": img.Name, "status": img.Status, "visibility": img.Visibility, "owner": img.Owner,
		"container_format": img.ContainerFormat, "disk_format": img.DiskFormat, "min_disk": img.MinDisk, "min_ram": img.MinRAM,
		"size": size, "virtual_size": nil, "checksum": checksum, "os_hash_algo": nil, "os_hash_value": nil, "protected": img.Protected,
		"os_hidden": false, "tags": append([]string{}, img.Tags...), "created_at": isoZ(img.Created), "updated_at": isoZ(img.Updated),
		"self": "/v2/images/" + img.ID, "file": "/v2/images/" + img.ID + "/file", "schema": "/v2/schemas/image",
	} {
		m[k] = v
	}
	if img.Checksum != "" {
		m["os_hash_algo"], m["os_hash_value"] = "sha512", strings.Repeat(img.Checksum, 4)
	}
	return m
}

func (g *glanceReq) list() {
	q := g.r.URL.Query()
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []any
	var ids []string
	for i := len(c.st.imageOrder) - 1; i >= 0; i-- { // Glance sorts by created_at desc
		img := c.st.images[c.st.imageOrder[i]]
		if img == nil || !c.imageVisible(img, g.tok.ProjectID, g.admin()) {
			continue
		}
		vis := q.Get("visibility")
		switch {
		case vis == "" && img.Visibility == "community" && img.Owner != g.tok.ProjectID:
			continue
		case vis != "" && vis != "all" && img.Visibility != vis:
			continue
		}
		if v := q.Get("name"); v != "" && !matchesGlanceIn(v, img.Name) {
			continue
		}
		if v := q.Get("status"); v != "" && !matchesGlanceIn(v, img.Status) {
			continue
		}
		if v := q.Get("owner"); v != "" && img.Owner != v {
			continue
		}
		if v := q.Get("id"); v != "" && !matchesGlanceIn(v, img.ID) {
			continue
		}
		if tags := q["tag"]; len(tags) > 0 && !hasAll(img.Tags, tags) {
			continue
		}
		if v := q.Get("container_format"); v != "" && img.ContainerFormat != v {
			continue
		}
		if v := q.Get("disk_format"); v != "" && img.DiskFormat != v {
			continue
		}
		skip := false
		for k, vals := range q {
			if glanceListParams[k] {
				continue
			}
			// Any other key filters on a custom property, as Glance does.
			if fmt.Sprint(img.Properties[k]) != vals[0] {
				skip = true
			}
		}
		if skip {
			continue
		}
		ids = append(ids, img.ID)
	}
	if m := q.Get("marker"); m != "" {
		idx := -1
		for i, id := range ids {
			if id == m {
				idx = i
			}
		}
		if idx < 0 {
			writeGlanceError(g.w, http.StatusBadRequest, "Invalid marker. Image "+m+" could not be found.")
			return
		}
		ids = ids[idx+1:]
	}
	limit := 25
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 0 {
			writeGlanceError(g.w, http.StatusBadRequest, "limit param must be an integer")
			return
		}
		limit = l
	}
	body := map[string]any{"first": "/v2/images", "schema": "/v2/schemas/images"}
	if len(ids) > limit {
		ids = ids[:limit]
		nq := g.r.URL.Query()
		nq.Set("marker", ids[len(ids)-1])
		body["next"] = "/v2/images?" + nq.Encode()
	}
	for _, id := range ids {
		out = append(out, c.imageView(c.st.images[id]))
	}
	if out == nil {
		out = []any{}
	}
	body["images"] = out
	writeJSON(g.w, http.StatusOK, body)
}

var glanceListParams = map[string]bool{"name": true, "status": true, "visibility": true, "owner": true, "id": true, "tag": true,
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true, "member_status": true, "container_format": true,
	"disk_format": true, "size_min": true, "size_max": true, "protected": true, "os_hidden": true, "created_at": true, "updated_at": true}

// matchesGlanceIn supports Glance's "in:a,b" list operator besides plain equality.
func matchesGlanceIn(filter, v string) bool {
	if rest, ok := strings.CutPrefix(filter, "in:"); ok {
		return contains(strings.Split(rest, ","), v)
	}
	return filter == v
}

func (g *glanceReq) get(id string) {
	g.withImage(id, func(img *image) {
		writeJSON(g.w, http.StatusOK, g.c.imageView(img))
	})
}

func (g *glanceReq) create() {
	var body map[string]any
	if err := readJSON(g.r, &body); err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, err.Error())
		return
	}
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC()
	img := &image{ID: c.newID(), Status: "queued", Visibility: "shared", Owner: g.tok.ProjectID, Properties: map[string]any{}, Tags: []string{}, Created: now, Updated: now}
	if id, ok := body["id"].(string); ok && id != "" {
		if c.st.images[id] != nil {
			writeGlanceError(g.w, http.StatusConflict, "Image with identifier "+id+" already exists!")
			return
		}
		img.ID = id
	}
	for k, v := range body {
		if k == "id" {
			continue
		}
		if glanceReserved[k] {
			writeGlanceError(g.w, http.StatusForbidden, "Attribute '"+k+"' is read-only.")
			return
		}
		if err := setImageField(img, k, v); err != nil {
			writeGlanceError(g.w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if img.Visibility == "public" && !g.admin() {
		g.notAuthorized("publicize_image")
		return
	}
	c.st.images[img.ID] = img
	c.st.imageOrder = append(c.st.imageOrder, img.ID)
	g.w.Header().Set("Location", baseURL(g.r)+"/image/v2/images/"+img.ID)
	writeJSON(g.w, http.StatusCreated, c.imageView(img))
}

func (g *glanceReq) delete(id string) {
	g.withOwnImage(id, "delete_image", func(img *image) {
		if img.Protected {
			writeGlanceError(g.w, http.StatusForbidden, "Image "+id+" is protected and cannot be deleted.")
			return
		}
		c := g.c
		delete(c.st.images, id)
		c.st.imageOrder = removeString(c.st.imageOrder, id)
		g.w.WriteHeader(http.StatusNoContent)
		c.Event("image.deleted", map[string]any{"image_id": id, "name": img.Name})
	})
}
