package review

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// Timeline is the pool's size over time and the load tests and scale-backs on it.
type Timeline struct {
	Start, End time.Time
	Servers    []Point // managed servers that exist
	Serving    []Point // managed members in service
	Tests      []Span
	ScaleBacks []Span

	// peakServers and peakServing are the most at any moment, counted event by event: the
	// points keep one count per instant, and events recorded within one second (Nova's records
	// are to the second) may rise and fall again at a single instant.
	peakServers, peakServing int
}

// Point is a count from At on.
type Point struct {
	At time.Time
	N  int
}

// Span is an interval on the timeline.
type Span struct {
	Label      string
	Start, End time.Time
	Failed     bool
}

// At returns the count in force at t (the last point at or before t).
func at(series []Point, t time.Time) int {
	n := 0
	for _, p := range series {
		if p.At.After(t) {
			break
		}
		n = p.N
	}
	return n
}

// Build computes the review from journal entries (in any order).
func Build(entries []journal.Entry, src Source) *Review {
	es := slices.Clone(entries)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
	r := &Review{Title: "Event review", Source: src}
	if len(es) == 0 {
		r.Findings = findings(r)
		r.ToFix = toFix(r.Findings)
		return r
	}
	r.Start, r.End = es[0].Time, es[len(es)-1].Time
	pools := map[string]bool{}
	for _, e := range es {
		if e.Pool != "" && !pools[e.Pool] {
			pools[e.Pool] = true
			r.Pools = append(r.Pools, e.Pool)
		}
		if strings.HasPrefix(e.Resource, "eventscale_event.") && r.Title == "Event review" {
			r.Title = "Review of " + strings.TrimPrefix(e.Resource, "eventscale_event.")
		}
	}
	lives := nodeLives(es)
	r.Nodes = lives
	r.Timeline = timeline(es, lives)
	r.MaxServers, r.MaxServing = r.Timeline.peakServers, r.Timeline.peakServing
	for _, p := range r.Timeline.Servers {
		r.MaxServers = max(r.MaxServers, p.N)
	}
	for _, p := range r.Timeline.Serving {
		r.MaxServing = max(r.MaxServing, p.N)
	}
	series := loadTestSeries(es)
	r.LoadTests = loadTests(es, r.Timeline)
	for _, lt := range r.LoadTests {
		r.Timeline.Tests = append(r.Timeline.Tests, Span{Label: lt.Test.Name(), Start: lt.Start, End: lt.At, Failed: !lt.Passed})
	}
	for _, e := range es {
		switch {
		case e.CapacityPlan != nil:
			cp := *e.CapacityPlan
			r.Plan, r.PlanAt = &cp, e.Time
		case e.Backup != nil:
			r.Backups = upsertBackup(r.Backups, *e.Backup)
		}
	}
	r.Preflights = preflights(es)
	r.Runs = runs(es)
	r.ScaleBacks = scaleBacks(es, r.Runs, lives, series)
	for _, sb := range r.ScaleBacks {
		r.Timeline.ScaleBacks = append(r.Timeline.ScaleBacks, Span{Label: "scale-back " + sb.Pool, Start: sb.Start, End: sb.End, Failed: sb.Outcome != journal.RunSucceeded})
	}
	r.Findings = findings(r)
	r.ToFix = toFix(r.Findings)
	return r
}

