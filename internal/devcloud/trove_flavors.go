package devcloud

import (
	"net/http"
	"strconv"
)

func (t *troveReq) flavors(rest []string) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	view := func(f *flavor) map[string]any {
		m := map[string]any{"name": f.Name, "ram": f.RAM, "vcpus": f.VCPUs, "disk": f.Disk, "ephemeral": 0, "str_id": f.ID, "links": t.links("flavors", f.ID)}
		if n, err := strconv.Atoi(f.ID); err == nil {
			m["id"] = n
		} else {
			m["id"] = nil
		}
		return m
	}
	if len(rest) == 0 {
		out := []any{}
		for _, id := range c.st.flavorOrder {
			out = append(out, view(c.st.flavors[id]))
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"flavors": out})
		return
	}
	f := c.st.flavors[rest[0]]
	if f == nil {
		troveError(t.w, http.StatusNotFound, "Resource %s cannot be found.", rest[0])
		return
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"flavor": view(f)})
}
