package review

import (
	"fmt"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// event writes a journal the way the provider would, with figures the test chooses.
type event struct {
	t  time.Time
	es []journal.Entry
}

func newEvent() *event { return &event{t: time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)} }

func (ev *event) wait(d time.Duration) *event { ev.t = ev.t.Add(d); return ev }

func (ev *event) add(e journal.Entry) *event {
	e.Time = ev.t
	ev.es = append(ev.es, e)
	return ev
}

func (ev *event) node(name string, ne journal.NodeEvent, server, fault string) *event {
	kind := map[journal.NodeEvent]journal.Kind{journal.NodeCreated: journal.KindCreate, journal.NodeActive: journal.KindCreate,
		journal.NodeError: journal.KindCreate, journal.NodeJoined: journal.KindJoin, journal.NodeServing: journal.KindWaitOnline,
		journal.NodeDrained: journal.KindDrain, journal.NodeRemoved: journal.KindRemoveMembers, journal.NodeDeleted: journal.KindDelete}[ne]
	return ev.add(journal.Entry{Kind: kind, Resource: "eventscale_web_pool.web", Pool: "web", Node: name, ServerID: server,
		NodeEvent: ne, Fault: fault, Message: fmt.Sprintf("%s %s", name, ne)})
}

func (ev *event) run(outcome string, from, to, nodes int, errText string) *event {
	return ev.add(journal.Entry{Kind: journal.KindEvent, Resource: "eventscale_web_pool.web", Pool: "web",
		Run: &journal.Run{Outcome: outcome, From: from, To: to, Nodes: nodes, Error: errText}, Message: "run " + outcome})
}

func (ev *event) loadTest(lt journal.LoadTest) *event {
	lt.Started = ev.t.Add(-lt.Elapsed.Std())
	return ev.add(journal.LoadTestEntry("eventscale_load_test."+lt.Label, lt))
}

func (ev *event) stats(moment string, active, total, errs int64) *event {
	e := journal.LBStatsEntry("eventscale_web_pool.web", journal.LBStats{LoadBalancerID: "lb-1", ListenerID: "li-1", Moment: moment,
		ActiveConnections: active, TotalConnections: total, RequestErrors: errs})
	e.Pool = "web"
	return ev.add(e)
}

func nodeName(i int) string { return fmt.Sprintf("web-%02d", i) }

