package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestJudge_WithoutThresholdsIsMeasuredColouredByErrorRatio(t *testing.T) {
	for _, tc := range []struct {
		requests, successes uint64
		colour              string
	}{
		{1000, 1000, ColourGreen},
		{1000, 991, ColourGreen}, // 0.9%
		{1000, 990, ColourAmber}, // 1%: amber from here
		{1000, 951, ColourAmber}, // 4.9%
		{1000, 950, ColourRed},   // 5%: red from here
		{1000, 690, ColourRed},   // the baseline's 31% of 503s
		{0, 0, ColourRed},        // nothing answered: a total failure, not a vacuous success
	} {
		res := Result{Requests: tc.requests, Successes: tc.successes}
		if tc.requests > 0 {
			res.Success = float64(tc.successes) / float64(tc.requests)
		}
		j := Judge(Spec{URL: "http://h/", Rate: 100, Duration: 10 * time.Second}, res)
		if j.Verdict != VerdictMeasured || j.Colour != tc.colour || len(j.Violations) != 0 {
			t.Errorf("%d of %d successful: %s %s %v, want MEASURED %s", tc.successes, tc.requests, j.Verdict, j.Colour, j.Violations, tc.colour)
		}
		if !strings.HasPrefix(j.Summary, "MEASURED: ") || !strings.Contains(j.Summary, "no thresholds set") {
			t.Errorf("summary %q", j.Summary)
		}
	}
}

func TestJudge_ThresholdsMakeItPassOrFailAndAStoppedRunFails(t *testing.T) {
	res := Result{Requests: 100, Successes: 100, Success: 1, Latencies: Latencies{P95: 40 * time.Millisecond}, Throughput: 10}
	spec := Spec{URL: "http://h/", Rate: 10, Duration: 10 * time.Second, Thresholds: Thresholds{MaxP95: 50 * time.Millisecond}}
	if j := Judge(spec, res); j.Verdict != VerdictPassed || j.Colour != ColourGreen {
		t.Errorf("met thresholds: %+v", j)
	}
	spec.Thresholds.MaxP95 = 30 * time.Millisecond
	if j := Judge(spec, res); j.Verdict != VerdictFailed || j.Colour != ColourRed || len(j.Violations) != 1 {
		t.Errorf("missed threshold: %+v", j)
	}
	res.Stopped = true
	if j := Judge(Spec{URL: "http://h/", Rate: 10, Duration: 10 * time.Second}, res); j.Verdict != VerdictFailed ||
		!strings.Contains(j.Summary, "stopped before the end") {
		t.Errorf("stopped run without thresholds: %+v", j)
	}
	if (Thresholds{MaxErrorRate: ptr(0.0)}).IsSet() != true || (Thresholds{}).IsSet() {
		t.Error("IsSet: max_error_rate = 0 is a threshold; no field set is none")
	}
}
