package scaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// eventTime returns the model time of the first progress message containing sub.
func (r *recorder) eventTime(t *testing.T, sub string) time.Time {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if strings.Contains(e.Message, sub) {
			return e.At
		}
	}
	t.Fatalf("no progress event %q", sub)
	return time.Time{}
}

func TestDrain_WaitsFullTimeoutBeforeRemovingMember(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.DrainTimeout = 90 * time.Second })
	f.mustApply(t, 2)
	f.mustApply(t, 1)
	drained := f.rec.eventTime(t, "member web-02 (")
	removed := f.rec.eventTime(t, "member web-02 removed")
	if d := removed.Sub(drained); d < 90*time.Second {
		t.Fatalf("member removed %s after drain, want >= 90s", d)
	}
}

func TestDrain_NoDrainWaitRemovesTheMemberOnceDrainedWithoutWaiting(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.NoDrainWait = true })
	if d := f.pool.Options().DrainTimeout; d != 0 {
		t.Fatalf("drain timeout in effect = %s, want 0 (an explicit no-wait, not the 60s default)", d)
	}
	f.mustApply(t, 2)
	f.mustApply(t, 1)
	drained := f.rec.eventTime(t, "member web-02 (")
	removed := f.rec.eventTime(t, "member web-02 removed")
	if d := removed.Sub(drained); d >= 60*time.Second {
		t.Fatalf("member removed %s after drain: NoDrainWait must not wait the default drain timeout", d)
	}
}

func TestScaleIn_NeverDeletesServerStillInPool(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	var checked atomic.Int32
	f.rec.onEvent = func(p scaling.Progress) {
		if !strings.HasPrefix(p.Message, "server ") || !strings.HasSuffix(p.Message, "deleted") {
			return
		}
		checked.Add(1)
		for _, m := range f.cloud.LB.Members() {
			if m.Name == p.Nodes[0] {
				t.Errorf("server %s deleted while member %s exists", p.Nodes[0], m.ID)
			}
		}
	}
	f.mustApply(t, 0)
	if checked.Load() != 3 {
		t.Fatalf("checked %d deletions, want 3", checked.Load())
	}
}

func TestScaleIn_DrainsAtMostBatchSizeAtOnce(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.BatchSize = 2 })
	f.mustApply(t, 5)
	f.mustApply(t, 0)
	if got := f.cloud.LB.MaxDrained(); got != 2 {
		t.Fatalf("most members drained at once = %d, want 2", got)
	}
}

func TestScaleIn_OldestFirstRemovesOldestNodes(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.Order = scaling.OldestFirst })
	f.mustApply(t, 1)
	f.cloud.Clock.Advance(time.Hour)
	f.mustApply(t, 3)
	f.cloud.Clock.Advance(time.Hour)
	// web-01 is the oldest; renumbering web-02/03 makes sure order follows time, not names.
	nodes := f.mustApply(t, 2)
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-02", "web-03"}) {
		t.Fatalf("nodes = %v, want web-01 (oldest) removed", got)
	}
}

func TestScaleIn_DisableMethodTurnsAdminStateDown(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.DrainMethod = scaling.DrainDisable })
	f.cloud.LB.Provider = "ovn"
	f.mustApply(t, 2)
	var seen []scaling.Member
	f.rec.onEvent = func(p scaling.Progress) {
		if strings.Contains(p.Message, "drained (admin_state_up=false)") {
			seen = f.cloud.ManagedMembers()
		}
	}
	f.mustApply(t, 1)
	i := slices.IndexFunc(seen, func(m scaling.Member) bool { return m.Name == "web-02" })
	if i < 0 || seen[i].AdminStateUp || seen[i].Weight != 1 || seen[i].OperatingStatus != "OFFLINE" {
		t.Fatalf("web-02 while draining = %+v, want admin down, weight kept, OFFLINE", seen)
	}
}

func TestScaleIn_AmphoraMemberReportsDrainingDuringWait(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	var status string
	f.rec.onEvent = func(p scaling.Progress) {
		if strings.HasPrefix(p.Message, "waiting 1m0s") {
			for _, m := range f.cloud.ManagedMembers() {
				if m.Name == "web-02" {
					status = m.OperatingStatus
				}
			}
		}
	}
	f.mustApply(t, 1)
	if status != "DRAINING" {
		t.Fatalf("web-02 during the drain wait is %q, want DRAINING", status)
	}
}

