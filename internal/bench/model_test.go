package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFloors_FollowTheOperatorsSequenceOnTheRealisticModel(t *testing.T) {
	m := Realistic
	cases := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		// 30 s build, 5 s join cycle, 5 s monitor delay.
		{"scale-out 0→10, 10 at once", m.ScaleOutFloor(10, 10), 40 * time.Second},
		{"scale-out 0→50, 10 at once: five build waves", m.ScaleOutFloor(50, 10), 160 * time.Second},
		{"scale-out 0→11, 10 at once: a second wave for one node", m.ScaleOutFloor(11, 10), 70 * time.Second},
		{"scale-out 0→0", m.ScaleOutFloor(0, 10), 0},
		// Per batch: drain cycle 5 s + drain 1 s + removal cycle 5 s + server delete 5 s.
		{"scale-in 10→0, batch 1", m.ScaleInFloor(10, 1, time.Second), 160 * time.Second},
		{"scale-in 50→0, batch 5", m.ScaleInFloor(50, 5, time.Second), 160 * time.Second},
		{"scale-in 3→0, batch 2, no drain: a short last batch", m.ScaleInFloor(3, 2, 0), 30 * time.Second},
		// Per batch: 40 s scale-out of the new batch, then 16 s scale-in of the old one.
		{"rolling 20, batch 5", m.RollingFloor(20, 5, 10, time.Second), 224 * time.Second},
		{"rolling 7, batch 5", m.RollingFloor(7, 5, 10, time.Second), 112 * time.Second},
		{"rolling 20, batch 5, 2 at once: three build waves per batch", m.RollingFloor(20, 5, 2, time.Second), 4 * (3*30 + 10 + 16) * time.Second},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: floor %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestModelTiming_SetsDevcloudsDelaysAndScale(t *testing.T) {
	tm := Realistic.Timing(0.05)
	if tm.TimeScale != 0.05 {
		t.Errorf("time scale %v, want 0.05", tm.TimeScale)
	}
	want := map[string]time.Duration{"server_schedule": 2 * time.Second, "server_build": 28 * time.Second,
		"lb_update": 5 * time.Second, "lb_create": 60 * time.Second, "server_delete": 5 * time.Second}
	for k, v := range want {
		if tm.Delays[k] != v {
			t.Errorf("delay %s = %s, want %s", k, tm.Delays[k], v)
		}
	}
}

func TestPeakIn_CountsTheBusiestWindowOnly(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	// Unsorted on purpose: arrivals are noted from many goroutines.
	times := at(2500, 0, 100, 200, 900, 2000, 2100, 2200, 2300)
	if got := peakIn(times, time.Second); got != 5 {
		t.Errorf("peak in 1 s = %d, want 5 (2000-2500)", got)
	}
	if got := peakIn(times, 100*time.Millisecond); got != 1 {
		t.Errorf("peak in 100 ms = %d, want 1: a window is half-open", got)
	}
	if got := peakIn(nil, time.Second); got != 0 {
		t.Errorf("peak of no requests = %d", got)
	}
}

func TestMeasuredEnd_WaitsForTheMembersToServeAndTheServersToGo(t *testing.T) {
	tool := time.Unix(100, 0)
	if got := measuredEnd(tool, Usage{LastOnline: tool.Add(5 * time.Second)}); !got.Equal(tool.Add(5 * time.Second)) {
		t.Errorf("a tool returning before its members serve ends at %v, want the last member ONLINE", got)
	}
	if got := measuredEnd(tool, Usage{LastDeleted: tool.Add(-time.Second), LastOnline: tool.Add(-2 * time.Second)}); !got.Equal(tool) {
		t.Errorf("a tool that waited for everything ends at %v, want its own end", got)
	}
	if got := measuredEnd(tool, Usage{LastDeleted: tool.Add(3 * time.Second)}); !got.Equal(tool.Add(3 * time.Second)) {
		t.Errorf("a tool returning before its servers are gone ends at %v, want the last deletion", got)
	}
}

func TestScaledClock_RunsInModelTime(t *testing.T) {
	c := newScaledClock(0.01)
	start := c.Now()
	wall := time.Now()
	if err := c.Sleep(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(wall); took > 2*time.Second {
		t.Errorf("5 model seconds at scale 0.01 took %s of wall time", took)
	}
	if model := c.Now().Sub(start); model < 5*time.Second {
		t.Errorf("the clock advanced %s over a 5 s sleep", model)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil {
		t.Error("a sleep under a cancelled context returned no error")
	}
}

func TestWriteDoc_RewritesOneSuiteAndKeepsTheOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	row := Row{Scenario: "scale-out 0→50", Tool: libraryTool, Floor: 160 * time.Second, Measured: 168 * time.Second,
		FirstServing: 40 * time.Second, Usage: Usage{Calls: 855, Cycles: 1, Peak: 70}, RSSKB: 17 * 1024}
	if err := WriteDoc(path, "compare", []Row{{Scenario: "scale-out 0→10", Tool: "eventscale", Floor: 40 * time.Second,
		Measured: 42 * time.Second}}, Options{CompareScale: 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := WriteDoc(path, "bench", []Row{row}, Options{Scale: 0.05}, time.Minute); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"# Benchmarks", "## Floors", "| scale-out 0→50 | library + adapters | 160.0 | 168.0 | 1.05 | 40.0 | 855 | 1 | 70 | 17 MB |",
		"| scale-out 0→10 | eventscale | 40.0 | 42.0 | 1.05 | — |", "time scale 0.05"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "Not run yet") {
		t.Errorf("a section that ran still says it did not:\n%s", doc)
	}
}

func TestCleanEnv_KeepsTheCallersCloudAndTerraformSettingsOut(t *testing.T) {
	env := cleanEnv([]string{"HOME=/root", "OS_CLOUD=production", "OS_PASSWORD=hunter2", "TF_CLI_ARGS=-lock=false",
		"EVENTSCALE_POLL_INTERVAL=1h", "PATH=/bin"}, map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/identity/v3"})
	got := strings.Join(env, " ")
	if got != "HOME=/root PATH=/bin OS_AUTH_URL=http://127.0.0.1:1/identity/v3" {
		t.Errorf("environment %q", got)
	}
}

func TestCompare_PairsTheProvidersRowsByScenario(t *testing.T) {
	peer := Peer("").Name
	rows := []Row{
		{Scenario: "scale-out 0→10", Tool: "eventscale", Measured: 40 * time.Second, FirstServing: 40 * time.Second, Usage: Usage{Calls: 200}},
		{Scenario: "scale-back 10→0", Tool: "eventscale", Measured: 200 * time.Second},
		{Scenario: "scale-out 0→10", Tool: peer, Measured: 120 * time.Second, FirstServing: 50 * time.Second, Usage: Usage{Calls: 300}},
	}
	cs := Compare(rows, "eventscale", peer)
	if len(cs) != 1 || cs[0].Scenario != "scale-out 0→10" {
		t.Fatalf("pairs %+v, want scale-out 0→10 alone (the peer has no scale-back row)", cs)
	}
	cells := cs[0].cells()
	if cells[1] != "3.00" || cells[2] != "1.25" || cells[3] != "1.50" {
		t.Errorf("peer over eventscale: time %s, first serving %s, calls %s; want 3.00, 1.25 and 1.50", cells[1], cells[2], cells[3])
	}
}

func TestPeakFromLog_TakesTheLargestPluginProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rss.log")
	if err := os.WriteFile(path, []byte("41000\n53210\n\n12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := peakFromLog(path); got != 53210 {
		t.Errorf("peak %d KiB, want 53210", got)
	}
	if got := peakFromLog(filepath.Join(t.TempDir(), "missing")); got != 0 {
		t.Errorf("peak of no log %d, want 0", got)
	}
}