func nodeLives(es []journal.Entry) []NodeLife {
	cur := map[string]*NodeLife{}
	var all []*NodeLife
	for _, e := range es {
		if e.NodeEvent == "" {
			continue
		}
		for _, name := range e.AllNodes() {
			key := e.Pool + "\x00" + name
			l := cur[key]
			if l == nil || (!l.Deleted.IsZero() && e.NodeEvent == journal.NodeCreated) {
				l = &NodeLife{Pool: e.Pool, Name: name}
				cur[key] = l
				all = append(all, l)
			}
			if e.ServerID != "" && !slices.Contains(l.ServerIDs, e.ServerID) {
				l.ServerIDs = append(l.ServerIDs, e.ServerID)
			}
			first := func(t *time.Time) {
				if t.IsZero() {
					*t = e.Time
				}
			}
			switch e.NodeEvent {
			case journal.NodeCreated:
				first(&l.Created)
			case journal.NodeActive:
				first(&l.Active)
			case journal.NodeError:
				l.Errors++
				if e.Fault != "" {
					l.Faults = append(l.Faults, e.Fault)
				}
			case journal.NodeJoined:
				first(&l.Joined)
			case journal.NodeServing:
				first(&l.Serving)
			case journal.NodeDrained:
				l.Drained = e.Time
			case journal.NodeRestored:
				l.Restored++
			case journal.NodeRemoved:
				l.Removed = e.Time
			case journal.NodeDeleted:
				l.Deleted = e.Time
			}
		}
	}
	out := make([]NodeLife, len(all))
	for i, l := range all {
		out[i] = *l
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pool != out[j].Pool {
			return out[i].Pool < out[j].Pool
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// timeline counts servers and members in service over time. Nodes that existed before
// the first entry (the journal begins mid-event) count from the start; so do nodes the
// journal never mentions but a run's start or end counts in service.
func timeline(es []journal.Entry, lives []NodeLife) Timeline {
	t := Timeline{Start: es[0].Time, End: es[len(es)-1].Time}
	type counts struct {
		servers, serving int
		sPoints, vPoints []Point
		inService        map[string]bool
	}
	pools := map[string]*counts{}
	var order []string
	pool := func(name string) *counts {
		c := pools[name]
		if c == nil {
			c = &counts{inService: map[string]bool{}}
			pools[name] = c
			order = append(order, name)
		}
		return c
	}
	for _, l := range lives {
		c := pool(l.Pool)
		if l.Created.IsZero() {
			c.servers++
		}
		if l.Created.IsZero() && l.Serving.IsZero() && l.Joined.IsZero() && !l.Drained.IsZero() {
			c.serving++
			c.inService[l.Name] = true
		}
	}
	for _, c := range pools {
		c.sPoints = []Point{{At: t.Start, N: c.servers}}
		c.vPoints = []Point{{At: t.Start, N: c.serving}}
	}
	raise := func(ps []Point, d int) {
		for i := range ps {
			ps[i].N += d
		}
	}
	for _, e := range es {
		switch {
		case e.Run != nil && (e.Pool != "" || e.Resource != ""):
			name := e.Pool
			if name == "" {
				name = e.Resource
			}
			c := pool(name)
			if c.sPoints == nil {
				c.sPoints, c.vPoints = []Point{{At: t.Start}}, []Point{{At: t.Start}}
			}
			// The provider's count is the truth: what the journal did not see existed all along.
			if d := e.Run.Nodes - c.serving; d > 0 {
				raise(c.vPoints, d)
				c.serving += d
			}
			if d := c.serving - c.servers; d > 0 {
				raise(c.sPoints, d)
				c.servers += d
			}
		case e.NodeEvent != "":
			c := pool(e.Pool)
			if c.sPoints == nil {
				c.sPoints, c.vPoints = []Point{{At: t.Start}}, []Point{{At: t.Start}}
			}
			for _, name := range e.AllNodes() {
				switch e.NodeEvent {
				case journal.NodeCreated:
					c.servers++
				case journal.NodeError, journal.NodeDeleted:
					// The scaling library deletes a server that went to ERROR before building another.
					c.servers = max(0, c.servers-1)
				case journal.NodeServing, journal.NodeRestored:
					if !c.inService[name] {
						c.inService[name] = true
						c.serving++
					}
				case journal.NodeDrained, journal.NodeRemoved:
					if c.inService[name] {
						delete(c.inService, name)
						c.serving--
					}
				}
			}
		default:
			continue
		}
		servers, serving := 0, 0
		for _, c := range pools {
			if c.sPoints == nil {
				continue
			}
			c.sPoints = appendPoint(c.sPoints, e.Time, c.servers)
			c.vPoints = appendPoint(c.vPoints, e.Time, c.serving)
			servers, serving = servers+c.servers, serving+c.serving
		}
		t.peakServers, t.peakServing = max(t.peakServers, servers), max(t.peakServing, serving)
	}
	// The pools' counts added up, at every moment one of them changed.
	var moments []time.Time
	for _, name := range order {
		for _, p := range append(slices.Clone(pools[name].sPoints), pools[name].vPoints...) {
			moments = append(moments, p.At)
		}
	}
	sort.Slice(moments, func(i, j int) bool { return moments[i].Before(moments[j]) })
	moments = slices.CompactFunc(moments, func(a, b time.Time) bool { return a.Equal(b) })
	if len(moments) == 0 {
		moments = []time.Time{t.Start}
	}
	for _, m := range moments {
		s, v := 0, 0
		for _, name := range order {
			s += at(pools[name].sPoints, m)
			v += at(pools[name].vPoints, m)
		}
		t.Servers = appendPoint(t.Servers, m, s)
		t.Serving = appendPoint(t.Serving, m, v)
	}
	return t
}

// appendPoint adds a count at t, replacing one at the same moment and skipping a repeat.
func appendPoint(ps []Point, t time.Time, n int) []Point {
	if len(ps) > 0 {
		last := &ps[len(ps)-1]
		if last.At.Equal(t) {
			last.N = n
			return ps
		}
		if last.N == n {
			return ps
		}
	}
	return append(ps, Point{At: t, N: n})
}

// testPoint is a load test's cumulative counts at a moment.
type testPoint struct {
	At       time.Time
	Requests uint64
	Failed   uint64
}

// testSeries is one load test's counts over time, its result last.
type testSeries struct {
	Name   string
	Start  time.Time
	Points []testPoint
}

func (s testSeries) end() time.Time { return s.Points[len(s.Points)-1].At }

// counts returns the cumulative counts at t: nothing before the test started.
func (s testSeries) counts(t time.Time) testPoint {
	var p testPoint
	for _, q := range s.Points {
		if q.At.After(t) {
			break
		}
		p = q
	}
	return p
}

func testKey(e journal.Entry) string { return e.Resource + "\x00" + e.LoadTest.Label }

func loadTestSeries(es []journal.Entry) []testSeries {
	open := map[string]*testSeries{}
	var out []*testSeries
	for _, e := range es {
		lt := e.LoadTest
		if lt == nil {
			continue
		}
		s := open[testKey(e)]
		if s == nil {
			start := lt.Started
			if start.IsZero() {
				start = e.Time.Add(-lt.Elapsed.Std())
			}
			s = &testSeries{Name: lt.Name(), Start: start, Points: []testPoint{{At: start}}}
			open[testKey(e)] = s
			out = append(out, s)
		}
		s.Points = append(s.Points, testPoint{At: e.Time, Requests: lt.Requests, Failed: lt.Failed()})
		if !lt.Running {
			delete(open, testKey(e)) // the next entry of this label is another run
		}
	}
	res := make([]testSeries, len(out))
	for i, s := range out {
		res[i] = *s
	}
	return res
}

func loadTests(es []journal.Entry, tl Timeline) []LoadTestRow {
	var rows []LoadTestRow
	for _, e := range es {
		lt := e.LoadTest
		if lt == nil || lt.Running {
			continue
		}
		row := LoadTestRow{Resource: e.Resource, At: e.Time, Start: lt.Started, Test: *lt, Nodes: lt.Nodes}
		if row.Start.IsZero() {
			row.Start = e.Time.Add(-lt.Elapsed.Std())
		}
		if row.Nodes == 0 {
			row.Nodes = at(tl.Serving, row.Start.Add(e.Time.Sub(row.Start)/2))
		}
		rate := lt.AchievedRate
		if rate == 0 {
			rate = lt.Rate
		}
		if row.Nodes > 0 {
			row.PerNode = rate / float64(row.Nodes)
		}
		row.Passed = (lt.Passed == nil || *lt.Passed) && lt.SuccessRatio >= 0.99
		rows = append(rows, row)
	}
	return rows
}

func upsertBackup(bs []journal.Backup, b journal.Backup) []journal.Backup {
	for i := range bs {
		if bs[i].ID == b.ID {
			bs[i] = b
			return bs
		}
	}
	return append(bs, b)
}

func preflights(es []journal.Entry) []PreflightRow {
	byKey := map[string]*PreflightRow{}
	var order []string
	for _, e := range es {
		if e.Preflight == nil {
			continue
		}
		for _, c := range e.Preflight.Checks {
			row := byKey[c.Key()]
			if row == nil {
				row = &PreflightRow{FirstLimit: c.Limit}
				byKey[c.Key()] = row
				order = append(order, c.Key())
			} else if !row.Check.Fits() {
				row.WasShort = true
			}
			row.Check, row.At = c, e.Time
			row.Raised = row.Raised || (row.FirstLimit >= 0 && (c.Limit < 0 || c.Limit > row.FirstLimit))
		}
	}
	out := make([]PreflightRow, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out
}

func runs(es []journal.Entry) []RunRow {
	open := map[string]int{}
	var out []RunRow
	for _, e := range es {
		if e.Run == nil {
			continue
		}
		pool := e.Pool
		if pool == "" {
			pool = e.Resource
		}
		if e.Run.Outcome == journal.RunStarted {
			open[pool] = len(out)
			out = append(out, RunRow{Pool: pool, Start: e.Time, From: e.Run.From, To: e.Run.To, InService: e.Run.Nodes})
			continue
		}
		i, ok := open[pool]
		if !ok {
			// The journal begins after the run started.
			i = len(out)
			out = append(out, RunRow{Pool: pool, From: e.Run.From, To: e.Run.To})
		}
		delete(open, pool)
		out[i].End, out[i].Outcome, out[i].Error, out[i].InService = e.Time, e.Run.Outcome, e.Run.Error, e.Run.Nodes
	}
	last := es[len(es)-1].Time
	for _, i := range open {
		out[i].End, out[i].Outcome = last, "unfinished"
	}
	return out
}

func scaleBacks(es []journal.Entry, rs []RunRow, lives []NodeLife, series []testSeries) []ScaleBack {
	var out []ScaleBack
	for _, run := range rs {
		if run.To >= run.From {
			continue
		}
		sb := ScaleBack{Pool: run.Pool, Start: run.Start, End: run.End, From: run.From, To: run.To,
			InService: run.InService, Outcome: run.Outcome, Error: run.Error}
		if sb.Start.IsZero() {
			sb.Start = es[0].Time
		}
		in := func(t time.Time) bool { return !t.Before(sb.Start) && !t.After(sb.End) }
		type removal struct {
			name string
			at   time.Time
		}
		var removed []removal
		for _, l := range lives {
			if l.Pool == run.Pool && !l.Deleted.IsZero() && in(l.Deleted) {
				removed = append(removed, removal{l.Name, l.Deleted})
			}
		}
		sort.SliceStable(removed, func(i, j int) bool { return removed[i].at.Before(removed[j].at) })
		for _, x := range removed {
			sb.Removed = append(sb.Removed, x.name)
		}
		for _, e := range es {
			if !in(e.Time) || (e.Pool != run.Pool && e.Resource != run.Pool) {
				continue
			}
			if s := e.LBStats; s != nil {
				if s.Moment == journal.MomentScaleBackStart && sb.StatsStart == nil {
					c := *s
					sb.StatsStart = &c
				}
				if s.Moment == journal.MomentScaleBackEnd {
					c := *s
					sb.StatsEnd = &c
				}
			}
			if e.Kind == journal.KindHealthGate && strings.HasPrefix(e.Message, "health gate: waiting") {
				sb.HealthWaits++
			}
		}
		for _, s := range series {
			if s.end().Before(sb.Start) || s.Start.After(sb.End) {
				continue
			}
			sb.Covered = true
			before, after := s.counts(sb.Start), s.counts(sb.End)
			sb.Failed += after.Failed - before.Failed
			sb.Requests += after.Requests - before.Requests
			prev := before
			for _, p := range s.Points {
				if !in(p.At) || p.At.Equal(sb.Start) {
					continue
				}
				if p.Failed > prev.Failed && (sb.FirstFail.IsZero() || p.At.Before(sb.FirstFail)) {
					sb.FirstFail = p.At
				}
				prev = p
			}
		}
		if !sb.FirstFail.IsZero() {
			sb.FailStep = stepAt(es, run.Pool, sb.FirstFail)
		}
		out = append(out, sb)
	}
	return out
}

// stepAt is the step the pool was in at t, in words.
func stepAt(es []journal.Entry, pool string, t time.Time) string {
	step := ""
	for _, e := range es {
		if e.Time.After(t) {
			break
		}
		if e.Pool == pool && e.StepIndex > 0 {
			step = "step " + itoa(e.StepIndex) + "/" + itoa(e.StepTotal) + ": " + e.Step
		}
	}
	return step
}
