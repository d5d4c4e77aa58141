package devcloud

import "net/http"

// changePassword is Keystone's self-service POST /v3/users/{user_id}/password: no token, the
// original password proves the caller. Keystone then revokes every token the user holds;
// application credentials stay valid.
func (c *Cloud) changePassword(w http.ResponseWriter, r *http.Request, userID string) {
	var req struct {
		User struct {
			Password         *string `json:"password"`
			OriginalPassword *string `json:"original_password"`
		} `json:"user"`
	}
	if err := readJSON(r, &req); err != nil {
		writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'user': "+err.Error())
		return
	}
	if req.User.Password == nil || req.User.OriginalPassword == nil {
		writeKeystoneError(w, http.StatusBadRequest, "Invalid input for field 'user': 'password' and 'original_password' are required properties")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.st.users[userID]
	if u == nil || u.Password != *req.User.OriginalPassword {
		writeKeystoneError(w, http.StatusUnauthorized, authRequiredMsg)
		return
	}
	u.Password = *req.User.Password
	for id, t := range c.st.tokens {
		if t.UserID == userID {
			delete(c.st.tokens, id)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
