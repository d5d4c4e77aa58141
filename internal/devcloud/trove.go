package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func troveError(w http.ResponseWriter, status int, format string, args ...any) {
	writeServiceError(w, "database", status, fmt.Sprintf(format, args...))
}

func (c *Cloud) troveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		v1 := map[string]any{"id": "v1.0", "status": "CURRENT", "updated": "2012-08-01T00:00:00Z",
			"links": []any{map[string]any{"rel": "self", "href": base + "/database/v1.0/"}}}
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{v1}})
			return
		}
		if segs[0] != "v1.0" || len(segs) < 2 {
			if len(segs) == 1 && segs[0] == "v1.0" {
				writeJSON(w, http.StatusOK, map[string]any{"version": v1})
				return
			}
			troveError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		tok := tokenFrom(r)
		if segs[1] != tok.ProjectID && !contains(tok.Roles, "admin") {
			// Trove checks the URL's project against the token's.
			troveError(w, http.StatusUnauthorized, "User does not have admin privileges.")
			return
		}
		t := &troveReq{c: c, w: w, r: r, tok: tok, project: segs[1], base: base + "/database/v1.0/" + segs[1]}
		rest := segs[2:]
		if len(rest) == 0 {
			troveError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		switch rest[0] {
		case "instances":
			t.instances(rest[1:])
		case "datastores":
			t.datastores(rest[1:])
		case "flavors":
			t.flavors(rest[1:])
		case "limits":
			t.limits()
		case "mgmt":
			if len(rest) == 3 && rest[1] == "quotas" {
				t.quotas(rest[2])
				return
			}
			troveError(w, http.StatusNotFound, "The resource could not be found.")
		default:
			troveError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

type troveReq struct {
	c       *Cloud
	w       http.ResponseWriter
	r       *http.Request
	tok     *token
	project string
	base    string
}

func (t *troveReq) links(kind, id string) []any {
	return []any{map[string]any{"rel": "self", "href": t.base + "/" + kind + "/" + id}, map[string]any{"rel": "bookmark", "href": t.base + "/" + kind + "/" + id}}
}

func (c *Cloud) dbView(t *troveReq, db *dbInstance, detail bool) map[string]any {
	m := map[string]any{
		"id": db.ID, "name": db.Name, "status": db.Status, "links": t.links("instances", db.ID),
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
	return m
}

func (c *Cloud) portNetwork(portID string) string {
	if p := c.st.ports[portID]; p != nil {
		return p.NetworkID
	}
	return ""
}

func (t *troveReq) visible(id string) *dbInstance {
	db := t.c.st.dbs[id]
	if db == nil || db.ProjectID != t.project {
		troveError(t.w, http.StatusNotFound, "Resource %s cannot be found.", id)
		return nil
	}
	return db
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
	default:
		troveError(t.w, http.StatusNotFound, "The resource could not be found.")
	}
}

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
	used, volUsed := 0, 0
	for _, db := range c.st.dbs {
		if db.ProjectID == t.project {
			used++
			volUsed += db.VolumeSize
		}
	}
	q := c.st.dbQuotas[t.project]
	var over []string
	if used+count > q["instances"] {
		over = append(over, "'instances'")
	}
	if volUsed+count*size > q["volumes"] {
		over = append(over, "'volumes'")
	}
	if len(over) > 0 {
		list := over[0]
		if len(over) == 2 {
			list += ", " + over[1]
		}
		unlockErr(http.StatusRequestEntityTooLarge, "Quota exceeded for resources: [%s].", list)
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
			if c.st.dbs[db.ID] != db || db.Status != "BUILD" {
				return nil
			}
			db.Status, db.Updated = "ACTIVE", time.Now().UTC()
			c.Event("db.active", map[string]any{"instance_id": db.ID, "name": db.Name, "replica_of": db.ReplicaOf})
			return nil
		})
	}
	writeJSON(t.w, http.StatusOK, map[string]any{"instance": view})
}

func (c *Cloud) findDatastore(nameOrID string) *datastore {
	for _, ds := range c.st.datastores {
		if ds.ID == nameOrID || ds.Name == nameOrID {
			return ds
		}
	}
	return nil
}

func (t *troveReq) delete(id string) {
	c := t.c
	c.mu.Lock()
	db := t.visible(id)
	if db == nil {
		c.mu.Unlock()
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
	c.mu.Lock()
	db := t.visible(id)
	if db == nil {
		c.mu.Unlock()
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
