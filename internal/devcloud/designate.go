package devcloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// designateDefaultPoolID is Designate's built-in default pool id (designate.conf's
// default_pool_id): every zone of a single-pool cloud shows it.
const designateDefaultPoolID = "794ccc2c-d751-44fe-b57f-8894c9f5c842"

// designateNameserver is the pool's only NS record; it heads every zone's SOA and NS recordsets.
const designateNameserver = "ns1.devcloud.test."

// dnsZone is a Designate zone. Its status follows Designate's: a change sets PENDING with the
// change's action and a new serial; the worker's answer for that serial (after the
// zone_update delay) sets ACTIVE/NONE, ERROR, or removes a deleted zone.
type dnsZone struct {
	ID, Name, Email, ProjectID, ParentID string
	Description                          *string
	TTL                                  int
	Serial                               int64
	Refresh                              int
	Status, Action                       string
	Version                              int
	Attributes                           map[string]any
	Created, Updated                     time.Time
}

// dnsRecordset's status and action are derived from its records, as Designate's RecordSet does.
type dnsRecordset struct {
	ID, ZoneID, ProjectID, Name, Type string
	Description                       *string
	TTL                               *int
	Records                           []*dnsRecord
	Managed                           bool
	Version                           int
	Created, Updated                  time.Time
}

type dnsRecord struct {
	Data, Status, Action string
	Serial               int64
}

// status is the worst of the records' statuses (ERROR, PENDING, ACTIVE); ACTIVE when empty.
func (rs *dnsRecordset) status() string {
	rank := map[string]int{"ERROR": 0, "PENDING": 1, "ACTIVE": 2, "DELETED": 3}
	out := ""
	for _, r := range rs.Records {
		if out == "" || rank[r.Status] < rank[out] {
			out = r.Status
		}
	}
	if out == "" {
		return "ACTIVE"
	}
	return out
}

// action is CREATE or DELETE when every record has it, UPDATE for any other pending mix, else NONE.
func (rs *dnsRecordset) action() string {
	n := map[string]int{}
	for _, r := range rs.Records {
		n[r.Action]++
	}
	total := len(rs.Records)
	switch {
	case n["CREATE"] > 0 && n["CREATE"] == total:
		return "CREATE"
	case n["DELETE"] > 0 && n["DELETE"] == total:
		return "DELETE"
	case n["CREATE"]+n["UPDATE"]+n["DELETE"] > 0:
		return "UPDATE"
	}
	return "NONE"
}

// dnsDefaultQuotas are Designate's defaults (designate.conf [DEFAULT] quota_*).
var dnsDefaultQuotas = map[string]int{"zones": 10, "zone_recordsets": 500, "zone_records": 500,
	"recordset_records": 20, "api_export_size": 1000}

// dnsQuotaOrder is the order Designate renders quotas in.
var dnsQuotaOrder = []string{"zones", "zone_recordsets", "zone_records", "recordset_records", "api_export_size"}

type dnsReq struct {
	c     *Cloud
	w     http.ResponseWriter
	r     *http.Request
	tok   *token
	reqID string
	base  string // http://host/dns
	// project is the token's project, or the one X-Auth-Sudo-Project-ID names.
	project     string
	allProjects bool
	editManaged bool
}

func (d *dnsReq) admin() bool { return contains(d.tok.Roles, "admin") }

// fail answers Designate's fault body: {"code", "type", "message", "request_id"}; some
// exceptions carry no message.
func (d *dnsReq) fail(status int, typ, msg string) {
	body := map[string]any{"code": status, "type": typ, "request_id": d.reqID}
	if msg != "" {
		body["message"] = msg
	}
	writeJSON(d.w, status, body)
}

// failInvalid is Designate's InvalidObject carrying JSON-schema style errors instead of a message.
func (d *dnsReq) failInvalid(path []any, validator string, validatorValue any, msg string) {
	writeJSON(d.w, http.StatusBadRequest, map[string]any{"code": 400, "type": "invalid_object", "request_id": d.reqID,
		"errors": map[string]any{"errors": []any{map[string]any{"path": path, "message": msg, "validator": validator, "validator_value": validatorValue}}}})
}

