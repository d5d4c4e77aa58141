package devcloud

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/acls"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/secrets"
)

// kmClient speaks raw HTTP to devcloud's Barbican with one user's token, so that tests see
// status codes, headers and bodies exactly as a client does.
type kmClient struct {
	t     *testing.T
	c     *Cloud
	token string
}

func newKMClient(t *testing.T, c *Cloud, opts gophercloud.AuthOptions) *kmClient {
	t.Helper()
	return &kmClient{t: t, c: c, token: provider(t, opts).TokenID}
}

// do sends method path (under /key-manager, or a full URL) with headers given as
// "Name: value" strings and returns the status, headers and body.
func (k *kmClient) do(method, path, body string, headers ...string) (int, http.Header, string) {
	k.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = k.c.URL() + "/key-manager" + path
	}
	req, err := http.NewRequestWithContext(testCtx(k.t), method, u, strings.NewReader(body))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", k.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// json sends a JSON request and decodes the answer into a map (nil for a non-object).
func (k *kmClient) json(method, path, body string, wantStatus int) map[string]any {
	k.t.Helper()
	status, _, text := k.do(method, path, body)
	if status != wantStatus {
		k.t.Fatalf("%s %s: %d %s, want %d", method, path, status, text, wantStatus)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(text), &out)
	return out
}

// wantError checks a Barbican error answer: {"code", "title", "description"}.
func (k *kmClient) wantError(method, path, body string, status int, description string, headers ...string) {
	k.t.Helper()
	got, _, text := k.do(method, path, body, headers...)
	var e struct {
		Code        int    `json:"code"`
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(text), &e); err != nil || got != status || e.Code != status ||
		e.Title != http.StatusText(status) || e.Description != description {
		k.t.Errorf("%s %s %s:\n got %d %s\nwant %d %q", method, path, body, got, text, status, description)
	}
}

func (k *kmClient) storeSecret(body string) string {
	k.t.Helper()
	return k.json(http.MethodPost, "/v1/secrets", body, http.StatusCreated)["secret_ref"].(string)
}

// addUser creates a user with roles in project and returns its password auth options.
func addUser(t *testing.T, c *Cloud, name, projectID string, roles ...string) gophercloud.AuthOptions {
	t.Helper()
	c.mu.Lock()
	u := &user{ID: fixedHexID("test/" + name), Name: name, DomainID: defaultDomainID, Password: "secret",
		DefaultProjectID: projectID, Roles: map[string][]string{projectID: roles}}
	c.st.users[u.ID] = u
	project := c.st.projects[projectID].Name
	c.mu.Unlock()
	return gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: name, Password: "secret", DomainName: "Default", TenantName: project}
}