// cancelOn cancels the returned context when a progress message contains sub.
func cancelOn(f *fixture, sub string) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	f.rec.onEvent = func(p scaling.Progress) {
		if strings.Contains(p.Message, sub) {
			cancel()
		}
	}
	return ctx
}

func TestScaleIn_CancelDuringDrainWaitPutsMemberBackInService(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	nodes, err := f.apply(t, cancelOn(f, "waiting 1m0s for open connections"), 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(nodes) != 3 {
		t.Fatalf("nodes = %v, want all 3", nodeNames(nodes))
	}
	for _, m := range f.cloud.ManagedMembers() {
		if m.Weight != 1 || !m.AdminStateUp {
			t.Errorf("member %s left with weight %d admin %v, want back in service", m.Name, m.Weight, m.AdminStateUp)
		}
	}
	for _, n := range nodes {
		if n.Drained {
			t.Errorf("node %s reported drained", n.Name)
		}
	}
}

func TestScaleIn_CancelRightAfterDrainStillRestores(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	_, err := f.apply(t, cancelOn(f, "member web-02 (mem"), 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for _, m := range f.cloud.ManagedMembers() {
		if m.Weight != 1 {
			t.Errorf("member %s left with weight %d", m.Name, m.Weight)
		}
	}
}

// A batch drained and then stopped is put back in service in ONE member update, as it was
// drained in one: the load balancer's update cycles are what a stopped scale-back costs.
func TestScaleIn_CancelDuringABatchDrainWaitRestoresTheBatchInOneMemberUpdate(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.BatchSize = 3 })
	f.mustApply(t, 4)
	before := f.cloud.LB.Cycles()
	nodes, err := f.apply(t, cancelOn(f, "waiting 1m0s for open connections"), 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := f.cloud.LB.Cycles() - before; got != 2 {
		t.Fatalf("drain and restore of a batch of 3 took %d update cycles, want 2 (one each); log:\n%s",
			got, strings.Join(f.cloud.LB.Log(), "\n"))
	}
	if len(nodes) != 4 {
		t.Fatalf("nodes = %v, want all 4", nodeNames(nodes))
	}
	for _, m := range f.cloud.LB.Members() {
		if m.Weight != 1 || !m.AdminStateUp {
			t.Errorf("member %s left with weight %d admin %v, want every member in service (web01 untouched)", m.Name, m.Weight, m.AdminStateUp)
		}
	}
	for _, n := range nodes {
		if n.Drained {
			t.Errorf("node %s reported drained", n.Name)
		}
	}
}

func TestScaleIn_CancelAfterMemberRemovalFinishesDeletingServer(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	nodes, err := f.apply(t, cancelOn(f, "member web-03 removed"), 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("nodes = %v, want web-03 fully gone and the rest in service", got)
	}
	if len(f.cloud.Compute.Servers()) != 2 {
		t.Fatalf("servers = %d, want 2", len(f.cloud.Compute.Servers()))
	}
}

func TestScaleIn_CancelBetweenBatchesLeavesEveryNodeWhole(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	nodes, err := f.apply(t, cancelOn(f, "health gate passed after removing web-03"), 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("nodes = %v", got)
	}
	for _, n := range nodes {
		if n.MemberID == "" || n.Drained {
			t.Errorf("node %+v not fully in service", n)
		}
	}
}

func TestScaleIn_HealthGateFailureStopsAndRemovesNothingMore(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.HealthyTimeout = 2 * time.Minute })
	f.mustApply(t, 3)
	f.rec.onEvent = func(p scaling.Progress) {
		if strings.Contains(p.Message, "server web-03 (") && strings.HasSuffix(p.Message, "deleted") {
			f.cloud.SetDown("10.0.9.1", true) // web01 fails after the first removal
		}
	}
	nodes, err := f.apply(t, context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "unmanaged member web01") || !strings.Contains(err.Error(), "removing nothing more") {
		t.Fatalf("err = %v, want the health gate naming web01", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("nodes = %v, want web-01 and web-02 untouched", got)
	}
}

func TestScaleIn_UnmanagedMemberDownBeforehandDoesNotBlock(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	f.cloud.SetDown("10.0.9.1", true)
	f.mustApply(t, 0)
}

