package devcloud

import (
	"net/http"
	"strconv"
)

func (c *Cloud) flavorView(f *flavor, mv microversion, base string, detail bool) map[string]any {
	links := []any{map[string]any{"rel": "self", "href": base + "/compute/v2.1/flavors/" + f.ID}, map[string]any{"rel": "bookmark", "href": base + "/compute/flavors/" + f.ID}}
	m := map[string]any{"id": f.ID, "name": f.Name, "links": links}
	if mv >= 55 {
		m["description"] = nil
		if f.Description != "" {
			m["description"] = f.Description
		}
	}
	if detail {
		m["vcpus"], m["ram"], m["disk"] = f.VCPUs, f.RAM, f.Disk
		m["OS-FLV-EXT-DATA:ephemeral"], m["swap"], m["rxtx_factor"] = 0, "", 1.0
		m["os-flavor-access:is_public"], m["OS-FLV-DISABLED:disabled"] = true, false
		if mv >= 61 {
			m["extra_specs"] = map[string]string{}
		}
	}
	return m
}

func (n *novaReq) flavors(rest []string) {
	if n.r.Method != http.MethodGet {
		n.methodNotAllowed()
		return
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(rest) == 0 || (len(rest) == 1 && rest[0] == "detail"):
		detail := len(rest) == 1
		var out []any
		for _, id := range c.st.flavorOrder {
			f := c.st.flavors[id]
			if q := n.r.URL.Query().Get("minRam"); q != "" {
				if v, err := strconv.Atoi(q); err == nil && f.RAM < v {
					continue
				}
			}
			if q := n.r.URL.Query().Get("minDisk"); q != "" {
				if v, err := strconv.Atoi(q); err == nil && f.Disk < v {
					continue
				}
			}
			out = append(out, c.flavorView(f, n.mv, n.base, detail))
		}
		if out == nil {
			out = []any{}
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"flavors": out})
	case len(rest) == 1:
		f := c.st.flavors[rest[0]]
		if f == nil {
			novaError(n.w, http.StatusNotFound, "Flavor %s could not be found.", rest[0])
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"flavor": c.flavorView(f, n.mv, n.base, true)})
	case len(rest) == 2 && rest[1] == "os-extra_specs":
		if c.st.flavors[rest[0]] == nil {
			novaError(n.w, http.StatusNotFound, "Flavor %s could not be found.", rest[0])
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"extra_specs": map[string]string{}})
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}
