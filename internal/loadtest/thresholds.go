package loadtest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Threshold names, as the Terraform resource spells its attributes, so that a violation message
// points at the line of configuration to look at.
const (
	ThresholdMaxP95       = "max_p95_ms"
	ThresholdMaxErrorRate = "max_error_rate"
	ThresholdMinRate      = "min_rate"
)

// Thresholds are the pass criteria of a run. Zero values (nil for MaxErrorRate) are not checked.
type Thresholds struct {
	// MaxP95 is the highest acceptable 95th percentile latency.
	MaxP95 time.Duration
	// MaxErrorRate is the highest acceptable share of failed requests, 0 to 1. A pointer because
	// 0 ("no errors at all") is a meaningful limit.
	MaxErrorRate *float64
	// MinRate is the lowest acceptable throughput: successful responses per second. Successful
	// rather than attempted, because a tier "holds" a rate only when it answers it.
	MinRate float64
}

// Validate checks that the limits are in range.
func (t Thresholds) Validate() error {
	var errs []error
	if t.MaxP95 < 0 {
		errs = append(errs, fmt.Errorf("%s must not be negative", ThresholdMaxP95))
	}
	if e := t.MaxErrorRate; e != nil && (math.IsNaN(*e) || *e < 0 || *e > 1) {
		errs = append(errs, fmt.Errorf("%s %g must be between 0 and 1 (a fraction, 0.01 for 1%%)", ThresholdMaxErrorRate, *e))
	}
	if math.IsNaN(t.MinRate) || t.MinRate < 0 || t.MinRate > MaxRate {
		errs = append(errs, fmt.Errorf("%s %g must be between 0 and %d req/s", ThresholdMinRate, t.MinRate, MaxRate))
	}
	return errors.Join(errs...)
}

// Violation is one missed threshold.
type Violation struct {
	Threshold string  // ThresholdMaxP95, ThresholdMaxErrorRate or ThresholdMinRate
	Limit     float64 // in the threshold's unit: milliseconds, a fraction, or req/s
	Measured  float64 // same unit as Limit
	Message   string  // e.g. "p95 latency 412ms exceeds max_p95_ms 250"
}

func (v Violation) String() string { return v.Message }

// Evaluate returns the thresholds the result misses, in a fixed order (latency, errors, rate);
// none when it meets them all.
func (t Thresholds) Evaluate(r Result) []Violation {
	var out []Violation
	if t.MaxP95 > 0 && r.Latencies.P95 > t.MaxP95 {
		limit, got := ms(t.MaxP95), ms(r.Latencies.P95)
		out = append(out, Violation{Threshold: ThresholdMaxP95, Limit: limit, Measured: got,
			Message: fmt.Sprintf("p95 latency %s exceeds %s %s", FormatMS(r.Latencies.P95), ThresholdMaxP95, num(limit))})
	}
	if t.MaxErrorRate != nil {
		// A run that got no answer at all has failed completely, not succeeded vacuously.
		errRate := 1.0
		if r.Requests > 0 {
			errRate = 1 - r.Success
		}
		if errRate > *t.MaxErrorRate {
			out = append(out, Violation{Threshold: ThresholdMaxErrorRate, Limit: *t.MaxErrorRate, Measured: errRate,
				Message: fmt.Sprintf("error rate %s (%d of %d requests failed) exceeds %s %s",
					pct(errRate), r.Requests-r.Successes, r.Requests, ThresholdMaxErrorRate, num(*t.MaxErrorRate))})
		}
	}
	if t.MinRate > 0 && r.Throughput < t.MinRate {
		out = append(out, Violation{Threshold: ThresholdMinRate, Limit: t.MinRate, Measured: r.Throughput,
			Message: fmt.Sprintf("throughput %s req/s (successful responses; %s req/s attempted) is below %s %s",
				num(round(r.Throughput, 1)), num(round(r.Rate, 1)), ThresholdMinRate, num(t.MinRate))})
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// FormatMS renders a latency in milliseconds, with decimals only where they carry information.
func FormatMS(d time.Duration) string {
	v := ms(d)
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "ms"
	case v >= 10:
		return strconv.FormatFloat(round(v, 1), 'f', -1, 64) + "ms"
	default:
		return strconv.FormatFloat(round(v, 2), 'f', -1, 64) + "ms"
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// FormatPercent renders a fraction as a percentage with at most two decimals: 0.0125 is "1.25%".
func FormatPercent(f float64) string { return pct(f) }

func pct(f float64) string { return strconv.FormatFloat(round(f*100, 2), 'f', -1, 64) + "%" }

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}
