package devcloud

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

var dnsZoneSortKeys = []string{"created_at", "id", "updated_at", "name", "tenant_id", "serial", "ttl", "status"}

func (d *dnsReq) zones(rest []string) {
	m := d.r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		d.listZones()
	case len(rest) == 0 && m == http.MethodPost:
		d.createZone()
	case len(rest) == 0:
		d.methodNotAllowed()
	case len(rest) == 1:
		if !d.checkUUID("zone_id", rest[0]) {
			return
		}
		switch m {
		case http.MethodGet:
			d.showZone(rest[0])
		case http.MethodPatch:
			d.updateZone(rest[0])
		case http.MethodDelete:
			d.deleteZone(rest[0])
		default:
			d.methodNotAllowed()
		}
	case rest[1] == "recordsets":
		if !d.checkUUID("zone_id", rest[0]) {
			return
		}
		d.zoneRecordsets(rest[0], rest[2:])
	case len(rest) == 2 && rest[1] == "nameservers" && m == http.MethodGet:
		d.nameservers(rest[0])
	default:
		d.notFound()
	}
}

func (d *dnsReq) zoneView(z *dnsZone) map[string]any {
	attrs := map[string]any{}
	for k, v := range z.Attributes {
		attrs[k] = v
	}
	updated := any(nil)
	if !z.Updated.IsZero() {
		updated = dnsTime(z.Updated)
	}
	return map[string]any{
		"id": z.ID, "pool_id": designateDefaultPoolID, "project_id": z.ProjectID, "name": z.Name, "email": z.Email,
		"description": nullableStr(z.Description), "ttl": z.TTL, "serial": z.Serial, "status": z.Status, "action": z.Action,
		"version": z.Version, "attributes": attrs, "type": "PRIMARY", "masters": []any{},
		"created_at": dnsTime(z.Created), "updated_at": updated, "transferred_at": nil,
		"links": map[string]any{"self": d.base + "/v2/zones/" + z.ID},
	}
}

func nullableStr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// zoneCreateKeys are the keys Designate's zone adapter accepts on create; read-only fields
// such as id or status are refused.
var zoneCreateKeys = []string{"name", "email", "description", "ttl", "type", "attributes", "masters"}

