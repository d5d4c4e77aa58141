package devcloud

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// wireReply is a raw API answer: the status, the body as text and, when it is JSON, decoded.
type wireReply struct {
	status int
	text   string
	json   map[string]any
}

// wireCall sends one request with the client's token (and microversion), outside
// gophercloud, so that a test sees the exact status and body a client of the real service
// gets. body is sent as JSON unless it is a string.
func wireCall(t *testing.T, sc *gophercloud.ServiceClient, method, url string, body any, headers ...string) wireReply {
	t.Helper()
	var rd io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(testCtx(t), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sc.TokenID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if sc.Microversion != "" {
		req.Header.Set("OpenStack-API-Version", sc.Type+" "+sc.Microversion)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	out := wireReply{status: resp.StatusCode, text: string(raw)}
	_ = json.Unmarshal(raw, &out.json)
	return out
}

// neutronFault checks a Neutron error answer: status, type and message.
func (r wireReply) neutronFault(t *testing.T, status int, typ, msg string) {
	t.Helper()
	e, _ := r.json["NeutronError"].(map[string]any)
	if r.status != status || e == nil || e["type"] != typ || e["message"] != msg || e["detail"] != "" {
		t.Fatalf("got %d %s\nwant %d {NeutronError: {type: %s, message: %s, detail: \"\"}}", r.status, r.text, status, typ, msg)
	}
}

// fault checks a Nova or Trove error answer: {"<key>": {"code": status, "message": msg}}.
func (r wireReply) fault(t *testing.T, status int, key, msg string) {
	t.Helper()
	e, _ := r.json[key].(map[string]any)
	if r.status != status || len(r.json) != 1 || e == nil || e["code"] != float64(status) || e["message"] != msg {
		t.Fatalf("got %d %s\nwant %d {%q: {code: %d, message: %q}}", r.status, r.text, status, key, status, msg)
	}
}

// octaviaFault checks an Octavia (WSME) error answer.
func (r wireReply) octaviaFault(t *testing.T, status int, msg string) {
	t.Helper()
	want := "Client"
	if status >= 500 {
		want = "Server"
	}
	if r.status != status || r.json["faultcode"] != want || r.json["faultstring"] != msg || r.json["debuginfo"] != nil {
		t.Fatalf("got %d %s\nwant %d {faultcode: %s, faultstring: %q, debuginfo: null}", r.status, r.text, status, want, msg)
	}
}

// object returns the decoded member key of the answer, failing the test without it.
func (r wireReply) object(t *testing.T, key string) map[string]any {
	t.Helper()
	m, ok := r.json[key].(map[string]any)
	if !ok {
		t.Fatalf("answer %d has no object %q: %s", r.status, key, r.text)
	}
	return m
}

func (r wireReply) list(t *testing.T, key string) []any {
	t.Helper()
	l, ok := r.json[key].([]any)
	if !ok {
		t.Fatalf("answer %d has no list %q: %s", r.status, key, r.text)
	}
	return l
}
