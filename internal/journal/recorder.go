package journal

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// StatsFunc reads Octavia's statistics of the pool's load balancer (GET
// /v2/lbaas/loadbalancers/{id}/stats) or of its listener (/v2/lbaas/listeners/{id}/stats).
type StatsFunc func(ctx context.Context) (LBStats, error)

// RecorderConfig is what NewRecorder needs.
type RecorderConfig struct {
	Resource string // Terraform address of the pool, e.g. eventscale_web_pool.web
	Pool     string // the pool's name
	// Plan is the plan the run is expected to follow (Pool.PlanFromState before Apply). It
	// gives each entry its "next" while the run's steps match it; without it, or once the
	// run departs from it, entries carry no "next".
	Plan []scaling.Step
	// Stats, when set, is read at the start and the end of a scale-back and every
	// StatsInterval while a node drains, so the journal shows the connections fall.
	Stats         StatsFunc
	StatsInterval time.Duration // default 5s
	StatsTimeout  time.Duration // bound on one read; default 10s
	// Clock times the statistics reads and stamps the entries the Recorder makes itself;
	// the pool's clock, so that tests run in model time. Default: the wall clock.
	Clock scaling.Clock
}

// Recorder turns one scaling run's Progress into journal entries: the step index and
// total, the time spent in the step, the drain countdown, what comes next and each node's
// life (created, ACTIVE, ERROR, joined, serving, drained, removed, deleted).
//
// The scaling library reports its steps as sentences; the Recorder reads the structure
// back from them. Recorder_test runs the library against its fakes to keep the two in step.
type Recorder struct {
	w   *Writer
	cfg RecorderConfig

	mu        sync.Mutex
	ctx       context.Context
	started   time.Time
	run       Run
	index     int
	total     int
	step      string
	stepAt    time.Time
	next      string
	planValid bool

	pollStop context.CancelFunc
	pollDone chan struct{}
}

// NewRecorder returns a Recorder writing to w (nil: it writes nothing).
func NewRecorder(w *Writer, cfg RecorderConfig) *Recorder {
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 5 * time.Second
	}
	if cfg.StatsTimeout <= 0 {
		cfg.StatsTimeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = scaling.WallClock{}
	}
	return &Recorder{w: w, cfg: cfg, ctx: context.Background(), planValid: true}
}

// SetPlan gives the Recorder the plan the run is expected to follow (see
// RecorderConfig.Plan), once the pool that computes it exists.
func (r *Recorder) SetPlan(steps []scaling.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg.Plan, r.planValid = steps, true
}

// Start records the start of a run: from nodes in service to to nodes. A scale-back also
// gets a statistics snapshot. ctx bounds the statistics reads of the whole run.
func (r *Recorder) Start(ctx context.Context, from, to int) {
	r.mu.Lock()
	r.ctx = ctx
	r.index, r.total, r.step, r.next = 0, 0, "", ""
	r.started = r.cfg.Clock.Now()
	r.run = Run{Outcome: RunStarted, From: from, To: to, Nodes: from}
	run, started := r.run, r.started
	r.mu.Unlock()
	what := "scaling"
	if to < from {
		what = "scale-back of"
	}
	r.write(Entry{Time: started, Kind: KindEvent, Run: &run,
		Message: fmt.Sprintf("%s %s from %d to %d nodes started", what, r.poolName(), from, to)})
	if to < from {
		r.snapshot(ctx, MomentScaleBackStart)
	}
}

// Progress is the scaling.Options.Progress callback. The library serialises its calls.
func (r *Recorder) Progress(p scaling.Progress) {
	r.stopPolling()
	e := Entry{Time: p.At, Kind: Kind(p.Step), Message: p.Message}
	setNodes(&e, p.Nodes)

	r.mu.Lock()
	if m := reStep.FindStringSubmatch(p.Message); m != nil {
		r.index, _ = strconv.Atoi(m[1])
		r.total, _ = strconv.Atoi(m[2])
		r.step, r.stepAt = m[3], p.At
		r.next = r.nextStep(r.index, r.total, r.step)
	}
	if r.index > 0 {
		e.StepIndex, e.StepTotal, e.Step, e.Next = r.index, r.total, r.step, r.next
		e.Elapsed = Duration(p.At.Sub(r.stepAt))
	}
	r.mu.Unlock()

	r.readNodeEvent(&e, p)
	var drainLeft time.Duration
	if m := reDrainWait.FindStringSubmatch(p.Message); m != nil && e.Kind == KindDrainWait {
		if d, err := time.ParseDuration(m[1]); err == nil {
			drainLeft = d
			e.DrainLeft = Duration(d)
		}
	}
	r.write(e)
	if drainLeft > 0 && r.cfg.Stats != nil {
		r.startPolling(e, drainLeft)
	}
}

