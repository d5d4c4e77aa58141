package devcloud

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

var (
	dnsRecordsetSortKeys     = []string{"created_at", "id", "updated_at", "zone_id", "tenant_id", "name", "type", "ttl", "records"}
	dnsRecordsetViewSortKeys = []string{"created_at", "updated_at", "zone_id", "tenant_id", "name", "type", "ttl"}
)

// dnsRecordTypes is Designate's default supported_record_type list.
var dnsRecordTypes = []string{"A", "AAAA", "CNAME", "MX", "SRV", "TXT", "SPF", "NS", "PTR", "SSHFP", "SOA", "NAPTR", "CAA", "CERT"}

func (d *dnsReq) zoneRecordsets(zoneID string, rest []string) {
	m := d.r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		d.listRecordsets(zoneID)
	case len(rest) == 0 && m == http.MethodPost:
		d.createRecordset(zoneID)
	case len(rest) == 0:
		d.methodNotAllowed()
	case len(rest) == 1:
		if !d.checkUUID("recordset_id", rest[0]) {
			return
		}
		switch m {
		case http.MethodGet:
			d.showRecordset(zoneID, rest[0])
		case http.MethodPut:
			d.updateRecordset(zoneID, rest[0])
		case http.MethodDelete:
			d.deleteRecordset(zoneID, rest[0])
		default:
			d.methodNotAllowed()
		}
	default:
		d.notFound()
	}
}

// recordsetsView serves /v2/recordsets: the list across the project's zones, and a 301 from
// /v2/recordsets/{id} to the recordset's place under its zone.
func (d *dnsReq) recordsetsView(rest []string) {
	switch {
	case len(rest) == 0 && d.r.Method == http.MethodGet:
		d.listRecordsets("")
	case len(rest) == 1 && d.r.Method == http.MethodGet:
		if !d.checkUUID("recordset_id", rest[0]) {
			return
		}
		d.c.mu.Lock()
		defer d.c.mu.Unlock()
		rs := d.c.st.recordsets[rest[0]]
		if rs == nil || d.visibleZoneQuiet(rs.ZoneID) == nil {
			d.fail(http.StatusNotFound, "recordset_not_found", "Could not find RecordSet")
			return
		}
		http.Redirect(d.w, d.r, d.base+"/v2/zones/"+rs.ZoneID+"/recordsets/"+rs.ID, http.StatusMovedPermanently)
	case len(rest) <= 1:
		d.methodNotAllowed()
	default:
		d.notFound()
	}
}

func (d *dnsReq) visibleZoneQuiet(id string) *dnsZone {
	z := d.c.st.zones[id]
	if z == nil || (z.ProjectID != d.project && !d.allProjects) {
		return nil
	}
	return z
}

func (d *dnsReq) recordsetView(rs *dnsRecordset) map[string]any {
	records := make([]string, 0, len(rs.Records))
	for _, r := range rs.Records {
		records = append(records, r.Data)
	}
	ttl := any(nil)
	if rs.TTL != nil {
		ttl = *rs.TTL
	}
	updated := any(nil)
	if !rs.Updated.IsZero() {
		updated = dnsTime(rs.Updated)
	}
	zoneName := ""
	if z := d.c.st.zones[rs.ZoneID]; z != nil {
		zoneName = z.Name
	}
	return map[string]any{
		"id": rs.ID, "zone_id": rs.ZoneID, "project_id": rs.ProjectID, "name": rs.Name, "zone_name": zoneName,
		"type": rs.Type, "records": records, "description": nullableStr(rs.Description), "ttl": ttl,
		"status": rs.status(), "action": rs.action(), "version": rs.Version,
		"created_at": dnsTime(rs.Created), "updated_at": updated,
		"links": map[string]any{"self": d.base + "/v2/zones/" + rs.ZoneID + "/recordsets/" + rs.ID},
	}
}

// findRecordset returns the recordset of a visible zone, answering Designate's 404s. Callers
// hold c.mu.
func (d *dnsReq) findRecordset(zoneID, id string) (*dnsZone, *dnsRecordset) {
	z := d.visibleZone(zoneID)
	if z == nil {
		return nil, nil
	}
	rs := d.c.st.recordsets[id]
	if rs == nil || rs.ZoneID != z.ID {
		d.fail(http.StatusNotFound, "recordset_not_found", "Could not find RecordSet")
		return nil, nil
	}
	return z, rs
}

func (d *dnsReq) showRecordset(zoneID, id string) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if _, rs := d.findRecordset(zoneID, id); rs != nil {
		writeJSON(d.w, http.StatusOK, d.recordsetView(rs))
	}
}