func TestScaleIn_HealthGateNeedsConsecutiveSuccessesFromURL(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := hits.Add(1); {
		case n == 2:
			w.WriteHeader(http.StatusBadGateway)
		case n%2 == 0:
			w.WriteHeader(http.StatusFound) // a redirect counts as healthy
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	f := newFixture(t, func(o *scaling.Options) { o.HealthCheckURL = srv.URL; o.HealthCheckSuccesses = 3 })
	f.mustApply(t, 2)
	f.mustApply(t, 1)
	if got := hits.Load(); got != 5 {
		t.Fatalf("health URL hits = %d, want 5 (1 ok, 1 failure resets, then 3 in a row)", got)
	}
}

func TestScaleIn_HealthURLFailureStopsWithURLAndStatus(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	f := newFixture(t, func(o *scaling.Options) {
		o.HealthCheckURL = srv.URL
		o.HealthCheckTimeout = time.Minute
		o.Progress = func(p scaling.Progress) {
			// The tier breaks once the first member is gone.
			if p.Step == scaling.StepRemoveMembers && strings.Contains(p.Message, "removed") {
				healthy.Store(false)
			}
		}
	})
	f.mustApply(t, 3)
	nodes, err := f.apply(t, context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("err = %v, want the URL and HTTP 503", err)
	}
	if len(nodes) != 2 {
		t.Fatalf("nodes = %v, want only web-03 removed", nodeNames(nodes))
	}
}

func TestScaleIn_HealthURLFailingBeforeTheFirstDrainRefusesWithoutDraining(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	f := newFixture(t, func(o *scaling.Options) { o.HealthCheckURL = srv.URL; o.HealthCheckTimeout = time.Minute })
	f.mustApply(t, 3)
	cycles := f.cloud.LB.Cycles()
	nodes, err := f.apply(t, context.Background(), 1)
	var ee *scaling.EndpointError
	if !errors.As(err, &ee) || ee.Option != "health_check_url" || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("err = %v, want an EndpointError for health_check_url naming HTTP 503", err)
	}
	if len(nodes) != 3 || f.cloud.LB.Cycles() != cycles {
		t.Fatalf("nodes = %v and %d new LB cycles, want 3 nodes untouched", nodeNames(nodes), f.cloud.LB.Cycles()-cycles)
	}
}

func TestScaleIn_UnreachableEndpointsRefuseBeforeTheFirstDrain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	_ = ln.Close() // nothing listens there any more: connection refused
	for _, tc := range []struct {
		option string
		set    func(o *scaling.Options)
	}{
		{"health_check_url", func(o *scaling.Options) { o.HealthCheckURL = closed }},
		{"pre_delete_webhook", func(o *scaling.Options) { o.PreDeleteWebhook = closed }},
	} {
		t.Run(tc.option, func(t *testing.T) {
			f := newFixture(t, tc.set)
			f.mustApply(t, 2)
			cycles := f.cloud.LB.Cycles()
			start := f.cloud.Clock.Now()
			nodes, err := f.apply(t, context.Background(), 0)
			var ee *scaling.EndpointError
			if !errors.As(err, &ee) || ee.Option != tc.option || !strings.Contains(err.Error(), "no node was drained") {
				t.Fatalf("err = %v, want an EndpointError for %s", err, tc.option)
			}
			if len(nodes) != 2 || f.cloud.LB.Cycles() != cycles {
				t.Fatalf("nodes = %v, %d LB cycles: want both nodes untouched", nodeNames(nodes), f.cloud.LB.Cycles()-cycles)
			}
			if waited := f.cloud.Clock.Now().Sub(start); waited > time.Minute {
				t.Fatalf("refusal took %s of model time: a refused connection is not waited out", waited)
			}
		})
	}
}

func TestNew_RefusesEndpointURLsThatCannotBeUsed(t *testing.T) {
	for _, u := range []string{"://x", "ftp://host/x", "http://", "http:///path", "http://host:99999/"} {
		_, err := scaling.New(scaling.Config{
			Spec:    scaling.PoolSpec{Key: "k", NamePrefix: "web", LoadBalancerID: "lb", PoolID: "p", ProtocolPort: 80},
			Options: scaling.Options{PreDeleteWebhook: u},
			Compute: scalingtest.NewCompute(scalingtest.NewClock()), LB: scalingtest.NewLB(scalingtest.NewClock()),
		})
		var ee *scaling.EndpointError
		if !errors.As(err, &ee) || ee.Option != "pre_delete_webhook" {
			t.Errorf("New with pre_delete_webhook %q: err = %v, want an EndpointError", u, err)
		}
	}
}