// failValue is an InvalidObject raised by a field's coercion (Python's ValueError).
func (d *dnsReq) failValue(msg string) {
	d.fail(http.StatusBadRequest, "invalid_object", "Provided object is not valid. Got a ValueError error with message "+msg)
}

func (d *dnsReq) notFound() { d.fail(http.StatusNotFound, "not_found", "resource not found") }

func (d *dnsReq) methodNotAllowed() { d.fail(http.StatusMethodNotAllowed, "method_not_allowed", "") }

// forbiddenByHeader is what Designate's context middleware answers when a header asks for a
// privilege the policy refuses: a 403 with an empty body, before any fault wrapping.
func forbiddenByHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
}

func designateVersions(base string) map[string]any {
	v := func(id, status string) map[string]any {
		return map[string]any{"id": id, "status": status, "updated": "2022-06-29T00:00:00Z",
			"links": []any{map[string]any{"href": base + "/dns/v2", "rel": "self"}, map[string]any{"href": "https://docs.openstack.org/api-ref/dns", "rel": "help"}}}
	}
	return map[string]any{"versions": []any{v("v2", "SUPPORTED"), v("v2.0", "CURRENT")}}
}

func (c *Cloud) designateHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, designateVersions(base))
			return
		}
		tok := tokenFrom(r)
		d := &dnsReq{c: c, w: w, r: r, tok: tok, reqID: newRequestID(), base: base + "/dns", project: tok.ProjectID}
		w.Header().Set("X-Openstack-Request-Id", d.reqID)
		if !d.readPrivilegeHeaders() {
			return
		}
		if segs[0] != "v2" || len(segs) < 2 {
			d.notFound()
			return
		}
		if (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) &&
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			d.fail(http.StatusUnsupportedMediaType, "unsupported_content_type", "Content-type must be application/json")
			return
		}
		rest := segs[2:]
		switch segs[1] {
		case "zones":
			d.zones(rest)
		case "recordsets":
			d.recordsetsView(rest)
		case "quotas":
			d.quotas(rest)
		case "limits":
			d.limits(rest)
		default:
			d.notFound()
		}
	})
}

// readPrivilegeHeaders applies X-Auth-All-Projects, X-Auth-Sudo-Project-ID (or the older
// X-Auth-Sudo-Tenant-ID) and X-Designate-Edit-Managed-Records. Designate's policies grant
// all three to admins only; anyone else gets the context middleware's empty 403.
func (d *dnsReq) readPrivilegeHeaders() bool {
	h := d.r.Header
	sudo := h.Get("X-Auth-Sudo-Project-ID")
	if sudo == "" {
		sudo = h.Get("X-Auth-Sudo-Tenant-ID")
	}
	all := parseBoolish(h.Get("X-Auth-All-Projects"))
	for _, name := range []string{"all_projects", "all_tenants"} {
		if v := d.r.URL.Query().Get(name); v != "" {
			all = parseBoolish(v)
		}
	}
	edit := parseBoolish(h.Get("X-Designate-Edit-Managed-Records")) || parseBoolish(d.r.URL.Query().Get("edit_managed_records"))
	if (sudo != "" || all || edit) && !d.admin() {
		forbiddenByHeader(d.w)
		return false
	}
	if sudo != "" {
		d.project = sudo
	}
	d.allProjects, d.editManaged = all, edit
	return true
}

