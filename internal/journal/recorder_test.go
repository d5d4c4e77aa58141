package journal_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// lockedBuffer is a bytes.Buffer the Recorder's goroutines may share with the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) entries(t *testing.T) []journal.Entry {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := journal.Read(bytes.NewReader(l.b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

type poolRun struct {
	cloud *scalingtest.Cloud
	buf   *lockedBuffer
	w     *journal.Writer
	nodes []scaling.Node
	stats journal.StatsFunc
}

// apply runs the real scaling library against its fakes, journalled by a Recorder.
func (r *poolRun) apply(t *testing.T, desired int, withPlan bool) error {
	t.Helper()
	const drain = 60 * time.Second
	r.cloud.LB.DrainTimeout = drain
	rec := journal.NewRecorder(r.w, journal.RecorderConfig{Resource: "eventscale_web_pool.web", Pool: "web", Clock: r.cloud.Clock,
		Stats: r.stats, StatsInterval: 10 * time.Second})
	opts := scaling.Options{DrainTimeout: drain, Progress: rec.Progress}
	p, err := scaling.New(scaling.Config{Spec: r.cloud.Spec("web", "img-1"), Options: opts,
		Compute: r.cloud.Compute, LB: r.cloud.LB, Clock: r.cloud.Clock, Known: r.nodes})
	if err != nil {
		t.Fatal(err)
	}
	if withPlan {
		rec.SetPlan(p.PlanFromState(r.nodes, desired))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec.Start(ctx, len(r.nodes), desired)
	nodes, err := p.Apply(ctx, desired)
	r.nodes = nodes
	rec.Finish(ctx, len(nodes), err)
	return err
}

func newPoolRun() *poolRun {
	buf := &lockedBuffer{}
	return &poolRun{cloud: scalingtest.NewCloud(), buf: buf, w: journal.NewWriter(buf)}
}

// life lists each node's events in order.
func life(es []journal.Entry) map[string][]journal.NodeEvent {
	out := map[string][]journal.NodeEvent{}
	for _, e := range es {
		if e.NodeEvent == "" {
			continue
		}
		for _, n := range e.AllNodes() {
			out[n] = append(out[n], e.NodeEvent)
		}
	}
	return out
}

func TestRecorder_JournalsEveryNodesLifeFromTheScalingLibrary(t *testing.T) {
	r := newPoolRun()
	r.cloud.Compute.FailBuild("web-02", "No valid host was found. There are not enough hosts available.")
	if err := r.apply(t, 3, false); err != nil {
		t.Fatal(err)
	}
	if err := r.apply(t, 1, true); err != nil {
		t.Fatal(err)
	}
	es := r.buf.entries(t)
	got := life(es)
	up := []journal.NodeEvent{journal.NodeCreated, journal.NodeActive, journal.NodeJoined, journal.NodeServing}
	down := []journal.NodeEvent{journal.NodeDrained, journal.NodeRemoved, journal.NodeDeleted}
	kept := map[string]bool{}
	for _, n := range r.nodes {
		kept[n.Name] = true
	}
	if len(kept) != 1 {
		t.Fatalf("%d nodes left, want 1", len(kept))
	}
	// Which two nodes go is the library's choice (newest first); each life must be whole.
	for _, node := range []string{"web-01", "web-02", "web-03"} {
		want := slices.Clone(up)
		if node == "web-02" {
			want = append([]journal.NodeEvent{journal.NodeCreated, journal.NodeError}, want...)
		}
		if !kept[node] {
			want = append(want, down...)
		}
		if !slices.Equal(got[node], want) {
			t.Errorf("%s: got %v\nwant %v", node, got[node], want)
		}
	}
	for _, e := range es {
		if e.NodeEvent == journal.NodeError && !strings.HasPrefix(e.Fault, "No valid host") {
			t.Errorf("fault of the ERROR entry: %q", e.Fault)
		}
		if (e.NodeEvent == journal.NodeCreated || e.NodeEvent == journal.NodeDeleted) && !strings.HasPrefix(e.ServerID, "srv-") {
			t.Errorf("%s entry without server id: %+v", e.NodeEvent, e)
		}
		if e.Resource != "eventscale_web_pool.web" || e.Pool != "web" {
			t.Errorf("entry without resource and pool: %+v", e)
		}
	}
}

func TestRecorder_StepIndexElapsedDrainCountdownAndNextFollowThePlan(t *testing.T) {
	r := newPoolRun()
	if err := r.apply(t, 3, false); err != nil {
		t.Fatal(err)
	}
	before := len(r.buf.entries(t))
	if err := r.apply(t, 1, true); err != nil {
		t.Fatal(err)
	}
	es := r.buf.entries(t)[before:]
	var steps []journal.Entry
	for _, e := range es {
		if e.Kind == journal.KindEvent {
			continue
		}
		if e.StepIndex == 0 || e.StepTotal != 10 {
			t.Fatalf("scale-back entry without its step: %+v", e)
		}
		if strings.HasPrefix(e.Message, "step ") {
			steps = append(steps, e)
		}
	}
	if len(steps) != 10 {
		t.Fatalf("%d step entries, want 10 (two nodes, five steps each)", len(steps))
	}
	// The library picks the victims (newest first); the journal names them in each step.
	victim, nextVictim := steps[0].Node, steps[5].Node
	if victim == "" || nextVictim == "" || victim == nextVictim {
		t.Fatalf("drained %q then %q", victim, nextVictim)
	}
	wantNext := []string{"wait 1m0s for " + victim + " to drain", "remove member(s) " + victim, "delete server(s) " + victim,
		"health gate after " + victim, "drain " + nextVictim}
	for i, w := range wantNext {
		if steps[i].Next != w || steps[i].StepIndex != i+1 {
			t.Errorf("step %d: index %d next %q, want %q", i+1, steps[i].StepIndex, steps[i].Next, w)
		}
	}
	if steps[9].Next != "end of the run" {
		t.Errorf("last step's next: %q", steps[9].Next)
	}
	var waits, removed []journal.Entry
	for _, e := range es {
		if e.Kind == journal.KindDrainWait && e.DrainLeft > 0 {
			waits = append(waits, e)
		}
		if e.NodeEvent == journal.NodeRemoved {
			removed = append(removed, e)
		}
	}
	if len(waits) != 2 || waits[0].Node != victim || waits[0].DrainLeft.Std() != time.Minute {
		t.Fatalf("drain waits: %+v", waits)
	}
	// Removing the member is the step after the wait: its elapsed time counts from its own start.
	if removed[0].Elapsed.Std() >= time.Minute || removed[0].StepIndex != 3 {
		t.Errorf("removal of %s: step %d, elapsed %s", victim, removed[0].StepIndex, removed[0].Elapsed)
	}
	first, last := es[0], es[len(es)-1]
	if first.Run == nil || first.Run.Outcome != journal.RunStarted || first.Run.From != 3 || first.Run.To != 1 {
		t.Errorf("first entry: %+v", first)
	}
	if last.Run == nil || last.Run.Outcome != journal.RunSucceeded || last.Run.Nodes != 1 || !strings.Contains(last.Message, "scale-back of web from 3 to 1 nodes done in ") {
		t.Errorf("last entry: %+v %s", last.Run, last.Message)
	}
}

func TestRecorder_NoNextOnceTheRunDepartsFromThePlan(t *testing.T) {
	r := newPoolRun()
	if err := r.apply(t, 3, false); err != nil {
		t.Fatal(err)
	}
	stale := r.nodes
	if err := r.apply(t, 2, false); err != nil {
		t.Fatal(err)
	}
	// A plan made from a state that no longer holds (three nodes, two exist).
	buf := &lockedBuffer{}
	r.buf, r.w = buf, journal.NewWriter(buf)
	p, err := scaling.New(scaling.Config{Spec: r.cloud.Spec("web", "img-1"), Compute: r.cloud.Compute, LB: r.cloud.LB, Clock: r.cloud.Clock})
	if err != nil {
		t.Fatal(err)
	}
	plan := p.PlanFromState(stale, 1)
	rec := journal.NewRecorder(r.w, journal.RecorderConfig{Pool: "web", Plan: plan, Clock: r.cloud.Clock})
	rec.Progress(scaling.Progress{At: r.cloud.Clock.Now(), Step: scaling.StepDrain, Nodes: []string{"web-02"},
		Message: "step 1/5: " + scaling.Step{Kind: scaling.StepDrain, Nodes: []string{"web-02"}, DrainMethod: scaling.DrainWeight, Reason: "scale in"}.String()})
	if es := buf.entries(t); es[0].Next != "" {
		t.Fatalf("next %q from a plan the run does not follow", es[0].Next)
	}
}

func TestRecorder_FinalErrorOfABuildIsJournalledFromTheRunsError(t *testing.T) {
	r := newPoolRun()
	r.cloud.Compute.FailBuild("web-02", "fault one", "fault two", "fault three")
	err := r.apply(t, 2, false)
	if err == nil {
		t.Fatal("the build of web-02 should have failed three times")
	}
	es := r.buf.entries(t)
	var faults []string
	for _, e := range es {
		if e.NodeEvent == journal.NodeError && e.Node == "web-02" {
			faults = append(faults, e.Fault)
		}
	}
	if !slices.Equal(faults, []string{"fault one", "fault two", "fault three"}) {
		t.Fatalf("faults journalled: %q", faults)
	}
	last := es[len(es)-1]
	if last.Run == nil || last.Run.Outcome != journal.RunFailed || !strings.Contains(last.Run.Error, "web-02 went to ERROR 3 time(s)") {
		t.Fatalf("last entry: %+v", last)
	}
}

func TestRecorder_PollsStatisticsWhileANodeDrainsAndSnapshotsTheScaleBack(t *testing.T) {
	buf := &lockedBuffer{}
	var calls atomic.Int64
	stats := func(ctx context.Context) (journal.LBStats, error) {
		n := calls.Add(1)
		if n == 3 {
			return journal.LBStats{}, errors.New("503 from Octavia")
		}
		return journal.LBStats{LoadBalancerID: "lb-1", ListenerID: "li-1", ActiveConnections: 40 - n, TotalConnections: 1000 + n}, nil
	}
	rec := journal.NewRecorder(journal.NewWriter(buf), journal.RecorderConfig{Pool: "web", Stats: stats, StatsInterval: 10 * time.Millisecond})
	ctx := context.Background()
	rec.Start(ctx, 2, 1)
	now := time.Now()
	rec.Progress(scaling.Progress{At: now, Step: scaling.StepDrainWait, Nodes: []string{"web-02"}, Message: "step 2/5: wait 150ms for open connections to web-02 to finish"})
	rec.Progress(scaling.Progress{At: now, Step: scaling.StepDrainWait, Nodes: []string{"web-02"}, Message: "waiting 150ms for open connections to web-02 to finish"})
	time.Sleep(250 * time.Millisecond)
	rec.Progress(scaling.Progress{At: time.Now(), Step: scaling.StepRemoveMembers, Nodes: []string{"web-02"}, Message: "step 3/5: remove member(s) web-02 from the pool"})
	rec.Finish(ctx, 1, nil)

	es := buf.entries(t)
	var drainStats, snapshots []journal.Entry
	for _, e := range es {
		if e.LBStats == nil {
			continue
		}
		if e.LBStats.Moment == journal.MomentDrain {
			drainStats = append(drainStats, e)
		} else {
			snapshots = append(snapshots, e)
		}
	}
	if len(snapshots) != 2 || snapshots[0].LBStats.Moment != journal.MomentScaleBackStart || snapshots[1].LBStats.Moment != journal.MomentScaleBackEnd {
		t.Fatalf("snapshots: %+v", snapshots)
	}
	// Wall time: a loaded machine may skip ticks, never add any.
	if len(drainStats) < 2 || len(drainStats) > 15 {
		t.Fatalf("%d statistics entries during a 150ms drain polled every 10ms", len(drainStats))
	}
	prev := time.Hour
	for _, e := range drainStats {
		c, ok := e.Connections()
		if e.Node != "web-02" || !ok || c <= 0 || e.ConnectionsScope != "listener" || e.StepIndex != 2 {
			t.Fatalf("drain statistics entry: %+v", e)
		}
		if e.DrainLeft.Std() > prev || e.DrainLeft.Std() > 150*time.Millisecond {
			t.Fatalf("drain countdown goes up: %s after %s", e.DrainLeft, prev)
		}
		prev = e.DrainLeft.Std()
	}
	// No statistics line of the drain after the step that follows it.
	for i, e := range es {
		if strings.HasPrefix(e.Message, "step 3/5") {
			for _, later := range es[i:] {
				if later.LBStats != nil && later.LBStats.Moment == journal.MomentDrain {
					t.Fatalf("drain statistics after the drain: %+v", later)
				}
			}
		}
	}
}

func TestRecorder_PollsStatisticsInThePoolsClockDuringEachDrain(t *testing.T) {
	r := newPoolRun()
	// The model clock jumps once every sleeper has been idle this long: long enough for
	// the poller to read and write between two of its sleeps on a loaded machine.
	r.cloud.Clock.Quiet = 25 * time.Millisecond
	if err := r.apply(t, 2, false); err != nil {
		t.Fatal(err)
	}
	start := r.cloud.Clock.Now()
	r.stats = func(context.Context) (journal.LBStats, error) {
		since := r.cloud.Clock.Now().Sub(start)
		return journal.LBStats{LoadBalancerID: "lb-1", ActiveConnections: max(0, 30-int64(since/(2*time.Second)))}, nil
	}
	before := len(r.buf.entries(t))
	if err := r.apply(t, 1, false); err != nil {
		t.Fatal(err)
	}
	var waitAt time.Time
	var left []time.Duration
	var moments []string
	for _, e := range r.buf.entries(t)[before:] {
		if e.Kind == journal.KindDrainWait && e.DrainLeft > 0 {
			waitAt = e.Time
		}
		if e.LBStats == nil {
			continue
		}
		moments = append(moments, e.LBStats.Moment)
		if e.LBStats.Moment == journal.MomentDrain {
			left = append(left, e.DrainLeft.Std())
			if e.Time.Sub(waitAt)+e.DrainLeft.Std() != time.Minute {
				t.Errorf("entry at +%s says %s left of a 1m drain", e.Time.Sub(waitAt), e.DrainLeft)
			}
		}
	}
	want := []time.Duration{50 * time.Second, 40 * time.Second, 30 * time.Second, 20 * time.Second, 10 * time.Second}
	if !slices.Equal(left, want) {
		t.Fatalf("drain left at each statistics read: %v, want %v", left, want)
	}
	if moments[0] != journal.MomentScaleBackStart || moments[len(moments)-1] != journal.MomentScaleBackEnd {
		t.Fatalf("moments %v", moments)
	}
}
