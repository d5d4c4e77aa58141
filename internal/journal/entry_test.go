package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 21, 4, 5, 123456789, time.UTC)

func TestEntry_TimeIsRFC3339WithMillisecondsInUTCAndFirst(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	b, err := json.Marshal(Entry{Time: t0.In(cet), Kind: KindDrain, Node: "web-05", Message: "member web-05 drained"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-26T21:04:05.123Z","kind":"drain","node":"web-05","message":"member web-05 drained"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestEntry_RoundTripKeepsEveryField(t *testing.T) {
	e := Entry{Time: t0.Truncate(time.Millisecond), Kind: KindDrainWait, Resource: "eventscale_web_pool.web", Pool: "web",
		Node: "web-05", StepIndex: 7, StepTotal: 30, Step: "wait 1m0s for open connections to web-05 to finish",
		Elapsed: Duration(1500 * time.Microsecond), DrainLeft: Duration(42 * time.Second), ActiveConnections: Ptr[int64](0),
		ConnectionsScope: "listener", Next: "remove member(s) web-05", Message: "waiting 42s",
		LoadTest: &LoadTest{Label: "steady", Requests: 10, Successes: 9, P95: Duration(85 * time.Millisecond), Passed: Ptr(false)}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"drain_left_ms":42000`)) || !bytes.Contains(b, []byte(`"elapsed_ms":1.5`)) ||
		!bytes.Contains(b, []byte(`"active_connections":0`)) || !bytes.Contains(b, []byte(`"p95_ms":85`)) {
		t.Fatalf("durations or zero connections not written as expected: %s", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(got)
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the entry:\n%s\n%s", b, b2)
	}
	if !got.Time.Equal(e.Time) || got.DrainLeft.Std() != 42*time.Second {
		t.Fatalf("time or drain left lost: %v %v", got.Time, got.DrainLeft)
	}
}

func TestDecode_RecoversEntryAfterTornWrite(t *testing.T) {
	torn := `{"time":"2026-11-26T21:04:05.123Z","kind":"dra` + `{"time":"2026-11-26T21:04:06.000Z","kind":"drain","message":"ok"}`
	e, err := Decode([]byte(torn))
	if err != nil {
		t.Fatal(err)
	}
	if e.Message != "ok" || e.Time.Second() != 6 {
		t.Fatalf("got %+v", e)
	}
	if _, err := Decode([]byte(`{"message":"no kind"}`)); err == nil {
		t.Fatal("an object without kind was taken for an entry")
	}
}

func TestRead_SkipsBadLinesAndSaysWhich(t *testing.T) {
	in := `{"time":"2026-11-26T21:04:05.123Z","kind":"event","message":"one"}
not json

{"time":"2026-11-26T21:04:06.123Z","kind":"event","message":"two"}
{"time":"2026-11-26T21:04:07.1`
	entries, err := Read(strings.NewReader(in))
	if len(entries) != 2 || entries[1].Message != "two" {
		t.Fatalf("entries %+v", entries)
	}
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("want a LineError for line 2, got %v", err)
	}
	if !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("the half-written last line is not reported: %v", err)
	}
}

func TestRecords_SentencesCarryTheFigures(t *testing.T) {
	lt := LoadTest{Label: "peak", Rate: 600, Duration: Duration(5 * time.Minute), Requests: 180000, Successes: 179910,
		SuccessRatio: 0.9995, P50: Duration(12 * time.Millisecond), P95: Duration(85 * time.Millisecond),
		P99: Duration(140 * time.Millisecond), Nodes: 12, Passed: Ptr(true)}
	want := "load test peak at 600 req/s for 5m0s: 180000 requests, 90 failed (99.95% success), p50 12 ms, p95 85 ms, p99 140 ms, 12 nodes; passed"
	if got := lt.Sentence(); got != want {
		t.Errorf("load test:\n got %s\nwant %s", got, want)
	}
	running := LoadTest{Label: "steady", Running: true, Elapsed: Duration(80 * time.Second), Duration: Duration(20 * time.Minute), Requests: 3200, Successes: 3197}
	if got, want := running.Sentence(), "load test steady running: 1:20 of 20:00, 3200 requests, 3 failed"; got != want {
		t.Errorf("running:\n got %s\nwant %s", got, want)
	}
	pf := Preflight{Checks: []QuotaCheck{{Service: "compute", Resource: "cores", Limit: 40, InUse: 24, Needed: 24},
		{Service: "compute", Resource: "instances", Limit: -1, InUse: 8, Needed: 12}}}
	if got, want := pf.Sentence(), "quota pre-flight: 1 of 2 quotas too small: compute cores: limit 40, in use 24, needed 24"; got != want {
		t.Errorf("preflight:\n got %s\nwant %s", got, want)
	}
	if got := Target("https://user:secret@shop.example/health?token=abc#x"); got != "https://shop.example/health" {
		t.Errorf("Target kept a secret: %s", got)
	}
}

func TestPathFromEnv_DefaultsToTheWorkingDirectory(t *testing.T) {
	t.Setenv(EnvPath, "")
	if PathFromEnv() != DefaultPath {
		t.Fatalf("got %s", PathFromEnv())
	}
	t.Setenv(EnvPath, "/var/log/event.jsonl")
	if PathFromEnv() != "/var/log/event.jsonl" {
		t.Fatalf("got %s", PathFromEnv())
	}
}
