package review

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

func buildFull(t *testing.T) *Review {
	t.Helper()
	return Build(fullEvent().es, Source{Kind: SourceJournal, Detail: "the test's journal"})
}

// finding returns the finding that contains sub, failing the test when there is none.
func finding(t *testing.T, r *Review, sub string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if strings.Contains(f.Text, sub) {
			return f
		}
	}
	var all []string
	for _, f := range r.Findings {
		all = append(all, f.Text)
	}
	t.Fatalf("no finding with %q among:\n%s", sub, strings.Join(all, "\n"))
	return Finding{}
}

func TestBuild_FindingsCarryTheJournalsFigures(t *testing.T) {
	r := buildFull(t)
	cases := []struct {
		text    string
		problem bool
	}{
		{"The tier saturated at 80 req/s per node: the baseline test at 160 req/s on 2 nodes missed its thresholds (p95 900 ms, 97% success).", false},
		{"The tier held 60 req/s per node in the tuned test (120 req/s on 2 nodes, p95 120 ms, 100% success).", false},
		{"The plan asked for 15 web nodes for 600 req/s expected; at most 15 managed nodes served at once. The peak test at 599.7 req/s on 15 nodes held: p95 85 ms, 99.99% success.", false},
		{"Node web-07 went to ERROR twice (last Nova fault: Exceeded maximum number of retries.).", true},
		{"The scale-back of web from 15 to 2 nodes took 17 minutes 20 seconds with 0 failed requests (of 41600 sent by the load tests running meanwhile).", false},
		{"The listener li-1 counted 41600 new connections and 2 request errors during the scale-back; active connections went from 60 to 12.", true},
		{"The compute cores quota had to be raised from 40 to 80 before the event.", true},
		{"1 backup taken; the last, image web01-spot, at 2026-11-26 18:10:00 UTC.", false},
	}
	for _, c := range cases {
		f := finding(t, r, c.text)
		if f.Text != c.text {
			t.Errorf("finding\n got %s\nwant %s", f.Text, c.text)
		}
		if f.Problem() != c.problem {
			t.Errorf("%q: problem %v, want %v", c.text, f.Problem(), c.problem)
		}
	}
	if len(r.Findings) != len(cases) {
		for _, f := range r.Findings {
			t.Log(f.Text)
		}
		t.Fatalf("%d findings, want %d", len(r.Findings), len(cases))
	}
	wantFix := []string{
		"Find out why web-07's server went to ERROR (last Nova fault: Exceeded maximum number of retries.): hypervisor capacity, the flavor or the image; ask the cloud's operators with the server ids srv-105, srv-106, srv-107.",
		"Look into the 2 request errors the load balancer counted during the scale-back.",
		"Keep the compute cores quota at 80 or request the increase earlier: the first pre-flight found it too small.",
	}
	if !slices.Equal(r.ToFix, wantFix) {
		t.Fatalf("to fix:\n%s", strings.Join(r.ToFix, "\n"))
	}
}

func TestBuild_FindingsFollowTheFiguresNotTheWording(t *testing.T) {
	ev := fullEvent()
	// The same event with other figures: a plan that assumed too much, a failed peak,
	// and three failed requests during the scale-back.
	var scaleBack time.Time
	for _, e := range ev.es {
		if e.Run != nil && e.Run.Outcome == journal.RunStarted && e.Run.To < e.Run.From {
			scaleBack = e.Time
		}
	}
	for i := range ev.es {
		e := &ev.es[i]
		if e.CapacityPlan != nil {
			e.CapacityPlan.NodeCapacityRPS = 90
		}
		if lt := e.LoadTest; lt != nil && lt.Label == "peak" {
			lt.Passed, lt.Violations, lt.P95 = journal.Ptr(false), []string{"p95 latency 410ms exceeds max_p95_ms 250"}, journal.Duration(410*time.Millisecond)
		}
		if lt := e.LoadTest; lt != nil && lt.Label == "steady" && e.Time.After(scaleBack.Add(5*time.Minute)) {
			lt.Successes = lt.Requests - 3
		}
	}
	r := Build(ev.es, Source{Kind: SourceJournal})
	// The saturation rate is the lowest per-node rate that failed: now the peak's 40.
	finding(t, r, "The tier saturated at 40 req/s per node: the peak test at 599.7 req/s on 15 nodes missed its thresholds (p95 410 ms, 99.99% success).")
	f := finding(t, r, "The capacity plan assumed 90 req/s per node, at or above the 40 req/s at which the tier saturated.")
	if !strings.Contains(f.Fix, "below the measured saturation (40 req/s per node)") {
		t.Errorf("fix: %s", f.Fix)
	}
	f = finding(t, r, "The peak test at 599.7 req/s on 15 nodes did not hold: p95 410 ms")
	if !strings.Contains(f.Fix, "p95 latency 410ms exceeds max_p95_ms 250") {
		t.Errorf("fix: %s", f.Fix)
	}
	f = finding(t, r, "3 requests failed during the scale-back of web; the first by ")
	if !f.Problem() {
		t.Error("failed requests are not a problem")
	}
	finding(t, r, "took 17 minutes 20 seconds with 3 failed requests (of 41600")
}

