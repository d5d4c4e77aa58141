package devcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Barbican (key-manager v1) as Zed serves it with its legacy policy (enforce_new_defaults off,
// the lab's setting): storing needs the role creator or admin, reading a secret of another
// user's or project's needs the read ACL. Secrets, certificate and generic containers and
// their ACLs are simulated; orders, quotas, consumers, secret metadata and transport keys are
// not. Hrefs are <devcloud>/key-manager/v1/..., as Barbican's host_href makes them full URLs.

const (
	kmMaxSecretBytes = 20000 // max_allowed_secret_in_bytes
	kmDefaultLimit   = 10    // default_limit_paging
	kmMaxLimit       = 100   // max_limit_paging
)

type kmACL struct {
	ProjectAccess    bool
	Users            []string
	Created, Updated time.Time
}

type kmSecret struct {
	ID, ProjectID, CreatorID string
	Name                     *string
	SecretType               string
	Algorithm, Mode          *string
	BitLength                *int
	Expiration               *time.Time
	// ContentType is the normalized payload type; "" while the secret has no payload.
	ContentType      string
	Payload          []byte
	Created, Updated time.Time
	ACLs             map[string]*kmACL
}

type kmContainerRef struct {
	Name     *string
	SecretID string
}

type kmContainer struct {
	ID, ProjectID, CreatorID, Type string
	Name                           *string
	Refs                           []kmContainerRef
	Created, Updated               time.Time
	ACLs                           map[string]*kmACL
}

// kmCaller is whom a policy check is about: a request's token or Octavia's service user.
type kmCaller struct {
	UserID, ProjectID string
	Roles             []string
}

func (k kmCaller) has(roles ...string) bool {
	for _, r := range roles {
		if contains(k.Roles, r) {
			return true
		}
	}
	return false
}

// kmTarget is the secret or container a policy rule looks at.
type kmTarget struct {
	ProjectID, CreatorID string
	ACLs                 map[string]*kmACL
}

// kmAllowed evaluates Zed's legacy Barbican policy (barbican/common/policies, the deprecated
// rules, which are the ones in force while enforce_new_defaults is off).
func kmAllowed(action string, k kmCaller, t kmTarget) bool {
	allUsers := k.has("admin", "observer", "creator", "audit", "key-manager:service-admin")
	allButAudit := k.has("admin", "observer", "creator")
	match := k.ProjectID != "" && k.ProjectID == t.ProjectID
	read := t.ACLs["read"]
	private := read != nil && !read.ProjectAccess                          // secret_private_read
	aclRead := read != nil && contains(read.Users, k.UserID)               // secret_acl_read
	projectAdmin := k.has("admin") && match                                // secret_project_admin
	projectCreator := k.has("creator") && match && k.UserID == t.CreatorID // secret_project_creator
	creatorRole := k.has("creator") && match                               // secret_project_creator_role
	nonPrivateRead := allUsers && match && !private                        // secret_non_private_read
	switch action {
	case "secrets:post", "containers:post":
		return k.has("admin", "creator")
	case "secrets:get", "containers:get":
		return allButAudit
	case "secret:get", "container:get":
		return nonPrivateRead || projectCreator || projectAdmin || aclRead
	case "secret:decrypt":
		return (allButAudit && match && !private) || projectCreator || projectAdmin || aclRead
	case "secret:put":
		return k.has("admin", "creator") && match
	case "secret:delete":
		return projectAdmin || projectCreator || (creatorRole && !private)
	case "container:delete":
		return projectAdmin || projectCreator
	case "container_secret:post", "container_secret:delete",
		"secret_acls:put_patch", "secret_acls:delete", "container_acls:put_patch", "container_acls:delete":
		return projectAdmin || projectCreator || (creatorRole && nonPrivateRead)
	case "secret_acls:get", "container_acls:get":
		return allButAudit && match
	}
	return false
}

func (s *kmSecret) target() kmTarget {
	return kmTarget{ProjectID: s.ProjectID, CreatorID: s.CreatorID, ACLs: s.ACLs}
}

func (c *kmContainer) target() kmTarget {
	return kmTarget{ProjectID: c.ProjectID, CreatorID: c.CreatorID, ACLs: c.ACLs}
}

// kmReq is one Barbican request.
type kmReq struct {
	c      *Cloud
	w      http.ResponseWriter
	r      *http.Request
	caller kmCaller
	// href is the prefix of every reference: http://<host>/key-manager/v1.
	href string
	// microversion is "1.0" or "1.1" (OpenStack-API-Version: key-manager 1.1 adds consumers).
	microversion string
}

func writeBarbicanError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"code": status, "title": http.StatusText(status), "description": msg})
}