// fullEvent is an event from the plan to the scale-back, with known figures:
//
//   - plan: 200 req/s today × 3 = 600 req/s, 50 req/s per node at 80%: 15 nodes, 25% headroom;
//   - quota: compute cores short at 40 (8 in use, 60 needed), raised to 80 ten minutes later;
//   - baseline on 2 nodes at 160 req/s: p95 900 ms, 97% success, missed max_p95 (80 req/s per node);
//   - tuned on 2 nodes at 120 req/s: held (60 req/s per node), p95 120 ms;
//   - scale-out 2 → 15, web-07 going to ERROR twice before it builds;
//   - peak on 15 nodes at 600 req/s: held, p95 85 ms;
//   - scale-back 15 → 2 in 13 × 80 s = 17 min 20 s under a steady test, 0 failed requests;
//     listener request errors 3 → 5.
func fullEvent() *event {
	ev := newEvent()
	ev.add(journal.NoteEntry("eventscale_event.tv_spot", "TV spot event created"))
	ev.add(journal.CapacityPlanEntry("data.eventscale_capacity_plan.spot", journal.CapacityPlan{NodeCapacityRPS: 50, CurrentPeakRPS: 200,
		ExpectedMultiplier: 3, TargetUtilization: 0.8, MinNodes: 2, ExpectedPeakRPS: 600, WebNodes: 15, HeadroomPercent: 25,
		Formula: "web_nodes = max(2, ceil(600 / (50 × 0.8))) = 15"}))
	ev.add(journal.PreflightEntry("eventscale_web_pool.web", journal.Preflight{Checks: []journal.QuotaCheck{
		{Service: "compute", Resource: "cores", Limit: 40, InUse: 8, Needed: 60},
		{Service: "compute", Resource: "instances", Limit: 50, InUse: 4, Needed: 13},
		{Service: "load-balancer", Resource: "member", Limit: -1, InUse: 3, Needed: 13}}}))
	ev.wait(10 * time.Minute)
	ev.add(journal.PreflightEntry("eventscale_web_pool.web", journal.Preflight{Checks: []journal.QuotaCheck{
		{Service: "compute", Resource: "cores", Limit: 80, InUse: 8, Needed: 60},
		{Service: "compute", Resource: "instances", Limit: 50, InUse: 4, Needed: 13},
		{Service: "load-balancer", Resource: "member", Limit: -1, InUse: 3, Needed: 13}}}))
	ev.add(journal.BackupEntry("eventscale_seed_image.web01", journal.Backup{ID: "img-7f3a", Name: "web01-spot", Type: "image",
		Source: "web01", Status: "active", Created: ev.t, SizeBytes: 4 << 30}))

	ev.wait(5 * time.Minute)
	ev.loadTest(journal.LoadTest{Label: "baseline", Nodes: 2, Rate: 160, AchievedRate: 160, Elapsed: journal.Duration(2 * time.Minute),
		Requests: 19200, Successes: 18624, SuccessRatio: 0.97, P50: journal.Duration(300 * time.Millisecond),
		P95: journal.Duration(900 * time.Millisecond), P99: journal.Duration(1500 * time.Millisecond),
		MaxP95: journal.Duration(250 * time.Millisecond), Passed: journal.Ptr(false), Violations: []string{"p95 latency 900ms exceeds max_p95_ms 250"}})
	ev.wait(10 * time.Minute)
	ev.loadTest(journal.LoadTest{Label: "tuned", Nodes: 2, Rate: 120, AchievedRate: 120, Elapsed: journal.Duration(2 * time.Minute),
		Requests: 14400, Successes: 14400, SuccessRatio: 1, P50: journal.Duration(40 * time.Millisecond),
		P95: journal.Duration(120 * time.Millisecond), P99: journal.Duration(200 * time.Millisecond), Passed: journal.Ptr(true)})

	// Scale-out 2 -> 15. web-01 and web-02 serve from before the journal.
	ev.wait(time.Minute).run(journal.RunStarted, 2, 15, 2, "")
	srv := 100
	for i := 3; i <= 15; i++ {
		srv++
		ev.node(nodeName(i), journal.NodeCreated, fmt.Sprintf("srv-%d", srv), "")
		if i == 7 {
			for _, fault := range []string{"No valid host was found.", "Exceeded maximum number of retries."} {
				ev.wait(30*time.Second).node(nodeName(i), journal.NodeError, fmt.Sprintf("srv-%d", srv), fault)
				srv++
				ev.node(nodeName(i), journal.NodeCreated, fmt.Sprintf("srv-%d", srv), "")
			}
		}
	}
	ev.wait(40 * time.Second)
	for i := 3; i <= 15; i++ {
		ev.node(nodeName(i), journal.NodeActive, "", "")
	}
	for i := 3; i <= 15; i++ {
		ev.node(nodeName(i), journal.NodeJoined, "", "")
	}
	ev.wait(20 * time.Second)
	for i := 3; i <= 15; i++ {
		ev.node(nodeName(i), journal.NodeServing, "", "")
	}
	ev.run(journal.RunSucceeded, 2, 15, 15, "")

	ev.wait(5 * time.Minute)
	ev.loadTest(journal.LoadTest{Label: "peak", Nodes: 15, Rate: 600, AchievedRate: 599.7, Elapsed: journal.Duration(5 * time.Minute),
		Requests: 180000, Successes: 179991, SuccessRatio: 179991.0 / 180000, P50: journal.Duration(22 * time.Millisecond),
		P95: journal.Duration(85 * time.Millisecond), P99: journal.Duration(160 * time.Millisecond), Passed: journal.Ptr(true),
		StatusCodes: map[string]int{"200": 179991, "0": 9}, PerMember: map[string]uint64{"web-03": 12000, "web-04": 12100}})

	// The event; then the scale-back 15 -> 2 under a steady test of 40 req/s.
	ev.wait(2 * time.Hour)
	steady := journal.LoadTest{Label: "steady", Rate: 40, Running: true, Duration: journal.Duration(20 * time.Minute)}
	steadyStart := ev.t
	steadyAt := func() {
		el := ev.t.Sub(steadyStart)
		s := steady
		s.Started, s.Elapsed = steadyStart, journal.Duration(el)
		s.Requests = uint64(40 * el / time.Second)
		s.Successes = s.Requests
		ev.add(journal.LoadTestEntry("eventscale_load_test.steady", s))
	}
	steadyAt()
	ev.wait(time.Minute)
	steadyAt()
	ev.run(journal.RunStarted, 15, 2, 15, "").stats(journal.MomentScaleBackStart, 60, 1000000, 3)
	for i := 15; i >= 3; i-- {
		ev.wait(5*time.Second).node(nodeName(i), journal.NodeDrained, "", "")
		ev.wait(60*time.Second).node(nodeName(i), journal.NodeRemoved, "", "")
		ev.wait(15*time.Second).node(nodeName(i), journal.NodeDeleted, "", "")
		steadyAt()
	}
	ev.stats(journal.MomentScaleBackEnd, 12, 1041600, 5).run(journal.RunSucceeded, 15, 2, 2, "")
	ev.wait(time.Minute)
	steadyAt()
	done := steady
	done.Running, done.Started, done.Elapsed = false, steadyStart, journal.Duration(ev.t.Sub(steadyStart))
	done.Requests = uint64(40 * ev.t.Sub(steadyStart) / time.Second)
	done.Successes, done.SuccessRatio, done.AchievedRate = done.Requests, 1, 40
	done.P95, done.Passed = journal.Duration(70*time.Millisecond), journal.Ptr(true)
	ev.add(journal.LoadTestEntry("eventscale_load_test.steady", done))
	return ev
}
