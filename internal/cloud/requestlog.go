package cloud

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// DefaultMaxLoggedBody bounds each body in the request log, after redaction: large enough for a
// Keystone catalog or a page of servers, small enough that a list of thousands stays readable.
const DefaultMaxLoggedBody = 16 << 10

// maxBufferedBody is the largest JSON body the request log reads to redact it; anything larger
// (or not JSON: image data, Barbican payloads) is described, never read.
const maxBufferedBody = 4 << 20

// RequestLog configures the request log that NewHTTPClient adds when given WithRequestLog.
type RequestLog struct {
	// Secrets are masked wherever they appear in a logged entry, even inside a cloud's error
	// message: the configured password, application credential secret and token. Tokens the
	// cloud issues (X-Subject-Token) are added as they are seen.
	Secrets []string
	// MaxBody bounds each logged body; 0 means DefaultMaxLoggedBody.
	MaxBody int
	// Log writes one entry; nil means tflog.Debug on the request's context, so that
	// TF_LOG=DEBUG or TF_LOG_PROVIDER=DEBUG shows it.
	Log func(ctx context.Context, msg string, fields map[string]any)
}

// HTTPOption adds an optional behaviour to NewHTTPClient.
type HTTPOption func(*httpOptions)

type httpOptions struct {
	requestLog *RequestLog
}

// WithRequestLog logs every attempt of every request (method, URL, status, timing, headers and
// JSON bodies) with credentials and secret fields redacted.
func WithRequestLog(l RequestLog) HTTPOption {
	return func(o *httpOptions) { o.requestLog = &l }
}

// requestLogTransport logs each attempt below the retry layer, so that a retried request shows
// once per try with its own status and timing.
type requestLogTransport struct {
	next    http.RoundTripper
	log     func(ctx context.Context, msg string, fields map[string]any)
	maxBody int

	mu      sync.RWMutex
	secrets map[string]bool
}

func newRequestLogTransport(next http.RoundTripper, cfg RequestLog) *requestLogTransport {
	t := &requestLogTransport{next: next, log: cfg.Log, maxBody: cfg.MaxBody, secrets: map[string]bool{}}
	if t.log == nil {
		t.log = func(ctx context.Context, msg string, fields map[string]any) { tflog.Debug(ctx, msg, fields) }
	}
	if t.maxBody <= 0 {
		t.maxBody = DefaultMaxLoggedBody
	}
	for _, s := range cfg.Secrets {
		t.learn(s)
	}
	return t
}

// minMaskedSecret keeps a one- or two-character value from blanking every occurrence of
// that letter in the log; such a value only ever appears in fields redacted by name.
const minMaskedSecret = 3

func (t *requestLogTransport) learn(secret string) {
	if len(secret) < minMaskedSecret {
		return
	}
	t.mu.Lock()
	t.secrets[secret] = true
	t.mu.Unlock()
}

// mask replaces every known secret, longest first so that a secret containing another is
// replaced whole.
func (t *requestLogTransport) mask(s string) string {
	t.mu.RLock()
	list := make([]string, 0, len(t.secrets))
	for k := range t.secrets {
		list = append(list, k)
	}
	t.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, secret := range list {
		s = strings.ReplaceAll(s, secret, Redacted)
	}
	return s
}

func (t *requestLogTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok := req.Header.Get("X-Auth-Token"); tok != "" {
		t.learn(tok)
	}
	fields := map[string]any{
		"method":          req.Method,
		"url":             RedactURL(req.URL),
		"request_headers": redactHeaders(req.Header),
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, desc, err := t.requestBody(req)
		if err != nil {
			return nil, err
		}
		// RoundTrip must not change the caller's request: the read body goes on a clone.
		req = req.Clone(req.Context())
		req.Body = body
		fields["request_body"] = desc
	}

	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	fields["duration_ms"] = time.Since(start).Milliseconds()
	if err != nil {
		fields["error"] = err.Error()
		t.write(req.Context(), fmt.Sprintf("OpenStack request: %s %s failed after %s", req.Method, RedactURL(req.URL),
			time.Since(start).Round(time.Millisecond)), fields)
		return resp, err
	}
	if tok := resp.Header.Get("X-Subject-Token"); tok != "" {
		t.learn(tok)
	}
	fields["status"] = resp.StatusCode
	fields["response_headers"] = redactHeaders(resp.Header)
	if desc, ok := t.responseBody(resp, req.URL.Path); ok {
		fields["response_body"] = desc
	}
	t.write(req.Context(), fmt.Sprintf("OpenStack request: %s %s -> %d in %s", req.Method, RedactURL(req.URL), resp.StatusCode,
		time.Since(start).Round(time.Millisecond)), fields)
	return resp, nil
}

