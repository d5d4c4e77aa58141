package devcloud

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

func (n *novaReq) keypairs(rest []string) {
	c := n.c
	userID := n.tok.UserID
	if v := n.r.URL.Query().Get("user_id"); v != "" && n.mv >= 10 && n.isAdmin() {
		userID = v
	}
	view := func(k *keypair, detail bool) map[string]any {
		m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
		if n.mv >= 2 {
			m["type"] = k.Type
		}
		if detail {
			m["user_id"], m["created_at"], m["deleted"], m["deleted_at"], m["updated_at"], m["id"] = k.UserID, isoMicro(k.Created), false, nil, nil, k.ID
		}
		return m
	}
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		c.mu.Lock()
		defer c.mu.Unlock()
		var names []string
		for key, k := range c.st.keypairs {
			if k.UserID == userID {
				names = append(names, key)
			}
		}
		sort.Strings(names)
		out := []any{}
		for _, key := range names {
			out = append(out, map[string]any{"keypair": view(c.st.keypairs[key], false)})
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"keypairs": out})
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		var req struct {
			KP struct {
				Name      string `json:"name"`
				PublicKey string `json:"public_key"`
				Type      string `json:"type"`
			} `json:"keypair"`
		}
		if err := readJSON(n.r, &req); err != nil || req.KP.Name == "" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute keypair. 'name' is a required property")
			return
		}
		if req.KP.PublicKey == "" && n.mv >= 92 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute keypair. 'public_key' is a required property")
			return
		}
		typ := req.KP.Type
		if typ == "" {
			typ = "ssh"
		}
		var private string
		pub := req.KP.PublicKey
		if pub == "" {
			var err error
			pub, private, err = generateKeypair(req.KP.Name)
			if err != nil {
				novaError(n.w, http.StatusInternalServerError, "Keypair data is invalid: %v", err)
				return
			}
		} else if !strings.HasPrefix(pub, "ssh-") && !strings.HasPrefix(pub, "ecdsa-") {
			novaError(n.w, http.StatusBadRequest, "Keypair data is invalid: failed to generate fingerprint")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		owned := 0
		for _, k := range c.st.keypairs {
			if k.UserID == userID {
				owned++
			}
		}
		// key_pairs is counted per user, against the limit of the caller's project.
		if novaLimitExceeded(c.novaQuota(n.tok.ProjectID)["key_pairs"], owned, 1) {
			novaError(n.w, http.StatusForbidden, "Quota exceeded, too many key pairs.")
			return
		}
		key := userID + "/" + req.KP.Name
		if c.st.keypairs[key] != nil {
			novaError(n.w, http.StatusConflict, "Key pair '%s' already exists.", req.KP.Name)
			return
		}
		k := &keypair{Name: req.KP.Name, UserID: userID, PublicKey: pub, Fingerprint: fingerprint(pub), Type: typ, ID: len(c.st.keypairs) + 1, Created: time.Now().UTC()}
		c.st.keypairs[key] = k
		m := view(k, false)
		m["user_id"] = userID
		if private != "" {
			m["private_key"] = private
		}
		status := http.StatusOK
		if n.mv >= 2 {
			status = http.StatusCreated
		}
		writeJSON(n.w, status, map[string]any{"keypair": m})
	case len(rest) == 1:
		c.mu.Lock()
		defer c.mu.Unlock()
		key := userID + "/" + rest[0]
		k := c.st.keypairs[key]
		if k == nil {
			novaError(n.w, http.StatusNotFound, "Keypair %s not found for user %s", rest[0], userID)
			return
		}
		switch n.r.Method {
		case http.MethodGet:
			writeJSON(n.w, http.StatusOK, map[string]any{"keypair": view(k, true)})
		case http.MethodDelete:
			delete(c.st.keypairs, key)
			if n.mv >= 2 {
				n.w.WriteHeader(http.StatusNoContent)
			} else {
				n.w.WriteHeader(http.StatusAccepted)
			}
		default:
			n.methodNotAllowed()
		}
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}
