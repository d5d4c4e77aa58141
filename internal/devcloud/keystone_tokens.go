package devcloud

import (
	"net/http"
	"time"
)

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
	c.issuedTokens = append(c.issuedTokens, t.ID)
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"token": c.tokenBody(t, baseURL(r))})
}

func newTokenID() string { return "gAAAAAB" + randomB64(96) }

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
		{"key-manager", "barbican", "/key-manager"},
	}
	if projectID != "" {
		svcs = append(svcs, svc{"database", "trove", "/database/v1.0/" + projectID})
	}
	// Designate's endpoint is the unversioned root, as its catalog entry is on a real cloud.
	svcs = append(svcs, svc{"dns", "designate", "/dns"})
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
