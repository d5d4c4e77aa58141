package devcloud

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// apiMessage is an error whose text the client receives verbatim as the emulated service's own
// fault message, so it keeps OpenStack's capitals and full stops rather than Go's error style.
type apiMessage string

func (m apiMessage) Error() string { return string(m) }

func apiMessagef(format string, args ...any) error { return apiMessage(fmt.Sprintf(format, args...)) }

func readJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return fmt.Errorf("the request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed request body: %w", err)
	}
	return nil
}

// novaErrorKeys are the top-level keys of Nova's error bodies by status; others are
// "computeFault".
var novaErrorKeys = map[int]string{400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "HTTPMethodNotAllowed", 406: "HTTPNotAcceptable", 409: "conflictingRequest", 413: "overLimit", 429: "overLimit"}

func novaErrorKey(status int) string { return keyOr(novaErrorKeys, status, "computeFault") }

// troveErrorKeys follow trove.common.wsgi.Fault._get_error_name; others are "instanceFault".
var troveErrorKeys = map[int]string{400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflict", 413: "overLimit", 415: "badMediaType", 422: "unprocessableEntity",
	429: "tooManyRequests", 501: "notImplemented", 502: "badGateway", 503: "serviceUnavailable"}

func troveErrorKey(status int) string { return keyOr(troveErrorKeys, status, "instanceFault") }

func keyOr(keys map[int]string, status int, fallback string) string {
	if k, ok := keys[status]; ok {
		return k
	}
	return fallback
}

var neutronErrorType = map[int]string{400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 429: "OverQuota", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable"}

// writeServiceError answers with the error body shape of the given service.
func writeServiceError(w http.ResponseWriter, service string, status int, msg string) {
	switch service {
	case "identity":
		writeKeystoneError(w, status, msg)
	case "compute":
		writeJSON(w, status, map[string]any{novaErrorKey(status): map[string]any{"code": status, "message": msg}})
	case "database":
		writeJSON(w, status, map[string]any{troveErrorKey(status): map[string]any{"code": status, "message": msg}})
	case "network":
		t := neutronErrorType[status]
		if t == "" {
			t = http.StatusText(status)
		}
		writeJSON(w, status, map[string]any{"NeutronError": map[string]any{"type": t, "message": msg, "detail": ""}})
	case "placement":
		writeJSON(w, status, map[string]any{"errors": []any{map[string]any{"status": status, "title": http.StatusText(status), "detail": msg, "code": "placement.undefined_code"}}})
	case "load-balancer":
		writeJSON(w, status, map[string]any{"faultcode": faultCode(status), "faultstring": msg, "debuginfo": nil})
	case "key-manager":
		writeBarbicanError(w, status, msg)
	case "dns":
		// Designate's fault wrapper names errors it has no type for "unknown".
		writeJSON(w, status, map[string]any{"code": status, "type": "unknown", "message": msg, "request_id": newRequestID()})
	default: // image: webob's error, plain text or JSON by the Accept header
		writeGlanceError(w, status, msg)
	}
}

func faultCode(status int) string {
	if status < 500 {
		return "Client"
	}
	return "Server"
}

func writeKeystoneError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "title": http.StatusText(status)}})
}

// glanceJSONErrors marks a Glance request whose client accepts JSON: webob then renders its
// error as JSON (as the lab's Glance answers gophercloud, which sends Accept:
// application/json), with the HTML line breaks of its template left in the message.
type glanceJSONErrors struct{ http.ResponseWriter }

func writeGlanceError(w http.ResponseWriter, status int, msg string) {
	if _, ok := w.(glanceJSONErrors); ok {
		writeJSON(w, status, map[string]any{"message": msg + "<br /><br />\n\n\n",
			"code": fmt.Sprintf("%d %s", status, http.StatusText(status)), "title": http.StatusText(status)})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	// As in writeJSON: the status is sent, and a client that went away cannot be told more.
	_, _ = fmt.Fprintf(w, "%d %s\n\n%s\n\n   ", status, http.StatusText(status), msg)
}

// isoZ is Nova's and Glance's timestamp form.
func isoZ(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// isoMicro is the form of OS-SRV-USG:launched_at and Keystone's expires_at without the zone.
func isoMicro(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// isoNoZ is Trove's timestamp form.
func isoNoZ(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// splitPath splits a path into its non-empty segments.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// newRequestID is an oslo request id, "req-" and a random UUID. It draws from crypto/rand,
// not the cloud's seeded source, so that answering requests does not shift the ids of the
// objects a seeded run creates.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("req-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
