package loadtest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Attribute names of the backend check, as the Terraform resource spells them, so that an error
// points at the line of configuration to look at.
const (
	AttrBackendHeader         = "backend_header"
	AttrBackendWeights        = "backend_weights"
	AttrBackendOverloadFactor = "backend_overload_factor"
)

// DefaultOverloadFactor is how many times its expected share a backend may take before it is
// flagged as overloaded, when BackendCheck.OverloadFactor is zero.
const DefaultOverloadFactor = 1.5

// MaxOverloadFactor bounds BackendCheck.OverloadFactor: beyond it, no realistic imbalance is caught.
const MaxOverloadFactor = 10.0

// BackendCheck describes how to tell which backend answered a request, and what share of the
// load each backend is expected to take.
//
// Octavia keeps no per-member statistics (only per load balancer and per listener), so the only
// way to see the spread on a real cloud is from the answers themselves: each web server adds a
// header naming itself (nginx: `add_header X-Served-By $hostname always;`).
type BackendCheck struct {
	// Header is the response header whose value names the backend ("X-Served-By"). Empty: the
	// distribution is not measured.
	Header string
	// Weights are the backends' load balancer weights, keyed by the value each sends in Header.
	// A backend's expected share is its weight over the sum of the weights. Nil: every backend
	// that answered is expected to take an equal share (Octavia's default weight is 1 for all).
	Weights map[string]float64
	// OverloadFactor flags a backend whose share exceeds this many times its expected share
	// (default DefaultOverloadFactor).
	OverloadFactor float64
}

// Validate checks the header name, the weights and the factor.
func (b BackendCheck) Validate() error {
	var errs []error
	if b.Header != "" && !httpguts.ValidHeaderFieldName(b.Header) {
		errs = append(errs, fmt.Errorf("%s %q is not a valid HTTP header name", AttrBackendHeader, b.Header))
	}
	if b.Header == "" && (len(b.Weights) > 0 || b.OverloadFactor != 0) {
		errs = append(errs, fmt.Errorf("%s and %s need %s: without it no response says which backend answered",
			AttrBackendWeights, AttrBackendOverloadFactor, AttrBackendHeader))
	}
	total := 0.0
	for _, k := range sortedKeys(b.Weights) {
		w := b.Weights[k]
		if math.IsNaN(w) || w < 0 || w > 256 {
			errs = append(errs, fmt.Errorf("%s[%q] %g must be between 0 and 256, as an Octavia member weight", AttrBackendWeights, k, w))
			continue
		}
		total += w
	}
	if len(b.Weights) > 0 && total == 0 {
		errs = append(errs, fmt.Errorf("%s are all 0: no backend is expected to take any load", AttrBackendWeights))
	}
	if f := b.OverloadFactor; f != 0 && (math.IsNaN(f) || f < 1 || f > MaxOverloadFactor) {
		errs = append(errs, fmt.Errorf("%s %g must be between 1 and %g", AttrBackendOverloadFactor, f, MaxOverloadFactor))
	}
	return errors.Join(errs...)
}

func (b BackendCheck) factor() float64 {
	if b.OverloadFactor == 0 {
		return DefaultOverloadFactor
	}
	return b.OverloadFactor
}

// BackendCount is what one backend answered.
type BackendCount struct {
	Responses uint64 // HTTP responses carrying this backend's name
	Successes uint64 // of which 2xx or 3xx
}

// Expected shares come from configured weights, or are assumed equal.
const (
	ExpectedFromWeights = "weights"
	ExpectedEqual       = "equal"
)

// Distribution is how the responses of a run spread over the backends.
type Distribution struct {
	Header string
	// Known is false when the spread cannot be told: no header configured, or no response
	// carried it. Reason then says which.
	Known  bool
	Reason string
	// Backends are sorted by name; a backend with a weight that never answered is listed with
	// no responses.
	Backends []BackendShare
	// Identified counts the responses that named a backend: the denominator of every share.
	Identified uint64
	// Unidentified counts HTTP responses without the header: answers of the load balancer itself
	// (a 503 when no member is up) or of backends that do not send it.
	Unidentified uint64
	// NoResponse counts requests that got no HTTP response at all (timeouts, refused or reset
	// connections): nobody can tell which backend they were sent to.
	NoResponse uint64
	// ExpectedFrom is ExpectedFromWeights or ExpectedEqual.
	ExpectedFrom   string
	OverloadFactor float64
}

