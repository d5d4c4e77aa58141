package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// checkString adapts a plain Go check into a plan-time validator (skipped while the value is unknown).
func checkString(check func(string) error) validator.String { return stringCheck{check} }

type stringCheck struct{ check func(string) error }

func (v stringCheck) Description(context.Context) string { return "must be valid" }
func (v stringCheck) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), err.Error())
	}
}

// checkDuration parses a Go duration string and applies check to it.
func checkDuration(check func(time.Duration) error) validator.String {
	return stringCheck{func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q must be a duration such as \"30s\" or \"2m\": %w", s, err)
		}
		return check(d)
	}}
}

// durationBetween accepts a Go duration ("60s", "5m", "1m30s") within [lo, hi]: time.ParseDuration
// is also what reads it at apply, so whatever passes here cannot fail there.
func durationBetween(lo, hi time.Duration) validator.String {
	return checkDuration(func(d time.Duration) error {
		if d < lo || d > hi {
			return fmt.Errorf("%s is outside %s to %s", formatDuration(d), formatDuration(lo), formatDuration(hi))
		}
		return nil
	})
}

// formatDuration writes 1h0m0s as 1h and 5m0s as 5m, as a user would.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// endpointURLValidator accepts the absolute http(s) URLs the scaling library can call.
type endpointURLValidator struct{}

func (endpointURLValidator) Description(context.Context) string {
	return "must be an absolute http:// or https:// URL with a host"
}

func (v endpointURLValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (endpointURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := scaling.ValidateEndpointURL(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(),
			fmt.Sprintf("%q: %v; it must be an absolute http or https URL with a host", req.ConfigValue.ValueString(), err))
	}
}

// reservedMetadataValidator refuses the metadata keys by which the pool finds its own servers.
type reservedMetadataValidator struct{}

func (reservedMetadataValidator) Description(context.Context) string {
	return "keys starting with eventscale_ are reserved"
}

func (v reservedMetadataValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (reservedMetadataValidator) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for k := range req.ConfigValue.Elements() {
		if strings.HasPrefix(k, "eventscale_") {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Reserved metadata key in "+req.Path.String(),
				fmt.Sprintf("%q: keys starting with eventscale_ identify the pool's servers and are set by the provider", k))
		}
	}
}
