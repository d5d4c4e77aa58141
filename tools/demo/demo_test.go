package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func ev(sec float64, kind string, attrs map[string]any) cloudEvent {
	return cloudEvent{Time: at(sec), Kind: kind, Attrs: attrs}
}

// scaleBackEvents is what devcloud records for one node: weight 0, removal, server deletion.
func scaleBackEvents(member, server string, drained, removed, deleting, deleted float64) []cloudEvent {
	return []cloudEvent{
		ev(drained, "member.weight", map[string]any{"member_id": member, "weight": float64(0)}),
		ev(removed, "member.removed", map[string]any{"member_id": member}),
		ev(deleting, "server.deleting", map[string]any{"server_id": server}),
		ev(deleted, "server.deleted", map[string]any{"server_id": server}),
	}
}

var twoNodes = []poolNode{
	{Name: "web-01", ID: "s1", MemberID: "m1"},
	{Name: "web-02", ID: "s2", MemberID: "m2"},
}

func TestScaleBackTimeline_PairsEventsWithNodesInDrainOrder(t *testing.T) {
	var events []cloudEvent
	// web-02 (newest first) goes before web-01; unrelated events are ignored.
	events = append(events, ev(0, "member.weight", map[string]any{"member_id": "other", "weight": float64(0)}))
	events = append(events, scaleBackEvents("m2", "s2", 1, 2.5, 2.6, 2.7)...)
	events = append(events, ev(2.8, "member.weight", map[string]any{"member_id": "m1", "weight": float64(1)}))
	events = append(events, scaleBackEvents("m1", "s1", 3, 4.5, 4.6, 4.7)...)

	steps := scaleBackTimeline(events, twoNodes)
	if len(steps) != 2 || steps[0].Name != "web-02" || steps[1].Name != "web-01" {
		t.Fatalf("want web-02 then web-01, got %+v", steps)
	}
	want := nodeSteps{Name: "web-01", Drained: at(3), Removed: at(4.5), Deleting: at(4.6), Deleted: at(4.7)}
	if steps[1] != want {
		t.Errorf("web-01: got %+v, want %+v (a weight change to 1 is not a drain)", steps[1], want)
	}
}

func TestCheckScaleBack_AcceptsOneNodeAtATimeWithFullDrains(t *testing.T) {
	events := append(scaleBackEvents("m2", "s2", 1, 2.5, 2.6, 2.7), scaleBackEvents("m1", "s1", 3, 4.5, 4.6, 4.7)...)
	if problems := checkScaleBack(scaleBackTimeline(events, twoNodes), time.Second); len(problems) > 0 {
		t.Fatalf("a correct scale-back reported as broken: %v", problems)
	}
}

// A node's server, its member gone, serves nothing: the next node may drain while it is
// deleted, and leaves the pool once it is gone.
func TestCheckScaleBack_AcceptsTheNextDrainWhileTheServerBeforeIsDeleted(t *testing.T) {
	events := append(scaleBackEvents("m2", "s2", 1, 2.5, 2.6, 3.5), scaleBackEvents("m1", "s1", 3, 4.5, 4.6, 4.7)...)
	if problems := checkScaleBack(scaleBackTimeline(events, twoNodes), time.Second); len(problems) > 0 {
		t.Fatalf("a drain overlapping only the deletion of a server out of the pool reported as broken: %v", problems)
	}
}

func TestCheckScaleBack_ReportsShortDrainDeleteInPoolAndOverlap(t *testing.T) {
	var events []cloudEvent
	events = append(events, scaleBackEvents("m2", "s2", 1, 1.5, 1.4, 3)...)     // short drain, deleted while a member
	events = append(events, scaleBackEvents("m1", "s1", 1.2, 2.9, 3.6, 3.7)...) // drained before web-02 left, removed before it was gone
	problems := checkScaleBack(scaleBackTimeline(events, twoNodes), time.Second)
	for _, want := range []string{
		"web-02 was removed 0.50s after its drain, before the drain timeout of 1s",
		"web-02: its server was deleted while still a member of the pool",
		"web-01 was drained before web-02 left the pool: two nodes drained at once",
		"web-01 left the pool before the server of web-02 was deleted",
	} {
		if !contains(problems, want) {
			t.Errorf("missing %q in %q", want, problems)
		}
	}
	if len(problems) != 4 {
		t.Errorf("want exactly 4 problems, got %q", problems)
	}
}