// write masks every string once more before it leaves the process.
func (t *requestLogTransport) write(ctx context.Context, msg string, fields map[string]any) {
	for k, v := range fields {
		if s, ok := v.(string); ok {
			fields[k] = t.mask(s)
		}
	}
	t.log(ctx, t.mask(msg), fields)
}

// neverLogBody reports a path whose bodies are secret whatever their type: Barbican payloads.
func neverLogBody(path string) bool {
	p := strings.TrimSuffix(path, "/")
	return strings.HasSuffix(p, "/payload")
}

// isJSON reports a JSON media type, including OpenStack's vendor types
// (application/openstack-images-v2.1-json-patch) and +json suffixes.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = contentType
	}
	return strings.Contains(strings.ToLower(mt), "json")
}

// requestBody reads a small JSON body to log it redacted and returns a reader that sends the
// same bytes on; any other body is described, not read.
func (t *requestLogTransport) requestBody(req *http.Request) (io.ReadCloser, string, error) {
	ct := req.Header.Get("Content-Type")
	if neverLogBody(req.URL.Path) || !isJSON(ct) || req.ContentLength > maxBufferedBody {
		return req.Body, bodyNotLogged(ct, req.ContentLength), nil
	}
	head, err := io.ReadAll(io.LimitReader(req.Body, maxBufferedBody+1))
	if err != nil {
		_ = req.Body.Close()
		return nil, "", fmt.Errorf("reading the request body: %w", err)
	}
	body := readCloser{Reader: io.MultiReader(bytes.NewReader(head), req.Body), Closer: req.Body}
	if len(head) > maxBufferedBody {
		return body, bodyNotLogged(ct, -1), nil
	}
	return body, t.describeJSON(head, req.URL.Path), nil
}

// responseBody reads a JSON response (and puts it back for gophercloud) to log it redacted.
func (t *requestLogTransport) responseBody(resp *http.Response, path string) (string, bool) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return "", false
	}
	ct := resp.Header.Get("Content-Type")
	if neverLogBody(path) || !isJSON(ct) || resp.ContentLength > maxBufferedBody {
		if resp.ContentLength == 0 {
			return "", false
		}
		return bodyNotLogged(ct, resp.ContentLength), true
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxBufferedBody+1))
	rest := resp.Body
	resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), rest), Closer: rest}
	if err != nil {
		return fmt.Sprintf("<body not logged: %v>", err), true
	}
	if len(head) > maxBufferedBody {
		return bodyNotLogged(ct, -1), true
	}
	if len(head) == 0 {
		return "", false
	}
	return t.describeJSON(head, path), true
}

type readCloser struct {
	io.Reader
	io.Closer
}

func (t *requestLogTransport) describeJSON(body []byte, path string) string {
	if neverLogBody(path) {
		return bodyNotLogged("", int64(len(body)))
	}
	redacted, ok := RedactJSONBody(body)
	if !ok {
		return fmt.Sprintf("<%d bytes that are not valid JSON: not logged>", len(body))
	}
	if len(redacted) > t.maxBody {
		cut := t.maxBody
		for cut > 0 && !utf8.RuneStart(redacted[cut]) {
			cut--
		}
		return fmt.Sprintf("%s… (truncated: %d of %d bytes shown)", redacted[:cut], cut, len(redacted))
	}
	return redacted
}

func bodyNotLogged(contentType string, length int64) string {
	if contentType == "" {
		contentType = "no content type"
	}
	if length < 0 {
		return fmt.Sprintf("<body of unknown length (%s): not logged>", contentType)
	}
	return fmt.Sprintf("<%d bytes (%s): not logged>", length, contentType)
}
