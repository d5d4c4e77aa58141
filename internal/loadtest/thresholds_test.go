package loadtest

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEvaluate_NoViolationWhenEveryThresholdIsMet(t *testing.T) {
	th := Thresholds{MaxP95: 250 * time.Millisecond, MaxErrorRate: ptr(0.01), MinRate: 90}
	res := Result{Requests: 1000, Successes: 995, Success: 0.995, Rate: 100, Throughput: 99.5,
		Latencies: Latencies{P95: 250 * time.Millisecond}}
	if v := th.Evaluate(res); len(v) != 0 {
		t.Errorf("violations %v for a result that meets every threshold (p95 equal to the limit is met)", v)
	}
}

func TestEvaluate_NamesEachMissedThresholdItsLimitAndTheMeasuredValue(t *testing.T) {
	th := Thresholds{MaxP95: 250 * time.Millisecond, MaxErrorRate: ptr(0.05), MinRate: 100}
	res := Result{Requests: 800, Successes: 700, Success: 0.875, Rate: 100.04, Throughput: 87.46,
		Latencies: Latencies{P95: 412300 * time.Microsecond}}
	got := th.Evaluate(res)
	want := []Violation{
		{Threshold: "max_p95_ms", Limit: 250, Measured: 412.3, Message: "p95 latency 412ms exceeds max_p95_ms 250"},
		{Threshold: "max_error_rate", Limit: 0.05, Measured: 0.125,
			Message: "error rate 12.5% (100 of 800 requests failed) exceeds max_error_rate 0.05"},
		{Threshold: "min_rate", Limit: 100, Measured: 87.46,
			Message: "throughput 87.5 req/s (successful responses; 100 req/s attempted) is below min_rate 100"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("violations\n got %+v\nwant %+v", got, want)
	}
}

func TestEvaluate_ZeroErrorRateAllowsNoFailureAndUnsetThresholdsAreNotChecked(t *testing.T) {
	res := Result{Requests: 1000, Successes: 999, Success: 0.999, Latencies: Latencies{P95: time.Hour}}
	if v := (Thresholds{}).Evaluate(res); len(v) != 0 {
		t.Errorf("unset thresholds produced %v", v)
	}
	v := Thresholds{MaxErrorRate: ptr(0.0)}.Evaluate(res)
	if len(v) != 1 || v[0].Threshold != ThresholdMaxErrorRate {
		t.Errorf("max_error_rate 0 with one failure: %v", v)
	}
}

func TestEvaluate_RunWithNoRequestsFailsErrorRate(t *testing.T) {
	v := Thresholds{MaxErrorRate: ptr(0.5)}.Evaluate(Result{})
	if len(v) != 1 || v[0].Measured != 1 {
		t.Errorf("violations %v, want the error rate of an empty run to count as 100%%", v)
	}
}

func TestThresholds_AgainstARealRun(t *testing.T) {
	srv := newCountingServer(t, 30*time.Millisecond, always(http.StatusOK))
	spec := Spec{URL: srv.URL, Rate: 50, Duration: time.Second}
	res, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	met := Thresholds{MaxP95: 2 * time.Second, MaxErrorRate: ptr(0.0), MinRate: 40}
	if v := met.Evaluate(res); len(v) != 0 {
		t.Errorf("generous thresholds missed: %v (result %+v)", v, res.Latencies)
	}
	missed := Thresholds{MaxP95: 10 * time.Millisecond, MinRate: 500}
	v := missed.Evaluate(res)
	if len(v) != 2 {
		t.Fatalf("violations %v, want p95 and min_rate", v)
	}
	if !strings.HasPrefix(v[0].Message, "p95 latency ") || !strings.HasSuffix(v[0].Message, "ms exceeds max_p95_ms 10") || v[0].Measured < 30 {
		t.Errorf("p95 violation %+v", v[0])
	}
	if !strings.HasSuffix(v[1].Message, "is below min_rate 500") {
		t.Errorf("rate violation %+v", v[1])
	}
}

func TestFormatMS_KeepsDecimalsOnlyForSmallValues(t *testing.T) {
	for d, want := range map[time.Duration]string{
		412300 * time.Microsecond: "412ms",
		12345 * time.Microsecond:  "12.3ms",
		1234 * time.Microsecond:   "1.23ms",
		0:                         "0ms",
		2 * time.Second:           "2000ms",
	} {
		if got := FormatMS(d); got != want {
			t.Errorf("FormatMS(%s) = %q, want %q", d, got, want)
		}
	}
}