func TestCheckScaleBack_ReportsNodesLeftBehind(t *testing.T) {
	events := []cloudEvent{
		ev(1, "member.weight", map[string]any{"member_id": "m2", "weight": float64(0)}),
	}
	problems := checkScaleBack(scaleBackTimeline(events, twoNodes), time.Second)
	want := []string{"web-02 was never removed from the pool", "web-01 was never drained (no weight 0 reached the load balancer)"}
	if strings.Join(problems, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", problems, want)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestLeftovers_ListsWhatWasCreatedAndNotDeleted(t *testing.T) {
	events := []cloudEvent{
		ev(0, "server.created", map[string]any{"server_id": "s1", "name": "web-01"}),
		ev(0, "server.created", map[string]any{"server_id": "s2", "name": "web-02"}),
		ev(0, "lb.created", map[string]any{"lb_id": "l1", "name": "front"}),
		ev(0, "replica.created", map[string]any{"instance_id": "d1", "name": "db-01"}),
		ev(0, "image.created", map[string]any{"image_id": "i1", "name": "seed"}),
		ev(1, "server.deleted", map[string]any{"server_id": "s1"}),
		ev(1, "lb.deleted", map[string]any{"lb_id": "l1"}),
		// A detached replica is deleted as a plain database.
		ev(1, "db.deleted", map[string]any{"instance_id": "d1"}),
	}
	got := leftovers(events)
	want := []string{"server web-02", "image seed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTerraformEnv_DropsTheUsersCloudAndTerraformSettings(t *testing.T) {
	base := []string{"PATH=/bin", "OS_CLOUD=production", "OS_PASSWORD=x", "TF_CLI_ARGS=-parallelism=1", "TF_VAR_web_pool_size=99",
		"EVENTSCALE_POLL_INTERVAL=1h", "HOME=/root"}
	got := terraformEnv(base, map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/identity/v3", "TF_CLI_CONFIG_FILE": "/tmp/rc"})
	want := []string{"PATH=/bin", "HOME=/root", "OS_AUTH_URL=http://127.0.0.1:1/identity/v3", "TF_CLI_CONFIG_FILE=/tmp/rc"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSteadyLoad_CountsEveryFailedRequestWithItsReason(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	load := startSteadyLoad(srv.URL, 40)
	time.Sleep(500 * time.Millisecond)
	res := load.stop()
	if res.Sent < 10 {
		t.Fatalf("sent only %d requests in 0.5 s at 40 req/s", res.Sent)
	}
	if int64(res.Sent) != n.Load() {
		t.Errorf("stop returned before every request finished: %d counted, %d served", res.Sent, n.Load())
	}
	if want := res.Sent / 4; res.Failed != want {
		t.Errorf("failed %d of %d, want %d", res.Failed, res.Sent, want)
	}
	if len(res.Reasons) != 1 || !strings.HasSuffix(res.Reasons[0], "× 503 Service Unavailable") {
		t.Errorf("reasons %q", res.Reasons)
	}
}

// TestDemo_EndToEnd runs `make demo`'s program against a fresh devcloud with the real
// Terraform CLI and a freshly built provider: the example configuration, the story and the
// scale-back's promise (no failed request, one node at a time) are checked on every CI run.
func TestDemo_EndToEnd(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test); it runs Terraform")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		out, err := exec.Command(filepath.Join(repo, "tools", "find-terraform.sh"), filepath.Join(repo, "bin")).Output()
		if err != nil {
			t.Fatalf("finding terraform: %v", err)
		}
		tf = strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(tf); err != nil {
		t.Fatalf("no Terraform CLI at %s (set TF_ACC_TERRAFORM_PATH or run make terraform): %v", tf, err)
	}
	providerDir := t.TempDir()
	build := exec.Command("go", "build", "-o",
		filepath.Join(providerDir, "terraform-provider-eventscale"), ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}

	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cfg := config{repo: repo, terraform: tf, providerDir: providerDir, workDir: t.TempDir(), timeScale: 0.02,
		duration: 5 * time.Second, drain: 1200 * time.Millisecond, steadyRate: 30, timeout: 8 * time.Minute}
	err = run(ctx, cfg, &out)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	for i, title := range []string{"devcloud", "Terraform", "terraform apply", "Baseline load test", "Scale for the event", "Scale back", "Clean up", "Review"} {
		if !strings.Contains(out.String(), "== "+string(rune('1'+i))+". "+title) {
			t.Errorf("section %d (%s) missing from the output", i+1, title)
		}
	}
	// What an operator meets on a real cloud, each shown once: the pre-flight refusing the plan,
	// the public address and HTTPS answering, web01 out of rotation during the peak, the name
	// pointed at the tier and put back, the scale-back followed live, the review.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`pre-flight \(terraform plan\) refuses the event`),
		regexp.MustCompile(`backup +\S+-web01 \S+ active \(Nova backup of web01`),
		regexp.MustCompile(`GET http://203\.0\.113\.\d+/ -> 200`),
		regexp.MustCompile(`GET https://www\.launch\.example/ \(TERMINATED_HTTPS on 443.*-> 200.*verified`),
		regexp.MustCompile(`web01: out of first-line rotation`),
		regexp.MustCompile(`now points at 203\.0\.113\.\d+ \(the public address\)`),
		regexp.MustCompile(`watch │ \d\d:\d\d:\d\d launch-web step \d+/\d+: drain launch-web-\d+`),
		regexp.MustCompile(`DNS restored: www\.launch\.example\. points at \S+ again, TTL 3600 s`),
		regexp.MustCompile(`review: \S+review\.html`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("the output lacks %s", want)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if m := regexp.MustCompile(`^failed requests during scale-back: 0 \(of ([1-9][0-9]*)\)$`).FindStringSubmatch(last); m == nil {
		t.Errorf("last line %q is not the failed-request count with 0 failures", last)
	}
}

func TestDrainOrder_ReadsTheScaleBackWarningsSteps(t *testing.T) {
	plan := `Warning: Web pool "launch-web": staggered scale-back of 2 step(s) with draining

These steps will run in this order, stopping at the first failure:
 1. drain launch-web-02 with weight 0 (scale in)
 2. wait 1.2s for open connections to launch-web-02 to finish
 5. health gate after removing launch-web-02: remaining members healthy,
http://127.0.0.1:43199/ answers
 6. drain launch-web-01, launch-web-03 with weight 0 (scale in)
`
	got := drainOrder(plan)
	if want := "launch-web-02 launch-web-01 launch-web-03"; strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseShortfalls_ReadsEachQuotaOnceFromTheDiagnostics(t *testing.T) {
	out := `Error: The project's quotas cannot hold web pool "launch-web"

Nothing was created. This plan needs more than the project is allowed:
  - compute instances: limit 10, in use 6, this plan needs 7 more (7 web nodes of flavor m1.small)
  - compute server_group_members: limit 10, in use 5, this plan needs 7 more (7 web nodes)

Error: The project's quotas cannot hold replicas "launch-db"

  - database volumes: limit 40, in use 30, this plan needs 20 more (1 replica(s), 20 GB each)
  - compute instances: limit 10, in use 6, this plan needs 7 more (7 web nodes of flavor m1.small)
`
	got := parseShortfalls(out)
	if len(got) != 3 {
		t.Fatalf("got %d shortfalls, want 3: %+v", len(got), got)
	}
	if g := got[0]; g.Service != "compute" || g.Resource != "instances" || g.Ask() != 13 {
		t.Errorf("first shortfall %+v, want compute instances asking 13", g)
	}
	if g := got[2]; g.Service != "database" || g.Resource != "volumes" || g.Ask() != 50 || g.Limit != 40 {
		t.Errorf("third shortfall %+v, want database volumes limit 40 asking 50", g)
	}
}