// parseBoolish is oslo's bool_from_string: true, yes, on, y, t, 1 (any case) are true.
func parseBoolish(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// readBody decodes the request's JSON object as Designate's body_dict does.
func (d *dnsReq) readBody() (map[string]any, bool) {
	raw, err := io.ReadAll(io.LimitReader(d.r.Body, 1<<20))
	if err != nil || len(strings.TrimSpace(string(raw))) == 0 {
		d.fail(http.StatusBadRequest, "empty_request_body", "Request Body is empty")
		return nil, false
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		d.fail(http.StatusBadRequest, "invalid_json", err.Error())
		return nil, false
	}
	return body, true
}

var dnsUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// checkUUID answers Designate's invalid_uuid for a path id that is not a UUID.
func (d *dnsReq) checkUUID(name, v string) bool {
	if dnsUUID.MatchString(v) {
		return true
	}
	d.fail(http.StatusBadRequest, "invalid_uuid", fmt.Sprintf("Invalid UUID %s: %s", name, v))
	return false
}

// visibleZone returns the zone if the caller's project owns it (or X-Auth-All-Projects is
// in effect), else answers zone_not_found. Callers hold c.mu.
func (d *dnsReq) visibleZone(id string) *dnsZone {
	z := d.c.st.zones[id]
	if z == nil || (z.ProjectID != d.project && !d.allProjects) {
		d.fail(http.StatusNotFound, "zone_not_found", "Could not find Zone")
		return nil
	}
	return z
}

func (d *dnsReq) quota(project, resource string) int {
	if q, ok := d.c.st.dnsQuotas[project][resource]; ok {
		return q
	}
	return dnsDefaultQuotas[resource]
}

func (d *dnsReq) overQuota(resource string) {
	d.fail(http.StatusRequestEntityTooLarge, "over_quota", "Quota exceeded for "+resource+".")
}

// parseTTL coerces a ttl the way Designate's IntegerFields does: ints and numeric strings,
// 0..2147483647, null for unset.
func (d *dnsReq) parseTTL(v any) (*int, bool) {
	var n int64
	switch t := v.(type) {
	case nil:
		return nil, true
	case float64:
		n = int64(t)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			d.failValue(fmt.Sprintf("invalid literal for int() with base 10: '%s'", t))
			return nil, false
		}
		n = i
	default:
		d.fail(http.StatusBadRequest, "invalid_object", fmt.Sprintf("Provided object is not valid. Got a TypeError with message An integer is required in field ttl, not a %T", v))
		return nil, false
	}
	if n < 0 {
		d.failValue("Value must be >= 0 for field ttl")
		return nil, false
	}
	if n > 2147483647 {
		d.failValue("Value too high for ttl")
		return nil, false
	}
	i := int(n)
	return &i, true
}

// parseDescription accepts a string up to 160 characters or null.
func (d *dnsReq) parseDescription(v any) (*string, bool) {
	if v == nil {
		return nil, true
	}
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	if len(s) > 160 {
		d.failValue("Value too long for description")
		return nil, false
	}
	return &s, true
}

// badKeys answers Designate's adapter error for keys a resource does not accept.
func (d *dnsReq) badKeys(keys []string, resource string) {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "'" + k + "'"
	}
	d.fail(http.StatusBadRequest, "invalid_object", fmt.Sprintf("Provided object does not match schema. Keys [%s] are not valid for %s", strings.Join(quoted, ", "), resource))
}

// validDNSName checks a fully qualified name as Designate's DomainField (zones, wildcard
// false) or HostField (records, wildcard allowed as the first label) does; msgPrefix is
// "Domain" or "Host name".
func validDNSName(name, msgPrefix string, wildcard bool) string {
	for _, label := range strings.Split(name, ".") {
		if len(label) > 63 {
			return fmt.Sprintf("Host %s is too long", label)
		}
	}
	if !strings.HasSuffix(name, ".") {
		return fmt.Sprintf("%s %s does not end with a dot", msgPrefix, name)
	}
	if len(name) >= 255 {
		return fmt.Sprintf("%s %s is invalid", msgPrefix, name)
	}
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, label := range labels {
		if wildcard && i == 0 && label == "*" {
			continue
		}
		if !validLabel(label) {
			return fmt.Sprintf("%s %s is invalid", msgPrefix, name)
		}
	}
	return ""
}

func validLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for _, ch := range label {
		if !isAlnum(ch) && ch != '_' && ch != '-' {
			return false
		}
	}
	return true
}

func isAlnum(ch rune) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
}

// dnsTime is Designate's timestamp form: its database keeps whole seconds, rendered with
// six zero microseconds.
func dnsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") + ".000000" }

// incrementSerial is Designate's utils.increment_serial: the current Unix time, or one more
// than the old serial when that is not newer.
func incrementSerial(old int64) int64 {
	now := time.Now().Unix()
	if now <= old {
		return old + 1
	}
	return now
}

