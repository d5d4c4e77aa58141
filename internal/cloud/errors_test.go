package cloud

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// The bodies are what the lab's Zed services answered (Accept: application/json).
func TestCloudMessage_ReadsEveryServicesErrorShape(t *testing.T) {
	cases := []struct{ service, body, want string }{
		{"octavia wsme", `{"faultcode": "Client", "faultstring": "Load Balancer 0 not found.", "debuginfo": null}`, "Load Balancer 0 not found."},
		{"octavia webob", `{"code": 404, "title": "Bad Request", "description": "Pool 0 not found."}`, "Pool 0 not found."},
		{"nova", `{"itemNotFound": {"code": 404, "message": "Instance 0 could not be found."}}`, "Instance 0 could not be found."},
		{"glance webob", `{"message": "No image found with ID 0<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}`, "No image found with ID 0"},
		{"html", "<html><body>404</body></html>", "<html><body>404</body></html>"},
	}
	for _, c := range cases {
		if got := CloudMessage([]byte(c.body)); got != c.want {
			t.Errorf("%s: CloudMessage = %q, want %q", c.service, got, c.want)
		}
	}
}

// The plan-time checks tell "could not be checked" (5xx, 403) from "does not exist" (404) by
// the status of an adapter's error: the wrapped error keeps gophercloud's underneath.
func TestAPIError_KeepsTheStatusAndGophercloudsErrorUnderItsMessage(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusServiceUnavailable, http.StatusNotFound} {
		raw := gophercloud.ErrUnexpectedResponseCode{Method: "GET", URL: "/v2.0/networks/net-1", Expected: []int{200}, Actual: status,
			Body: []byte(`{"NeutronError": {"message": "said by the cloud"}}`)}
		err := apiError("resolving network net-1", raw)
		var code gophercloud.ErrUnexpectedResponseCode
		if StatusCode(err) != status || !errors.As(err, &code) || code.URL != raw.URL {
			t.Errorf("HTTP %d: StatusCode = %d, errors.As found %v", status, StatusCode(err), errors.As(err, &code))
		}
		if IsNotFound(err) != (status == http.StatusNotFound) || errors.Is(err, scaling.ErrNotFound) != (status == http.StatusNotFound) {
			t.Errorf("HTTP %d: IsNotFound = %v", status, IsNotFound(err))
		}
		if want := "resolving network net-1: HTTP "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("HTTP %d: message %q, want it to start with %q", status, err.Error(), want)
		}
	}
}
