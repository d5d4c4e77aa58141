package cloud

import "testing"

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