func (d *dnsReq) listRecordsets(zoneID string) {
	if zoneID == "" && d.r.URL.Query().Has("zone_id") {
		// Designate Zed fails this way on /v2/recordsets?zone_id=..., which gophercloud's
		// recordsets.ListAll sends when ZoneID is set; the lab answers the same.
		d.fail(http.StatusInternalServerError, "unknown", "")
		return
	}
	filters, ok := d.filterParams("name", "type", "ttl", "data", "status", "description")
	if !ok {
		return
	}
	keys := dnsRecordsetSortKeys
	if zoneID == "" {
		keys = dnsRecordsetViewSortKeys
	}
	key, desc, ok := d.pagingParams(keys)
	if !ok {
		return
	}
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if zoneID != "" && d.visibleZone(zoneID) == nil {
		return
	}
	var list []*dnsRecordset
	for _, id := range c.st.recordsetOrder {
		rs := c.st.recordsets[id]
		if rs == nil || (zoneID != "" && rs.ZoneID != zoneID) || d.visibleZoneQuiet(rs.ZoneID) == nil {
			continue
		}
		fields := map[string]string{"name": rs.Name, "type": rs.Type, "status": rs.status(),
			"description": fmt.Sprint(nullableStr(rs.Description)), "ttl": fmt.Sprint(nullableInt(rs.TTL))}
		if data, ok := filters["data"]; ok {
			found := false
			for _, r := range rs.Records {
				found = found || dnsMatch(data, r.Data)
			}
			if !found {
				continue
			}
		}
		delete(fields, "data")
		if matchesAll(withoutKey(filters, "data"), fields) {
			list = append(list, rs)
		}
	}
	sortKey := func(rs *dnsRecordset) string {
		switch key {
		case "id":
			return rs.ID
		case "updated_at":
			return sortTime(rs.Updated)
		case "zone_id":
			return rs.ZoneID
		case "tenant_id":
			return rs.ProjectID
		case "name":
			return rs.Name
		case "type":
			return rs.Type
		case "ttl":
			return fmt.Sprintf("%020v", nullableInt(rs.TTL))
		}
		return sortTime(rs.Created)
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := sortKey(list[i]), sortKey(list[j])
		if a == b {
			return false
		}
		return a < b != desc
	})
	ids := make([]string, len(list))
	for i, rs := range list {
		ids[i] = rs.ID
	}
	path := "/v2/recordsets"
	if zoneID != "" {
		path = "/v2/zones/" + zoneID + "/recordsets"
	}
	d.writePage("recordsets", path, ids, func(id string) map[string]any { return d.recordsetView(c.st.recordsets[id]) })
}

func nullableInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func withoutKey(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

var recordsetCreateKeys = []string{"name", "type", "records", "description", "ttl"}

// parseRecords reads "records" as the adapter does: a list of strings, deduplicated.
func (d *dnsReq) parseRecords(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		d.failInvalid([]any{"records"}, "type", []any{"list"}, fmt.Sprintf("'%v' is not a valid list of records", v))
		return nil, false
	}
	var out []string
	for _, e := range list {
		s := fmt.Sprint(e)
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out, true
}

// checkRecords validates the type and every record's data, as RecordSet.validate does.
func (d *dnsReq) checkRecords(typ string, records []string) bool {
	if !contains(dnsRecordTypes, typ) {
		shown := typ
		vv := any(typ)
		if typ == "" {
			shown, vv = "None", nil
		}
		d.failInvalid([]any{"recordset", "type"}, "value", []any{vv}, fmt.Sprintf("'%s' is not a valid record type", shown))
		return false
	}
	for i, r := range records {
		if !validRecordData(typ, r) {
			d.failInvalid([]any{"records", i}, "format", []any{typ}, fmt.Sprintf("'%s' is not a '%s' Record", r, typ))
			return false
		}
	}
	return true
}

func (d *dnsReq) createRecordset(zoneID string) {
	body, ok := d.readBody()
	if !ok {
		return
	}
	var unknown []string
	for k := range body {
		if !contains(recordsetCreateKeys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		d.badKeys(unknown, "recordset")
		return
	}
	var records []string
	if v, ok := body["records"]; ok {
		if records, ok = d.parseRecords(v); !ok {
			return
		}
	}
	name, _ := body["name"].(string)
	if name != "" {
		if msg := validDNSName(name, "Host name", true); msg != "" {
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
	typ, _ := body["type"].(string)
	if !d.checkRecords(typ, records) {
		return
	}
	if typ == "SOA" {
		d.fail(http.StatusBadRequest, "bad_request", "Creating a SOA recordset is not allowed")
		return
	}
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	z := d.visibleZone(zoneID)
	if z == nil {
		return
	}
	if z.Action == "DELETE" {
		d.fail(http.StatusBadRequest, "bad_request", "Can not update a deleting zone")
		return
	}
	if c.zoneRecordsetCount(z.ID)+1 > d.quota(z.ProjectID, "zone_recordsets") {
		d.overQuota("zone_recordsets")
		return
	}
	if name == "" {
		d.fail(http.StatusBadRequest, "invalid_object", "")
		return
	}
	if !d.checkPlacement(z, name, typ, "", records) {
		return
	}
	if len(records) > 0 && !d.checkRecordQuota(z, "", records) {
		return
	}
	for _, o := range c.st.recordsets {
		if o.ZoneID == z.ID && o.Name == name && o.Type == typ {
			d.fail(http.StatusConflict, "duplicate_recordset", "Duplicate RecordSet")
			return
		}
	}
	now := time.Now().UTC()
	rs := &dnsRecordset{ID: c.newID(), ZoneID: z.ID, ProjectID: z.ProjectID, Name: name, Type: typ, Description: desc,
		TTL: ttl, Version: 1, Created: now}
	status := http.StatusCreated
	if len(records) > 0 {
		// A recordset with records changes the zone: new serial, PENDING until the worker answers.
		c.zoneChangedLocked(z, now)
		for _, r := range records {
			rs.Records = append(rs.Records, &dnsRecord{Data: r, Status: "PENDING", Action: "CREATE", Serial: z.Serial})
		}
		status = http.StatusAccepted
	}
	c.st.recordsets[rs.ID] = rs
	c.st.recordsetOrder = append(c.st.recordsetOrder, rs.ID)
	c.Event("dns.recordset.created", map[string]any{"zone_id": z.ID, "recordset_id": rs.ID, "name": rs.Name, "type": rs.Type, "records": records})
	if len(records) > 0 {
		c.propagateZoneLocked(z, "recordset", rs.Name)
	}
	d.w.Header().Set("Location", d.base+"/v2/zones/"+z.ID+"/recordsets/"+rs.ID)
	writeJSON(d.w, status, d.recordsetView(rs))
}

func (c *Cloud) zoneRecordsetCount(zoneID string) int {
	n := 0
	for _, rs := range c.st.recordsets {
		if rs.ZoneID == zoneID {
			n++
		}
	}
	return n
}

// checkPlacement is central's _validate_recordset: inside the zone, CNAME rules, not in a
// child zone, at most one CNAME record. selfID is the recordset being updated.
func (d *dnsReq) checkPlacement(z *dnsZone, name, typ, selfID string, records []string) bool {
	if name != z.Name && !strings.HasSuffix(name, "."+z.Name) {
		d.fail(http.StatusBadRequest, "invalid_recordset_location", "RecordSet is not contained within it's parent zone")
		return false
	}
	if typ == "CNAME" && name == z.Name {
		d.fail(http.StatusBadRequest, "invalid_recordset_location", "CNAME recordsets may not be created at the zone apex")
		return false
	}
	for _, o := range d.c.st.recordsets {
		if o.ZoneID != z.ID || o.Name != name || o.ID == selfID {
			continue
		}
		if typ == "CNAME" || o.Type == "CNAME" {
			d.fail(http.StatusBadRequest, "invalid_recordset_location", "CNAME recordsets may not share a name with any other records")
			return false
		}
	}
	if name != z.Name {
		for _, child := range d.c.st.zones {
			if child.ParentID == z.ID && (name == child.Name || strings.HasSuffix(name, "."+child.Name)) {
				d.fail(http.StatusBadRequest, "invalid_recordset_location", "RecordSet belongs in a child zone: "+child.Name)
				return false
			}
		}
	}
	if typ == "CNAME" && len(records) > 1 {
		d.fail(http.StatusBadRequest, "bad_request", "CNAME recordsets may not have more than 1 record")
		return false
	}
	return true
}

// checkRecordQuota is central's _enforce_record_quota: unmanaged records of the zone with the
// recordset's new records, and the recordset's own count.
func (d *dnsReq) checkRecordQuota(z *dnsZone, selfID string, records []string) bool {
	n := len(records)
	for _, o := range d.c.st.recordsets {
		if o.ZoneID == z.ID && !o.Managed && o.ID != selfID {
			n += len(o.Records)
		}
	}
	if n > d.quota(z.ProjectID, "zone_records") {
		d.overQuota("zone_records")
		return false
	}
	if len(records) > d.quota(z.ProjectID, "recordset_records") {
		d.overQuota("recordset_records")
		return false
	}
	return true
}

func (d *dnsReq) updateRecordset(zoneID, id string) {
	body, ok := d.readBody()
	if !ok {
		return
	}
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	z, rs := d.findRecordset(zoneID, id)
	if rs == nil {
		return
	}
	if rs.Managed && !d.editManaged {
		d.fail(http.StatusBadRequest, "bad_request", "Managed records may not be updated")
		return
	}
	if rs.Type == "SOA" {
		d.fail(http.StatusBadRequest, "bad_request", "Updating SOA recordsets is not allowed")
		return
	}
	if rs.Type == "NS" && rs.Name == z.Name {
		d.fail(http.StatusBadRequest, "bad_request", "Updating a root zone NS record is not allowed")
		return
	}
	current := d.recordsetView(rs)
	var refused []string
	for k, v := range body {
		switch k {
		case "records", "description", "ttl":
		default:
			if cur, ok := current[k]; !ok || fmt.Sprint(cur) != fmt.Sprint(v) {
				refused = append(refused, k)
			}
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		d.badKeys(refused, "recordset")
		return
	}
	records := make([]string, 0, len(rs.Records))
	for _, r := range rs.Records {
		records = append(records, r.Data)
	}
	if v, ok := body["records"]; ok {
		if records, ok = d.parseRecords(v); !ok {
			return
		}
	}
	ttl := rs.TTL
	if v, ok := body["ttl"]; ok {
		if ttl, ok = d.parseTTL(v); !ok {
			return
		}
	}
	desc := rs.Description
	if v, ok := body["description"]; ok {
		if desc, ok = d.parseDescription(v); !ok {
			return
		}
	}
	if !d.checkRecords(rs.Type, records) {
		return
	}
	if z.Action == "DELETE" {
		d.fail(http.StatusBadRequest, "bad_request", "Can not update a deleting zone")
		return
	}
	if !d.checkPlacement(z, rs.Name, rs.Type, rs.ID, records) {
		return
	}
	if len(records) > 0 && !d.checkRecordQuota(z, rs.ID, records) {
		return
	}
	now := time.Now().UTC()
	c.zoneChangedLocked(z, now)
	// Every record of an updated recordset goes PENDING/UPDATE with the new serial, the
	// unchanged ones too, as central's _update_recordset_in_storage does.
	var next []*dnsRecord
	for _, data := range records {
		next = append(next, &dnsRecord{Data: data, Status: "PENDING", Action: "UPDATE", Serial: z.Serial})
	}
	rs.Records, rs.TTL, rs.Description = next, ttl, desc
	rs.Version++
	rs.Updated = now
	c.Event("dns.recordset.updated", map[string]any{"zone_id": z.ID, "recordset_id": rs.ID, "name": rs.Name, "type": rs.Type, "records": records})
	c.propagateZoneLocked(z, "recordset", rs.Name)
	status := http.StatusOK
	if rs.status() == "PENDING" {
		status = http.StatusAccepted
	}
	writeJSON(d.w, status, d.recordsetView(rs))
}

func (d *dnsReq) deleteRecordset(zoneID, id string) {
	c := d.c
	c.mu.Lock()
	defer c.mu.Unlock()
	z, rs := d.findRecordset(zoneID, id)
	if rs == nil {
		return
	}
	if rs.Type == "SOA" {
		d.fail(http.StatusBadRequest, "bad_request", "Deleting a SOA recordset is not allowed")
		return
	}
	if z.Action == "DELETE" {
		d.fail(http.StatusBadRequest, "bad_request", "Can not update a deleting zone")
		return
	}
	if rs.Managed && !d.editManaged {
		d.fail(http.StatusBadRequest, "bad_request", "Managed records may not be deleted")
		return
	}
	now := time.Now().UTC()
	c.zoneChangedLocked(z, now)
	for _, r := range rs.Records {
		r.Action, r.Status, r.Serial = "DELETE", "PENDING", z.Serial
	}
	rs.Version++
	rs.Updated = now
	view := d.recordsetView(rs)
	// The recordset leaves storage at once (a GET answers 404); the zone stays PENDING until
	// the worker has the new serial.
	delete(c.st.recordsets, rs.ID)
	c.st.recordsetOrder = removeString(c.st.recordsetOrder, rs.ID)
	c.Event("dns.recordset.deleted", map[string]any{"zone_id": z.ID, "recordset_id": rs.ID, "name": rs.Name, "type": rs.Type})
	c.propagateZoneLocked(z, "recordset", rs.Name)
	writeJSON(d.w, http.StatusAccepted, view)
}
