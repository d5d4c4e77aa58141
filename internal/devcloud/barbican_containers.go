package devcloud

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

var kmContainerTypes = []string{"generic", "rsa", "certificate"}

func (q *kmReq) routeContainers(seg []string) {
	if len(seg) == 0 {
		switch q.r.Method {
		case http.MethodGet:
			q.listContainers()
		case http.MethodPost:
			q.createContainer()
		default:
			q.fail(http.StatusMethodNotAllowed, "")
		}
		return
	}
	id := seg[0]
	if !kmValidID(id) {
		q.fail(http.StatusNotFound, "Not Found. Provided container id is invalid.")
		return
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.st.containers[id]
	if ct == nil {
		q.fail(http.StatusNotFound, "Secrets container not found.")
		return
	}
	if len(seg) >= 2 && seg[1] == "secrets" {
		q.changeContainerSecrets(ct)
		return
	}
	if len(seg) == 2 && seg[1] == "acl" {
		q.routeACL(aclEntity{kind: "container", href: q.containerHref(ct.ID), target: kmTarget{ProjectID: ct.ProjectID, CreatorID: ct.CreatorID}, acls: &ct.ACLs, updated: &ct.Updated})
		return
	}
	if len(seg) >= 2 {
		// Barbican's ContainerController has no sub-resource lookup: pecan hands the rest of
		// the path to the GET or DELETE handler, whose extra argument fails with a 500.
		switch q.r.Method {
		case http.MethodGet:
			q.fail(http.StatusInternalServerError, "Container retrieval failure seen - please contact site administrator.")
		case http.MethodDelete:
			q.fail(http.StatusInternalServerError, "Container deletion failure seen - please contact site administrator.")
		default:
			q.fail(http.StatusMethodNotAllowed, "")
		}
		return
	}
	switch q.r.Method {
	case http.MethodGet:
		if !kmAllowed("container:get", q.caller, ct.target()) {
			q.denied("Container retrieval")
			return
		}
		writeJSON(q.w, http.StatusOK, q.containerView(ct))
	case http.MethodDelete:
		if !kmAllowed("container:delete", q.caller, ct.target()) {
			q.denied("Container deletion")
			return
		}
		delete(c.st.containers, ct.ID)
		q.w.WriteHeader(http.StatusNoContent)
	default:
		q.fail(http.StatusMethodNotAllowed, "")
	}
}

func (q *kmReq) containerHref(id string) string { return q.href + "/containers/" + id }

func (q *kmReq) containerView(ct *kmContainer) map[string]any {
	refs := make([]map[string]any, 0, len(ct.Refs))
	for _, r := range ct.Refs {
		refs = append(refs, map[string]any{"name": r.Name, "secret_ref": q.secretHref(r.SecretID)})
	}
	return map[string]any{
		"created":       kmTime(ct.Created),
		"updated":       kmTime(ct.Updated),
		"status":        "ACTIVE",
		"name":          ct.Name,
		"type":          ct.Type,
		"creator_id":    ct.CreatorID,
		"secret_refs":   refs,
		"consumers":     []any{},
		"container_ref": q.containerHref(ct.ID),
	}
}

// kmRefName is the name a secret_refs entry goes by in the name checks (absent: "").
func kmRefName(ref map[string]any) string {
	n, _ := ref["name"].(string)
	return n
}

// lastSegment is hrefs.get_secret_id_from_ref: the text after the last slash.
func lastSegment(ref string) string {
	ref = strings.TrimSuffix(ref, "/")
	return ref[strings.LastIndex(ref, "/")+1:]
}

func (q *kmReq) createContainer() {
	if !kmAllowed("containers:post", q.caller, kmTarget{}) {
		q.denied("Container creation")
		return
	}
	if !q.requireContentType("application/json") {
		return
	}
	raw, ok := q.jsonBody()
	if !ok {
		return
	}
	const schema = "Container"
	body, isObj := raw.(map[string]any)
	if !isObj {
		q.schemaError(schema, pyRepr(raw)+" is not of type 'object'", "None")
		return
	}
	for _, p := range []kmProp{{name: "name", typ: "string", nullable: true, maxLen: 255}, {name: "type", typ: "string", enum: kmContainerTypes}, {name: "secret_refs", typ: "array"}} {
		if v, present := body[p.name]; present {
			if msg := p.check(v); msg != "" {
				q.schemaError(schema, msg, p.name)
				return
			}
		}
	}
	if _, present := body["type"]; !present {
		q.schemaError(schema, "'type' is a required property", "None")
		return
	}
	items, _ := body["secret_refs"].([]any)
	var refs []map[string]any
	for _, it := range items {
		ref, isObj := it.(map[string]any)
		if !isObj {
			q.schemaError(schema, pyRepr(it)+" is not of type 'object'", "secret_refs")
			return
		}
		if _, present := ref["secret_ref"]; !present {
			q.schemaError(schema, "'secret_ref' is a required property", "secret_refs")
			return
		}
		for _, p := range []kmProp{{name: "name", typ: "string", nullable: true, maxLen: 255}, {name: "secret_ref", typ: "string", minLen: 1}} {
			if msg := p.check(ref[p.name]); msg != "" {
				q.schemaError(schema, msg, "secret_refs")
				return
			}
		}
		refs = append(refs, ref)
	}
	typ := body["type"].(string)
	if len(refs) > 0 && !q.validContainerRefs(schema, typ, refs) {
		return
	}
	now := time.Now().UTC()
	ct := &kmContainer{ProjectID: q.caller.ProjectID, CreatorID: q.caller.UserID, Type: typ, Name: strPtrOrNil(body["name"]),
		Created: now, Updated: now}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ref := range refs {
		id := lastSegment(ref["secret_ref"].(string))
		s := c.st.secrets[id]
		if s == nil || s.ProjectID != q.caller.ProjectID || kmExpired(s.Expiration, now) {
			q.fail(http.StatusNotFound, "Secret provided for '%s' doesn't exist.", pyStr(ref["name"]))
			return
		}
		ct.Refs = append(ct.Refs, kmContainerRef{Name: strPtrOrNil(ref["name"]), SecretID: id})
	}
	ct.ID = c.newID()
	c.st.containers[ct.ID] = ct
	href := q.containerHref(ct.ID)
	q.w.Header().Set("Location", href)
	writeJSON(q.w, http.StatusCreated, map[string]any{"container_ref": href})
}

// pyStr is Python's str() of a JSON value, as it lands in Barbican's messages.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// validContainerRefs is the rest of ContainerValidator: unique names and secrets, references
// on this Barbican, and the names each container type allows.
func (q *kmReq) validContainerRefs(schema, typ string, refs []map[string]any) bool {
	names, ids := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		names[kmRefName(r)] = true
		ids[lastSegment(r["secret_ref"].(string))] = true
	}
	if len(names) != len(refs) {
		q.schemaError(schema, "Duplicate reference names are not allowed", "secret_refs")
		return false
	}
	if len(ids) != len(refs) {
		q.schemaError(schema, "Duplicate secret ids are not allowed", "secret_refs")
		return false
	}
	hostHref := strings.TrimSuffix(q.href, "/v1")
	for _, r := range refs {
		if !strings.HasPrefix(r["secret_ref"].(string), hostHref) {
			q.fail(http.StatusBadRequest, "Provided field value is not supported")
			return false
		}
	}
	has := func(allowed ...string) bool {
		for n := range names {
			if !contains(allowed, n) {
				return false
			}
		}
		return true
	}
	switch typ {
	case "rsa":
		if !has("public_key", "private_key", "private_key_passphrase") {
			q.schemaError(schema, "only 'private_key', 'public_key' and 'private_key_passphrase' reference names are allowed for RSA type", "secret_refs")
			return false
		}
		if !names["public_key"] || !names["private_key"] {
			q.schemaError(schema, "The minimum required reference names are 'public_key' and'private_key' for RSA type", "secret_refs")
			return false
		}
	case "certificate":
		if !has("certificate", "private_key", "private_key_passphrase", "intermediates") {
			q.schemaError(schema, "only 'private_key', 'certificate' , 'private_key_passphrase',  or 'intermediates' reference names are allowed for Certificate type", "secret_refs")
			return false
		}
		if !names["certificate"] {
			q.schemaError(schema, "The minimum required reference name is 'certificate' for Certificate type", "secret_refs")
			return false
		}
	}
	return true
}