func TestBarbican_VersionDocumentIsPublicAndNamesV1(t *testing.T) {
	c := startCloud(t)
	resp, err := http.Get(c.URL() + "/key-manager")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var doc struct {
		Versions struct {
			Values []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Links  []struct{ Rel, Href string }
			} `json:"values"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMultipleChoices || len(doc.Versions.Values) != 1 || doc.Versions.Values[0].ID != "v1" ||
		doc.Versions.Values[0].Links[0].Href != c.URL()+"/key-manager/v1/" || resp.Header.Get("OpenStack-API-Version") != "key-manager 1.0" {
		t.Fatalf("version document: %d %+v %v", resp.StatusCode, doc, resp.Header)
	}
	// /v1 itself needs a token, as keystonemiddleware guards everything but the root.
	resp2, err := http.Get(c.URL() + "/key-manager/v1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v1 without a token: %d, want 401", resp2.StatusCode)
	}
}

func TestBarbican_StoredSecretReadsBackAsMetadataAndPayload(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	status, hdr, text := k.do(http.MethodPost, "/v1/secrets", `{"name":"s1","payload":"  hello\n","payload_content_type":"text/plain","secret_type":"opaque"}`)
	var created map[string]string
	_ = json.Unmarshal([]byte(text), &created)
	ref := created["secret_ref"]
	if status != http.StatusCreated || !strings.HasPrefix(ref, c.URL()+"/key-manager/v1/secrets/") || hdr.Get("Location") != ref || len(created) != 1 {
		t.Fatalf("POST /v1/secrets: %d %s %v", status, text, hdr)
	}

	meta := k.json(http.MethodGet, ref, "", http.StatusOK)
	var keys []string
	for key := range meta {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	// The lab's keys for a secret with a payload, at microversion 1.0 (no consumers).
	want := "algorithm,bit_length,content_types,created,creator_id,expiration,mode,name,secret_ref,secret_type,status,updated"
	if strings.Join(keys, ",") != want {
		t.Errorf("metadata keys %s, want %s", strings.Join(keys, ","), want)
	}
	if meta["name"] != "s1" || meta["status"] != "ACTIVE" || meta["secret_type"] != "opaque" || meta["secret_ref"] != ref ||
		meta["creator_id"] != c.Seed().DemoUserID || meta["algorithm"] != nil || meta["expiration"] != nil ||
		meta["content_types"].(map[string]any)["default"] != "text/plain" || len(meta["created"].(string)) != len("2026-12-01T17:01:31") {
		t.Errorf("metadata %v", meta)
	}
	status, hdr, _ = k.do(http.MethodGet, ref, "", "OpenStack-API-Version: key-manager 1.1")
	if status != http.StatusOK || hdr.Get("OpenStack-API-Version") != "key-manager 1.1" {
		t.Errorf("microversion 1.1: %d %v", status, hdr)
	}

	// The payload lost its surrounding whitespace (load_body strips every string); its
	// Content-Type is the Accept header, with webob's charset on text types.
	for accept, wantCT := range map[string]string{"text/plain": "text/plain; charset=UTF-8", "application/octet-stream": "application/octet-stream",
		"*/*": "*/*", "": "application/octet-stream"} {
		status, hdr, text := k.do(http.MethodGet, ref+"/payload", "", "Accept: "+accept)
		if status != http.StatusOK || text != "hello" || hdr.Get("Content-Type") != wantCT {
			t.Errorf("payload with Accept %q: %d %q %q, want 200 hello %q", accept, status, text, hdr.Get("Content-Type"), wantCT)
		}
	}
	// The deprecated form: GET the secret itself with a non-JSON Accept.
	if status, _, text := k.do(http.MethodGet, ref, "", "Accept: text/plain"); status != http.StatusOK || text != "hello" {
		t.Errorf("GET secret with Accept text/plain: %d %q", status, text)
	}
	k.wantError(http.MethodGet, ref+"/payload", "", http.StatusNotAcceptable, "Secret payload retrieval issue seen - Wrong payload content-type.", "Accept: application/json")

	if status, _, _ := k.do(http.MethodDelete, ref, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", status)
	}
	k.wantError(http.MethodGet, ref, "", http.StatusNotFound, "Secret not found.")
	k.wantError(http.MethodDelete, ref, "", http.StatusNotFound, "Secret not found.")
}

func TestBarbican_Base64BinarySecretDecodesToItsBytes(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	ref := k.storeSecret(`{"name":"key","payload":"AAEC/w==","payload_content_type":"application/octet-stream","payload_content_encoding":"base64","secret_type":"symmetric","algorithm":"aes","bit_length":256,"mode":"cbc"}`)
	status, _, text := k.do(http.MethodGet, ref+"/payload", "", "Accept: application/octet-stream")
	if status != http.StatusOK || text != "\x00\x01\x02\xff" {
		t.Fatalf("payload: %d %q", status, text)
	}
	// Not UTF-8: refused as text.
	k.wantError(http.MethodGet, ref+"/payload", "", http.StatusNotAcceptable, "Secret payload retrieval issue seen - Wrong payload content-type.", "Accept: text/plain")
	meta := k.json(http.MethodGet, ref, "", http.StatusOK)
	if meta["bit_length"] != float64(256) || meta["algorithm"] != "aes" || meta["mode"] != "cbc" ||
		meta["content_types"].(map[string]any)["default"] != "application/octet-stream" {
		t.Fatalf("metadata %v", meta)
	}
}

func TestBarbican_TwoStepSecretTakesItsPayloadOnce(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	ref := k.storeSecret(`{"name":"later"}`)
	if meta := k.json(http.MethodGet, ref, "", http.StatusOK); meta["content_types"] != nil {
		t.Fatalf("a secret without payload shows content_types: %v", meta)
	}
	k.wantError(http.MethodGet, ref+"/payload", "", http.StatusNotFound, "Not Found. Sorry but your secret has no payload.", "Accept: text/plain")
	k.wantError(http.MethodPut, ref, "{}", http.StatusUnsupportedMediaType,
		"Unexpected content type. Expected content types are: ['application/octet-stream', 'text/plain']")
	if status, _, text := k.do(http.MethodPut, ref, "world", "Content-Type: text/plain"); status != http.StatusNoContent || text != "" {
		t.Fatalf("PUT payload: %d %q", status, text)
	}
	if status, _, text := k.do(http.MethodGet, ref+"/payload", "", "Accept: text/plain"); status != http.StatusOK || text != "world" {
		t.Fatalf("payload after PUT: %d %q", status, text)
	}
	k.wantError(http.MethodPut, ref, "again", http.StatusConflict, "Secret already has data, cannot modify it.", "Content-Type: text/plain")
}

func TestBarbican_SecretCreateRefusesWhatBarbicanRefuses(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	const schema = "Provided object does not match schema 'Secret': "
	for _, tc := range []struct{ body, want string }{
		// Texts as the lab's Barbican (Zed) answered them.
		{`{"name":"s3","payload":"hello"}`, schema + "If 'payload' is supplied, 'payload_content_type' must also be supplied.. Invalid property: 'payload_content_type'"},
		{`{"payload":"hello","payload_content_type":"application/octet-stream"}`, schema + "payload_content_encoding is not one of ['base64', 'binary']. Invalid property: 'payload_content_encoding'"},
		{`{"payload":"hello","payload_content_type":"text/html"}`, schema + "payload_content_type is not one of ['text/plain', 'text/plain;charset=utf-8', 'text/plain; charset=utf-8', 'application/octet-stream', 'application/pkcs8']. Invalid property: 'payload_content_type'"},
		{`{"payload":"hello","payload_content_type":"text/plain","payload_content_encoding":"base64"}`, schema + "payload_content_encoding is not one of None. Invalid property: 'payload_content_encoding'"},
		{`{"payload":"","payload_content_type":"text/plain"}`, schema + "If 'payload' specified, must be non empty. Invalid property: 'payload'"},
		{`{"payload_content_type":"text/plain"}`, schema + "payload must be provided when payload_content_type is specified. Invalid property: 'payload'"},
		{`{"payload":"x","payload_content_type":"text/plain","secret_type":"weird"}`, schema + "'weird' is not one of ['symmetric', 'passphrase', 'private', 'public', 'certificate', 'opaque']. Invalid property: 'secret_type'"},
		{`{"payload":"x","payload_content_type":"text/plain","expiration":"2001-01-01T00:00:00"}`, schema + "'expiration' is before current time. Invalid property: 'expiration'"},
		{`{"payload":"x","payload_content_type":"text/plain","expiration":"garbage"}`, schema + "Invalid date for 'expiration'. Invalid property: 'expiration'"},
		{`[]`, schema + "[] is not of type 'object'. Invalid property: 'None'"},
		{`{"name":5}`, schema + "5 is not of type 'string', 'null'. Invalid property: 'name'"},
		{`{"payload":"x","payload_content_type":"text/plain"`, "Malformed JSON"},
	} {
		k.wantError(http.MethodPost, "/v1/secrets", tc.body, http.StatusBadRequest, tc.want)
	}
	k.wantError(http.MethodPost, "/v1/secrets", "x", http.StatusUnsupportedMediaType,
		"Unexpected content type. Expected content types are: ['application/json']", "Content-Type: text/plain")
	k.wantError(http.MethodPost, "/v1/secrets", `{"payload":"`+strings.Repeat("a", kmMaxSecretBytes+1)+`","payload_content_type":"text/plain"}`,
		http.StatusRequestEntityTooLarge, "Provided information too large to process")
}

func TestBarbican_SecretLookupsAnswerBarbicansNotFoundAndMethodErrors(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	ref := k.storeSecret(`{"name":"s","payload":"x","payload_content_type":"text/plain"}`)
	k.wantError(http.MethodGet, "/v1/secrets/notauuid", "", http.StatusNotFound, "Not Found. Provided secret id is invalid.")
	// A UUID that is not version 4 is "invalid" too, as on the lab.
	k.wantError(http.MethodGet, "/v1/secrets/11111111-1111-1111-1111-111111111111", "", http.StatusNotFound, "Not Found. Provided secret id is invalid.")
	k.wantError(http.MethodGet, "/v1/secrets/6f1e7d3c-5b4a-4c2d-9e8f-0a1b2c3d4e5f", "", http.StatusNotFound, "Secret not found.")
	k.wantError(http.MethodGet, "/v1/containers/6f1e7d3c-5b4a-4c2d-9e8f-0a1b2c3d4e5f", "", http.StatusNotFound, "Secrets container not found.")
	k.wantError(http.MethodGet, "/v1/containers/xyz", "", http.StatusNotFound, "Not Found. Provided container id is invalid.")
	k.wantError(http.MethodPost, ref, "{}", http.StatusMethodNotAllowed, "")
	k.wantError(http.MethodDelete, "/v1/secrets", "", http.StatusMethodNotAllowed, "")
	k.wantError(http.MethodGet, ref+"/foo", "", http.StatusNotFound, "")
	k.wantError(http.MethodGet, "/v1/nothing", "", http.StatusNotFound, "")
	k.wantError(http.MethodGet, "/v1/secrets?created=bogus", "", http.StatusBadRequest, "URI provided invalid query string parameters.")
	k.wantError(http.MethodGet, "/v1/secrets?sort=name:up", "", http.StatusBadRequest, "URI provided invalid query string parameters.")
}

func TestBarbican_ListSecretsFiltersAndPagesByOffset(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	for _, body := range []string{
		`{"name":"tls-cert","payload":"c","payload_content_type":"text/plain","secret_type":"certificate"}`,
		`{"name":"tls-key","payload":"k","payload_content_type":"text/plain","secret_type":"private"}`,
		`{"name":"other","payload":"o","payload_content_type":"text/plain"}`,
	} {
		k.storeSecret(body)
	}
	names := func(list map[string]any) []string {
		var out []string
		for _, s := range list["secrets"].([]any) {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		sort.Strings(out)
		return out
	}
	if got := names(k.json(http.MethodGet, "/v1/secrets?secret_type=private", "", http.StatusOK)); strings.Join(got, ",") != "tls-key" {
		t.Errorf("secret_type=private: %v", got)
	}
	if got := names(k.json(http.MethodGet, "/v1/secrets?name=tls-%25", "", http.StatusOK)); strings.Join(got, ",") != "tls-cert,tls-key" {
		t.Errorf("name=tls-%%: %v", got)
	}
	sorted := k.json(http.MethodGet, "/v1/secrets?sort=name:desc", "", http.StatusOK)
	if first := sorted["secrets"].([]any)[0].(map[string]any)["name"]; first != "tls-key" {
		t.Errorf("sort=name:desc starts with %v", first)
	}
	page1 := k.json(http.MethodGet, "/v1/secrets?limit=2", "", http.StatusOK)
	page2 := k.json(http.MethodGet, "/v1/secrets?limit=2&offset=2", "", http.StatusOK)
	href := c.URL() + "/key-manager/v1/secrets"
	if page1["total"] != float64(3) || len(page1["secrets"].([]any)) != 2 || page1["next"] != href+"?limit=2&offset=2" || page1["previous"] != nil {
		t.Errorf("page 1: %v", page1)
	}
	if len(page2["secrets"].([]any)) != 1 || page2["previous"] != href+"?limit=2&offset=0" || page2["next"] != nil {
		t.Errorf("page 2: %v", page2)
	}
	// Another project sees none of them.
	admin := newKMClient(t, c, adminAuth(c))
	if list := admin.json(http.MethodGet, "/v1/secrets", "", http.StatusOK); list["total"] != float64(0) || len(list["secrets"].([]any)) != 0 {
		t.Errorf("admin project's list: %v", list)
	}
}

func TestBarbican_LegacyPolicyNeedsCreatorToStoreAndGuardsOtherProjects(t *testing.T) {
	c := startCloud(t)
	seed := c.Seed()
	member := newKMClient(t, c, addUser(t, c, "member-only", seed.ProjectID, "member", "reader"))
	member.wantError(http.MethodPost, "/v1/secrets", `{"payload":"x","payload_content_type":"text/plain"}`, http.StatusForbidden,
		"Secret creation attempt not allowed - please review your user/project privileges")
	member.wantError(http.MethodGet, "/v1/secrets", "", http.StatusForbidden,
		"Secret(s) retrieval attempt not allowed - please review your user/project privileges")
	member.wantError(http.MethodPost, "/v1/containers", `{"type":"generic"}`, http.StatusForbidden,
		"Container creation attempt not allowed - please review your user/project privileges")

	demo := newKMClient(t, c, demoAuth(c))
	ref := demo.storeSecret(`{"payload":"x","payload_content_type":"text/plain"}`)
	// The secret is found (its id is valid and it exists), then the policy refuses.
	member.wantError(http.MethodGet, ref, "", http.StatusForbidden, "Secret retrieval attempt not allowed - please review your user/project privileges")
	admin := newKMClient(t, c, adminAuth(c))
	admin.wantError(http.MethodGet, ref, "", http.StatusForbidden, "Secret retrieval attempt not allowed - please review your user/project privileges")
	admin.wantError(http.MethodGet, ref+"/payload", "", http.StatusForbidden, "Secret payload retrieval attempt not allowed - please review your user/project privileges")
	admin.wantError(http.MethodDelete, ref, "", http.StatusForbidden, "Secret deletion attempt not allowed - please review your user/project privileges")
	admin.wantError(http.MethodPut, ref+"/acl", `{"read":{"users":["x"]}}`, http.StatusForbidden,
		"SecretACL(s) Update attempt not allowed - please review your user/project privileges")

	// A read ACL lets a user of another project read the secret and its payload.
	demo.json(http.MethodPut, ref+"/acl", `{"read":{"users":["`+seed.AdminUserID+`"]}}`, http.StatusOK)
	if status, _, text := admin.do(http.MethodGet, ref+"/payload", "", "Accept: text/plain"); status != http.StatusOK || text != "x" {
		t.Fatalf("payload through the read ACL: %d %q", status, text)
	}
	// project-access false makes the secret private to its creator and the ACL's users:
	// another creator of the project can no longer read it.
	peer := newKMClient(t, c, addUser(t, c, "peer", seed.ProjectID, "creator"))
	if status, _, _ := peer.do(http.MethodGet, ref, ""); status != http.StatusOK {
		t.Fatalf("project peer before the secret is private: %d", status)
	}
	demo.json(http.MethodPatch, ref+"/acl", `{"read":{"project-access":false}}`, http.StatusOK)
	peer.wantError(http.MethodGet, ref, "", http.StatusForbidden, "Secret retrieval attempt not allowed - please review your user/project privileges")
	if status, _, _ := demo.do(http.MethodGet, ref, ""); status != http.StatusOK {
		t.Fatalf("creator of a private secret: %d", status)
	}
}

func TestBarbican_CertificateContainerRefusesWhatBarbicanRefuses(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	s1 := k.storeSecret(`{"payload":"a","payload_content_type":"text/plain"}`)
	s2 := k.storeSecret(`{"payload":"b","payload_content_type":"text/plain"}`)
	const schema = "Provided object does not match schema 'Container': "
	refs := func(pairs ...string) string {
		var items []string
		for i := 0; i < len(pairs); i += 2 {
			items = append(items, `{"name":"`+pairs[i]+`","secret_ref":"`+pairs[i+1]+`"}`)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	missing := c.URL() + "/key-manager/v1/secrets/6f1e7d3c-5b4a-4c2d-9e8f-0a1b2c3d4e5f"
	foreign := "http://example.com/v1/secrets/" + lastSegment(s1)
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"type":"certificate","secret_refs":` + refs("private_key", s2) + `}`, 400, schema + "The minimum required reference name is 'certificate' for Certificate type. Invalid property: 'secret_refs'"},
		{`{"type":"certificate","secret_refs":` + refs("certificate", s2, "foo", s1) + `}`, 400, schema + "only 'private_key', 'certificate' , 'private_key_passphrase',  or 'intermediates' reference names are allowed for Certificate type. Invalid property: 'secret_refs'"},
		{`{"type":"certificate","secret_refs":` + refs("certificate", foreign) + `}`, 400, "Provided field value is not supported"},
		{`{"type":"certificate","secret_refs":` + refs("certificate", missing) + `}`, 404, "Secret provided for 'certificate' doesn't exist."},
		{`{"type":"bogus"}`, 400, schema + "'bogus' is not one of ['generic', 'rsa', 'certificate']. Invalid property: 'type'"},
		{`{"name":"c3"}`, 400, schema + "'type' is a required property. Invalid property: 'None'"},
		{`{"type":"generic","secret_refs":` + refs("a", s1, "a", s2) + `}`, 400, schema + "Duplicate reference names are not allowed. Invalid property: 'secret_refs'"},
		{`{"type":"generic","secret_refs":` + refs("a", s1, "b", s1) + `}`, 400, schema + "Duplicate secret ids are not allowed. Invalid property: 'secret_refs'"},
	} {
		k.wantError(http.MethodPost, "/v1/containers", tc.body, tc.status, tc.want)
	}
	// A secret of another project cannot go into a container.
	admin := newKMClient(t, c, adminAuth(c))
	admin.wantError(http.MethodPost, "/v1/containers", `{"type":"generic","secret_refs":`+refs("a", s1)+`}`, http.StatusNotFound, "Secret provided for 'a' doesn't exist.")
}

