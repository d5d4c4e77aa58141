package cloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// capturedLog collects request-log entries for assertions.
type capturedLog struct {
	mu      sync.Mutex
	entries []map[string]any
}

func (c *capturedLog) log(_ context.Context, msg string, fields map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := map[string]any{"@message": msg}
	for k, v := range fields {
		e[k] = v
	}
	c.entries = append(c.entries, e)
}

func (c *capturedLog) text(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(c.entries)
	if err != nil {
		t.Fatal(err)
	}
	// JSON escapes nothing in the secrets used below, so a substring search is exact.
	return string(b)
}

func TestRedactJSONBody_ReplacesEverySecretFieldAndKeepsTheRest(t *testing.T) {
	cases := map[string]struct {
		body   string
		secret []string
		kept   []string
	}{
		"keystone password auth": {
			body:   `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"name":"Default"},"password":"hunter2-pw"}}},"scope":{"project":{"name":"demo"}}}}`,
			secret: []string{"hunter2-pw"}, kept: []string{`"name":"demo"`, `"methods":["password"]`},
		},
		"keystone token auth": {
			body:   `{"auth":{"identity":{"methods":["token"],"token":{"id":"gAAAAAtok-en-id"}}}}`,
			secret: []string{"gAAAAAtok-en-id"}, kept: []string{`"methods":["token"]`},
		},
		"keystone v2 answer": {
			body:   `{"access":{"token":{"id":"v2-token-id","expires":"2030-01-01T00:00:00Z"}}}`,
			secret: []string{"v2-token-id"}, kept: []string{`"expires":"2030-01-01T00:00:00Z"`},
		},
		"application credential secret": {
			body:   `{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"ac-id","secret":"ac-s3cret"}}}}`,
			secret: []string{"ac-s3cret"}, kept: []string{`"id":"ac-id"`},
		},
		"application credential created": {
			body:   `{"application_credential":{"id":"x","name":"ci","secret":"generated-secret-value"}}`,
			secret: []string{"generated-secret-value"}, kept: []string{`"name":"ci"`},
		},
		"barbican payload": {
			body:   `{"name":"db","payload":"top-secret-payload","payload_content_type":"text/plain","secret_ref":"https://kms/v1/secrets/1"}`,
			secret: []string{"top-secret-payload"}, kept: []string{`"payload_content_type":"text/plain"`, `"secret_ref":"https://kms/v1/secrets/1"`},
		},
		"trove users and root": {
			body:   `{"instance":{"name":"db","users":[{"name":"app","password":"trove-user-pw"}]},"user":{"name":"root","password":"trove-root-pw"}}`,
			secret: []string{"trove-user-pw", "trove-root-pw"}, kept: []string{`"name":"app"`},
		},
		"nova server user data and admin password": {
			body:   `{"server":{"name":"web","user_data":"I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogeA==","adminPass":"nova-admin-pass","OS-EXT-SRV-ATTR:user_data":"c2VjcmV0"}}`,
			secret: []string{"I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogeA==", "nova-admin-pass", "c2VjcmV0"}, kept: []string{`"name":"web"`},
		},
		"key pair private key": {
			body:   `{"keypair":{"name":"k","public_key":"ssh-ed25519 AAAA","private_key":"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"}}`,
			secret: []string{"OPENSSH PRIVATE KEY"}, kept: []string{`"public_key":"ssh-ed25519 AAAA"`},
		},
		"replica user data": {
			body:   `{"replica":{"user_data":"#!/bin/sh\nmysql -uroot -pReplicaPw1"}}`,
			secret: []string{"ReplicaPw1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, ok := RedactJSONBody([]byte(tc.body))
			if !ok {
				t.Fatalf("not JSON: %s", tc.body)
			}
			for _, s := range tc.secret {
				if strings.Contains(out, s) {
					t.Errorf("secret %q left in %s", s, out)
				}
			}
			for _, k := range tc.kept {
				if !strings.Contains(out, k) {
					t.Errorf("%s lost from %s", k, out)
				}
			}
			if !strings.Contains(out, `"***"`) {
				t.Errorf("no redaction marker in %s", out)
			}
		})
	}
}

