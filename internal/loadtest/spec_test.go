package loadtest

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestValidate_AcceptsSensibleSpecs(t *testing.T) {
	for name, s := range map[string]Spec{
		"constant": {URL: "http://127.0.0.1:8080/", Rate: 100, Duration: 30 * time.Second},
		"https ramp at the caps": {URL: "https://shop.example/cart", Method: "post", RampFrom: 1, RampTo: MaxRate,
			Duration: MaxDuration, Timeout: MaxTimeout, MaxWorkers: MaxWorkersCap},
		"thresholds": {URL: "http://h/", Rate: 1, Duration: time.Second,
			Thresholds: Thresholds{MaxP95: time.Second, MaxErrorRate: ptr(0.0), MinRate: 1}},
		"headers": {URL: "http://h/", Rate: 1, Duration: time.Second, Headers: map[string]string{"X-Token": "a b"}},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidate_RejectsWithAMessageNamingTheProblem(t *testing.T) {
	ok := Spec{URL: "http://127.0.0.1/", Rate: 10, Duration: 10 * time.Second}
	for name, tc := range map[string]struct {
		edit func(*Spec)
		want string
	}{
		"ftp url":           {func(s *Spec) { s.URL = "ftp://files.example/x" }, `scheme "ftp" is not supported, only http and https`},
		"relative url":      {func(s *Spec) { s.URL = "/health" }, `scheme "" is not supported`},
		"no host":           {func(s *Spec) { s.URL = "http:///x" }, "has no host"},
		"rate over cap":     {func(s *Spec) { s.Rate = 5001 }, "rate 5001 req/s must be between 1 and 5000"},
		"zero rate":         {func(s *Spec) { s.Rate = 0 }, "rate 0 req/s must be between 1 and 5000"},
		"ramp end over cap": {func(s *Spec) { s.Rate, s.RampFrom, s.RampTo = 0, 10, 6000 }, "ramp end 6000 req/s"},
		// vegeta reads a zero start rate as "unlimited".
		"ramp from zero":      {func(s *Spec) { s.Rate, s.RampFrom, s.RampTo = 0, 0, 100 }, "ramp start 0 req/s must be between 1"},
		"rate and ramp":       {func(s *Spec) { s.RampFrom, s.RampTo = 1, 100 }, "rate (10) and a ramp (1 to 100) are both set"},
		"duration over cap":   {func(s *Spec) { s.Duration = 11 * time.Minute }, "duration 11m0s must be between 1s and 10m0s"},
		"duration under 1s":   {func(s *Spec) { s.Duration = 500 * time.Millisecond }, "duration 500ms must be between 1s"},
		"fractional duration": {func(s *Spec) { s.Duration = 1500 * time.Millisecond }, "whole number of seconds"},
		"timeout over cap":    {func(s *Spec) { s.Timeout = 6 * time.Minute }, "timeout 6m0s must be between 1ms and 5m0s"},
		"negative workers":    {func(s *Spec) { s.MaxWorkers = -1 }, "max_workers -1"},
		"unknown method":      {func(s *Spec) { s.Method = "GETT" }, `method "GETT" is not one of`},
		"bad header name":     {func(s *Spec) { s.Headers = map[string]string{"Bad Name": "x"} }, `header name "Bad Name"`},
		"header injection":    {func(s *Spec) { s.Headers = map[string]string{"X": "a\r\nEvil: 1"} }, `header "X" has a value`},
		"error rate over 1":   {func(s *Spec) { s.Thresholds.MaxErrorRate = ptr(5.0) }, "max_error_rate 5 must be between 0 and 1"},
		"negative p95":        {func(s *Spec) { s.Thresholds.MaxP95 = -time.Millisecond }, "max_p95_ms must not be negative"},
	} {
		s := ok
		tc.edit(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}

func TestValidate_ReportsEveryProblemAtOnce(t *testing.T) {
	err := Spec{URL: "ftp://x", Rate: 9999, Duration: time.Hour}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ftp", "rate 9999", "duration 1h0m0s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