func (q *kmReq) fail(status int, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	writeBarbicanError(q.w, status, msg)
}

// denied answers a policy refusal as barbican.api.generate_safe_exception_message does.
func (q *kmReq) denied(operation string) {
	q.fail(http.StatusForbidden, "%s attempt not allowed - please review your user/project privileges", operation)
}

// issue answers a Barbican HTTP exception raised inside a controller: "<operation> issue seen
// - <client message>." (the client message keeps its own full stop, hence the ".." seen).
func (q *kmReq) issue(status int, operation, clientMessage string) {
	q.fail(status, "%s issue seen - %s.", operation, clientMessage)
}

func kmMicroversion(r *http.Request) string {
	for _, v := range r.Header.Values("OpenStack-API-Version") {
		f := strings.Fields(v)
		if len(f) == 2 && f[0] == "key-manager" && (f[1] == "1.1" || f[1] == "latest") {
			return "1.1"
		}
	}
	return "1.0"
}

func (c *Cloud) barbicanHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mv := kmMicroversion(r)
		w.Header().Set("OpenStack-API-Version", "key-manager "+mv)
		w.Header().Set("Vary", "OpenStack-API-Version")
		segs := splitPath(r.URL.Path)
		base := baseURL(r) + "/key-manager"
		if len(segs) == 0 {
			if r.Method != http.MethodGet {
				writeBarbicanError(w, http.StatusMethodNotAllowed, "")
				return
			}
			if mv == "1.1" {
				writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{kmVersionDoc(base, mv)}})
				return
			}
			writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{kmVersionDoc(base, mv)}}})
			return
		}
		if segs[0] != "v1" {
			writeBarbicanError(w, http.StatusNotFound, "")
			return
		}
		q := &kmReq{c: c, w: w, r: r, href: base + "/v1", microversion: mv}
		if t := tokenFrom(r); t != nil {
			q.caller = kmCaller{UserID: t.UserID, ProjectID: t.ProjectID, Roles: t.Roles}
		}
		switch {
		case len(segs) == 1 && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"version": kmVersionDoc(base, mv)})
		case len(segs) == 1:
			q.fail(http.StatusMethodNotAllowed, "")
		case segs[1] == "secrets":
			q.routeSecrets(segs[2:])
		case segs[1] == "containers":
			q.routeContainers(segs[2:])
		default:
			q.fail(http.StatusNotFound, "")
		}
	})
}

func kmVersionDoc(base, microversion string) map[string]any {
	doc := map[string]any{
		"id": "v1",
		"links": []any{
			map[string]any{"rel": "self", "href": base + "/v1/"},
			map[string]any{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
		},
	}
	if microversion == "1.1" {
		doc["status"], doc["min_version"], doc["max_version"] = "CURRENT", "1.0", "1.1"
		return doc
	}
	doc["status"] = "stable"
	doc["media-types"] = []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.key-manager-v1+json"}}
	return doc
}

var kmUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// kmValidID is barbican.common.utils.validate_id_is_uuid: the id must be what str() of a
// version 4 UUID gives, lower case with dashes.
func kmValidID(id string) bool { return kmUUID.MatchString(id) }

// kmTime is the form of Barbican's created, updated and expiration (naive UTC isoformat of a
// DATETIME column: no fraction).
func kmTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

func kmNullableTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return kmTime(*t)
}

func kmExpired(exp *time.Time, now time.Time) bool { return exp != nil && !exp.After(now) }

// kmJSONBody reads a JSON request body as load_body does: "Malformed JSON" when it does not
// parse, and every string in it stripped of surrounding whitespace (strip_whitespace).
func (q *kmReq) jsonBody() (any, bool) {
	raw, err := io.ReadAll(io.LimitReader(q.r.Body, 8<<20))
	if err != nil {
		q.fail(http.StatusInternalServerError, "Read Error")
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		q.fail(http.StatusBadRequest, "Malformed JSON")
		return nil, false
	}
	return kmStrip(v), true
}

func kmStrip(v any) any {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		for k, e := range t {
			t[k] = kmStrip(e)
		}
	case []any:
		for i, e := range t {
			t[i] = kmStrip(e)
		}
	}
	return v
}

// requireContentType is enforce_content_types: the media type without parameters must be one
// of allowed.
func (q *kmReq) requireContentType(allowed ...string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(q.r.Header.Get("Content-Type"), ";")[0]))
	if contains(allowed, ct) {
		return true
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "'" + a + "'"
	}
	q.fail(http.StatusUnsupportedMediaType, "Unexpected content type. Expected content types are: [%s]", strings.Join(quoted, ", "))
	return false
}

