package devcloud

import (
	"net/http"
)

func (t *troveReq) quotas(project string) {
	c := t.c
	if !contains(t.tok.Roles, "admin") {
		troveError(t.w, http.StatusForbidden, "User does not have admin privileges.")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.dbQuotas[project]
	if q == nil {
		troveError(t.w, http.StatusNotFound, "Quotas for project %s could not be found.", project)
		return
	}
	switch t.r.Method {
	case http.MethodGet:
	case http.MethodPut:
		var body struct {
			Quotas map[string]int `json:"quotas"`
		}
		if err := readJSON(t.r, &body); err != nil {
			troveError(t.w, http.StatusBadRequest, "%s", err.Error())
			return
		}
		for k, v := range body.Quotas {
			if _, ok := q[k]; !ok {
				troveError(t.w, http.StatusBadRequest, "Quota resource %s is not valid.", k)
				return
			}
			q[k] = v
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"quotas": q})
		return
	default:
		troveError(t.w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
		return
	}
	used := map[string]int{}
	for _, db := range c.st.dbs {
		if db.ProjectID == project {
			used["instances"]++
			used["volumes"] += db.VolumeSize
		}
	}
	for _, b := range c.st.dbBackups {
		if b.ProjectID == project {
			used["backups"]++
		}
	}
	var out []any
	for _, k := range []string{"instances", "volumes", "backups"} {
		out = append(out, map[string]any{"resource": k, "limit": q[k], "in_use": used[k], "reserved": 0})
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"quotas": out})
}

func (t *troveReq) limits() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.dbQuotas[t.project]
	used, vol := 0, 0
	for _, db := range c.st.dbs {
		if db.ProjectID == t.project {
			used++
			vol += db.VolumeSize
		}
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"limits": []any{map[string]any{"verb": "ABSOLUTE",
		"max_instances": q["instances"], "max_volumes": q["volumes"], "max_backups": q["backups"],
		"instances_used": used, "volumes_used": vol}}})
}