// writePage applies Designate's paging parameters to ids already filtered and sorted, and
// writes the collection with its links and metadata.
func (d *dnsReq) writePage(collection, path string, ids []string, render func(id string) map[string]any) {
	q := d.r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		if strings.EqualFold(v, "max") {
			limit = 1000
		} else {
			l, err := strconv.Atoi(v)
			if err != nil || l <= 0 {
				d.fail(http.StatusBadRequest, "invalid_limit", "limit should be an integer between 1 and 1000")
				return
			}
			limit = min(l, 1000)
		}
	}
	total := len(ids)
	if m := q.Get("marker"); m != "" {
		idx := -1
		for i, id := range ids {
			if id == m {
				idx = i
			}
		}
		if idx < 0 {
			// Designate formats the marker it failed to load, which is None by then.
			d.fail(http.StatusBadRequest, "marker_not_found", "Marker None could not be found")
			return
		}
		ids = ids[idx+1:]
	}
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, render(id))
	}
	self := d.base + path
	if d.r.URL.RawQuery != "" {
		self += "?" + d.r.URL.RawQuery
	}
	links := map[string]any{"self": self}
	// Designate offers a next page whenever the page is full, even when it is the last.
	if len(ids) == limit && len(ids) > 0 {
		links["next"] = d.base + path + "?" + withMarker(d.r.URL.RawQuery, ids[len(ids)-1])
	}
	writeJSON(d.w, http.StatusOK, map[string]any{collection: out, "links": links, "metadata": map[string]any{"total_count": total}})
}

// withMarker sets marker in a raw query, keeping the other parameters in their order.
func withMarker(raw, marker string) string {
	var parts []string
	for _, p := range strings.Split(raw, "&") {
		if p != "" && !strings.HasPrefix(p, "marker=") {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, "marker="+marker), "&")
}

// pagingParams validates sort_key and sort_dir against the resource's keys, as
// utils.get_paging_params does; it returns the effective key and whether to sort descending.
func (d *dnsReq) pagingParams(keys []string) (string, bool, bool) {
	q := d.r.URL.Query()
	dir := q.Get("sort_dir")
	if dir != "" && dir != "asc" && dir != "desc" {
		d.fail(http.StatusBadRequest, "invalid_sort_dir", "Unknown sort direction, must be 'desc' or 'asc'")
		return "", false, false
	}
	key := q.Get("sort_key")
	if key != "" && !contains(keys, key) {
		quoted := make([]string, len(keys))
		for i, k := range keys {
			quoted[i] = "'" + k + "'"
		}
		d.fail(http.StatusBadRequest, "invalid_sort_key", "sort key must be one of ["+strings.Join(quoted, ", ")+"]")
		return "", false, false
	}
	if key == "tenant_id" && !d.allProjects {
		key = ""
	}
	if key == "" {
		key = "created_at"
	}
	return key, dir == "desc", true
}

// filterParams returns the accepted filters of the query, or answers Designate's
// "Invalid filters" for any other parameter.
func (d *dnsReq) filterParams(accepted ...string) (map[string]string, bool) {
	out := map[string]string{}
	var invalid []string
	for k, v := range d.r.URL.Query() {
		switch {
		case k == "limit" || k == "marker" || k == "sort_key" || k == "sort_dir" || k == "all_projects" || k == "all_tenants" || k == "edit_managed_records":
		case contains(accepted, k):
			out[k] = v[0]
		default:
			invalid = append(invalid, k)
		}
	}
	if len(invalid) > 0 {
		d.fail(http.StatusBadRequest, "bad_request", "Invalid filters "+strings.Join(invalid, ", "))
		return nil, false
	}
	return out, true
}

// dnsMatch is a filter comparison: "*" is SQL's % wildcard, anything else is equality.
func dnsMatch(filter, v string) bool {
	if !strings.Contains(filter, "*") {
		return filter == v
	}
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(filter), `\*`, ".*") + "$"
	ok, _ := regexp.MatchString(re, v)
	return ok
}

func (d *dnsReq) limits(rest []string) {
	if len(rest) != 0 || d.r.Method != http.MethodGet {
		d.notFound()
		return
	}
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	writeJSON(d.w, http.StatusOK, map[string]any{
		"max_zones": d.quota(d.project, "zones"), "max_zone_recordsets": d.quota(d.project, "zone_recordsets"),
		"max_zone_records": d.quota(d.project, "zone_records"), "max_recordset_records": d.quota(d.project, "recordset_records"),
		"min_ttl": nil, "max_zone_name_length": 255, "max_recordset_name_length": 255, "max_page_limit": 1000,
	})
}
