package devcloud

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
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

func (g *glanceReq) find(id string) *image {
	img := g.c.st.images[id]
	if img == nil || !g.c.imageVisible(img, g.tok.ProjectID, g.admin()) {
		writeGlanceError(g.w, http.StatusNotFound, "No image found with ID "+id)
		return nil
	}
	return img
}

func (g *glanceReq) get(id string) {
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if img := g.find(id); img != nil {
		writeJSON(g.w, http.StatusOK, c.imageView(img))
	}
}

var glanceReserved = map[string]bool{"id": true, "status": true, "owner": true, "created_at": true, "updated_at": true, "size": true,
	"virtual_size": true, "checksum": true, "self": true, "file": true, "schema": true, "os_hash_algo": true, "os_hash_value": true, "direct_url": true, "locations": true}

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
		writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete publicize_image action.")
		return
	}
	c.st.images[img.ID] = img
	c.st.imageOrder = append(c.st.imageOrder, img.ID)
	g.w.Header().Set("Location", baseURL(g.r)+"/image/v2/images/"+img.ID)
	writeJSON(g.w, http.StatusCreated, c.imageView(img))
}

func setImageField(img *image, k string, v any) error {
	str := func() (string, error) {
		s, ok := v.(string)
		if !ok && v != nil {
			return "", apiMessagef("Invalid type for %s: %v is not of type 'string'", k, v)
		}
		return s, nil
	}
	num := func() (int, error) {
		f, ok := v.(float64)
		if !ok || f < 0 {
			return 0, apiMessagef("Invalid value for %s: %v", k, v)
		}
		return int(f), nil
	}
	var err error
	switch k {
	case "name":
		img.Name, err = str()
	case "visibility":
		var s string
		if s, err = str(); err == nil {
			if !contains([]string{"public", "private", "shared", "community"}, s) {
				return apiMessagef("Invalid value '%s' for visibility: not one of public, private, shared, community", s)
			}
			img.Visibility = s
		}
	case "container_format":
		img.ContainerFormat, err = str()
	case "disk_format":
		img.DiskFormat, err = str()
	case "min_disk":
		img.MinDisk, err = num()
	case "min_ram":
		img.MinRAM, err = num()
	case "protected":
		b, ok := v.(bool)
		if !ok {
			return apiMessagef("Invalid type for protected: %v is not of type 'boolean'", v)
		}
		img.Protected = b
	case "tags":
		list, ok := v.([]any)
		if !ok {
			return apiMessagef("Invalid type for tags: %v is not of type 'array'", v)
		}
		img.Tags = []string{}
		for _, t := range list {
			img.Tags = append(img.Tags, fmt.Sprint(t))
		}
	default:
		s, ok := v.(string)
		if !ok {
			return apiMessagef("Invalid type for additional property %s: %v is not of type 'string'", k, v)
		}
		img.Properties[k] = s
	}
	return err
}

func (g *glanceReq) delete(id string) {
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	img := g.find(id)
	if img == nil {
		return
	}
	if img.Owner != g.tok.ProjectID && !g.admin() {
		writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete delete_image action.")
		return
	}
	if img.Protected {
		writeGlanceError(g.w, http.StatusForbidden, "Image "+id+" is protected and cannot be deleted.")
		return
	}
	delete(c.st.images, id)
	c.st.imageOrder = removeString(c.st.imageOrder, id)
	g.w.WriteHeader(http.StatusNoContent)
	name := img.Name
	c.Event("image.deleted", map[string]any{"image_id": id, "name": name})
}

// patch applies an application/openstack-images-v2.1-json-patch document.
func (g *glanceReq) patch(id string) {
	ct := g.r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/openstack-images-v2.1-json-patch") && !strings.HasPrefix(ct, "application/openstack-images-v2.0-json-patch") {
		writeGlanceError(g.w, http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(g.r.Body, 1<<20))
	if err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, err.Error())
		return
	}
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(raw, &ops); err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, "Request body must be a JSON array of operation objects.")
		return
	}
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	img := g.find(id)
	if img == nil {
		return
	}
	if img.Owner != g.tok.ProjectID && !g.admin() {
		writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete modify_image action.")
		return
	}
	// Work on a copy so that a failing operation leaves the image unchanged.
	cp := *img
	cp.Properties = map[string]any{}
	for k, v := range img.Properties {
		cp.Properties[k] = v
	}
	cp.Tags = append([]string{}, img.Tags...)
	for _, op := range ops {
		field := strings.TrimPrefix(op.Path, "/")
		field = strings.ReplaceAll(strings.ReplaceAll(field, "~1", "/"), "~0", "~")
		if glanceReserved[field] {
			writeGlanceError(g.w, http.StatusForbidden, "Attribute '"+field+"' is read-only.")
			return
		}
		switch op.Op {
		case "add", "replace":
			if op.Op == "replace" && !imageHasField(&cp, field) {
				writeGlanceError(g.w, http.StatusConflict, "Property "+field+" does not exist.")
				return
			}
			if field == "visibility" && op.Value == "public" && !g.admin() {
				writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete publicize_image action.")
				return
			}
			if err := setImageField(&cp, field, op.Value); err != nil {
				writeGlanceError(g.w, http.StatusBadRequest, err.Error())
				return
			}
		case "remove":
			if _, ok := cp.Properties[field]; !ok {
				writeGlanceError(g.w, http.StatusConflict, "Property "+field+" does not exist.")
				return
			}
			delete(cp.Properties, field)
		default:
			writeGlanceError(g.w, http.StatusBadRequest, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
			return
		}
	}
	cp.Updated = time.Now().UTC()
	*img = cp
	writeJSON(g.w, http.StatusOK, c.imageView(img))
}

// upload stores nothing but the size and checksum: the image goes active at once, as with
// Glance's file store and a small body.
func (g *glanceReq) upload(id string) {
	h := md5.New()
	n, err := io.Copy(h, io.LimitReader(g.r.Body, 1<<30))
	if err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, "Error reading the image data: "+err.Error())
		return
	}
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	img := g.find(id)
	if img == nil {
		return
	}
	if img.Owner != g.tok.ProjectID && !g.admin() {
		writeGlanceError(g.w, http.StatusForbidden, "You are not authorized to complete upload_image action.")
		return
	}
	if img.Status != "queued" {
		writeGlanceError(g.w, http.StatusConflict, "Image status transition from "+img.Status+" to saving is not allowed")
		return
	}
	if img.ContainerFormat == "" || img.DiskFormat == "" {
		writeGlanceError(g.w, http.StatusBadRequest, "Properties container_format, disk_format must be set prior to saving data.")
		return
	}
	img.Status, img.Size, img.Checksum, img.Updated = "active", n, hex.EncodeToString(h.Sum(nil)), time.Now().UTC()
	c.Event("image.saved", map[string]any{"image_id": img.ID, "name": img.Name})
	g.w.WriteHeader(http.StatusNoContent)
}

func imageHasField(img *image, field string) bool {
	switch field {
	case "name", "visibility", "container_format", "disk_format", "min_disk", "min_ram", "protected", "tags":
		return true
	}
	_, ok := img.Properties[field]
	return ok
}

func (g *glanceReq) tag(id, tag string) {
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	img := g.find(id)
	if img == nil {
		return
	}
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
}
