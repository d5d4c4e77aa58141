package devcloud

import (
	"encoding/base64"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	kmSecretTypes  = []string{"symmetric", "passphrase", "private", "public", "certificate", "opaque"}
	kmPlainText    = []string{"text/plain", "text/plain;charset=utf-8", "text/plain; charset=utf-8"}
	kmBinary       = []string{"application/octet-stream", "application/pkcs8"}
	kmSupportedCTs = append(append([]string{}, kmPlainText...), kmBinary...)
)

// kmNormalizeContentType is mime_types.normalize_content_type.
func kmNormalizeContentType(mime string) string {
	parts := strings.Split(mime, ";")
	base := strings.ToLower(strings.TrimSpace(parts[0]))
	if len(parts) > 1 {
		charset := strings.ToLower(strings.TrimSpace(parts[1]))
		kv := strings.SplitN(charset, "=", 2)
		if len(kv) != 2 || strings.TrimSpace(kv[1]) != "utf-8" {
			return mime
		}
	}
	switch base {
	case "text/plain", "application/octet-stream", "application/pkcs8":
		return base
	}
	return mime
}

func kmSupported(mime string) bool { return contains(kmSupportedCTs, kmNormalizeContentType(mime)) }

func (q *kmReq) routeSecrets(seg []string) {
	if len(seg) == 0 {
		switch q.r.Method {
		case http.MethodGet:
			q.listSecrets()
		case http.MethodPost:
			q.createSecret()
		default:
			q.fail(http.StatusMethodNotAllowed, "")
		}
		return
	}
	id := seg[0]
	if !kmValidID(id) {
		q.fail(http.StatusNotFound, "Not Found. Provided secret id is invalid.")
		return
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st.secrets[id]
	if s == nil || kmExpired(s.Expiration, time.Now()) {
		q.fail(http.StatusNotFound, "Secret not found.")
		return
	}
	switch {
	case len(seg) == 1:
		switch q.r.Method {
		case http.MethodGet:
			q.showSecret(s)
		case http.MethodPut:
			q.putSecretPayload(s)
		case http.MethodDelete:
			if !kmAllowed("secret:delete", q.caller, s.target()) {
				q.denied("Secret deletion")
				return
			}
			delete(c.st.secrets, s.ID)
			q.w.WriteHeader(http.StatusNoContent)
		default:
			q.fail(http.StatusMethodNotAllowed, "")
		}
	case len(seg) == 2 && seg[1] == "payload":
		if q.r.Method != http.MethodGet {
			q.fail(http.StatusMethodNotAllowed, "")
			return
		}
		if !kmAllowed("secret:decrypt", q.caller, s.target()) {
			q.denied("Secret payload retrieval")
			return
		}
		q.writePayload(s, "Secret payload retrieval")
	case len(seg) == 2 && seg[1] == "acl":
		q.routeACL(aclEntity{kind: "secret", href: q.secretHref(s.ID), target: kmTarget{ProjectID: s.ProjectID, CreatorID: s.CreatorID}, acls: &s.ACLs, updated: &s.Updated})
	default:
		q.fail(http.StatusNotFound, "")
	}
}

func (q *kmReq) secretHref(id string) string { return q.href + "/secrets/" + id }

func (q *kmReq) secretView(s *kmSecret) map[string]any {
	v := map[string]any{
		"created":     kmTime(s.Created),
		"updated":     kmTime(s.Updated),
		"status":      "ACTIVE",
		"name":        s.Name,
		"secret_type": s.SecretType,
		"expiration":  kmNullableTime(s.Expiration),
		"algorithm":   s.Algorithm,
		"bit_length":  s.BitLength,
		"mode":        s.Mode,
		"creator_id":  s.CreatorID,
		"secret_ref":  q.secretHref(s.ID),
	}
	if s.ContentType != "" {
		v["content_types"] = map[string]any{"default": s.ContentType}
	}
	if q.microversion == "1.1" {
		v["consumers"] = []any{}
	}
	return v
}

// jsonAccept is controllers.is_json_request_accept: no Accept header, or exactly
// application/json or */*, asks for the metadata; anything else for the payload.
func jsonAccept(r *http.Request) bool {
	accept, present := r.Header["Accept"]
	if !present {
		return true
	}
	v := strings.Join(accept, ", ")
	return v == "application/json" || v == "*/*"
}

func (q *kmReq) showSecret(s *kmSecret) {
	if jsonAccept(q.r) {
		if !kmAllowed("secret:get", q.caller, s.target()) {
			q.denied("Secret retrieval")
			return
		}
		writeJSON(q.w, http.StatusOK, q.secretView(s))
		return
	}
	// The deprecated payload GET: any other Accept asks for the payload, under the
	// secret:decrypt rule.
	if !kmAllowed("secret:decrypt", q.caller, s.target()) {
		q.denied("Secret retrieval")
		return
	}
	q.writePayload(s, "Secret retrieval")
}

// writePayload answers the payload in the Accept header's type as plugin.get_secret does: no
// Accept means application/octet-stream, */* the stored type; the response's Content-Type is
// the Accept header (webob adds a charset to text types).
func (q *kmReq) writePayload(s *kmSecret, operation string) {
	accept := strings.Join(q.r.Header.Values("Accept"), ", ")
	if accept == "" {
		accept = "application/octet-stream"
	}
	if s.ContentType == "" {
		q.fail(http.StatusNotFound, "Not Found. Sorry but your secret has no payload.")
		return
	}
	requested := accept
	if requested == "*/*" {
		requested = s.ContentType
	}
	if !kmSupported(requested) {
		q.issue(http.StatusNotAcceptable, operation, "Wrong payload content-type")
		return
	}
	switch {
	case contains(kmPlainText, requested):
		if !utf8.Valid(s.Payload) {
			q.issue(http.StatusNotAcceptable, operation, "Wrong payload content-type")
			return
		}
	case contains(kmBinary, requested):
	default:
		q.issue(http.StatusBadRequest, operation, "content-type of '"+requested+"' not supported")
		return
	}
	ct := accept
	if strings.HasPrefix(ct, "text/") && !strings.Contains(strings.ToLower(ct), "charset") {
		ct += "; charset=UTF-8"
	}
	q.w.Header().Set("Content-Type", ct)
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(s.Payload)
}

var kmSecretSchema = []kmProp{
	{name: "name", typ: "string", nullable: true, maxLen: 255},
	{name: "algorithm", typ: "string", maxLen: 255},
	{name: "mode", typ: "string", maxLen: 255},
	{name: "bit_length", typ: "integer", min: intPtr(1), max: intPtr(32767)},
	{name: "expiration", typ: "string", maxLen: 255},
	{name: "payload", typ: "string"},
	{name: "secret_type", typ: "string", maxLen: 80, enum: kmSecretTypes},
	{name: "payload_content_type", typ: "string", nullable: true, maxLen: 255},
	{name: "payload_content_encoding", typ: "string", maxLen: 255, enum: []string{"base64"}},
	{name: "transport_key_needed", typ: "string", enum: []string{"true", "false"}},
	{name: "transport_key_id", typ: "string"},
}

// kmEncodings is CTYPES_TO_ENCODINGS by normalized type.
var kmEncodings = map[string][]string{"text/plain": nil, "application/octet-stream": {"base64", "binary"}, "application/pkcs8": {"base64", "binary"}}

func (q *kmReq) createSecret() {
	if !kmAllowed("secrets:post", q.caller, kmTarget{}) {
		q.denied("Secret creation")
		return
	}
	if !q.requireContentType("application/json") {
		return
	}
	raw, ok := q.jsonBody()
	if !ok {
		return
	}
	const schema = "Secret"
	body, isObj := raw.(map[string]any)
	if !isObj {
		q.schemaError(schema, pyRepr(raw)+" is not of type 'object'", "None")
		return
	}
	for _, p := range kmSecretSchema {
		if v, present := body[p.name]; present {
			if msg := p.check(v); msg != "" {
				q.schemaError(schema, msg, p.name)
				return
			}
		}
	}
	now := time.Now().UTC()
	s := &kmSecret{ProjectID: q.caller.ProjectID, CreatorID: q.caller.UserID, SecretType: "opaque",
		Name: strPtrOrNil(body["name"]), Algorithm: strPtrOrNil(body["algorithm"]), Mode: strPtrOrNil(body["mode"]),
		Created: now, Updated: now}
	if t, ok := body["secret_type"].(string); ok {
		s.SecretType = t
	}
	if n, ok := body["bit_length"].(interface{ Int64() (int64, error) }); ok {
		if v, err := n.Int64(); err == nil {
			b := int(v)
			s.BitLength = &b
		}
	}
	if e, _ := body["expiration"].(string); e != "" {
		exp, err := parseKeystoneTime(e)
		if err != nil {
			q.schemaError(schema, "Invalid date for 'expiration'", "expiration")
			return
		}
		if !exp.After(now) {
			q.schemaError(schema, "'expiration' is before current time", "expiration")
			return
		}
		s.Expiration = &exp
	}
	contentType, hasCT := body["payload_content_type"].(string)
	encoding, _ := body["payload_content_encoding"].(string)
	if payload, present := body["payload"]; present {
		if !hasCT {
			q.schemaError(schema, "If 'payload' is supplied, 'payload_content_type' must also be supplied.", "payload_content_type")
			return
		}
		if !kmSupported(contentType) {
			q.schemaError(schema, "payload_content_type is not one of "+pyRepr(kmSupportedCTs), "payload_content_type")
			return
		}
		allowed := kmEncodings[kmNormalizeContentType(contentType)]
		if (allowed == nil && encoding != "") || (allowed != nil && !contains(allowed, encoding)) {
			shown := "None"
			if allowed != nil {
				shown = pyRepr(allowed)
			}
			q.schemaError(schema, "payload_content_encoding is not one of "+shown, "payload_content_encoding")
			return
		}
		text, _ := payload.(string)
		if len(text) > kmMaxSecretBytes {
			q.fail(http.StatusRequestEntityTooLarge, "Provided information too large to process")
			return
		}
		if text == "" {
			q.schemaError(schema, "If 'payload' specified, must be non empty", "payload")
			return
		}
		data := []byte(text)
		if encoding == "base64" {
			decoded, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				q.schemaError(schema, "Invalid payload for payload_content_encoding", "payload")
				return
			}
			data = decoded
		}
		s.ContentType, s.Payload = kmNormalizeContentType(contentType), data
	} else if _, present := body["payload_content_type"]; present {
		q.schemaError(schema, "payload must be provided when payload_content_type is specified", "payload")
		return
	}
	c := q.c
	c.mu.Lock()
	s.ID = c.newID()
	c.st.secrets[s.ID] = s
	c.mu.Unlock()
	href := q.secretHref(s.ID)
	q.w.Header().Set("Location", href)
	writeJSON(q.w, http.StatusCreated, map[string]any{"secret_ref": href})
}

