package devcloud

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// The seeded application credential of the demo user (project demo, roles member and
// load-balancer_member): documented so that scripts can use OS_APPLICATION_CREDENTIAL_*.
const (
	DemoAppCredentialID     = "d3c10ad0a99c4e0f8c1d5e6f7a8b9c01"
	DemoAppCredentialName   = "devcloud-demo"
	DemoAppCredentialSecret = "devcloud-demo-secret"
)

const defaultDomainID = "default"

type ctxKey int

const tokenCtxKey ctxKey = 1

// tokenFrom returns the validated token of a service request (a copy, safe without c.mu).
func tokenFrom(r *http.Request) *token {
	t, _ := r.Context().Value(tokenCtxKey).(*token)
	return t
}

// ProjectID is the project of the request's token; Octavia calls it through its Env.
func (c *Cloud) ProjectID(r *http.Request) string {
	if t := tokenFrom(r); t != nil {
		return t.ProjectID
	}
	return ""
}

func (c *Cloud) seedIdentity() {
	st := c.st
	st.domains[defaultDomainID] = &domain{ID: defaultDomainID, Name: "Default"}
	for _, name := range []string{"admin", "member", "reader", "load-balancer_member"} {
		st.roles[c.newHexID()] = name
	}
	demo := &project{ID: c.newHexID(), Name: "demo", DomainID: defaultDomainID}
	admin := &project{ID: c.newHexID(), Name: "admin", DomainID: defaultDomainID}
	st.projects[demo.ID], st.projects[admin.ID] = demo, admin
	du := &user{ID: c.newHexID(), Name: "demo", DomainID: defaultDomainID, Password: "secret", DefaultProjectID: demo.ID,
		Roles: map[string][]string{demo.ID: {"member", "reader", "load-balancer_member"}}}
	au := &user{ID: c.newHexID(), Name: "admin", DomainID: defaultDomainID, Password: "secret", DefaultProjectID: admin.ID,
		Roles: map[string][]string{admin.ID: {"admin", "member", "reader"}}}
	st.users[du.ID], st.users[au.ID] = du, au
	st.appCreds[DemoAppCredentialID] = &appCred{ID: DemoAppCredentialID, Name: DemoAppCredentialName, Secret: DemoAppCredentialSecret,
		Description: "seeded by devcloud", UserID: du.ID, ProjectID: demo.ID, Roles: []string{"member", "load-balancer_member"}}
	st.seed.ProjectID, st.seed.AdminProjectID = demo.ID, admin.ID
	st.seed.DemoUserID, st.seed.AdminUserID = du.ID, au.ID
	st.seed.AppCredentialID, st.seed.AppCredentialName, st.seed.AppCredentialSecret = DemoAppCredentialID, DemoAppCredentialName, DemoAppCredentialSecret
	for _, p := range []*project{demo, admin} {
		st.quotas[p.ID] = defaultNovaQuota()
		st.dbQuotas[p.ID] = map[string]int{"instances": 10, "volumes": 100, "backups": 50}
	}
}

func (c *Cloud) roleID(name string) string {
	for id, n := range c.st.roles {
		if n == name {
			return id
		}
	}
	return ""
}

// unauthenticatedPath says whether a service path is public: version documents, and
// Keystone's token creation.
func unauthenticatedPath(service, rest, method string) bool {
	rest = strings.TrimSuffix(rest, "/")
	switch service {
	case "identity":
		if rest == "/v3/auth/tokens" && method == http.MethodPost {
			return true
		}
		return method == http.MethodGet && (rest == "" || rest == "/v3")
	case "compute":
		return method == http.MethodGet && (rest == "" || rest == "/v2.1" || rest == "/v2")
	case "image":
		return method == http.MethodGet && (rest == "" || rest == "/versions")
	default:
		return method == http.MethodGet && rest == ""
	}
}

const authRequiredMsg = "The request you have made requires authentication."

func (c *Cloud) authMiddleware(service, prefix string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, prefix)
		if unauthenticatedPath(service, rest, r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		t := c.validToken(r.Header.Get("X-Auth-Token"))
		if t == nil {
			// keystonemiddleware answers for every service with Keystone's body.
			w.Header().Set("WWW-Authenticate", `Keystone uri="`+baseURL(r)+`/identity"`)
			writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenCtxKey, t)))
	})
}

