package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// CloudMessage extracts the human message from an OpenStack error body: Keystone's
// {"error":{"message"}}, Nova's {"itemNotFound":{"message"}}, Octavia's {"faultstring"},
// Neutron's {"NeutronError":{"message"}}, Trove's and Glance's variants.
func CloudMessage(body []byte) string {
	var generic map[string]any
	if err := json.Unmarshal(body, &generic); err != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 300 {
			s = s[:300] + "..."
		}
		return s
	}
	if s, ok := generic["faultstring"].(string); ok {
		return s
	}
	for _, v := range generic {
		if inner, ok := v.(map[string]any); ok {
			if s, ok := inner["message"].(string); ok {
				return s
			}
		}
	}
	// webob's own errors, JSON-rendered when the client accepts JSON: Glance's
	// {"message": "...<br /><br />", "code": "404 Not Found", "title"} and Octavia's (pecan)
	// {"code": 404, "title": "Bad Request", "description": "Pool ... not found."}.
	for _, key := range []string{"message", "description"} {
		if s, ok := generic[key].(string); ok {
			return strings.TrimSpace(strings.ReplaceAll(s, "<br />", " "))
		}
	}
	return strings.TrimSpace(string(body))
}

// StatusCode returns the HTTP status of a gophercloud error, or 0.
func StatusCode(err error) int {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		return code.Actual
	}
	return 0
}

// IsNotFound reports a 404 from any service.
func IsNotFound(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusNotFound) || errors.Is(err, scaling.ErrNotFound)
}

// apiError wraps a gophercloud error with what was being done and the cloud's own message.
func apiError(action string, err error) error {
	if err == nil {
		return nil
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		wrapped := &cloudError{msg: fmt.Sprintf("%s: HTTP %d from %s %s: %s", action, code.Actual, code.Method, code.URL, CloudMessage(code.Body)), err: err}
		if code.Actual == http.StatusNotFound {
			return errors.Join(wrapped, scaling.ErrNotFound)
		}
		return wrapped
	}
	return fmt.Errorf("%s: %w", action, err)
}

// cloudError says what failed in the cloud's own words, and keeps gophercloud's error
// underneath for StatusCode and errors.As.
type cloudError struct {
	msg string
	err error
}

func (e *cloudError) Error() string { return e.msg }
func (e *cloudError) Unwrap() error { return e.err }

// createError is apiError for a request that creates something: a 4xx answer means the cloud
// refused it and made nothing, which callers must not confuse with a lost answer.
func createError(action string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := apiError(action, err)
	if code := StatusCode(err); code >= 400 && code < 500 {
		return errors.Join(wrapped, scaling.ErrRefused)
	}
	return wrapped
}

// SettingError is a configuration or authentication failure that one provider setting
// explains: the provider reports it on that attribute (auth_url, password, cacert_file...).
type SettingError struct {
	// Setting is the provider attribute to fix, e.g. "password".
	Setting string
	// Summary is a short title for the diagnostic; Err carries the detail.
	Summary string
	Err     error
}

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// getJSON GETs url into into. gophercloud has read and closed the body once it has decoded it;
// closing it again here keeps that visible where the response is dropped.
func getJSON(ctx context.Context, sc *gophercloud.ServiceClient, url string, into any) error {
	resp, err := sc.Get(ctx, url, into, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return err
}