// Finish records the end of the run: the final statistics of a scale-back, a server that
// went to ERROR for the last time (the library reports that one only in its error), and
// the outcome with the nodes in service.
func (r *Recorder) Finish(ctx context.Context, inService int, err error) {
	r.stopPolling()
	r.mu.Lock()
	run := r.run
	started := r.started
	r.mu.Unlock()
	if run.ScaleBack() {
		r.snapshot(ctx, MomentScaleBackEnd)
	}
	if err != nil {
		for _, m := range reFinalError.FindAllStringSubmatch(err.Error(), -1) {
			r.write(Entry{Kind: KindCreate, Node: m[1], ServerID: m[3], NodeEvent: NodeError, Fault: strings.TrimSpace(m[4]),
				Message: fmt.Sprintf("server %s (%s) went to ERROR (Nova fault: %s), attempt %s: no attempt left", m[1], m[3], strings.TrimSpace(m[4]), m[2])})
		}
	}
	run.Nodes = inService
	what := "scaling"
	if run.ScaleBack() {
		what = "scale-back of"
	}
	took := ""
	if !started.IsZero() {
		took = " in " + r.cfg.Clock.Now().Sub(started).Round(time.Second).String()
	}
	e := Entry{Kind: KindEvent, Run: &run}
	if err != nil {
		run.Outcome, run.Error = RunFailed, err.Error()
		e.Message = fmt.Sprintf("%s %s from %d to %d nodes failed%s, %s in service: %v", what, r.poolName(), run.From, run.To, took, plural(inService, "node"), err)
	} else {
		run.Outcome = RunSucceeded
		e.Message = fmt.Sprintf("%s %s from %d to %d nodes done%s, %s in service", what, r.poolName(), run.From, run.To, took, plural(inService, "node"))
	}
	r.write(e)
}

func (r *Recorder) poolName() string {
	if r.cfg.Pool != "" {
		return r.cfg.Pool
	}
	return r.cfg.Resource
}

func (r *Recorder) write(e Entry) {
	e.Resource, e.Pool = r.cfg.Resource, r.cfg.Pool
	if e.Time.IsZero() {
		e.Time = r.cfg.Clock.Now()
	}
	// A journal that cannot be written must not stop the scaling: the Writer keeps the
	// error for the provider to report once.
	_ = r.w.Write(e)
}

// nextStep is the plan's step after index, while the run follows the plan.
func (r *Recorder) nextStep(index, total int, step string) string {
	plan := r.cfg.Plan
	if !r.planValid || len(plan) != total || index < 1 || index > total || plan[index-1].String() != step {
		r.planValid = false
		return ""
	}
	if index == total {
		return "end of the run"
	}
	return StepBrief(plan[index])
}

func (r *Recorder) snapshot(ctx context.Context, moment string) {
	if r.cfg.Stats == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, r.cfg.StatsTimeout)
	defer cancel()
	s, err := r.cfg.Stats(sctx)
	if err != nil {
		r.write(NoteEntry("", fmt.Sprintf("load balancer statistics (%s) could not be read: %v", moment, err)))
		return
	}
	s.Moment = moment
	r.write(LBStatsEntry("", s))
}

// startPolling reads the statistics every StatsInterval until the drain wait of from ends.
func (r *Recorder) startPolling(from Entry, left time.Duration) {
	r.mu.Lock()
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	r.pollStop, r.pollDone = cancel, done
	r.mu.Unlock()
	end := from.Time.Add(left)
	go func() {
		defer close(done)
		for {
			if r.cfg.Clock.Sleep(ctx, r.cfg.StatsInterval) != nil {
				return
			}
			now := r.cfg.Clock.Now()
			if !now.Before(end) {
				return
			}
			sctx, scancel := context.WithTimeout(ctx, r.cfg.StatsTimeout)
			s, err := r.cfg.Stats(sctx)
			scancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				continue // the next tick tries again; the drain goes on regardless
			}
			s.Moment = MomentDrain
			e := LBStatsEntry("", s)
			e.Time = r.cfg.Clock.Now()
			e.Node, e.Nodes = from.Node, from.Nodes
			e.StepIndex, e.StepTotal, e.Step, e.Next = from.StepIndex, from.StepTotal, from.Step, from.Next
			e.Elapsed = Duration(time.Duration(from.Elapsed) + e.Time.Sub(from.Time))
			if l := end.Sub(e.Time); l > 0 {
				e.DrainLeft = Duration(l)
			}
			e.Message = fmt.Sprintf("draining %s: %s left, %s", strings.Join(e.AllNodes(), ", "), clock(end.Sub(e.Time)), s.Sentence())
			r.write(e)
		}
	}()
}

