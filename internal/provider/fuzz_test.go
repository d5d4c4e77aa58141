package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The fuzz targets below cover every parser and validator of user input. `go test` runs their
// seed corpora (so `make test` does); `go test -fuzz=FuzzX ./internal/provider/` explores further.

func validateString(v validator.String, s string) bool {
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(s)}, resp)
	return !resp.Diagnostics.HasError()
}

func FuzzDrainTimeout_AcceptedIsParsedAtApplyAndWithinItsBounds(f *testing.F) {
	for _, s := range []string{"60s", "0s", "1h", "1h0m1s", "99999999h", "soon", "-5s", "1.5m", " 60s", "60", "", "1h-1s", "0x10s"} {
		f.Add(s)
	}
	v := durationBetween(0, maxDrainTimeout)
	f.Fuzz(func(t *testing.T, s string) {
		if !validateString(v, s) {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%q accepted at plan but refused at apply: %v", s, err)
		}
		if d < 0 || d > maxDrainTimeout {
			t.Fatalf("%q accepted although %s is outside 0s to 1h", s, d)
		}
	})
}

func FuzzEndpointURL_AcceptedHasAnHTTPSchemeAndAHost(f *testing.F) {
	for _, s := range []string{"http://vip/", "https://shop.example.com:8443/health?x=1", "http://", "ftp://x", "://x", "http:///p",
		"http://[::1]:80/", "http://host:99999/", "HTTP://HOST/", "http://user:pw@host/", "http://ho st/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validateString(endpointURLValidator{}, s) {
			return
		}
		lower := strings.ToLower(s)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			t.Fatalf("%q accepted without an http or https scheme", s)
		}
	})
}

func FuzzEventTimestamps_AcceptedRoundTripThroughTheEventID(f *testing.F) {
	for _, s := range []string{"2026-11-27T08:00:00Z", "2026-11-27T09:00:00+01:00", "2026-11-27 08:00", "", "2026-02-30T00:00:00Z",
		"9999-12-31T23:59:59.999999999-23:59", "0000-01-01T00:00:00Z"} {
		f.Add(s, "launch")
	}
	f.Fuzz(func(t *testing.T, ts, name string) {
		if !validateString(rfc3339Validator{}, ts) {
			return
		}
		start, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			t.Fatalf("%q accepted but does not parse: %v", ts, err)
		}
		end := start.Add(time.Hour)
		id := eventID(name, start, end)
		gotName, gotStart, gotEnd, err := parseEventID(id)
		if strings.Contains(name, "@") || start.UTC().Year() < 0 || start.UTC().Year() > 9999 || end.UTC().Year() > 9999 {
			return // names with @ and years RFC 3339 cannot write are not round-trip material
		}
		if err != nil || gotName != name || !gotStart.Equal(start.Truncate(time.Second)) || !gotEnd.Equal(end.Truncate(time.Second)) {
			t.Fatalf("event id %q read back as %q %s %s (%v), want %q %s %s", id, gotName, gotStart, gotEnd, err, name, start, end)
		}
	})
}

func FuzzWebPoolImportID_AcceptedNamesEveryPartAndAPort(f *testing.F) {
	for _, s := range []string{"web/lb-1/pool-1/80", "web/lb/pool", "web/lb/pool/0", "web/lb/pool/65536", "bad/name/lb/pool/80", "web//pool/80",
		"web/lb/pool/80/extra", "web/lb/pool/+80", "web/lb/pool/08"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseWebPoolImportID(s)
		if err != nil {
			return
		}
		if !poolNamePattern.MatchString(id.name) || strings.TrimSpace(id.loadBalancerID) == "" || strings.TrimSpace(id.poolID) == "" ||
			id.port < 1 || id.port > 65535 {
			t.Fatalf("%q accepted as %+v", s, id)
		}
		if strings.Count(s, "/") != 3 {
			t.Fatalf("%q accepted with %d separators", s, strings.Count(s, "/"))
		}
	})
}

func FuzzReplicaImportID_SplitsAtTheLastSlash(f *testing.F) {
	for _, s := range []string{"db-1/reads", "a/b/c", "noslash", "/x", "x/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		primary, name, ok := cutLast(s, "/")
		if !ok {
			if strings.Contains(s, "/") {
				t.Fatalf("%q has a slash but was not split", s)
			}
			return
		}
		if primary+"/"+name != s || strings.Contains(name, "/") {
			t.Fatalf("%q split into %q and %q", s, primary, name)
		}
	})
}
