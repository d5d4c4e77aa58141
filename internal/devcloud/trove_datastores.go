package devcloud

import (
	"net/http"
)

func (c *Cloud) findDatastore(nameOrID string) *datastore {
	for _, ds := range c.st.datastores {
		if ds.ID == nameOrID || ds.Name == nameOrID {
			return ds
		}
	}
	return nil
}

func (t *troveReq) datastores(rest []string) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	versionView := func(ds *datastore, v datastoreVersion) map[string]any {
		return map[string]any{"id": v.ID, "name": v.Name, "datastore": ds.ID, "active": 1, "image": "", "packages": "",
			"links": t.links("datastores/versions", v.ID)}
	}
	dsView := func(ds *datastore) map[string]any {
		var vs []any
		for _, v := range ds.Versions {
			vs = append(vs, map[string]any{"id": v.ID, "name": v.Name, "links": t.links("datastores/versions", v.ID)})
		}
		return map[string]any{"id": ds.ID, "name": ds.Name, "default_version": ds.Default, "versions": vs, "links": t.links("datastores", ds.ID)}
	}
	switch {
	case len(rest) == 0:
		out := []any{}
		for _, ds := range c.st.datastores {
			out = append(out, dsView(ds))
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"datastores": out})
		return
	}
	ds := c.findDatastore(rest[0])
	if ds == nil {
		troveError(t.w, http.StatusNotFound, "Datastore '%s' cannot be found.", rest[0])
		return
	}
	switch {
	case len(rest) == 1:
		writeJSON(t.w, http.StatusOK, map[string]any{"datastore": dsView(ds)})
	case len(rest) == 2 && rest[1] == "versions":
		out := []any{}
		for _, v := range ds.Versions {
			out = append(out, versionView(ds, v))
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"versions": out})
	case len(rest) == 3 && rest[1] == "versions":
		for _, v := range ds.Versions {
			if v.ID == rest[2] || v.Name == rest[2] {
				writeJSON(t.w, http.StatusOK, map[string]any{"version": versionView(ds, v)})
				return
			}
		}
		troveError(t.w, http.StatusNotFound, "Datastore version '%s' cannot be found.", rest[2])
	default:
		troveError(t.w, http.StatusNotFound, "The resource could not be found.")
	}
}
