package devcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// glanceReserved are the attributes Glance sets itself: a create or patch naming one gets 403.
var glanceReserved = map[string]bool{"id": true, "status": true, "owner": true, "created_at": true, "updated_at": true, "size": true,
	"virtual_size": true, "checksum": true, "self": true, "file": true, "schema": true, "os_hash_algo": true, "os_hash_value": true, "direct_url": true, "locations": true}

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
	var ops []imagePatchOp
	if err := json.Unmarshal(raw, &ops); err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, "Request body must be a JSON array of operation objects.")
		return
	}
	g.withOwnImage(id, "modify_image", func(img *image) { g.applyPatch(img, ops) })
}

type imagePatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// applyPatch applies every operation or, when one fails, none. Callers hold c.mu.
func (g *glanceReq) applyPatch(img *image, ops []imagePatchOp) {
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
				g.notAuthorized("publicize_image")
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
	writeJSON(g.w, http.StatusOK, g.c.imageView(img))
}

func imageHasField(img *image, field string) bool {
	switch field {
	case "name", "visibility", "container_format", "disk_format", "min_disk", "min_ram", "protected", "tags":
		return true
	}
	_, ok := img.Properties[field]
	return ok
}
