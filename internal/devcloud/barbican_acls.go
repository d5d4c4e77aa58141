package devcloud

import (
	"net/http"
	"time"
)

// aclEntity is the secret or container whose /acl a request addresses.
type aclEntity struct {
	kind string // "secret" or "container"
	href string
	// target carries no ACLs: the ACL controllers' get_acl_tuple gives the policy only the
	// project and the creator, so the read ACL neither grants nor restricts these calls.
	target  kmTarget
	acls    *map[string]*kmACL
	updated *time.Time
}

// kmACLOperations are the ACL operations Barbican knows; its validator accepts only read.
var kmACLOperations = []string{"read", "write", "delete", "list"}

// routeACL serves /v1/secrets/{id}/acl and /v1/containers/{id}/acl. Callers hold c.mu.
func (q *kmReq) routeACL(e aclEntity) {
	label := map[string]string{"secret": "SecretACL(s)", "container": "ContainerACL(s)"}[e.kind]
	switch q.r.Method {
	case http.MethodGet:
		if !kmAllowed(e.kind+"_acls:get", q.caller, e.target) {
			q.denied(label + " retrieval")
			return
		}
		writeJSON(q.w, http.StatusOK, aclView(*e.acls))
	case http.MethodPut, http.MethodPatch:
		if !kmAllowed(e.kind+"_acls:put_patch", q.caller, e.target) {
			q.denied(label + " Update")
			return
		}
		if !q.requireContentType("application/json") {
			return
		}
		body, ok := q.aclBody()
		if !ok {
			return
		}
		applyACL(e.acls, body, q.r.Method == http.MethodPut, time.Now().UTC())
		*e.updated = time.Now().UTC()
		writeJSON(q.w, http.StatusOK, map[string]any{"acl_ref": e.href + "/acl"})
	case http.MethodDelete:
		if !kmAllowed(e.kind+"_acls:delete", q.caller, e.target) {
			q.denied(label + " deletion")
			return
		}
		*e.acls = nil
		// The controller returns nothing through a JSON template: the body is "null".
		q.w.Header().Set("Content-Type", "application/json")
		q.w.WriteHeader(http.StatusOK)
		_, _ = q.w.Write([]byte("null"))
	default:
		q.fail(http.StatusMethodNotAllowed, "")
	}
}

// aclView is the GET body: the implicit {"read": {"project-access": true}} until an ACL is set.
func aclView(acls map[string]*kmACL) map[string]any {
	if len(acls) == 0 {
		return map[string]any{"read": map[string]any{"project-access": true}}
	}
	out := map[string]any{}
	for op, a := range acls {
		users := a.Users
		if users == nil {
			users = []string{}
		}
		out[op] = map[string]any{"project-access": a.ProjectAccess, "users": users, "created": kmTime(a.Created), "updated": kmTime(a.Updated)}
	}
	return out
}

// kmACLInput is one operation of a PUT or PATCH body; nil fields were absent.
type kmACLInput struct {
	users         []string
	projectAccess *bool
}

// aclBody validates a body against Barbican's ACLValidator schema: an object whose only
// property is read, itself an object of users (strings) and project-access (a boolean).
func (q *kmReq) aclBody() (map[string]*kmACLInput, bool) {
	raw, ok := q.jsonBody()
	if !ok {
		return nil, false
	}
	const schema = "ACL"
	body, isObj := raw.(map[string]any)
	if !isObj {
		q.schemaError(schema, pyRepr(raw)+" is not of type 'object'", "None")
		return nil, false
	}
	for k := range body {
		if k != "read" {
			q.schemaError(schema, "Additional properties are not allowed ("+pyRepr(k)+" was unexpected)", "None")
			return nil, false
		}
	}
	out := map[string]*kmACLInput{}
	read, present := body["read"]
	if !present {
		return out, true
	}
	def, isObj := read.(map[string]any)
	if !isObj {
		q.schemaError(schema, pyRepr(read)+" is not of type 'object'", "read")
		return nil, false
	}
	in := &kmACLInput{}
	for k, v := range def {
		switch k {
		case "users":
			list, isList := v.([]any)
			if !isList {
				q.schemaError(schema, pyRepr(v)+" is not of type 'array'", "read")
				return nil, false
			}
			in.users = []string{}
			for i, u := range list {
				s, isStr := u.(string)
				// The schema's items is a one-element list: only the first user is checked.
				if i == 0 && (!isStr || len(s) > 255) {
					msg := pyRepr(u) + " is not of type 'string'"
					if isStr {
						msg = pyRepr(u) + " is too long"
					}
					q.schemaError(schema, msg, "read")
					return nil, false
				}
				if isStr && !contains(in.users, s) {
					in.users = append(in.users, s)
				}
			}
		case "project-access":
			b, isBool := v.(bool)
			if !isBool {
				q.schemaError(schema, pyRepr(v)+" is not of type 'boolean'", "read")
				return nil, false
			}
			in.projectAccess = &b
		default:
			q.schemaError(schema, "Additional properties are not allowed ("+pyRepr(k)+" was unexpected)", "read")
			return nil, false
		}
	}
	// The controllers skip an operation whose definition is empty ({"read": {}}).
	if len(def) > 0 {
		out["read"] = in
	}
	return out, true
}

// applyACL is the PUT (replace: absent operations are removed, project-access defaults to
// true, users to none) or PATCH (merge: only what the body names changes) of
// SecretACLsController and ContainerACLsController.
func applyACL(acls *map[string]*kmACL, body map[string]*kmACLInput, replace bool, now time.Time) {
	if *acls == nil {
		*acls = map[string]*kmACL{}
	}
	for _, op := range kmACLOperations {
		in := body[op]
		existing := (*acls)[op]
		if in == nil {
			if replace && existing != nil {
				delete(*acls, op)
			}
			continue
		}
		if existing == nil {
			existing = &kmACL{ProjectAccess: true, Created: now}
			(*acls)[op] = existing
		}
		switch {
		case in.projectAccess != nil:
			existing.ProjectAccess = *in.projectAccess
		case replace:
			existing.ProjectAccess = true
		}
		switch {
		case in.users != nil:
			existing.Users = append([]string{}, in.users...)
		case replace:
			existing.Users = []string{}
		}
		existing.Updated = now
	}
}