func TestBuild_NodeLifeFromCreationToDeletionWithItsErrors(t *testing.T) {
	r := buildFull(t)
	var web07, web01 *NodeLife
	for i := range r.Nodes {
		switch r.Nodes[i].Name {
		case "web-07":
			web07 = &r.Nodes[i]
		case "web-01":
			web01 = &r.Nodes[i]
		}
	}
	if web01 != nil {
		t.Errorf("web-01 is never mentioned in the journal but has a row: %+v", web01)
	}
	if web07 == nil {
		t.Fatal("no row for web-07")
	}
	if web07.Errors != 2 || !slices.Equal(web07.ServerIDs, []string{"srv-105", "srv-106", "srv-107"}) {
		t.Errorf("web-07: %d errors, servers %v", web07.Errors, web07.ServerIDs)
	}
	created, deleted := web07.Created, web07.Deleted
	if created.IsZero() || web07.Active.IsZero() || web07.Serving.IsZero() || web07.Drained.IsZero() || web07.Removed.IsZero() || deleted.IsZero() {
		t.Fatalf("web-07's life has gaps: %+v", web07)
	}
	inOrder := created.Before(web07.Active) && web07.Serving.Before(web07.Drained) && web07.Drained.Before(web07.Removed) && web07.Removed.Before(deleted)
	if !inOrder {
		t.Errorf("web-07's life out of order: %+v", web07)
	}
	if len(r.Nodes) != 13 {
		t.Errorf("%d node rows, want 13 (web-03 to web-15)", len(r.Nodes))
	}
}

func TestBuild_TimelineCountsNodesTheJournalOnlyKnowsFromARunsStart(t *testing.T) {
	r := buildFull(t)
	if r.MaxServing != 15 || r.MaxServers != 15 {
		t.Fatalf("max serving %d, servers %d; want 15 and 15", r.MaxServing, r.MaxServers)
	}
	first := r.Timeline.Serving[0]
	if first.N != 2 {
		t.Errorf("in service at the start: %d, want 2 (web-01 and web-02 served before the journal)", first.N)
	}
	if last := r.Timeline.Serving[len(r.Timeline.Serving)-1]; last.N != 2 {
		t.Errorf("in service at the end: %d, want 2", last.N)
	}
	// While web-07 was in ERROR the servers count did not pass 15.
	for _, p := range r.Timeline.Servers {
		if p.N > 15 || p.N < 2 {
			t.Errorf("servers %d at %s", p.N, p.At)
		}
	}
	if n := len(r.Timeline.Tests); n != 4 {
		t.Errorf("%d load tests on the timeline, want 4", n)
	}
}