func TestBarbican_ContainersReadBackListAndDelete(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	cert := k.storeSecret(`{"payload":"c","payload_content_type":"text/plain","secret_type":"certificate"}`)
	key := k.storeSecret(`{"payload":"k","payload_content_type":"text/plain","secret_type":"private"}`)
	status, hdr, text := k.do(http.MethodPost, "/v1/containers",
		`{"name":"tls","type":"certificate","secret_refs":[{"name":"certificate","secret_ref":"`+cert+`"},{"name":"private_key","secret_ref":"`+key+`"}]}`)
	var created map[string]string
	_ = json.Unmarshal([]byte(text), &created)
	ref := created["container_ref"]
	if status != http.StatusCreated || hdr.Get("Location") != ref || !strings.HasPrefix(ref, c.URL()+"/key-manager/v1/containers/") {
		t.Fatalf("POST /v1/containers: %d %s", status, text)
	}
	generic := k.json(http.MethodPost, "/v1/containers", `{"type":"generic"}`, http.StatusCreated)["container_ref"].(string)

	got := k.json(http.MethodGet, ref, "", http.StatusOK)
	secretRefs := map[string]any{}
	for _, r := range got["secret_refs"].([]any) {
		m := r.(map[string]any)
		secretRefs[m["name"].(string)] = m["secret_ref"]
	}
	if got["name"] != "tls" || got["type"] != "certificate" || got["status"] != "ACTIVE" || got["container_ref"] != ref ||
		got["creator_id"] != c.Seed().DemoUserID || len(got["consumers"].([]any)) != 0 ||
		secretRefs["certificate"] != cert || secretRefs["private_key"] != key {
		t.Fatalf("container %v", got)
	}
	if g := k.json(http.MethodGet, generic, "", http.StatusOK); g["name"] != nil || len(g["secret_refs"].([]any)) != 0 {
		t.Fatalf("generic container without a name: %v", g)
	}
	list := k.json(http.MethodGet, "/v1/containers?type=certificate", "", http.StatusOK)
	if list["total"] != float64(1) || list["containers"].([]any)[0].(map[string]any)["container_ref"] != ref {
		t.Fatalf("type=certificate: %v", list)
	}

	// A generic container takes secrets one by one; a certificate container does not.
	k.json(http.MethodPost, generic+"/secrets", `{"name":"extra","secret_ref":"`+cert+`"}`, http.StatusCreated)
	k.wantError(http.MethodPost, generic+"/secrets", `{"name":"extra","secret_ref":"`+cert+`"}`, http.StatusConflict,
		"Conflict. A secret with that name and ID is already stored in this container. The same secret can exist in a container as long as the name is unique.")
	k.wantError(http.MethodPost, ref+"/secrets", `{"name":"x","secret_ref":"`+cert+`"}`, http.StatusBadRequest, "Only 'generic' containers can be modified.")
	if status, _, _ := k.do(http.MethodDelete, generic+"/secrets", `{"name":"extra","secret_ref":"`+cert+`"}`); status != http.StatusNoContent {
		t.Fatalf("remove a secret from a generic container: %d", status)
	}

	if status, _, _ := k.do(http.MethodDelete, ref, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE container: %d", status)
	}
	k.wantError(http.MethodDelete, ref, "", http.StatusNotFound, "Secrets container not found.")
	// Deleting a container leaves its secrets.
	if status, _, _ := k.do(http.MethodGet, cert, ""); status != http.StatusOK {
		t.Fatalf("certificate secret after its container went: %d", status)
	}
}