// putSecretPayload is the second step of a two-step secret: PUT the payload of a secret
// created with metadata only. Callers hold c.mu.
func (q *kmReq) putSecretPayload(s *kmSecret) {
	const op = "Secret update"
	if !kmAllowed("secret:put", q.caller, s.target()) {
		q.denied(op)
		return
	}
	if !q.requireContentType("application/octet-stream", "text/plain") {
		return
	}
	payload, err := io.ReadAll(io.LimitReader(q.r.Body, 8<<20))
	if err != nil {
		q.fail(http.StatusInternalServerError, "Read Error")
		return
	}
	if len(payload) == 0 {
		q.issue(http.StatusBadRequest, op, "No data supplied to process.")
		return
	}
	if len(payload) > kmMaxSecretBytes {
		q.issue(http.StatusRequestEntityTooLarge, op, "Provided information too large to process")
		return
	}
	if s.ContentType != "" {
		q.fail(http.StatusConflict, "Secret already has data, cannot modify it.")
		return
	}
	ct := kmNormalizeContentType(strings.TrimSpace(strings.Split(q.r.Header.Get("Content-Type"), ";")[0]))
	if ct != "text/plain" {
		switch enc := strings.ToLower(q.r.Header.Get("Content-Encoding")); enc {
		case "":
		case "base64":
			decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(payload)))
			if err != nil {
				q.issue(http.StatusBadRequest, op, "Unable to decode request data.")
				return
			}
			payload = decoded
		default:
			q.issue(http.StatusBadRequest, op, "Text-based binary secret payloads must specify a content-encoding of 'base64'")
			return
		}
	}
	s.ContentType, s.Payload, s.Updated = ct, payload, time.Now().UTC()
	q.w.WriteHeader(http.StatusNoContent)
}