func TestBuild_RecordedScaleBackUnderLoad(t *testing.T) {
	es, err := journal.ReadFile(filepath.FromSlash("../../tools/eventscale/testdata/scaleback.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	r := Build(es, Source{Kind: SourceJournal})
	if len(r.ScaleBacks) != 1 {
		t.Fatalf("%d scale-backs", len(r.ScaleBacks))
	}
	sb := r.ScaleBacks[0]
	if sb.Failed != 2 || sb.Requests != 19200 || !slices.Equal(sb.Removed, []string{"web-12", "web-11", "web-10", "web-09", "web-08", "web-07"}) {
		t.Fatalf("scale-back: %+v", sb)
	}
	finding(t, r, "The scale-back of web from 12 to 6 nodes took 8 minutes with 2 failed requests (of 19200 sent by the load tests running meanwhile).")
	finding(t, r, "2 requests failed during the scale-back of web; the first by 2026-11-26 01:05:45 UTC, during step 16/30: drain web-09 with weight 0 (scale in).")
	if r.MaxServing != 12 {
		t.Errorf("max serving %d, want 12: the run's start counts the nodes the journal never mentions", r.MaxServing)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Text, "No backup") || strings.Contains(f.Text, "No capacity plan") {
			t.Errorf("a journal of the scale-back alone blamed for missing preparations: %s", f.Text)
		}
		if strings.Contains(f.Text, "per node") {
			t.Errorf("the steady background test taken for a capacity measurement: %s", f.Text)
		}
	}
}

func TestBuild_UnfinishedAndFailedScaleBacksAreProblems(t *testing.T) {
	ev := newEvent().run(journal.RunStarted, 4, 2, 4, "")
	ev.wait(5*time.Second).node("web-04", journal.NodeDrained, "", "")
	r := Build(ev.es, Source{Kind: SourceJournal})
	f := finding(t, r, "The scale-back of web from 4 to 2 nodes has no end in the journal")
	if !strings.Contains(f.Fix, "holds 2 nodes") {
		t.Errorf("fix: %s", f.Fix)
	}
	ev.wait(time.Minute).run(journal.RunFailed, 4, 2, 3, "health gate after removing web-04 failed after 10m0s: member web-03 (m-3) is ERROR; removing nothing more")
	r = Build(ev.es, Source{Kind: SourceJournal})
	f = finding(t, r, "The scale-back of web from 4 to 2 nodes failed after 1 minute 5 seconds with 3 nodes in service: health gate after removing web-04 failed")
	if !f.Problem() {
		t.Error("a failed scale-back is not a problem")
	}
}

func TestBuild_QuotaStillTooSmallIsAProblem(t *testing.T) {
	ev := newEvent().add(journal.PreflightEntry("", journal.Preflight{Checks: []journal.QuotaCheck{
		{Service: "network", Resource: "port", Limit: 50, InUse: 40, Needed: 13}}}))
	r := Build(ev.es, Source{Kind: SourceJournal})
	f := finding(t, r, "The network port quota is too small: limit 50, 40 in use, 13 needed.")
	if f.Fix != "Ask for the network port quota to be raised to at least 53 before the next event." {
		t.Errorf("fix: %s", f.Fix)
	}
}

func TestWriteHTML_SelfContainedEscapedAndReadableOnAPhone(t *testing.T) {
	ev := fullEvent()
	ev.node(`<script>alert("x")</script>`, journal.NodeError, "srv-x", `fault <img src=x onerror=alert(1)>`)
	r := Build(ev.es, Source{Kind: SourceJournal, Detail: "journal <b>j</b>"})
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "<img", "<b>j</b>", "<link", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML holds %q", bad)
		}
	}
	if n := len(regexp.MustCompile(`https?://`).FindAllString(html, -1)); n != 1 {
		t.Errorf("%d URLs in the page, want only the SVG namespace", n)
	}
	for _, want := range []string{`<meta name="viewport" content="width=device-width, initial-scale=1">`, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720.0 `,
		`data-series="in service"`, `class="load-test"`, "&lt;script&gt;", "Quota pre-flight", "Scale-backs", "To fix before next time",
		"raised from 40; was too small", "web01-spot", "li-1", "class=\"problem\""} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "ZgotmplZ") {
		t.Error("html/template rejected a value (ZgotmplZ)")
	}
}

func TestWriteMarkdown_ChecklistToEditAndEscapedCells(t *testing.T) {
	ev := fullEvent()
	ev.node("web|99", journal.NodeError, "srv-x", "a *bold* | fault")
	r := Build(ev.es, Source{Kind: SourceJournal, Detail: "the journal"})
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, fix := range r.ToFix {
		if !strings.Contains(md, "- [ ] "+mdText(fix)+"\n") {
			t.Errorf("checklist lacks %q", fix)
		}
	}
	for _, want := range []string{"> **Source:** the journal", "![Managed web nodes over time, with the load tests and scale-backs](timeline.svg)",
		"| web\\|99 |", "a \\*bold\\* \\| fault", "| compute | cores | 80 | 8 | 60 | yes | raised from 40; was too small |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Every table row has as many cells as its head.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") {
			cells := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1)) - 1
			if cells < 2 {
				t.Errorf("odd table row: %s", line)
			}
		}
	}
}

func TestWriteSVG_StandaloneTimeline(t *testing.T) {
	var b bytes.Buffer
	if err := buildFull(t).WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg" viewBox=`) || !strings.HasSuffix(svg, "</svg>") {
		t.Fatalf("not a standalone SVG: %.120s ... %.40s", svg, svg[len(svg)-40:])
	}
	if strings.Count(svg, `class="load-test"`) != 4 {
		t.Errorf("want 4 load test marks")
	}
}

func TestLoad_UsesTheJournalAndSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	var buf bytes.Buffer
	w := journal.NewWriter(&buf)
	for _, e := range fullEvent().es {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	buf.WriteString("{broken\n")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(context.Background(), path, &fakeCloud{t: t, mustNotBeCalled: true}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Source.Kind != SourceJournal || !strings.Contains(r.Source.Detail, path) {
		t.Fatalf("source %+v", r.Source)
	}
	if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], "{broken") {
		t.Fatalf("skipped %q", r.Skipped)
	}
	if r.Title != "Review of tv_spot" {
		t.Errorf("title %q", r.Title)
	}
}

func TestLoad_WithoutJournalOrCloudSaysWhere(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "journal.jsonl")
	_, err := Load(context.Background(), missing, nil, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "no journal at "+missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}
