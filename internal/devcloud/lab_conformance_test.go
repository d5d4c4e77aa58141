package devcloud

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// The lab's Glance (Zed) renders webob's 404 as JSON for a client that accepts JSON, which
// gophercloud always does:
//
//	{"message": "No image found with ID <id><br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}
//
// and as a page without Accept. devcloud answered text/plain to both.
func TestGlance_NotFoundIsWebobJSONForAJSONClient(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	ic := imageClient(t, pc)
	const id = "00000000-0000-0000-0000-000000000000"
	_, err := images.Get(testCtx(t), ic, id).Extract()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !asUnexpected(err, &unexpected) || unexpected.Actual != http.StatusNotFound {
		t.Fatalf("GET a missing image: %v, want a 404", err)
	}
	var body map[string]string
	if jerr := json.Unmarshal(unexpected.Body, &body); jerr != nil {
		t.Fatalf("404 body is not JSON: %q", unexpected.Body)
	}
	want := map[string]string{"message": "No image found with ID " + id + "<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %q, want %q", k, body[k], v)
		}
	}

	// Without Accept: application/json the answer stays webob's text.
	req, _ := http.NewRequest(http.MethodGet, ic.ServiceURL("images", id), nil)
	req.Header.Set("X-Auth-Token", pc.TokenID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	text, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(string(text), "No image found with ID "+id) {
		t.Fatalf("without Accept: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), text)
	}
}