func (d *dnsReq) createZone() {
	body, ok := d.readBody()
	if !ok {
		return
	}
	var unknown []string
	for k := range body {
		if !contains(zoneCreateKeys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		d.badKeys(unknown, "zone")
		return
	}
	typ := "PRIMARY"
	if v, ok := body["type"].(string); ok {
		typ = v
	}
	name, _ := body["name"].(string)
	if name != "" {
		if msg := validDNSName(name, "Domain", false); msg != "" {
			d.failValue(msg)
			return
		}
	}
	email, hasEmail := body["email"].(string)
	if hasEmail {
		if msg := validEmail(email); msg != "" {
			d.failValue(msg)
			return
		}
	}
	ttl, ok := d.parseTTL(body["ttl"])
	if !ok {
		return
	}
	desc, ok := d.parseDescription(body["description"])
	if !ok {
		return
	}
	switch typ {
	case "PRIMARY":
		if !hasEmail {
			d.failInvalid([]any{"type", "email"}, "required", "email", "'email' is a required property")
			return
		}
	case "SECONDARY":
		// Secondary zones need a master to transfer from; devcloud has no DNS server to
		// transfer with, so it refuses them with the error Designate gives when masters
		// are missing.
		d.failInvalid([]any{"type", "masters"}, "required", []any{"masters"}, "'masters' is a required property")
		return
	default:
		d.failInvalid([]any{"type"}, "enum", []any{"SECONDARY", "PRIMARY"}, fmt.Sprintf("'%s' is not one of ['SECONDARY', 'PRIMARY']", typ))
		return
	}
	if name == "" {
		d.fail(http.StatusBadRequest, "invalid_object", "")
		return
	}
	attrs, _ := body["attributes"].(map[string]any)

	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	count := 0
	for _, z := range st.zones {
		if z.ProjectID == d.project {
			count++
		}
	}
	if count+1 > d.quota(d.project, "zones") {
		d.overQuota("zones")
		return
	}
	if len(strings.Split(strings.Trim(name, "."), ".")) <= 1 {
		d.fail(http.StatusBadRequest, "invalid_zone_name", "More than one label is required")
		return
	}
	var parent *dnsZone
	for _, z := range st.zones {
		switch {
		case z.Name == name && z.ProjectID != d.project:
			d.fail(http.StatusConflict, "duplicate_zone", "Zone already exists, owned by a different tenant")
			return
		case strings.HasSuffix(z.Name, "."+name) && z.ProjectID != d.project:
			d.fail(http.StatusForbidden, "illegal_parent", "Unable to create zone because another tenant owns a subzone of the zone")
			return
		case strings.HasSuffix(name, "."+z.Name) && (parent == nil || len(z.Name) > len(parent.Name)):
			parent = z
		}
	}
	if parent != nil && parent.ProjectID != d.project {
		d.fail(http.StatusForbidden, "illegal_child", "Unable to create subzone in another tenants zone")
		return
	}
	for _, z := range st.zones {
		if z.Name == name {
			d.fail(http.StatusConflict, "duplicate_zone", "Duplicate Zone")
			return
		}
	}
	now := time.Now().UTC()
	z := &dnsZone{ID: c.newID(), Name: name, Email: email, ProjectID: d.project, Description: desc, TTL: 3600,
		Serial: now.Unix(), Refresh: 3500 + c.rng.Intn(101), Status: "PENDING", Action: "CREATE", Version: 1,
		Attributes: attrs, Created: now}
	if ttl != nil {
		z.TTL = *ttl
	}
	if parent != nil {
		z.ParentID = parent.ID
	}
	st.zones[z.ID] = z
	st.zoneOrder = append(st.zoneOrder, z.ID)
	// The SOA is always the zone's first recordset, then the pool's NS records.
	c.addManagedRecordsetLocked(z, "SOA", soaData(z), now)
	c.addManagedRecordsetLocked(z, "NS", designateNameserver, now)
	c.Event("dns.zone.created", map[string]any{"zone_id": z.ID, "name": z.Name})
	c.propagateZoneLocked(z, "zone", z.Name)
	d.w.Header().Set("Location", d.base+"/v2/zones/"+z.ID)
	writeJSON(d.w, http.StatusAccepted, d.zoneView(z))
}

// validEmail is Designate's EmailField: one @, and the address read as a domain must be valid.
func validEmail(email string) string {
	if strings.Count(email, "@") != 1 {
		return email + " is not an email"
	}
	if validDNSName(strings.ReplaceAll(email, "@", ".")+".", "Domain", false) != "" {
		return "Email " + email + " is invalid"
	}
	return ""
}

// soaData renders the SOA record as central's _build_soa_record: the first nameserver, the
// email as a name, the serial, refresh, and the pool defaults for retry, expire and minimum.
func soaData(z *dnsZone) string {
	return fmt.Sprintf("%s %s. %d %d %d %d %d", designateNameserver, strings.ReplaceAll(z.Email, "@", "."), z.Serial, z.Refresh, 600, 86400, 3600)
}

func (c *Cloud) addManagedRecordsetLocked(z *dnsZone, typ, data string, now time.Time) {
	rs := &dnsRecordset{ID: c.newID(), ZoneID: z.ID, ProjectID: z.ProjectID, Name: z.Name, Type: typ, Managed: true,
		Version: 1, Created: now, Records: []*dnsRecord{{Data: data, Status: "PENDING", Action: "CREATE", Serial: z.Serial}}}
	c.st.recordsets[rs.ID] = rs
	c.st.recordsetOrder = append(c.st.recordsetOrder, rs.ID)
}

// zoneChangedLocked is central's _update_zone_in_storage with a serial increment: the zone
// goes PENDING/UPDATE with a new serial and its SOA record follows.
func (c *Cloud) zoneChangedLocked(z *dnsZone, now time.Time) {
	z.Action, z.Status = "UPDATE", "PENDING"
	z.Serial = incrementSerial(z.Serial)
	z.Version++
	z.Updated = now
	for _, id := range c.st.recordsetOrder {
		rs := c.st.recordsets[id]
		if rs == nil || rs.ZoneID != z.ID || rs.Type != "SOA" {
			continue
		}
		rs.Records = []*dnsRecord{{Data: soaData(z), Status: "PENDING", Action: "UPDATE", Serial: z.Serial}}
		rs.Version++
		rs.Updated = now
	}
}

// propagateZoneLocked sends the zone's current serial to the "worker": after the zone_update
// delay its answer lands, unless an object fault keeps it PENDING or makes it fail. kind
// and name pick the fault ("zone" or "recordset", and the changed object's name).
func (c *Cloud) propagateZoneLocked(z *dnsZone, kind, name string) {
	outcome := c.faults.objectFault(kind, name)
	if outcome == "stuck" {
		return
	}
	result := "SUCCESS"
	if outcome == "error" {
		result = "ERROR"
	}
	zoneID, serial, gen := z.ID, z.Serial, c.gen
	c.afterGen(gen, c.Delay("zone_update"), func() func() {
		c.zoneStatusLocked(zoneID, result, serial)
		return nil
	})
}

// zoneStatusLocked is central's update_status: the worker reports SUCCESS or ERROR for a
// serial; the zone and every pending record up to that serial take the result.
func (c *Cloud) zoneStatusLocked(zoneID, result string, serial int64) {
	z := c.st.zones[zoneID]
	if z == nil {
		return
	}
	now := time.Now().UTC()
	if (z.Status == "PENDING" || z.Status == "ERROR" && result == "SUCCESS") && serial >= z.Serial {
		prev := z.Status
		switch {
		case result == "ERROR":
			// A failed delete leaves the zone in ERROR with action DELETE: it stays, and a
			// client waiting for it to go sees the failure.
			z.Status = "ERROR"
		case z.Action == "DELETE":
			c.removeZoneLocked(z)
			c.Event("dns.zone.deleted", map[string]any{"zone_id": z.ID, "name": z.Name})
			return
		default:
			z.Status, z.Action = "ACTIVE", "NONE"
		}
		z.Version++
		z.Updated = now
		if z.Status != prev {
			c.Event("dns.zone."+strings.ToLower(z.Status), map[string]any{"zone_id": z.ID, "name": z.Name, "serial": z.Serial})
		}
	}
	for _, id := range c.st.recordsetOrder {
		rs := c.st.recordsets[id]
		if rs == nil || rs.ZoneID != zoneID {
			continue
		}
		before := rs.status()
		for _, r := range rs.Records {
			if r.Serial > serial {
				continue
			}
			switch {
			case result == "SUCCESS" && (r.Status == "PENDING" || r.Status == "ERROR"):
				r.Status, r.Action = "ACTIVE", "NONE"
			case result == "ERROR" && r.Status == "PENDING":
				r.Status = "ERROR"
			}
		}
		if after := rs.status(); after != before && !rs.Managed {
			c.Event("dns.recordset."+strings.ToLower(after), map[string]any{"zone_id": zoneID, "recordset_id": rs.ID, "name": rs.Name, "type": rs.Type})
		}
	}
}

func (c *Cloud) removeZoneLocked(z *dnsZone) {
	delete(c.st.zones, z.ID)
	c.st.zoneOrder = removeString(c.st.zoneOrder, z.ID)
	var keep []string
	for _, id := range c.st.recordsetOrder {
		if rs := c.st.recordsets[id]; rs != nil && rs.ZoneID == z.ID {
			delete(c.st.recordsets, id)
			continue
		}
		keep = append(keep, id)
	}
	c.st.recordsetOrder = keep
}

func (d *dnsReq) showZone(id string) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if z := d.visibleZone(id); z != nil {
		writeJSON(d.w, http.StatusOK, d.zoneView(z))
	}
}