func TestBarbican_ACLsPutPatchAndDeleteAsBarbicanDoes(t *testing.T) {
	c := startCloud(t)
	k := newKMClient(t, c, demoAuth(c))
	secret := k.storeSecret(`{"payload":"x","payload_content_type":"text/plain"}`)
	container := k.json(http.MethodPost, "/v1/containers", `{"type":"generic"}`, http.StatusCreated)["container_ref"].(string)
	for _, ref := range []string{secret, container} {
		read := func() map[string]any {
			return k.json(http.MethodGet, ref+"/acl", "", http.StatusOK)["read"].(map[string]any)
		}
		// Until an ACL is set: the implicit project access, nothing else.
		if r := read(); len(r) != 1 || r["project-access"] != true {
			t.Fatalf("%s default ACL %v", ref, r)
		}
		put := k.json(http.MethodPut, ref+"/acl", `{"read":{"users":["u1"],"project-access":false}}`, http.StatusOK)
		if put["acl_ref"] != ref+"/acl" {
			t.Fatalf("PUT acl answer %v", put)
		}
		if r := read(); r["project-access"] != false || len(r["users"].([]any)) != 1 || r["users"].([]any)[0] != "u1" || r["created"] == nil || r["updated"] == nil {
			t.Fatalf("after PUT %v", r)
		}
		// PATCH changes only what it names.
		k.json(http.MethodPatch, ref+"/acl", `{"read":{"users":["u2"]}}`, http.StatusOK)
		if r := read(); r["project-access"] != false || r["users"].([]any)[0] != "u2" {
			t.Fatalf("after PATCH %v", r)
		}
		// PUT replaces: project-access back to its default.
		k.json(http.MethodPut, ref+"/acl", `{"read":{"users":["u9"]}}`, http.StatusOK)
		if r := read(); r["project-access"] != true || r["users"].([]any)[0] != "u9" {
			t.Fatalf("after second PUT %v", r)
		}
		k.wantError(http.MethodPatch, ref+"/acl", `{"write":{"users":["u2"]}}`, http.StatusBadRequest,
			"Provided object does not match schema 'ACL': Additional properties are not allowed ('write' was unexpected). Invalid property: 'None'")
		k.wantError(http.MethodPut, ref+"/acl", `{"read":{"users":"x"}}`, http.StatusBadRequest,
			"Provided object does not match schema 'ACL': 'x' is not of type 'array'. Invalid property: 'read'")
		k.wantError(http.MethodPut, ref+"/acl", `{}`, http.StatusUnsupportedMediaType,
			"Unexpected content type. Expected content types are: ['application/json']", "Content-Type: text/plain")
		status, hdr, text := k.do(http.MethodDelete, ref+"/acl", "")
		if status != http.StatusOK || text != "null" || hdr.Get("Content-Type") != "application/json" {
			t.Fatalf("DELETE acl: %d %q %v", status, text, hdr)
		}
		if r := read(); len(r) != 1 || r["project-access"] != true {
			t.Fatalf("after DELETE %v", r)
		}
	}
}