func TestScaleIn_WebhookGetsNodeDetailsBeforeMemberRemoval(t *testing.T) {
	var mu sync.Mutex
	var got []scaling.WebhookPayload
	var f *fixture
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p scaling.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Method != http.MethodPost {
			t.Errorf("webhook request %s: %v", r.Method, err)
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusInternalServerError) // retried
			return
		}
		if !slices.ContainsFunc(f.cloud.LB.Members(), func(m scaling.Member) bool { return m.ID == p.MemberID }) {
			t.Errorf("webhook called after member %s was removed", p.MemberID)
		}
		got = append(got, p)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	f = newFixture(t, func(o *scaling.Options) { o.PreDeleteWebhook = srv.URL })
	nodes := f.mustApply(t, 2)
	f.mustApply(t, 1)
	want := scaling.WebhookPayload{Pool: "pool-key-1", Node: "web-02", ServerID: nodes[1].ServerID, Address: nodes[1].Address, MemberID: nodes[1].MemberID}
	if len(got) != 1 || got[0] != want || calls != 2 {
		t.Fatalf("webhook payloads %+v after %d calls, want [%+v] after 2", got, calls, want)
	}
}

func TestScaleIn_WebhookNeverAcceptingRestoresNodeAndFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	f := newFixture(t, func(o *scaling.Options) { o.PreDeleteWebhook = srv.URL; o.WebhookTimeout = 30 * time.Second })
	f.mustApply(t, 2)
	nodes, err := f.apply(t, context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), "pre-delete webhook") || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("err = %v, want the webhook's failure", err)
	}
	if len(nodes) != 2 || nodes[1].Drained || f.cloud.ManagedMembers()[1].Weight != 1 {
		t.Fatalf("nodes = %+v: want web-02 back in service", nodes)
	}
}

func TestApply_PutsBackNodeLeftDrainedByCrashedRun(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 2)
	zero := 0
	if err := f.cloud.LB.UpdateMember(context.Background(), "pool-1", nodes[0].MemberID, &zero, nil); err != nil {
		t.Fatal(err)
	}
	g := newFixtureOn(t, f.cloud, nil, nil)
	g.mustApply(t, 2)
	for _, m := range f.cloud.ManagedMembers() {
		if m.Weight != 1 {
			t.Fatalf("member %s weight %d, want restored to 1", m.Name, m.Weight)
		}
	}
}

func TestDestroy_RemovesEverythingManagedAndNothingElse(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.BatchSize = 3 })
	web01 := f.cloud.Compute.AddServer(scaling.Server{Name: "web01", Address: "10.0.9.1"})
	f.mustApply(t, 4)
	nodes, err := f.pool.Destroy(context.Background())
	f.check(t, nodes)
	if err != nil || len(nodes) != 0 {
		t.Fatalf("Destroy = %v, %v", nodes, err)
	}
	servers := f.cloud.Compute.Servers()
	if len(servers) != 1 || servers[0].ID != web01.ID {
		t.Fatalf("servers left = %+v, want only web01", servers)
	}
	if ms := f.cloud.LB.Members(); len(ms) != 1 || ms[0].Name != "web01" {
		t.Fatalf("members left = %+v, want only web01", ms)
	}
}

func TestScaleIn_BatchIsDrainedAndRemovedInOneMemberUpdateEachKeepingUnmanagedMembers(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.BatchSize = 5 })
	f.mustApply(t, 10)
	before := f.cloud.LB.Cycles()
	f.mustApply(t, 0)
	if got := f.cloud.LB.Cycles() - before; got != 4 {
		t.Fatalf("scale-in of 2 batches of 5 took %d update cycles, want 4 (one drain and one removal per batch); log:\n%s",
			got, strings.Join(f.cloud.LB.Log(), "\n"))
	}
	if got := f.cloud.LB.MaxDrained(); got != 5 {
		t.Fatalf("most members drained at once = %d, want the batch of 5", got)
	}
	members := f.cloud.LB.Members()
	if len(members) != 1 || members[0].Name != "web01" || members[0].Weight != 1 || !members[0].AdminStateUp {
		t.Fatalf("members left = %+v, want web01 alone and untouched", members)
	}
}

