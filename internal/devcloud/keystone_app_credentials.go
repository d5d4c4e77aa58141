package devcloud

import (
	"net/http"
)

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
