package devcloud

import (
	"context"
	"net/http"
	"strings"
	"time"
)

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

// unauthenticatedPath says whether a service path is public: version documents, Keystone's
// token creation and self-service password change (the original password is the proof).
func unauthenticatedPath(service, rest, method string) bool {
	rest = strings.TrimSuffix(rest, "/")
	switch service {
	case "identity":
		if rest == "/v3/auth/tokens" && method == http.MethodPost {
			return true
		}
		if segs := splitPath(rest); method == http.MethodPost && len(segs) == 4 && segs[0] == "v3" && segs[1] == "users" && segs[3] == "password" {
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