// BackendShare is one backend's part of the load.
type BackendShare struct {
	Name      string
	Responses uint64
	Successes uint64
	// Share is Responses over Distribution.Identified, 0 to 1.
	Share float64
	// Expected is false for a backend that answered but has no weight in BackendCheck.Weights.
	Expected      bool
	ExpectedShare float64
	Weight        float64 // its configured weight; 0 when Weights is nil
	// Overloaded: Share exceeds OverloadFactor × ExpectedShare. This is the stampede to catch:
	// one member (often the original server, a static member) taking more than it should.
	Overloaded bool
	// Silent: a backend with a positive weight that answered nothing, although others did.
	Silent bool
}

// Overloaded returns the names of the overloaded backends.
func (d Distribution) Overloaded() []string {
	var out []string
	for _, b := range d.Backends {
		if b.Overloaded {
			out = append(out, b.Name)
		}
	}
	return out
}

// ErrorRatio is the share of the backend's responses that were not 2xx or 3xx.
func (b BackendShare) ErrorRatio() float64 {
	if b.Responses == 0 {
		return 0
	}
	return float64(b.Responses-min(b.Successes, b.Responses)) / float64(b.Responses)
}

// Distribution computes how res spread over the backends.
func (b BackendCheck) Distribution(res Result) Distribution {
	d := Distribution{Header: b.Header, OverloadFactor: b.factor(), Unidentified: res.WithoutBackend,
		NoResponse: uint64(res.StatusCodes["0"])}
	if b.Header == "" {
		d.Reason = "No backend header is configured (" + AttrBackendHeader + "), so which member answered each request is not known. " +
			"Octavia keeps no per-member statistics; have each web server name itself in a response header and set " + AttrBackendHeader + "."
		return d
	}
	for _, c := range res.Backends {
		d.Identified += c.Responses
	}
	if d.Identified == 0 {
		answered := d.Unidentified
		d.Reason = fmt.Sprintf("None of the %d HTTP responses carried the %s header, so which member answered is not known: "+
			"the web servers do not send it, or something between them and this machine removes it.", answered, b.Header)
		if answered == 0 {
			d.Reason = "No HTTP response arrived, so which member answered is not known."
		}
		return d
	}
	d.Known = true

	names := sortedKeys(res.Backends)
	for _, n := range sortedKeys(b.Weights) {
		if _, seen := res.Backends[n]; !seen {
			names = append(names, n)
		}
	}
	slices.Sort(names)

	totalWeight := 0.0
	for _, w := range b.Weights {
		totalWeight += w
	}
	d.ExpectedFrom = ExpectedFromWeights
	if b.Weights == nil {
		d.ExpectedFrom = ExpectedEqual
	}
	for _, n := range names {
		c := res.Backends[n]
		s := BackendShare{Name: n, Responses: c.Responses, Successes: c.Successes, Share: float64(c.Responses) / float64(d.Identified)}
		if b.Weights == nil {
			s.Expected, s.ExpectedShare = true, 1/float64(len(res.Backends))
		} else if w, ok := b.Weights[n]; ok {
			s.Expected, s.Weight, s.ExpectedShare = true, w, w/totalWeight
		}
		// A small tolerance keeps an exact share from being flagged by rounding.
		s.Overloaded = s.Expected && c.Responses > 0 && s.Share > d.OverloadFactor*s.ExpectedShare+1e-9
		s.Silent = s.Expected && s.ExpectedShare > 0 && c.Responses == 0
		d.Backends = append(d.Backends, s)
	}
	return d
}

// Sentence describes the distribution in one line, for a diagnostic or a log.
func (d Distribution) Sentence() string {
	if !d.Known {
		return d.Reason
	}
	parts := make([]string, len(d.Backends))
	for i, b := range d.Backends {
		parts[i] = fmt.Sprintf("%s %s", b.Name, pct(b.Share))
		if b.Expected {
			parts[i] += " (expected " + pct(b.ExpectedShare) + ")"
		}
		switch {
		case b.Overloaded:
			parts[i] += " OVERLOADED"
		case b.Silent:
			parts[i] += " NO RESPONSES"
		}
	}
	return fmt.Sprintf("%d responses by %s: %s", d.Identified, d.Header, strings.Join(parts, ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