func TestBarbican_FaultInjectionAnswersWithBarbicansErrorBody(t *testing.T) {
	c := startCloud(t)
	if code := control(t, c, http.MethodPost, "/faults", FaultSpec{Rules: []FaultRule{{Service: "key-manager", Status: 503}}}, nil); code != http.StatusOK {
		t.Fatalf("POST faults: %d", code)
	}
	k := newKMClient(t, c, demoAuth(c))
	k.wantError(http.MethodGet, "/v1/secrets", "", http.StatusServiceUnavailable, faultMessage(503))
}

// gophercloud's keymanager packages, as written for a real Barbican, work unchanged.
func TestBarbican_GophercloudKeyManagerRoundTrip(t *testing.T) {
	c := startCloud(t)
	km, err := openstack.NewKeyManagerV1(provider(t, demoAuth(c)), eo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	before := time.Now().Add(-time.Minute)
	s, err := secrets.Create(ctx, km, secrets.CreateOpts{Name: "cert", SecretType: secrets.CertificateSecret, Payload: "PEM", PayloadContentType: "text/plain"}).Extract()
	if err != nil {
		t.Fatalf("secrets.Create: %v (%s)", err, errBody(err))
	}
	id := lastSegment(s.SecretRef)
	got, err := secrets.Get(ctx, km, id).Extract()
	if err != nil || got.Name != "cert" || got.SecretType != "certificate" || got.ContentTypes["default"] != "text/plain" || got.Status != "ACTIVE" {
		t.Fatalf("secrets.Get: %+v %v", got, err)
	}
	payload, err := secrets.GetPayload(ctx, km, id, nil).Extract()
	if err != nil || string(payload) != "PEM" {
		t.Fatalf("secrets.GetPayload: %q %v", payload, err)
	}
	later, err := secrets.Create(ctx, km, secrets.CreateOpts{Name: "later"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Update(ctx, km, lastSegment(later.SecretRef), secrets.UpdateOpts{ContentType: "text/plain", Payload: "two-step"}).ExtractErr(); err != nil {
		t.Fatalf("secrets.Update: %v (%s)", err, errBody(err))
	}
	pages, err := secrets.List(km, secrets.ListOpts{SecretType: secrets.CertificateSecret,
		CreatedQuery: &secrets.DateQuery{Date: before, Filter: secrets.DateFilterGT}}).AllPages(ctx)
	if err != nil {
		t.Fatalf("secrets.List: %v (%s)", err, errBody(err))
	}
	if all, _ := secrets.ExtractSecrets(pages); len(all) != 1 || all[0].SecretRef != s.SecretRef {
		t.Fatalf("secrets.List certificate created after %v: %+v", before, all)
	}

	ct, err := containers.Create(ctx, km, containers.CreateOpts{Name: "tls", Type: containers.CertificateContainer,
		SecretRefs: []containers.SecretRef{{Name: "certificate", SecretRef: s.SecretRef}}}).Extract()
	if err != nil {
		t.Fatalf("containers.Create: %v (%s)", err, errBody(err))
	}
	cid := lastSegment(ct.ContainerRef)
	if gotC, err := containers.Get(ctx, km, cid).Extract(); err != nil || gotC.Type != "certificate" || len(gotC.SecretRefs) != 1 || gotC.SecretRefs[0].SecretRef != s.SecretRef {
		t.Fatalf("containers.Get: %+v %v", gotC, err)
	}

	users := []string{"u1"}
	if _, err := acls.SetContainerACL(ctx, km, cid, acls.SetOpts{{Type: "read", Users: &users}}).Extract(); err != nil {
		t.Fatalf("acls.SetContainerACL: %v (%s)", err, errBody(err))
	}
	acl, err := acls.GetContainerACL(ctx, km, cid).Extract()
	if err != nil || len((*acl)["read"].Users) != 1 || !(*acl)["read"].ProjectAccess {
		t.Fatalf("acls.GetContainerACL: %+v %v", acl, err)
	}
	if err := acls.DeleteContainerACL(ctx, km, cid).ExtractErr(); err != nil {
		t.Fatalf("acls.DeleteContainerACL: %v", err)
	}
	if err := containers.Delete(ctx, km, cid).ExtractErr(); err != nil {
		t.Fatalf("containers.Delete: %v", err)
	}
	if err := secrets.Delete(ctx, km, id).ExtractErr(); err != nil {
		t.Fatalf("secrets.Delete: %v", err)
	}
}
