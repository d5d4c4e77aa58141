package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

type troveCreateReq struct {
	Instance struct {
		Name      string `json:"name"`
		FlavorRef any    `json:"flavorRef"`
		Volume    *struct {
			Size int `json:"size"`
		} `json:"volume"`
		Datastore *struct {
			Type    string `json:"type"`
			Version string `json:"version"`
		} `json:"datastore"`
		ReplicaOf    string `json:"replica_of"`
		SlaveOf      string `json:"slave_of"`
		ReplicaCount int    `json:"replica_count"`
		Nics         []struct {
			NetID string `json:"net-id"`
		} `json:"nics"`
	} `json:"instance"`
}

func (t *troveReq) create() {
	var req troveCreateReq
	if err := readJSON(t.r, &req); err != nil {
		troveError(t.w, http.StatusBadRequest, "%s", err.Error())
		return
	}
	in := req.Instance
	if in.Name == "" {
		troveError(t.w, http.StatusBadRequest, "Validation error: instance['name'] is a required property")
		return
	}
	replicaOf := in.ReplicaOf
	if replicaOf == "" {
		replicaOf = in.SlaveOf
	}
	flavorRef := fmt.Sprint(in.FlavorRef)
	if f, ok := in.FlavorRef.(float64); ok {
		flavorRef = strconv.Itoa(int(f))
	}
	c := t.c
	c.mu.Lock()
	unlockErr := func(status int, format string, args ...any) {
		c.mu.Unlock()
		troveError(t.w, status, format, args...)
	}
	var primary *dbInstance
	if replicaOf != "" {
		primary = c.st.dbs[replicaOf]
		if primary == nil || primary.ProjectID != t.project {
			unlockErr(http.StatusNotFound, "Resource %s cannot be found.", replicaOf)
			return
		}
		if primary.Status != "ACTIVE" {
			unlockErr(http.StatusBadRequest, "Replica source %s must be ACTIVE, it is %s.", primary.ID, primary.Status)
			return
		}
		if primary.ReplicaOf != "" {
			unlockErr(http.StatusBadRequest, "Cannot create a replica of replica %s.", primary.ID)
			return
		}
	} else if in.ReplicaCount > 0 {
		unlockErr(http.StatusBadRequest, "Cannot create multiple non-replica instances.")
		return
	}
	if in.FlavorRef == nil && primary != nil {
		flavorRef = primary.FlavorID
	}
	if c.st.flavors[flavorRef] == nil {
		// Trove's FlavorNotFound is not in its exception map, so it falls back to 400.
		unlockErr(http.StatusBadRequest, "Resource %s cannot be found.", flavorRef)
		return
	}
	size := 0
	if in.Volume != nil {
		size = in.Volume.Size
	} else if primary != nil {
		size = primary.VolumeSize
	}
	if size <= 0 {
		unlockErr(http.StatusBadRequest, "Volume size was not specified.")
		return
	}
	dsType, dsVersion := "mysql", "8.0"
	if primary != nil {
		dsType, dsVersion = primary.Datastore, primary.Version
	}
	if in.Datastore != nil {
		if in.Datastore.Type != "" {
			dsType = in.Datastore.Type
		}
		if in.Datastore.Version != "" {
			dsVersion = in.Datastore.Version
		}
	}
	ds := c.findDatastore(dsType)
	if ds == nil {
		unlockErr(http.StatusNotFound, "Datastore '%s' cannot be found.", dsType)
		return
	}
	okVersion := false
	for _, v := range ds.Versions {
		if v.Name == dsVersion || v.ID == dsVersion {
			okVersion, dsVersion = true, v.Name
		}
	}
	if !okVersion {
		unlockErr(http.StatusNotFound, "Datastore version '%s' cannot be found.", dsVersion)
		return
	}
	count := 1
	if in.ReplicaCount > 1 {
		count = in.ReplicaCount
	}
	if msg := c.troveQuotaCheck(t.project, map[string]int{"instances": count, "ram": count * c.st.flavors[flavorRef].RAM, "volumes": count * size}); msg != "" {
		unlockErr(http.StatusRequestEntityTooLarge, "%s", msg)
		return
	}
	netID := ""
	if len(in.Nics) > 0 {
		netID = in.Nics[0].NetID
	} else if primary != nil {
		netID = c.portNetwork(primary.PortID)
	} else {
		for _, id := range c.st.networkOrder {
			if c.st.networks[id].ProjectID == t.project {
				netID = id
				break
			}
		}
	}
	if netID != "" && c.st.networks[netID] == nil {
		unlockErr(http.StatusBadRequest, "Network %s could not be found.", netID)
		return
	}
	now := time.Now().UTC()
	var created []*dbInstance
	for i := 0; i < count; i++ {
		name := in.Name
		if count > 1 {
			name = fmt.Sprintf("%s-%d", in.Name, i+1)
		}
		db := &dbInstance{ID: c.newID(), Name: name, ProjectID: t.project, FlavorID: flavorRef, VolumeSize: size,
			Datastore: ds.Name, Version: dsVersion, Status: "BUILD", Created: now, Updated: now}
		if primary != nil {
			db.ReplicaOf = primary.ID
			primary.Replicas = append(primary.Replicas, db.ID)
		}
		if netID != "" {
			p, err := c.allocatePortLocked(t.project, netID, "", "trove-"+db.ID, "")
			if err == nil {
				p.DeviceID, p.DeviceOwner = db.ID, "compute:nova"
				db.PortID, db.Address = p.ID, p.FixedIPs[0].Address.String()
			}
		}
		c.st.dbs[db.ID] = db
		c.st.dbOrder = append(c.st.dbOrder, db.ID)
		created = append(created, db)
	}
	view := c.dbView(t, created[0], true)
	gen := c.gen
	for _, db := range created {
		kind := "db.created"
		attrs := map[string]any{"instance_id": db.ID, "name": db.Name}
		if db.ReplicaOf != "" {
			kind = "replica.created"
			attrs["replica_of"] = db.ReplicaOf
		}
		c.Event(kind, attrs)
	}
	c.mu.Unlock()
	buildDelay := c.Delay("db_build")
	for _, db := range created {
		c.afterGen(gen, buildDelay, func() func() {
			if c.st.dbs[db.ID] != db || db.Status != "BUILD" || c.failReplicaBuild(db) {
				return nil
			}
			db.Status, db.Updated = "ACTIVE", time.Now().UTC()
			c.Event("db.active", map[string]any{"instance_id": db.ID, "name": db.Name, "replica_of": db.ReplicaOf})
			return nil
		})
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"instance": view})
}