// changeContainerSecrets is POST and DELETE /v1/containers/{id}/secrets: add a secret to, or
// remove one from, a generic container. Callers hold c.mu.
func (q *kmReq) changeContainerSecrets(ct *kmContainer) {
	var op, action string
	switch q.r.Method {
	case http.MethodPost:
		op, action = "Container Secret creation", "container_secret:post"
	case http.MethodDelete:
		op, action = "Container Secret deletion", "container_secret:delete"
	default:
		q.fail(http.StatusMethodNotAllowed, "")
		return
	}
	if !kmAllowed(action, q.caller, ct.target()) {
		q.denied(op)
		return
	}
	if q.r.Method == http.MethodPost && !q.requireContentType("application/json") {
		return
	}
	if q.r.Method == http.MethodPost && ct.Type != "generic" {
		q.fail(http.StatusBadRequest, "Only 'generic' containers can be modified.")
		return
	}
	raw, ok := q.jsonBody()
	if !ok {
		return
	}
	const schema = "ContainerSecret"
	body, isObj := raw.(map[string]any)
	if !isObj {
		q.schemaError(schema, pyRepr(raw)+" is not of type 'object'", "None")
		return
	}
	if _, present := body["secret_ref"]; !present {
		q.schemaError(schema, "'secret_ref' is a required property", "None")
		return
	}
	for _, p := range []kmProp{{name: "name", typ: "string", maxLen: 255}, {name: "secret_ref", typ: "string", minLen: 1}} {
		if v, present := body[p.name]; present {
			if msg := p.check(v); msg != "" {
				q.schemaError(schema, msg, p.name)
				return
			}
		}
	}
	name := strPtrOrNil(body["name"])
	ref := body["secret_ref"].(string)
	id := lastSegment(ref)
	s := q.c.st.secrets[id]
	exists := s != nil && s.ProjectID == q.caller.ProjectID && !kmExpired(s.Expiration, time.Now())
	same := func(r kmContainerRef) bool {
		return r.SecretID == id && derefOr(r.Name) == derefOr(name) && (r.Name == nil) == (name == nil)
	}
	if q.r.Method == http.MethodPost {
		if !exists {
			q.fail(http.StatusNotFound, "Secret provided doesn't exist.")
			return
		}
		for _, r := range ct.Refs {
			if same(r) {
				q.fail(http.StatusConflict, "Conflict. A secret with that name and ID is already stored in this container. The same secret can exist in a container as long as the name is unique.")
				return
			}
		}
		ct.Refs = append(ct.Refs, kmContainerRef{Name: name, SecretID: id})
		href := q.containerHref(ct.ID)
		q.w.Header().Set("Location", href)
		writeJSON(q.w, http.StatusCreated, map[string]any{"container_ref": href})
		return
	}
	if !exists {
		q.fail(http.StatusNotFound, "Secret '%s' with reference '%s' doesn't exist.", pyStr(body["name"]), ref)
		return
	}
	kept := ct.Refs[:0:0]
	for _, r := range ct.Refs {
		if !same(r) {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(ct.Refs) {
		q.fail(http.StatusNotFound, "Secret provided is not in the container")
		return
	}
	ct.Refs = kept
	q.w.WriteHeader(http.StatusNoContent)
}

func (q *kmReq) listContainers() {
	if !kmAllowed("containers:get", q.caller, kmTarget{}) {
		q.denied("Containers(s) retrieval")
		return
	}
	query := q.r.URL.Query()
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []*kmContainer
	for _, ct := range c.st.containers {
		if ct.ProjectID != q.caller.ProjectID {
			continue
		}
		if name := query.Get("name"); name != "" && derefOr(ct.Name) != name {
			continue
		}
		if typ := query.Get("type"); typ != "" && ct.Type != typ {
			continue
		}
		found = append(found, ct)
	}
	// get_by_create_date: oldest first.
	sort.Slice(found, func(i, j int) bool {
		if !found[i].Created.Equal(found[j].Created) {
			return found[i].Created.Before(found[j].Created)
		}
		return found[i].ID < found[j].ID
	})
	views := make([]map[string]any, len(found))
	for i, ct := range found {
		views[i] = q.containerView(ct)
	}
	offset, limit := kmPage(query)
	writeJSON(q.w, http.StatusOK, q.listBody("containers", views, offset, limit))
}
