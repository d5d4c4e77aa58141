package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

var updateJournal = flag.Bool("update-journal", false, "record testdata/scaleback.jsonl again from the scaling library and its fakes")

// scaleBackJournal is a recorded scale-back of six nodes (12 to 6) under a steady load
// test, as the provider journals it: the scaling library runs against its in-memory
// cloud on model time, the Recorder writes its steps and polls listener statistics while
// each node drains, and a load test at 40 req/s writes its counts every five seconds.
const scaleBackJournal = "testdata/scaleback.jsonl"

// TestRecordScaleBackJournal records scaleBackJournal; it runs only with -update-journal.
func TestRecordScaleBackJournal(t *testing.T) {
	if !*updateJournal {
		t.Skip("records " + scaleBackJournal + " with -update-journal")
	}
	c := scalingtest.NewCloud()
	const drain = 60 * time.Second
	c.LB.DrainTimeout = drain
	pool := func(progress func(scaling.Progress), known []scaling.Node) *scaling.Pool {
		p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-spot-2026"), Compute: c.Compute, LB: c.LB, Clock: c.Clock, Known: known,
			Options: scaling.Options{DrainTimeout: drain, MaxParallel: 12, Progress: progress}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes, err := pool(nil, nil).Apply(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Create(filepath.FromSlash(scaleBackJournal))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := journal.NewWriter(f)

	// The steady load test starts a minute before the scale-back and runs ten minutes.
	var lt sync.WaitGroup
	lt.Add(1)
	go func() {
		defer lt.Done()
		steadyLoadTest(ctx, c.Clock, w)
	}()
	if err := c.Clock.Sleep(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var drainStart time.Time
	serving := 12
	stats := func(context.Context) (journal.LBStats, error) {
		mu.Lock()
		defer mu.Unlock()
		now := c.Clock.Now()
		active := int64(8 + 2*serving)
		if !drainStart.IsZero() {
			since := now.Sub(drainStart)
			active += max(0, 14-int64(14*since/drain))
		}
		return journal.LBStats{LoadBalancerID: c.LB.ID, ListenerID: "3f0c2a7e-listener", ActiveConnections: active,
			TotalConnections: 180400 + int64(now.Sub(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))/time.Second)*40,
			BytesIn:          52_100_000, BytesOut: 1_920_000_000, RequestErrors: 0}, nil
	}
	var rec *journal.Recorder
	progress := func(p scaling.Progress) {
		mu.Lock()
		switch {
		case strings.HasPrefix(p.Message, "waiting ") && p.Step == scaling.StepDrainWait:
			drainStart = p.At
		case strings.HasPrefix(p.Message, "member ") && strings.HasSuffix(p.Message, " removed"):
			drainStart, serving = time.Time{}, serving-1
		}
		mu.Unlock()
		rec.Progress(p)
	}
	p := pool(progress, nodes)
	rec = journal.NewRecorder(w, journal.RecorderConfig{Resource: "eventscale_web_pool.web", Pool: "web",
		Plan: p.PlanFromState(nodes, 6), Stats: stats, StatsInterval: 10 * time.Second, Clock: c.Clock})
	rec.Start(ctx, len(nodes), 6)
	nodes, err = p.Apply(ctx, 6)
	rec.Finish(ctx, len(nodes), err)
	if err != nil {
		t.Fatal(err)
	}
	lt.Wait()
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
}

// steadyLoadTest writes the journal of a 40 req/s, ten-minute load test on the model clock;
// two requests fail with a 502 in its sixth minute.
func steadyLoadTest(ctx context.Context, clock *scalingtest.Clock, w *journal.Writer) {
	const rate, length = 40, 10 * time.Minute
	started := clock.Now()
	base := journal.LoadTest{Label: "steady", Target: "https://shop.example/", Started: started, Nodes: 12,
		Rate: rate, Duration: journal.Duration(length), MaxP95: journal.Duration(250 * time.Millisecond)}
	failedBy := func(elapsed time.Duration) uint64 {
		switch {
		case elapsed >= 305*time.Second:
			return 2
		case elapsed >= 300*time.Second:
			return 1
		}
		return 0
	}
	for elapsed := 5 * time.Second; elapsed <= length; elapsed += 5 * time.Second {
		if clock.Sleep(ctx, 5*time.Second) != nil {
			return
		}
		e := base
		e.Running, e.Elapsed = true, journal.Duration(elapsed)
		e.Requests = uint64(rate * elapsed / time.Second)
		e.Successes = e.Requests - failedBy(elapsed)
		e.SuccessRatio = float64(e.Successes) / float64(e.Requests)
		entry := journal.LoadTestEntry("eventscale_load_test.steady", e)
		entry.Time = clock.Now()
		_ = w.Write(entry)
	}
	e := base
	e.Elapsed = journal.Duration(length + 180*time.Millisecond)
	e.Requests = rate * 600
	e.Successes = e.Requests - 2
	e.AchievedRate, e.Throughput, e.SuccessRatio = 40, 39.98, float64(e.Successes)/float64(e.Requests)
	e.P50, e.P95, e.P99, e.Max = journal.Duration(18*time.Millisecond), journal.Duration(61*time.Millisecond),
		journal.Duration(140*time.Millisecond), journal.Duration(1210*time.Millisecond)
	e.StatusCodes = map[string]int{"200": 23998, "502": 2}
	e.Passed = journal.Ptr(true)
	entry := journal.LoadTestEntry("eventscale_load_test.steady", e)
	entry.Time = clock.Now()
	_ = w.Write(entry)
}