func TestRedactJSONBody_RefusesWhatIsNotJSON(t *testing.T) {
	if _, ok := RedactJSONBody([]byte("password=plain-text")); ok {
		t.Fatal("a body that is not JSON must not be logged")
	}
	if _, ok := RedactJSONBody([]byte(`{"a":1} {"password":"x"}`)); ok {
		t.Fatal("trailing documents must not be logged")
	}
}

func TestRedactURL_KeepsTheQueryButNotItsSecrets(t *testing.T) {
	u, _ := url.Parse("https://user:pw@swift.example/v1/AUTH_x/c/o?temp_url_sig=abc123&temp_url_expires=99&name=web&token=tok-1&limit=10")
	got := RedactURL(u)
	for _, s := range []string{"abc123", "tok-1", "pw@"} {
		if strings.Contains(got, s) {
			t.Errorf("%q left in %s", s, got)
		}
	}
	for _, k := range []string{"temp_url_expires=99", "name=web", "limit=10", "temp_url_sig=***"} {
		if !strings.Contains(got, k) {
			t.Errorf("%q lost from %s", k, got)
		}
	}
}

// keystoneLike answers like Keystone: the token in X-Subject-Token, and (for a token lookup)
// a 404 whose message repeats the token, as Keystone's "Could not find token" does.
func keystoneLike(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/auth/tokens"):
			w.Header().Set("X-Subject-Token", "issued-token-0123456789")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"token":{"methods":["password"],"user":{"id":"u1","name":"demo"},"expires_at":"2030-01-01T00:00:00Z"}}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/auth/tokens"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":404,"message":"Could not find token: ` + r.Header.Get("X-Subject-Token") + `.","title":"Not Found"}}`))
		case strings.HasSuffix(r.URL.Path, "/payload"):
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("barbican-raw-payload"))
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"keypair":{"name":"k","private_key":"PRIVATE-KEY-MATERIAL"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, c http.Client, method, url, body string, header http.Header) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestRequestLog_LogsEachRequestRedactedAndLeavesBodiesIntact(t *testing.T) {
	srv := keystoneLike(t)
	var captured capturedLog
	c := NewHTTPClient(fastPolicy(0), nil, nil, WithRequestLog(RequestLog{Secrets: []string{"configured-pw-1"}, Log: captured.log}))
	jsonHeader := http.Header{"Content-Type": {"application/json"}}

	auth := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","password":"configured-pw-1"}}}}}`
	if got := send(t, c, http.MethodPost, srv.URL+"/v3/auth/tokens", auth, jsonHeader); !strings.Contains(got, `"methods":["password"]`) {
		t.Fatalf("the response body did not reach the caller intact: %s", got)
	}
	lookup := http.Header{"X-Auth-Token": {"issued-token-0123456789"}, "X-Subject-Token": {"issued-token-0123456789"}}
	if got := send(t, c, http.MethodGet, srv.URL+"/v3/auth/tokens?nocatalog=1", "", lookup); !strings.Contains(got, "issued-token-0123456789") {
		t.Fatalf("the cloud's answer must reach the caller unchanged: %s", got)
	}
	withToken := http.Header{"X-Auth-Token": {"issued-token-0123456789"}, "Content-Type": {"application/json"}}
	if got := send(t, c, http.MethodGet, srv.URL+"/compute/v2.1/os-keypairs/k", "", withToken); !strings.Contains(got, "PRIVATE-KEY-MATERIAL") {
		t.Fatalf("the key pair body did not reach the caller: %s", got)
	}
	if got := send(t, c, http.MethodGet, srv.URL+"/key-manager/v1/secrets/1/payload", "", withToken); got != "barbican-raw-payload" {
		t.Fatalf("payload = %q", got)
	}
	put := http.Header{"X-Auth-Token": {"issued-token-0123456789"}, "Content-Type": {"text/plain"}}
	send(t, c, http.MethodPut, srv.URL+"/key-manager/v1/secrets/1", "uploaded-secret-payload", put)

	text := captured.text(t)
	for _, secret := range []string{"configured-pw-1", "issued-token-0123456789", "PRIVATE-KEY-MATERIAL", "barbican-raw-payload", "uploaded-secret-payload"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q appears in the request log: %s", secret, text)
		}
	}
	if len(captured.entries) != 5 {
		t.Fatalf("%d entries, want one per request (5): %s", len(captured.entries), text)
	}
	first := captured.entries[0]
	if first["method"] != "POST" || first["status"] != http.StatusCreated || first["duration_ms"] == nil {
		t.Errorf("first entry lacks method, status or timing: %v", first)
	}
	if !strings.Contains(first["response_headers"].(string), "X-Subject-Token: ***") {
		t.Errorf("response headers: %v", first["response_headers"])
	}
	if !strings.Contains(first["request_body"].(string), `"password":"***"`) || !strings.Contains(first["request_body"].(string), `"name":"demo"`) {
		t.Errorf("request body: %v", first["request_body"])
	}
	second := captured.entries[1]
	if !strings.Contains(second["url"].(string), "nocatalog=1") || !strings.Contains(second["request_headers"].(string), "X-Auth-Token: ***") {
		t.Errorf("second entry url/headers: %v %v", second["url"], second["request_headers"])
	}
	if !strings.Contains(second["response_body"].(string), "Could not find token: ***") {
		t.Errorf("a token the cloud issued must be masked even inside its messages: %v", second["response_body"])
	}
	if !strings.Contains(captured.entries[3]["response_body"].(string), "not logged") || !strings.Contains(captured.entries[4]["request_body"].(string), "not logged") {
		t.Errorf("payload bodies must be described, not logged: %v / %v", captured.entries[3]["response_body"], captured.entries[4]["request_body"])
	}
}