// stopPolling ends the statistics reads of the previous drain wait and waits for them, so
// that no statistics line comes after the step that follows.
func (r *Recorder) stopPolling() {
	r.mu.Lock()
	stop, done := r.pollStop, r.pollDone
	r.pollStop, r.pollDone = nil, nil
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

func setNodes(e *Entry, nodes []string) {
	if len(nodes) == 1 {
		e.Node = nodes[0]
	} else if len(nodes) > 1 {
		e.Nodes = append([]string(nil), nodes...)
	}
}

// The scaling library's sentences that carry structure (see drain.go, scaleout.go, execute.go).
var (
	reStep       = regexp.MustCompile(`^step (\d+)/(\d+): (.*)$`)
	reCreated    = regexp.MustCompile(`^server (\S+) created \(([^)]+)\), building$`)
	reAdopted    = regexp.MustCompile(`^create of (\S+) answered with an error but the server exists \(([^)]+)\): adopting it$`)
	reActive     = regexp.MustCompile(`^server (\S+) \(([^)]+)\) is ACTIVE`)
	reError      = regexp.MustCompile(`^server (\S+) \(([^)]+)\) went to ERROR \(Nova fault: (.*)\): deleted, creating it again`)
	reJoined     = regexp.MustCompile(`^member update sent for `)
	reHealthy    = regexp.MustCompile(`^\d+ of \d+ member\(s\) healthy$`)
	reDrained    = regexp.MustCompile(`^member (\S+) \(([^)]+)\) drained`)
	reDrainWait  = regexp.MustCompile(`^waiting (\S+) for open connections to (.+) to finish$`)
	reRemoved    = regexp.MustCompile(`^member (\S+) removed$`)
	reDeleted    = regexp.MustCompile(`^server (\S+) \(([^)]+)\) deleted$`)
	reRestored   = regexp.MustCompile(`^member (\S+) \(([^)]+)\) back in service$`)
	reFinalError = regexp.MustCompile(`server (\S+) went to ERROR (\d+) time\(s\), last as (\S+) with Nova fault: ([^;\n]*)`)
)

func (r *Recorder) readNodeEvent(e *Entry, p scaling.Progress) {
	msg := p.Message
	set := func(ev NodeEvent, m []string) {
		e.NodeEvent = ev
		e.ServerID = m[2] // the server id in every sentence set is called for
	}
	switch {
	case reStep.MatchString(msg):
	case e.Kind == KindCreate && reCreated.MatchString(msg):
		set(NodeCreated, reCreated.FindStringSubmatch(msg))
	case e.Kind == KindCreate && reAdopted.MatchString(msg):
		set(NodeCreated, reAdopted.FindStringSubmatch(msg))
	case reActive.MatchString(msg):
		set(NodeActive, reActive.FindStringSubmatch(msg))
	case reError.MatchString(msg):
		m := reError.FindStringSubmatch(msg)
		set(NodeError, m)
		e.Fault = m[3]
	case e.Kind == KindJoin && reJoined.MatchString(msg):
		e.NodeEvent = NodeJoined
	case e.Kind == KindWaitOnline && reHealthy.MatchString(msg):
		e.NodeEvent = NodeServing
	case e.Kind == KindDrain && reDrained.MatchString(msg):
		e.NodeEvent = NodeDrained
	case e.Kind == KindRemoveMembers && reRemoved.MatchString(msg):
		e.NodeEvent = NodeRemoved
	case e.Kind == KindDelete && reDeleted.MatchString(msg):
		set(NodeDeleted, reDeleted.FindStringSubmatch(msg))
	case e.Kind == KindRestore && reRestored.MatchString(msg):
		e.NodeEvent = NodeRestored
	}
}

// StepBrief says a step in a few words, for "next: ...".
func StepBrief(s scaling.Step) string {
	names := briefNames(s.Nodes)
	switch s.Kind {
	case scaling.StepRemoveOrphans:
		return "remove orphan member(s) " + names
	case scaling.StepDelete:
		return "delete server(s) " + names
	case scaling.StepRestore:
		return "put " + names + " back in service"
	case scaling.StepCreate:
		return fmt.Sprintf("create %d server(s) %s", len(s.Nodes), names)
	case scaling.StepJoin:
		return "join " + names
	case scaling.StepWaitOnline:
		return "wait until " + names + " serve"
	case scaling.StepRebootCheck:
		return "reboot " + names
	case scaling.StepDrain:
		return "drain " + names
	case scaling.StepDrainWait:
		return fmt.Sprintf("wait %s for %s to drain", s.DrainTimeout, names)
	case scaling.StepRemoveMembers:
		return "remove member(s) " + names
	case scaling.StepHealthGate:
		return "health gate after " + names
	}
	return string(s.Kind) + " " + names
}

func briefNames(ns []string) string {
	if len(ns) > 3 {
		return ns[0] + " … " + ns[len(ns)-1]
	}
	return strings.Join(ns, ", ")
}

// plural writes "1 node", "2 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
