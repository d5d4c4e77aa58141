package devcloud

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
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
		case len(segs) == 4 && segs[0] == "v3" && segs[1] == "users" && segs[3] == "password" && r.Method == http.MethodPost:
			c.changePassword(w, r, segs[2])
		case len(segs) >= 2 && segs[0] == "v3" && segs[1] == "projects":
			c.projects(w, r, segs[2:])
		case len(segs) >= 4 && segs[0] == "v3" && segs[1] == "users" && segs[3] == "application_credentials":
			c.appCredentials(w, r, segs[2], segs[4:])
		default:
			writeKeystoneError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseKeystoneTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &time.ParseError{Value: s, Message: ": not an ISO 8601 time"}
}