var kmSecretSortKeys = []string{"algorithm", "bit_length", "created", "expiration", "mode", "name", "secret_type", "status", "updated"}

func (q *kmReq) listSecrets() {
	if !kmAllowed("secrets:get", q.caller, kmTarget{}) {
		q.denied("Secret(s) retrieval")
		return
	}
	query := q.r.URL.Query()
	filters := map[string]kmDateFilter{}
	for _, key := range []string{"created", "updated", "expiration"} {
		if raw := query.Get(key); raw != "" {
			f, ok := parseKMDateFilter(raw)
			if !ok {
				q.fail(http.StatusBadRequest, "URI provided invalid query string parameters.")
				return
			}
			filters[key] = f
		}
	}
	sortSpec, ok := parseKMSort(query.Get("sort"), kmSecretSortKeys)
	if !ok {
		q.fail(http.StatusBadRequest, "URI provided invalid query string parameters.")
		return
	}
	bits := 0
	if b := query.Get("bits"); b != "" {
		if n, err := strconv.Atoi(b); err == nil {
			bits = n
		}
	}
	aclOnly := strings.EqualFold(query.Get("acl_only"), "true") && q.caller.UserID != ""
	now := time.Now()
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []*kmSecret
	for _, s := range c.st.secrets {
		switch {
		case aclOnly:
			read := s.ACLs["read"]
			if read == nil || !contains(read.Users, q.caller.UserID) {
				continue
			}
		case s.ProjectID != q.caller.ProjectID:
			continue
		}
		if kmExpired(s.Expiration, now) {
			continue
		}
		if name := query.Get("name"); name != "" && !kmLike(name, derefOr(s.Name)) {
			continue
		}
		if alg := query.Get("alg"); alg != "" && !kmLike(alg, derefOr(s.Algorithm)) {
			continue
		}
		if mode := query.Get("mode"); mode != "" && !kmLike(mode, derefOr(s.Mode)) {
			continue
		}
		if bits > 0 && (s.BitLength == nil || *s.BitLength != bits) {
			continue
		}
		if st := query.Get("secret_type"); st != "" && s.SecretType != st {
			continue
		}
		if f, ok := filters["created"]; ok && !f.match(&s.Created) {
			continue
		}
		if f, ok := filters["updated"]; ok && !f.match(&s.Updated) {
			continue
		}
		if f, ok := filters["expiration"]; ok && !f.match(s.Expiration) {
			continue
		}
		found = append(found, s)
	}
	// Without a sort, MySQL returns rows in primary key order: by id.
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	sortSpec.apply(found)
	views := make([]map[string]any, len(found))
	for i, s := range found {
		views[i] = q.secretView(s)
	}
	offset, limit := kmPage(query)
	writeJSON(q.w, http.StatusOK, q.listBody("secrets", views, offset, limit))
}

