package main

import (
	"slices"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// state is what the journal has said so far, as the screen shows it.
type state struct {
	pools   []*poolView // in the order they first appear
	byPool  map[string]*poolView
	tests   []*testView
	byTest  map[string]*testView
	entries int
	last    journal.Entry
}

// poolView is one pool's current (or last) run.
type poolView struct {
	name string

	run      *journal.Run // the run's start; nil before any
	runStart time.Time
	outcome  string // "" while running, journal.RunSucceeded or journal.RunFailed
	runEnd   time.Time
	runError string

	index, total int
	step         string
	stepStart    time.Time
	next         string

	draining  []string
	drainEnd  time.Time // zero until the drain wait starts
	conns     *int64
	connScope string

	removed []string // servers deleted in this run, in order
	serving []string // nodes that began to serve in this run
	errors  map[string]int

	lastMessage string
	lastAt      time.Time
}

// testView is one load test, by resource and label.
type testView struct {
	lt journal.LoadTest
	at time.Time
}

func newState() *state {
	return &state{byPool: map[string]*poolView{}, byTest: map[string]*testView{}}
}

func (s *state) apply(e journal.Entry) {
	s.entries++
	s.last = e
	if e.LoadTest != nil {
		key := e.Resource + "\x00" + e.LoadTest.Label
		t := s.byTest[key]
		if t == nil {
			t = &testView{}
			s.byTest[key] = t
			s.tests = append(s.tests, t)
		}
		t.lt, t.at = *e.LoadTest, e.Time
		return
	}
	name := e.Pool
	if name == "" {
		name = e.Resource
	}
	if name == "" || !poolKind(e.Kind) {
		return
	}
	p := s.byPool[name]
	if p == nil {
		p = &poolView{name: name, errors: map[string]int{}}
		s.byPool[name] = p
		s.pools = append(s.pools, p)
	}
	p.apply(e)
}

// poolKind reports the kinds that belong to a pool's run; a capacity plan or a backup does not.
func poolKind(k journal.Kind) bool {
	switch k {
	case journal.KindLoadTest, journal.KindCapacityPlan, journal.KindPreflight, journal.KindBackup:
		return false
	}
	return true
}

func (p *poolView) apply(e journal.Entry) {
	if r := e.Run; r != nil {
		if r.Outcome == journal.RunStarted {
			*p = poolView{name: p.name, errors: map[string]int{}}
			run := *r
			p.run, p.runStart = &run, e.Time
		} else {
			p.outcome, p.runEnd, p.runError = r.Outcome, e.Time, r.Error
			p.draining, p.drainEnd, p.next = nil, time.Time{}, ""
		}
	}
	if e.StepIndex > 0 && (e.StepIndex != p.index || e.StepTotal != p.total) {
		p.index, p.total, p.step = e.StepIndex, e.StepTotal, e.Step
		p.stepStart = e.Time.Add(-e.Elapsed.Std())
		p.next = e.Next
	}
	nodes := e.AllNodes()
	switch e.NodeEvent {
	case journal.NodeDrained:
		p.draining, p.drainEnd = nodes, time.Time{}
	case journal.NodeRemoved, journal.NodeRestored:
		p.draining = without(p.draining, nodes)
		if len(p.draining) == 0 {
			p.drainEnd, p.conns = time.Time{}, nil
		}
	case journal.NodeDeleted:
		p.removed = append(p.removed, nodes...)
	case journal.NodeServing:
		p.serving = append(p.serving, nodes...)
	case journal.NodeError:
		for _, n := range nodes {
			p.errors[n]++
		}
	}
	if e.Kind == journal.KindDrainWait && e.DrainLeft > 0 {
		p.draining, p.drainEnd = nodes, e.Time.Add(e.DrainLeft.Std())
	}
	if c, ok := e.Connections(); ok {
		p.conns, p.connScope = &c, e.ConnectionsScope
		if e.LBStats != nil && e.LBStats.Moment == journal.MomentDrain && e.DrainLeft > 0 {
			p.drainEnd = e.Time.Add(e.DrainLeft.Std())
		}
	}
	p.lastMessage, p.lastAt = e.Message, e.Time
}

// done is the number of finished steps.
func (p *poolView) done() int {
	switch {
	case p.total == 0:
		return 0
	case p.outcome == journal.RunSucceeded:
		return p.total
	}
	return p.index - 1
}

func without(from, drop []string) []string {
	var out []string
	for _, n := range from {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

// who names the pool or resource of an entry in a plain line.
func who(e journal.Entry) string {
	switch {
	case e.Pool != "":
		return e.Pool
	case e.Resource != "":
		if i := strings.LastIndexByte(e.Resource, '.'); i >= 0 {
			return e.Resource[i+1:]
		}
		return e.Resource
	}
	return "-"
}
