package fromloadtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/loadtest"
)

func TestRecorder_WritesTheStartEveryFiveSecondsAndEveryNewFailure(t *testing.T) {
	var buf strings.Builder
	w := journal.NewWriter(&buf)
	spec := loadtest.Spec{URL: "https://shop.example/?token=s3cret", Rate: 40, Duration: 20 * time.Second}
	l := NewRecorder(w, "eventscale_load_test.steady", "steady", spec, 6)
	for s := 1; s <= 12; s++ {
		failed := uint64(0)
		if s >= 7 {
			failed = 2
		}
		l.Progress(loadtest.Progress{Elapsed: time.Duration(s) * time.Second, Requests: uint64(40 * s), Successes: uint64(40*s) - failed})
	}
	es, err := journal.Read(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Duration
	for _, e := range es {
		if !e.LoadTest.Running || e.LoadTest.Nodes != 6 || e.LoadTest.Label != "steady" {
			t.Fatalf("entry %+v", e.LoadTest)
		}
		at = append(at, e.LoadTest.Elapsed.Std())
	}
	want := []time.Duration{1 * time.Second, 6 * time.Second, 7 * time.Second, 12 * time.Second}
	if len(at) != len(want) {
		t.Fatalf("written at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("written at %v, want %v", at, want)
		}
	}
	if es[2].LoadTest.Failed() != 2 || es[2].Message != "load test steady running: 0:07 of 0:20, 280 requests, 2 failed" {
		t.Fatalf("entry at 7s: %s", es[2].Message)
	}
}

func TestRecorder_ResultKeepsNoSecretOfTheURL(t *testing.T) {
	var buf strings.Builder
	spec := loadtest.Spec{URL: "https://shop.example/?token=s3cret", Rate: 600, Duration: time.Minute,
		Thresholds: loadtest.Thresholds{MaxP95: 100 * time.Millisecond}}
	l := NewRecorder(journal.NewWriter(&buf), "eventscale_load_test.peak", "peak", spec, 12)
	res := loadtest.Result{Requests: 36000, Successes: 35990, Rate: 600, Throughput: 599.8, Success: 35990.0 / 36000,
		Latencies:   loadtest.Latencies{P50: 12 * time.Millisecond, P95: 140 * time.Millisecond, P99: 300 * time.Millisecond},
		StatusCodes: map[string]int{"200": 35990, "0": 10},
		FirstErrors: []string{`Get "https://shop.example/?token=s3cret": context deadline exceeded`}}
	l.Result(spec, res, errors.New("load test of https://shop.example/?token=s3cret stopped"))
	if strings.Contains(buf.String(), "s3cret") {
		t.Fatalf("the token reached the journal: %s", buf.String())
	}
	es, err := journal.Read(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	lt := es[0].LoadTest
	if lt.Running || lt.Passed == nil || *lt.Passed || len(lt.Violations) != 2 || lt.P95.Std() != 140*time.Millisecond || lt.StatusCodes["0"] != 10 {
		t.Fatalf("result %+v", lt)
	}
}

func TestRecorder_ResultKeepsThePerMemberCountsAndNoVerdictWithoutThresholds(t *testing.T) {
	var buf strings.Builder
	spec := loadtest.Spec{URL: "http://vip/", Rate: 100, Duration: 10 * time.Second, Backends: loadtest.BackendCheck{Header: "X-Served-By"}}
	l := NewRecorder(journal.NewWriter(&buf), "eventscale_load_test.baseline", "baseline", spec, 2)
	res := loadtest.Result{Requests: 1000, Successes: 690, Success: 0.69, StatusCodes: map[string]int{"200": 690, "503": 310},
		Backends: map[string]loadtest.BackendCount{"10.0.0.5": {Responses: 700, Successes: 390}, "10.0.0.11": {Responses: 300, Successes: 300}}}
	l.Result(spec, res, nil)
	es, err := journal.Read(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	lt := es[0].LoadTest
	if lt.PerMember["10.0.0.5"] != 700 || lt.PerMember["10.0.0.11"] != 300 || len(lt.PerMember) != 2 {
		t.Errorf("per member %v", lt.PerMember)
	}
	if lt.Passed != nil || strings.Contains(es[0].Message, "passed") {
		t.Errorf("a run without thresholds got a verdict: %q", es[0].Message)
	}
}