// kmDateFilter is a created, updated or expiration filter: "gt:", "gte:", "lt:", "lte:"
// prefixed times and at most one plain (equal) time, comma separated.
type kmDateFilter struct{ gt, gte, lt, lte, eq *time.Time }

// parseKMDateFilter follows SecretsController._is_valid_date_filter.
func parseKMDateFilter(raw string) (kmDateFilter, bool) {
	var f kmDateFilter
	for _, part := range strings.Split(raw, ",") {
		var slot **time.Time
		var value string
		switch {
		case strings.HasPrefix(part, "gt:"):
			if f.gt != nil || f.gte != nil {
				return f, false
			}
			slot, value = &f.gt, part[3:]
		case strings.HasPrefix(part, "gte:"):
			if f.gt != nil || f.gte != nil || f.eq != nil {
				return f, false
			}
			slot, value = &f.gte, part[4:]
		case strings.HasPrefix(part, "lt:"):
			if f.lt != nil || f.lte != nil {
				return f, false
			}
			slot, value = &f.lt, part[3:]
		case strings.HasPrefix(part, "lte:"):
			if f.lt != nil || f.lte != nil || f.eq != nil {
				return f, false
			}
			slot, value = &f.lte, part[4:]
		default:
			if f.eq != nil || f.gte != nil || f.lte != nil {
				return f, false
			}
			slot, value = &f.eq, part
		}
		t, err := parseKeystoneTime(value)
		if err != nil {
			return f, false
		}
		*slot = &t
	}
	return f, true
}