func (c *Cloud) validToken(id string) *token {
	if id == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.st.tokens[id]
	if t == nil {
		return nil
	}
	if time.Now().After(t.ExpiresAt) {
		delete(c.st.tokens, id)
		return nil
	}
	cp := *t
	return &cp
}

func (c *Cloud) identityVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{keystoneV3Doc(baseURL(r))}}})
}

func keystoneV3Doc(base string) map[string]any {
	return map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []any{map[string]any{"rel": "self", "href": base + "/identity/v3/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

func (c *Cloud) keystoneHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		switch {
		case len(segs) == 0:
			c.identityVersions(w, r)
		case len(segs) == 1 && segs[0] == "v3" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"version": keystoneV3Doc(baseURL(r))})
		case len(segs) == 3 && segs[0] == "v3" && segs[1] == "auth" && segs[2] == "tokens":
			switch r.Method {
			case http.MethodPost:
				c.createToken(w, r)
			case http.MethodGet, http.MethodHead:
				c.showToken(w, r)
			case http.MethodDelete:
				c.revokeToken(w, r)
			default:
				writeKeystoneError(w, http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
			}
		case len(segs) >= 4 && segs[0] == "v3" && segs[1] == "users" && segs[3] == "application_credentials":
			c.appCredentials(w, r, segs[2], segs[4:])
		default:
			writeKeystoneError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

type idName struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Domain *idName `json:"domain"`
}

type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					idName
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			AppCred *struct {
				ID     string  `json:"id"`
				Name   string  `json:"name"`
				Secret string  `json:"secret"`
				User   *idName `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope any `json:"scope"`
	} `json:"auth"`
}

type authScope struct {
	Project *idName `json:"project"`
	Domain  *idName `json:"domain"`
	System  any     `json:"system"`
}

func (c *Cloud) findDomain(ref *idName) *domain {
	if ref == nil {
		return nil
	}
	if ref.ID != "" {
		return c.st.domains[ref.ID]
	}
	for _, d := range c.st.domains {
		if d.Name == ref.Name {
			return d
		}
	}
	return nil
}

func (c *Cloud) findUser(ref idName) *user {
	if ref.ID != "" {
		return c.st.users[ref.ID]
	}
	d := c.findDomain(ref.Domain)
	if d == nil {
		return nil
	}
	for _, u := range c.st.users {
		if u.Name == ref.Name && u.DomainID == d.ID {
			return u
		}
	}
	return nil
}

func (c *Cloud) findProject(ref *idName) *project {
	if ref.ID != "" {
		return c.st.projects[ref.ID]
	}
	d := c.findDomain(ref.Domain)
	if d == nil {
		return nil
	}
	for _, p := range c.st.projects {
		if p.Name == ref.Name && p.DomainID == d.ID {
			return p
		}
	}
	return nil
}

func (c *Cloud) createToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := readJSON(r, &req); err != nil {
		writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'auth': "+err.Error())
		return
	}
	id := req.Auth.Identity
	if len(id.Methods) == 0 {
		writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'identity/methods': [] is too short")
		return
	}
	var scope authScope
	hasScope := false
	switch s := req.Auth.Scope.(type) {
	case map[string]any:
		hasScope = true
		if p, ok := s["project"].(map[string]any); ok {
			scope.Project = toIDName(p)
		}
		if d, ok := s["domain"].(map[string]any); ok {
			scope.Domain = toIDName(d)
		}
		scope.System = s["system"]
	case string: // "unscoped"
	}
	ttl := c.Timing().TokenTTL
	now := time.Now().UTC()

	c.mu.Lock()
	defer c.mu.Unlock()
	t := &token{IssuedAt: now, ExpiresAt: now.Add(ttl), Methods: id.Methods}
	var u *user
	method := id.Methods[0]
	switch method {
	case "password":
		if id.Password == nil {
			writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'identity/password': 'password' is a required property")
			return
		}
		pu := id.Password.User
		if pu.ID == "" && (pu.Name == "" || pu.Domain == nil) {
			writeKeystoneError(w, http.StatusBadRequest, "Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			return
		}
		u = c.findUser(pu.idName)
		if u == nil || u.Password != pu.Password {
			writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
			return
		}
	case "token":
		if id.Token == nil {
			writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'identity/token': 'token' is a required property")
			return
		}
		old := c.st.tokens[id.Token.ID]
		if old == nil || now.After(old.ExpiresAt) {
			writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
			return
		}
		if old.AppCredID != "" {
			// Keystone forbids rescoping an application credential token.
			writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: rescope a token created with an application credential.")
			return
		}
		u = c.st.users[old.UserID]
		t.ExpiresAt = old.ExpiresAt // a rescoped token never outlives its parent
		t.AuditID = old.AuditID
		if !hasScope {
			t.ProjectID, t.DomainID, t.Roles = old.ProjectID, old.DomainID, old.Roles
		}
	case "application_credential":
		ac := id.AppCred
		if ac == nil {
			writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'identity/application_credential': 'application_credential' is a required property")
			return
		}
		var cred *appCred
		if ac.ID != "" {
			cred = c.st.appCreds[ac.ID]
		} else if ac.User != nil {
			if owner := c.findUser(*ac.User); owner != nil {
				for _, cand := range c.st.appCreds {
					if cand.Name == ac.Name && cand.UserID == owner.ID {
						cred = cand
					}
				}
			}
		}
		if cred == nil || cred.Secret != ac.Secret || (cred.ExpiresAt != nil && now.After(*cred.ExpiresAt)) {
			writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
			return
		}
		if hasScope {
			writeKeystoneError(w, http.StatusUnauthorized, "Application credentials cannot request a scope.")
			return
		}
		u = c.st.users[cred.UserID]
		t.AppCredID, t.ProjectID, t.Roles = cred.ID, cred.ProjectID, append([]string(nil), cred.Roles...)
		if cred.ExpiresAt != nil && cred.ExpiresAt.Before(t.ExpiresAt) {
			t.ExpiresAt = *cred.ExpiresAt
		}
	default:
		writeKeystoneError(w, http.StatusUnauthorized, "Attempted to authenticate with an unsupported method.")
		return
	}
	if u == nil {
		writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
		return
	}
	t.UserID = u.ID
	if method != "application_credential" && (hasScope || method == "password") {
		switch {
		case scope.Project != nil:
			p := c.findProject(scope.Project)
			if p == nil || len(u.Roles[p.ID]) == 0 {
				writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
				return
			}
			t.ProjectID, t.DomainID, t.Roles = p.ID, "", append([]string(nil), u.Roles[p.ID]...)
		case scope.Domain != nil:
			d := c.findDomain(scope.Domain)
			if d == nil || !contains(u.Roles[u.DefaultProjectID], "admin") {
				writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
				return
			}
			t.ProjectID, t.DomainID, t.Roles = "", d.ID, []string{"admin"}
		case scope.System != nil:
			writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
			return
		case method == "password" && u.DefaultProjectID != "":
			// Keystone scopes an unscoped request to the user's default project.
			t.ProjectID, t.Roles = u.DefaultProjectID, append([]string(nil), u.Roles[u.DefaultProjectID]...)
		}
	}
	t.ID = newTokenID()
	if t.AuditID == "" {
		t.AuditID = randomB64(16)
	}
	c.st.tokens[t.ID] = t
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"token": c.tokenBody(t, baseURL(r))})
}

func toIDName(m map[string]any) *idName {
	out := &idName{}
	out.ID, _ = m["id"].(string)
	out.Name, _ = m["name"].(string)
	if d, ok := m["domain"].(map[string]any); ok {
		out.Domain = toIDName(d)
	}
	return out
}

func newTokenID() string { return "gAAAAAB" + randomB64(96) }

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Cloud) tokenBody(t *token, base string) map[string]any {
	u := c.st.users[t.UserID]
	d := c.st.domains[u.DomainID]
	body := map[string]any{
		"methods":    t.Methods,
		"user":       map[string]any{"id": u.ID, "name": u.Name, "domain": map[string]any{"id": d.ID, "name": d.Name}, "password_expires_at": nil},
		"audit_ids":  []string{t.AuditID},
		"expires_at": isoMicro(t.ExpiresAt) + "Z",
		"issued_at":  isoMicro(t.IssuedAt) + "Z",
	}
	var roles []any
	for _, name := range t.Roles {
		roles = append(roles, map[string]any{"id": c.roleID(name), "name": name})
	}
	if t.ProjectID != "" {
		p := c.st.projects[t.ProjectID]
		pd := c.st.domains[p.DomainID]
		body["project"] = map[string]any{"id": p.ID, "name": p.Name, "domain": map[string]any{"id": pd.ID, "name": pd.Name}}
		body["is_domain"] = false
	}
	if t.DomainID != "" {
		dd := c.st.domains[t.DomainID]
		body["domain"] = map[string]any{"id": dd.ID, "name": dd.Name}
	}
	if t.ProjectID != "" || t.DomainID != "" {
		body["roles"] = roles
		body["catalog"] = c.catalog(base, t.ProjectID)
	}
	if t.AppCredID != "" {
		ac := c.st.appCreds[t.AppCredID]
		name := ""
		if ac != nil {
			name = ac.Name
		}
		body["application_credential"] = map[string]any{"id": t.AppCredID, "name": name, "restricted": ac == nil || !ac.Unrestricted}
	}
	return body
}

func (c *Cloud) catalog(base, projectID string) []any {
	type svc struct{ typ, name, path string }
	svcs := []svc{
		{"identity", "keystone", "/identity/v3"},
		{"compute", "nova", "/compute/v2.1"},
		{"image", "glance", "/image"},
		{"network", "neutron", "/networking"},
		{"load-balancer", "octavia", "/load-balancer"},
		{"placement", "placement", "/placement"},
	}
	if projectID != "" {
		svcs = append(svcs, svc{"database", "trove", "/database/v1.0/" + projectID})
	}
	var out []any
	for i, s := range svcs {
		var eps []any
		for j, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{
				"id": stableHex(i*3 + j), "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": base + s.path,
			})
		}
		out = append(out, map[string]any{"id": stableHex(100 + i), "type": s.typ, "name": s.name, "endpoints": eps})
	}
	return out
}

// stableHex gives catalog entries fixed ids: they are the same on every devcloud.
func stableHex(n int) string {
	const digits = "0123456789abcdef"
	b := []byte("00000000000000000000000000000000")
	for i := len(b) - 1; n > 0 && i >= 0; i-- {
		b[i] = digits[n%16]
		n /= 16
	}
	return "dc" + string(b[2:])
}

func (c *Cloud) showToken(w http.ResponseWriter, r *http.Request) {
	subject := r.Header.Get("X-Subject-Token")
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.st.tokens[subject]
	if t == nil || time.Now().After(t.ExpiresAt) {
		writeKeystoneError(w, http.StatusNotFound, "Could not find token: "+subject+".")
		return
	}
	w.Header().Set("X-Subject-Token", t.ID)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": c.tokenBody(t, baseURL(r))})
}

func (c *Cloud) revokeToken(w http.ResponseWriter, r *http.Request) {
	subject := r.Header.Get("X-Subject-Token")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.tokens[subject] == nil {
		writeKeystoneError(w, http.StatusNotFound, "Could not find token: "+subject+".")
		return
	}
	delete(c.st.tokens, subject)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) appCredentials(w http.ResponseWriter, r *http.Request, userID string, rest []string) {
	caller := tokenFrom(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.st.users[userID]
	if u == nil {
		writeKeystoneError(w, http.StatusNotFound, "Could not find user: "+userID+".")
		return
	}
	if caller.UserID != userID && !contains(caller.Roles, "admin") {
		writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:create_application_credential.")
		return
	}
	view := func(ac *appCred, withSecret bool) map[string]any {
		var roles []any
		for _, n := range ac.Roles {
			roles = append(roles, map[string]any{"id": c.roleID(n), "name": n, "domain_id": nil})
		}
		m := map[string]any{"id": ac.ID, "name": ac.Name, "description": ac.Description, "project_id": ac.ProjectID,
			"roles": roles, "unrestricted": ac.Unrestricted, "expires_at": nil, "access_rules": []any{},
			"links": map[string]any{"self": baseURL(r) + "/identity/v3/users/" + userID + "/application_credentials/" + ac.ID}}
		if ac.ExpiresAt != nil {
			m["expires_at"] = isoMicro(*ac.ExpiresAt)
		}
		if withSecret {
			m["secret"] = ac.Secret
		}
		return m
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		var list []any
		for _, ac := range c.st.appCreds {
			if ac.UserID == userID && (r.URL.Query().Get("name") == "" || r.URL.Query().Get("name") == ac.Name) {
				list = append(list, view(ac, false))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"application_credentials": list, "links": map[string]any{"self": baseURL(r) + r.URL.Path, "next": nil, "previous": nil}})
	case len(rest) == 0 && r.Method == http.MethodPost:
		if caller.AppCredID != "" {
			if ac := c.st.appCreds[caller.AppCredID]; ac == nil || !ac.Unrestricted {
				writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.")
				return
			}
		}
		if caller.ProjectID == "" {
			writeKeystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: an application credential needs a project-scoped token.")
			return
		}
		var req struct {
			AC struct {
				Name         string           `json:"name"`
				Secret       string           `json:"secret"`
				Description  string           `json:"description"`
				ExpiresAt    *string          `json:"expires_at"`
				Roles        []map[string]any `json:"roles"`
				Unrestricted bool             `json:"unrestricted"`
			} `json:"application_credential"`
		}
		if err := readJSON(r, &req); err != nil || req.AC.Name == "" {
			writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'application_credential/name': 'name' is a required property")
			return
		}
		for _, ac := range c.st.appCreds {
			if ac.UserID == userID && ac.Name == req.AC.Name {
				writeKeystoneError(w, http.StatusConflict, "Conflict occurred attempting to store application_credential - Duplicate entry.")
				return
			}
		}
		ac := &appCred{ID: c.newHexID(), Name: req.AC.Name, Secret: req.AC.Secret, Description: req.AC.Description,
			UserID: userID, ProjectID: caller.ProjectID, Unrestricted: req.AC.Unrestricted}
		if ac.Secret == "" {
			ac.Secret = randomB64(48)
		}
		if req.AC.ExpiresAt != nil && *req.AC.ExpiresAt != "" {
			exp, err := parseKeystoneTime(*req.AC.ExpiresAt)
			if err != nil {
				writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'application_credential/expires_at': "+err.Error())
				return
			}
			ac.ExpiresAt = &exp
		}
		if len(req.AC.Roles) == 0 {
			ac.Roles = append([]string(nil), caller.Roles...)
		}
		for _, ref := range req.AC.Roles {
			name, _ := ref["name"].(string)
			if id, ok := ref["id"].(string); ok && id != "" {
				name = c.st.roles[id]
			}
			if name == "" || !contains(caller.Roles, name) {
				writeKeystoneError(w, http.StatusBadRequest, "Invalid application credential: the user does not have the requested role on the project.")
				return
			}
			ac.Roles = append(ac.Roles, name)
		}
		c.st.appCreds[ac.ID] = ac
		writeJSON(w, http.StatusCreated, map[string]any{"application_credential": view(ac, true)})
	case len(rest) == 1:
		ac := c.st.appCreds[rest[0]]
		if ac == nil || ac.UserID != userID {
			writeKeystoneError(w, http.StatusNotFound, "Could not find application credential: "+rest[0]+".")
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"application_credential": view(ac, false)})
		case http.MethodDelete:
			delete(c.st.appCreds, ac.ID)
			for id, t := range c.st.tokens {
				if t.AppCredID == ac.ID {
					delete(c.st.tokens, id)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			writeKeystoneError(w, http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
		}
	default:
		writeKeystoneError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func parseKeystoneTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &time.ParseError{Value: s, Message: ": not an ISO 8601 time"}
}