func (d *dnsReq) listZones() {
	filters, ok := d.filterParams("name", "type", "email", "status", "description", "ttl")
	if !ok {
		return
	}
	key, desc, ok := d.pagingParams(dnsZoneSortKeys)
	if !ok {
		return
	}
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var zs []*dnsZone
	for _, id := range c.st.zoneOrder {
		z := c.st.zones[id]
		if z == nil || (z.ProjectID != d.project && !d.allProjects) {
			continue
		}
		fields := map[string]string{"name": z.Name, "type": "PRIMARY", "email": z.Email, "status": z.Status,
			"ttl": fmt.Sprint(z.TTL), "description": fmt.Sprint(nullableStr(z.Description))}
		if matchesAll(filters, fields) {
			zs = append(zs, z)
		}
	}
	sortKey := func(z *dnsZone) string {
		switch key {
		case "id":
			return z.ID
		case "updated_at":
			return sortTime(z.Updated)
		case "name":
			return z.Name
		case "tenant_id":
			return z.ProjectID
		case "serial":
			return fmt.Sprintf("%020d", z.Serial)
		case "ttl":
			return fmt.Sprintf("%020d", z.TTL)
		case "status":
			return z.Status
		}
		return sortTime(z.Created)
	}
	sort.SliceStable(zs, func(i, j int) bool {
		a, b := sortKey(zs[i]), sortKey(zs[j])
		if a == b {
			return zs[i].ID < zs[j].ID != desc
		}
		return a < b != desc
	})
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.ID
	}
	d.writePage("zones", "/v2/zones", ids, func(id string) map[string]any { return d.zoneView(c.st.zones[id]) })
}

func sortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func matchesAll(filters, fields map[string]string) bool {
	for k, v := range filters {
		if !dnsMatch(v, fields[k]) {
			return false
		}
	}
	return true
}

func (d *dnsReq) updateZone(id string) {
	body, ok := d.readBody()
	if !ok {
		return
	}
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	z := d.visibleZone(id)
	if z == nil {
		return
	}
	if z.Action == "DELETE" {
		d.fail(http.StatusBadRequest, "bad_request", "Can not update a deleting zone")
		return
	}
	current := d.zoneView(z)
	var refused []string
	for k, v := range body {
		switch k {
		case "email", "description", "ttl", "masters":
		default:
			// Immutable and read-only fields may be sent back unchanged, as clients that
			// PATCH a whole zone do.
			if cur, ok := current[k]; !ok || fmt.Sprint(cur) != fmt.Sprint(v) {
				refused = append(refused, k)
			}
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		d.badKeys(refused, "zone")
		return
	}
	email := z.Email
	if v, ok := body["email"]; ok {
		s, _ := v.(string)
		if msg := validEmail(s); msg != "" {
			d.failValue(msg)
			return
		}
		email = s
	}
	ttl := z.TTL
	if v, ok := body["ttl"]; ok {
		t, ok := d.parseTTL(v)
		if !ok {
			return
		}
		if t != nil {
			ttl = *t
		}
	}
	desc := z.Description
	if v, ok := body["description"]; ok {
		p, ok := d.parseDescription(v)
		if !ok {
			return
		}
		desc = p
	}
	z.Email, z.TTL, z.Description = email, ttl, desc
	c.zoneChangedLocked(z, time.Now().UTC())
	c.Event("dns.zone.updated", map[string]any{"zone_id": z.ID, "name": z.Name, "ttl": z.TTL})
	c.propagateZoneLocked(z, "zone", z.Name)
	writeJSON(d.w, http.StatusAccepted, d.zoneView(z))
}

func (d *dnsReq) deleteZone(id string) {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	z := d.visibleZone(id)
	if z == nil {
		return
	}
	for _, o := range c.st.zones {
		if o.ParentID == z.ID {
			d.fail(http.StatusBadRequest, "zone_has_sub_zone", "Please delete any subzones before deleting this zone")
			return
		}
	}
	z.Action, z.Status = "DELETE", "PENDING"
	z.Version++
	z.Updated = time.Now().UTC()
	c.Event("dns.zone.deleting", map[string]any{"zone_id": z.ID, "name": z.Name})
	c.propagateZoneLocked(z, "zone", z.Name)
	writeJSON(d.w, http.StatusAccepted, d.zoneView(z))
}

func (d *dnsReq) nameservers(id string) {
	if !d.checkUUID("zone_id", id) {
		return
	}
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if d.visibleZone(id) != nil {
		writeJSON(d.w, http.StatusOK, map[string]any{"nameservers": []any{map[string]any{"hostname": designateNameserver, "priority": 1}}})
	}
}