// match compares at the column's precision (seconds); a NULL column matches nothing.
func (f kmDateFilter) match(v *time.Time) bool {
	if v == nil {
		return false
	}
	t := v.UTC().Truncate(time.Second)
	return (f.gt == nil || t.After(*f.gt)) && (f.gte == nil || !t.Before(*f.gte)) &&
		(f.lt == nil || t.Before(*f.lt)) && (f.lte == nil || !t.After(*f.lte)) && (f.eq == nil || t.Equal(*f.eq))
}

type kmSortKey struct {
	key  string
	desc bool
}

type kmSortSpec []kmSortKey

// parseKMSort follows SecretsController._is_valid_sorting: key[:asc|desc], comma separated,
// each key once.
func parseKMSort(raw string, allowed []string) (kmSortSpec, bool) {
	if raw == "" {
		return nil, true
	}
	var spec kmSortSpec
	seen := map[string]bool{}
	for _, part := range strings.Split(raw, ",") {
		key, dir := part, "asc"
		if strings.Contains(part, ":") {
			kv := strings.Split(part, ":")
			if len(kv) != 2 {
				return nil, false
			}
			key, dir = kv[0], kv[1]
		}
		if !contains(allowed, key) || (dir != "asc" && dir != "desc") || seen[key] {
			return nil, false
		}
		seen[key] = true
		spec = append(spec, kmSortKey{key: key, desc: dir == "desc"})
	}
	return spec, true
}

func (spec kmSortSpec) apply(secrets []*kmSecret) {
	if len(spec) == 0 {
		return
	}
	sort.SliceStable(secrets, func(i, j int) bool {
		for _, k := range spec {
			c := compareSecretField(secrets[i], secrets[j], k.key)
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

// compareSecretField orders one column as MySQL does: NULL first.
func compareSecretField(a, b *kmSecret, key string) int {
	nullFirst := func(an, bn bool) (int, bool) {
		switch {
		case an && bn:
			return 0, true
		case an:
			return -1, true
		case bn:
			return 1, true
		}
		return 0, false
	}
	switch key {
	case "algorithm", "mode", "name":
		av, bv := map[string]*string{"algorithm": a.Algorithm, "mode": a.Mode, "name": a.Name}[key],
			map[string]*string{"algorithm": b.Algorithm, "mode": b.Mode, "name": b.Name}[key]
		if c, done := nullFirst(av == nil, bv == nil); done {
			return c
		}
		return strings.Compare(derefOr(av), derefOr(bv))
	case "bit_length":
		if c, done := nullFirst(a.BitLength == nil, b.BitLength == nil); done {
			return c
		}
		return *a.BitLength - *b.BitLength
	case "created":
		return a.Created.Compare(b.Created)
	case "updated":
		return a.Updated.Compare(b.Updated)
	case "expiration":
		if c, done := nullFirst(a.Expiration == nil, b.Expiration == nil); done {
			return c
		}
		return a.Expiration.Compare(*b.Expiration)
	case "secret_type":
		return strings.Compare(a.SecretType, b.SecretType)
	}
	return 0 // status: every secret is ACTIVE
}