// The servers of a batch whose members are gone serve nothing: their deletion runs during the
// health gate and the next batch's drain, but that batch's members leave the pool only once
// they are gone and the remaining members are healthy still.
func TestScaleIn_NextBatchDrainsWhileThePreviousServersAreDeletedAndLeavesThePoolOnceTheyAreGone(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	f.mustApply(t, 0)
	msgs := f.rec.messages()
	index := func(prefix, suffix string) int {
		return slices.IndexFunc(msgs, func(m string) bool { return strings.HasPrefix(m, prefix) && strings.HasSuffix(m, suffix) })
	}
	for _, pair := range [][2]string{{"web-03", "web-02"}, {"web-02", "web-01"}} {
		drained := index("member "+pair[1]+" (", "drained (weight 0)")
		deleted := index("server "+pair[0]+" (", "deleted")
		healthy := index("members healthy with the servers of "+pair[0]+" gone", "")
		removed := index("member "+pair[1]+" removed", "")
		if drained < 0 || deleted < 0 || healthy < 0 || removed < 0 || drained >= deleted || deleted >= healthy || healthy >= removed {
			t.Fatalf("want %[2]s drained (message %[3]d) while %[1]s's server is deleted (gone: message %[4]d), then the members healthy without it (message %[5]d), then %[2]s removed (message %[6]d):\n%[7]s",
				pair[0], pair[1], drained, deleted, healthy, removed, strings.Join(msgs, "\n"))
		}
	}
	if last := index("members healthy with the servers of web-01 gone", ""); last < 0 {
		t.Fatalf("the last batch's servers gone, the remaining members are checked once more:\n%s", strings.Join(msgs, "\n"))
	}
}

// failingDelete is Nova refusing to delete one server: the server stays, and its wait fails
// as a server that went back to ERROR does.
type failingDelete struct {
	*scalingtest.Compute
	name string
	id   atomic.Value
}

func (c *failingDelete) DeleteServer(ctx context.Context, id string) error {
	if s, err := c.GetServer(ctx, id); err == nil && s.Name == c.name {
		c.id.Store(id)
		return nil
	}
	return c.Compute.DeleteServer(ctx, id)
}

func (c *failingDelete) WaitServerGone(ctx context.Context, id string) error {
	if v, _ := c.id.Load().(string); v == id {
		return &scaling.ServerFaultError{ServerID: id, Name: c.name, Message: "delete failed"}
	}
	return c.Compute.WaitServerGone(ctx, id)
}

func TestScaleIn_FailedServerDeleteIsReportedKeptInTheNodesAndStopsTheScaleBack(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	f.withAdapters(t, &failingDelete{Compute: f.cloud.Compute, name: "web-02"}, f.cloud.LB)
	nodes, err := f.apply(t, context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "web-02") || !strings.Contains(err.Error(), "delete failed") {
		t.Fatalf("err = %v, want the failed deletion of web-02", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("nodes = %v, want web-01 in service and web-02 whose server is still there", got)
	}
	for _, n := range nodes {
		switch {
		case n.Name == "web-01" && (n.MemberID == "" || n.Drained):
			t.Errorf("web-01 = %+v, want it in service: no batch drains before the previous one is gone", n)
		case n.Name == "web-02" && (n.ServerID == "" || n.MemberID != ""):
			t.Errorf("web-02 = %+v, want its server kept and no member", n)
		}
	}
}

func TestScaleIn_DisableMethodTurnsTheWholeBatchDownInOneMemberUpdate(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.DrainMethod = scaling.DrainDisable; o.BatchSize = 2 })
	f.cloud.LB.Provider = "ovn"
	f.mustApply(t, 3)
	var seen []scaling.Member
	f.rec.onEvent = func(p scaling.Progress) {
		if seen == nil && strings.Contains(p.Message, "drained (admin_state_up=false)") {
			seen = f.cloud.ManagedMembers()
		}
	}
	before := f.cloud.LB.Cycles()
	f.mustApply(t, 1)
	if got := f.cloud.LB.Cycles() - before; got != 2 {
		t.Fatalf("a batch of 2 took %d update cycles, want 2; log:\n%s", got, strings.Join(f.cloud.LB.Log(), "\n"))
	}
	for _, name := range []string{"web-03", "web-02"} {
		i := slices.IndexFunc(seen, func(m scaling.Member) bool { return m.Name == name })
		if i < 0 || seen[i].AdminStateUp || seen[i].Weight != 1 {
			t.Fatalf("%s while draining = %+v, want admin down and weight kept", name, seen)
		}
	}
	if i := slices.IndexFunc(seen, func(m scaling.Member) bool { return m.Name == "web-01" }); i < 0 || !seen[i].AdminStateUp {
		t.Fatalf("web-01 while the batch drained = %+v, want it in service", seen)
	}
}
