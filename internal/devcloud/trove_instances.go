package devcloud

import (
	"net/http"
	"time"
)

func (c *Cloud) dbView(t *troveReq, db *dbInstance, detail bool) map[string]any {
	status := db.Status
	if status == "ACTIVE" && c.runningBackupLocked(db.ID) != nil {
		// Trove shows BACKUP while a backup of the instance runs.
		status = "BACKUP"
	}
	m := map[string]any{
		"id": db.ID, "name": db.Name, "status": status, "links": t.links("instances", db.ID),
		"flavor":    map[string]any{"id": db.FlavorID, "links": t.links("flavors", db.FlavorID)},
		"datastore": map[string]any{"type": db.Datastore, "version": db.Version},
		"region":    "RegionOne", "tenant_id": db.ProjectID,
		"volume": map[string]any{"size": db.VolumeSize},
	}
	if db.Address != "" {
		m["ip"] = []string{db.Address}
		m["addresses"] = []any{map[string]any{"type": "private", "address": db.Address, "network": c.portNetwork(db.PortID)}}
	}
	if db.ReplicaOf != "" {
		m["replica_of"] = map[string]any{"id": db.ReplicaOf, "links": t.links("instances", db.ReplicaOf)}
	}
	if len(db.Replicas) > 0 {
		var reps []any
		for _, id := range db.Replicas {
			reps = append(reps, map[string]any{"id": id, "links": t.links("instances", id)})
		}
		m["replicas"] = reps
	}
	if detail {
		m["created"], m["updated"] = isoNoZ(db.Created), isoNoZ(db.Updated)
		m["service_status_updated"] = isoNoZ(db.Updated)
		if db.Status == "ACTIVE" {
			m["volume"] = map[string]any{"size": db.VolumeSize, "used": 0.12}
		}
	}
	if db.Address != "" {
		m["hostname"] = db.ID[:8] + ".db.devcloud"
	}
	if f := faultView(db); f != nil && detail {
		m["fault"] = f
	}
	return m
}

func (c *Cloud) portNetwork(portID string) string {
	if p := c.st.ports[portID]; p != nil {
		return p.NetworkID
	}
	return ""
}

func (t *troveReq) instances(rest []string) {
	c, r := t.c, t.r
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		c.mu.Lock()
		defer c.mu.Unlock()
		out := []any{}
		for _, id := range c.st.dbOrder {
			if db := c.st.dbs[id]; db != nil && db.ProjectID == t.project {
				out = append(out, c.dbView(t, db, false))
			}
		}
		writeJSON(t.w, http.StatusOK, map[string]any{"instances": out})
	case len(rest) == 0 && r.Method == http.MethodPost:
		t.create()
	case len(rest) == 1:
		switch r.Method {
		case http.MethodGet:
			c.mu.Lock()
			defer c.mu.Unlock()
			if db := t.visible(rest[0]); db != nil {
				writeJSON(t.w, http.StatusOK, map[string]any{"instance": c.dbView(t, db, true)})
			}
		case http.MethodDelete:
			t.delete(rest[0])
		case http.MethodPatch, http.MethodPut:
			t.update(rest[0])
		default:
			troveError(t.w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
		}
	case len(rest) == 2 && rest[1] == "backups" && r.Method == http.MethodGet:
		t.instanceBackups(rest[0])
	default:
		troveError(t.w, http.StatusNotFound, "The resource could not be found.")
	}
}

func (t *troveReq) delete(id string) {
	c := t.c
	db := t.lockVisible(id)
	if db == nil {
		return
	}
	if len(db.Replicas) > 0 {
		c.mu.Unlock()
		troveError(t.w, http.StatusForbidden, "The replica source cannot be deleted without detaching the replicas.")
		return
	}
	if db.Deleting {
		c.mu.Unlock()
		t.w.WriteHeader(http.StatusAccepted)
		return
	}
	if db.Status == "BUILD" || db.Status == "DETACH" {
		c.mu.Unlock()
		troveError(t.w, http.StatusUnprocessableEntity, "Instance %s is not ready. (Status is %s).", id, db.Status)
		return
	}
	db.Deleting, db.Status, db.Updated = true, "SHUTDOWN", time.Now().UTC()
	gen := c.gen
	c.mu.Unlock()
	c.afterGen(gen, c.Delay("db_delete"), func() func() {
		if c.st.dbs[id] != db {
			return nil
		}
		if p := c.st.dbs[db.ReplicaOf]; p != nil {
			p.Replicas = removeString(p.Replicas, id)
		}
		if db.PortID != "" {
			c.deletePortLocked(db.PortID)
		}
		delete(c.st.dbs, id)
		c.st.dbOrder = removeString(c.st.dbOrder, id)
		c.failBackupsLocked(id)
		kind := "db.deleted"
		if db.ReplicaOf != "" {
			kind = "replica.deleted"
		}
		c.Event(kind, map[string]any{"instance_id": id, "name": db.Name, "replica_of": db.ReplicaOf})
		return nil
	})
	t.w.WriteHeader(http.StatusAccepted)
}

// update handles PATCH/PUT on an instance: detaching a replica ("replica_of" or the older
// "slave_of" set to null) and renaming.
func (t *troveReq) update(id string) {
	var body map[string]map[string]any
	if err := readJSON(t.r, &body); err != nil || body["instance"] == nil {
		troveError(t.w, http.StatusBadRequest, "Validation error: 'instance' is a required property")
		return
	}
	in := body["instance"]
	c := t.c
	db := t.lockVisible(id)
	if db == nil {
		return
	}
	detach := false
	for _, k := range []string{"replica_of", "slave_of"} {
		if v, ok := in[k]; ok {
			if v != nil {
				c.mu.Unlock()
				troveError(t.w, http.StatusBadRequest, "Validation error: instance['%s'] can only be set to null to detach a replica.", k)
				return
			}
			detach = true
		}
	}
	if name, ok := in["name"].(string); ok && name != "" {
		db.Name = name
	}
	if !detach {
		db.Updated = time.Now().UTC()
		c.mu.Unlock()
		t.w.WriteHeader(http.StatusAccepted)
		return
	}
	if db.ReplicaOf == "" {
		c.mu.Unlock()
		troveError(t.w, http.StatusBadRequest, "Instance %s is not a replica.", id)
		return
	}
	if db.Status != "ACTIVE" {
		c.mu.Unlock()
		troveError(t.w, http.StatusUnprocessableEntity, "Instance %s is not ready. (Status is %s).", id, db.Status)
		return
	}
	db.Status, db.Updated = "DETACH", time.Now().UTC()
	gen := c.gen
	c.mu.Unlock()
	c.afterGen(gen, c.Delay("db_detach"), func() func() {
		if c.st.dbs[id] != db || db.Status != "DETACH" {
			return nil
		}
		primary := db.ReplicaOf
		if p := c.st.dbs[primary]; p != nil {
			p.Replicas = removeString(p.Replicas, id)
		}
		db.ReplicaOf, db.Status, db.Updated = "", "ACTIVE", time.Now().UTC()
		c.Event("replica.detached", map[string]any{"instance_id": id, "name": db.Name, "replica_of": primary})
		return nil
	})
	t.w.WriteHeader(http.StatusAccepted)
}