func TestRequestLog_TruncatesLargeBodiesAfterRedaction(t *testing.T) {
	big := `{"servers":[` + strings.Repeat(`{"name":"web","adminPass":"never-shown"},`, 2000) + `{"name":"last"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(big))
	}))
	t.Cleanup(srv.Close)
	var captured capturedLog
	c := NewHTTPClient(fastPolicy(0), nil, nil, WithRequestLog(RequestLog{MaxBody: 1024, Log: captured.log}))
	if got := send(t, c, http.MethodGet, srv.URL+"/servers/detail", "", http.Header{}); got != big {
		t.Fatalf("the caller got %d bytes, want the whole %d", len(got), len(big))
	}
	body := captured.entries[0]["response_body"].(string)
	if strings.Contains(body, "never-shown") || !strings.Contains(body, "truncated: 1024 of") || len(body) > 1100 {
		t.Fatalf("logged body (%d bytes): %.200s…", len(body), body)
	}
}

func TestRequestLog_LogsEveryAttemptOfARetriedRequest(t *testing.T) {
	srv, hits := countingServer(t, func(n int64) (int, http.Header) {
		if n == 1 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	var captured capturedLog
	c := NewHTTPClient(fastPolicy(2), nil, nil, WithRequestLog(RequestLog{Log: captured.log}))
	if code := do(t, c, http.MethodGet, srv.URL+"/servers"); code != http.StatusOK || hits.Load() != 2 {
		t.Fatalf("code %d after %d attempts", code, hits.Load())
	}
	if len(captured.entries) != 2 || captured.entries[0]["status"] != 503 || captured.entries[1]["status"] != 200 {
		t.Fatalf("want the 503 and the 200 logged: %v", captured.entries)
	}
}