// kmSchemaError is barbican.common.exception.InvalidObject for a JSON schema violation.
func (q *kmReq) schemaError(schema, reason, property string) {
	q.fail(http.StatusBadRequest, "Provided object does not match schema '%s': %s. Invalid property: '%s'", schema, reason, property)
}

// pyRepr renders a JSON value as Python's repr does, for jsonschema's messages.
func pyRepr(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case string:
		if strings.Contains(t, "'") && !strings.Contains(t, `"`) {
			return `"` + t + `"`
		}
		return "'" + strings.ReplaceAll(t, "'", `\'`) + "'"
	case json.Number:
		return t.String()
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(t[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// kmProp checks one property against a small JSON schema: its type ("string", "integer",
// "boolean", "array", "object"; nullable allows null), an enum, a maximum length and an
// integer range. It returns jsonschema's message, or "".
type kmProp struct {
	name     string
	typ      string
	nullable bool
	enum     []string
	maxLen   int
	minLen   int
	min, max *int
}

func (p kmProp) check(v any) string {
	if v == nil {
		if p.nullable {
			return ""
		}
		return fmt.Sprintf("None is not of type '%s'", p.typ)
	}
	typeMsg := fmt.Sprintf("%s is not of type '%s'", pyRepr(v), p.typ)
	if p.nullable {
		typeMsg = fmt.Sprintf("%s is not of type '%s', 'null'", pyRepr(v), p.typ)
	}
	switch p.typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return typeMsg
		}
		if len(p.enum) > 0 && !contains(p.enum, s) {
			return fmt.Sprintf("%s is not one of %s", pyRepr(s), pyRepr(p.enum))
		}
		if p.maxLen > 0 && len([]rune(s)) > p.maxLen {
			return fmt.Sprintf("%s is too long", pyRepr(s))
		}
		if p.minLen > 0 && len([]rune(s)) < p.minLen {
			return fmt.Sprintf("%s is too short", pyRepr(s))
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return typeMsg
		}
		i, err := strconv.Atoi(n.String())
		if err != nil {
			return typeMsg
		}
		if p.min != nil && i < *p.min {
			return fmt.Sprintf("%d is less than the minimum of %d", i, *p.min)
		}
		if p.max != nil && i > *p.max {
			return fmt.Sprintf("%d is greater than the maximum of %d", i, *p.max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return typeMsg
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return typeMsg
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return typeMsg
		}
	}
	return ""
}

func intPtr(i int) *int { return &i }

func strPtrOrNil(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// kmPage is clean_paging_values: offset and limit from the query, defaulted and clamped.
func kmPage(q url.Values) (offset, limit int) {
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	limit = kmDefaultLimit
	if s := q.Get("limit"); s != "" && s != "0" {
		if n, err := strconv.Atoi(s); err == nil {
			limit = n
		}
	}
	if limit < 1 {
		limit = 1
	}
	if limit > kmMaxLimit {
		limit = kmMaxLimit
	}
	return offset, limit
}

// kmListBody pages views and adds the previous and next hrefs of add_nav_hrefs.
func (q *kmReq) listBody(collection string, views []map[string]any, offset, limit int) map[string]any {
	total := len(views)
	if total == 0 {
		return map[string]any{collection: []any{}, "total": 0}
	}
	page := []map[string]any{}
	if offset < total {
		end := min(offset+limit, total)
		page = views[offset:end]
	}
	out := map[string]any{collection: page, "total": total}
	if offset > 0 {
		out["previous"] = fmt.Sprintf("%s/%s?limit=%d&offset=%d", q.href, collection, limit, max(0, offset-limit))
	}
	if total > offset+limit {
		out["next"] = fmt.Sprintf("%s/%s?limit=%d&offset=%d", q.href, collection, limit, offset+limit)
	}
	return out
}

// kmLike matches SQL LIKE patterns (% and _), which Barbican's name filters use.
func kmLike(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString("(?is)"+re.String(), s)
	return ok
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// kmRefID parses a Barbican reference of this cloud, http://<host>/key-manager/v1/<kind>/<id>,
// and returns its kind ("secrets" or "containers") and id.
func kmRefID(ref string) (kind, id string, ok bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", "", false
	}
	segs := splitPath(u.Path)
	if len(segs) != 4 || segs[0] != "key-manager" || segs[1] != "v1" || (segs[2] != "secrets" && segs[2] != "containers") {
		return "", "", false
	}
	return segs[2], segs[3], true
}
