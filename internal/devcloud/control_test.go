package devcloud

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func TestControl_Injected503IsSeenByGophercloudThenClears(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	status := control(t, c, "POST", "/faults", FaultSpec{Rules: []FaultRule{{Service: "compute", Method: "GET", Path: "/servers", Status: 503, Times: 1}}}, nil)
	if status != http.StatusOK {
		t.Fatalf("POST faults = %d", status)
	}
	_, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
		t.Fatalf("err = %v, want 503", err)
	}
	if !strings.Contains(errBody(err), `"computeFault"`) {
		t.Fatalf("503 body = %s, want Nova's computeFault shape", errBody(err))
	}
	if _, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract(); err != nil {
		t.Fatalf("after the one-shot fault: %v", err)
	}
	// Other services and paths were never affected.
	if _, err := flavors.ListDetail(cc, nil).AllPages(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestControl_RateLimit429CarriesRetryAfterAndGophercloudRetries(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	ic := imageClient(t, pc) // before the fault: it GETs the version document
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "image", Status: 429, RetryAfter: 1, Times: 2}}})
	_, err := images.Get(testCtx(t), ic, c.Seed().BaseImageID).Extract()
	var e gophercloud.ErrUnexpectedResponseCode
	if !asUnexpected(err, &e) || e.Actual != 429 || e.ResponseHeader.Get("Retry-After") != "1" {
		t.Fatalf("err = %v, want 429 with Retry-After 1", err)
	}
	var waits int
	pc.MaxBackoffRetries = 3
	pc.RetryBackoffFunc = func(ctx context.Context, respErr *gophercloud.ErrUnexpectedResponseCode, e error, retries uint) error {
		waits++
		return nil
	}
	if _, err := images.Get(testCtx(t), ic, c.Seed().BaseImageID).Extract(); err != nil {
		t.Fatalf("with a backoff func the client should get through: %v", err)
	}
	if waits != 1 {
		t.Fatalf("backoff called %d times, want 1", waits)
	}
}

func TestControl_DroppedConnectionAndLatency(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	// Always dropped: Go's transport silently retries an idempotent request once when a
	// kept-alive connection closes without an answer, so a one-shot drop would go unseen.
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", Path: "/flavors", Drop: true}, {Service: "compute", Path: "/servers", LatencyMS: 150}}})
	_, err := flavors.ListDetail(cc, nil).AllPages(testCtx(t))
	if err == nil || gophercloud.ResponseCodeIs(err, 500) {
		t.Fatalf("dropped connection: err = %v, want a transport error", err)
	}
	start := time.Now()
	if _, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency fault: request took %v, want >= 150ms", d)
	}
	m := c.Metrics()
	if m.Count("compute", "GET", "/compute/v2.1/flavors/detail") < 1 {
		t.Fatalf("metrics = %+v", m.Requests)
	}
	for _, r := range m.Requests {
		if r.Path == "/compute/v2.1/flavors/detail" && r.Status != 0 {
			t.Fatalf("dropped request recorded with status %d, want 0", r.Status)
		}
	}
}

func TestControl_SlowBuildFaultDelaysActive(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	c.InjectFaults(FaultSpec{ExtraDelaySeconds: map[string]float64{"server_build": 60}}) // +0.3 s at the test scale
	if d := c.Delay("server_build"); d < 400*time.Millisecond {
		t.Fatalf("Delay(server_build) = %v, want base+extra scaled (0.45 s)", d)
	}
	start := time.Now()
	srv := createServer(t, c, cc, "slow", nil, nil)
	waitStatus(t, cc, srv.ID, "ACTIVE")
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("slow build took %v", d)
	}
}

func TestControl_EventsAreOrderedAcrossServerLifecycle(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	srv := createServer(t, c, cc, "ev", nil, nil)
	waitStatus(t, cc, srv.ID, "ACTIVE")
	if err := servers.Delete(testCtx(t), cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "server.deleted event", func() bool {
		return len(kindsOf(c.Events(), "server.deleted")) == 1
	})
	var doc struct {
		Events        []Event `json:"events"`
		MemberTraffic []any   `json:"member_traffic"`
	}
	if control(t, c, "GET", "/events", nil, &doc) != http.StatusOK {
		t.Fatal("GET events failed")
	}
	var kinds []string
	for i, e := range doc.Events {
		if e.Attrs["server_id"] == srv.ID {
			kinds = append(kinds, e.Kind)
		}
		if i > 0 && e.Time.Before(doc.Events[i-1].Time) {
			t.Fatalf("event %d (%s) is before event %d", i, e.Kind, i-1)
		}
	}
	if got := strings.Join(kinds, ","); got != "server.created,server.active,server.deleting,server.deleted" {
		t.Fatalf("server events = %s", got)
	}
}

func TestControl_MetricsCountByServiceMethodTemplateAndStatus(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	for i := 0; i < 3; i++ {
		if _, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = servers.Get(testCtx(t), cc, "00000000-0000-4000-8000-000000000000").Extract()
	var m Metrics
	control(t, c, http.MethodGet, "/metrics", nil, &m)
	var ok200, nf404 int64
	for _, r := range m.Requests {
		if r.Service == "compute" && r.Method == http.MethodGet && r.Path == "/compute/v2.1/servers/{id}" {
			switch r.Status {
			case 200:
				ok200 = r.Count
			case 404:
				nf404 = r.Count
			}
		}
	}
	if ok200 != 3 || nf404 != 1 {
		t.Fatalf("servers/{id}: 200 x%d, 404 x%d; want 3 and 1 (%+v)", ok200, nf404, m.Requests)
	}
	if m.ByService["identity"] < 1 || m.Total < 5 {
		t.Fatalf("totals = %d, by service %v", m.Total, m.ByService)
	}
}

func TestControl_ResetRestoresSeedWithSameIDs(t *testing.T) {
	c := startCloud(t)
	before := c.Seed()
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	createServer(t, c, cc, "gone-after-reset", nil, nil)
	if err := servers.Delete(testCtx(t), cc, before.Web01ServerID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	var after SeedInfo
	if control(t, c, "POST", "/reset", nil, &after) != http.StatusOK {
		t.Fatal("reset failed")
	}
	if after.Web01ServerID != before.Web01ServerID || after.DB01ID != before.DB01ID || after.ProjectID != before.ProjectID {
		t.Fatalf("seed ids changed across reset: %+v vs %+v", after, before)
	}
	// The client's token survives the reset: the demo user and project keep their ids.
	list := listServers(t, cc, servers.ListOpts{})
	if len(list) != 1 || list[0].Name != "web01" || list[0].Status != "ACTIVE" {
		t.Fatalf("after reset: %v", names(list))
	}
	time.Sleep(c.Delay("server_build") + 50*time.Millisecond) // a timer armed before the reset must not resurrect anything
	if list := listServers(t, cc, servers.ListOpts{}); len(list) != 1 {
		t.Fatalf("after reset and the old build delay: %v", names(list))
	}
	if _, ok := c.dp.nodes.Get(after.Web01Address); !ok {
		t.Fatal("web01's node not registered after reset")
	}
}

func TestControl_TimingAndCapacityRoundTrip(t *testing.T) {
	c := startCloud(t)
	var doc timingDoc
	control(t, c, "POST", "/timing", map[string]any{"time_scale": 0.5, "delays_seconds": map[string]float64{"server_build": 2}}, &doc)
	if doc.TimeScale != 0.5 || doc.Delays["server_build"] != 2 || doc.Delays["db_build"] != 60 || doc.TokenTTL != 3600 {
		t.Fatalf("timing = %+v", doc)
	}
	if d := c.Delay("server_build"); d != time.Second {
		t.Fatalf("Delay(server_build) = %v, want 1s", d)
	}
	if control(t, c, "POST", "/timing", map[string]any{"time_scale": -1}, nil) != http.StatusBadRequest {
		t.Fatal("negative scale accepted")
	}
	var capDoc CapacityModel
	control(t, c, "POST", "/capacity", map[string]any{"rps_per_vcpu": 10}, &capDoc)
	if capDoc.RPSPerVCPU != 10 || capDoc.ConcurrencyPerVCPU != 8 || capDoc.ComputeHosts != 4 {
		t.Fatalf("capacity = %+v", capDoc)
	}
	n, ok := c.dp.nodes.Get(c.Seed().Web01Address)
	if !ok || n.Capacity().RPS != 10 { // web01 is m1.small: 1 vCPU
		t.Fatalf("web01 node after capacity change: %+v", n)
	}
	if control(t, c, "POST", "/faults", map[string]any{"rules": []map[string]any{{"status": 200}}}, nil) != http.StatusBadRequest {
		t.Fatal("a fault rule with status 200 was accepted")
	}
}

func TestControl_NeedsNoTokenAndServicesDo(t *testing.T) {
	c := startCloud(t)
	for path, want := range map[string]int{"/_devcloud/metrics": 200, "/_devcloud/vips": 200, "/compute/v2.1/servers": 401,
		"/compute": 200, "/image": 300, "/networking": 200, "/load-balancer": 200, "/database": 200, "/identity/v3": 200} {
		resp, err := http.Get(c.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d (%s)", path, resp.StatusCode, want, body)
		}
	}
}

func TestStart_RefusesNonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		if c, err := Start(Options{Addr: addr}); err == nil {
			_ = c.Close()
			t.Fatalf("Start(%q) succeeded", addr)
		}
	}
}

func TestControl_ProbabilisticFaultsAreReproducibleWithASeed(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	run := func() string {
		c.InjectFaults(FaultSpec{Seed: 99, Rules: []FaultRule{{Service: "compute", Method: "GET", Path: "/flavors", Probability: 0.5, Status: 502}}})
		var b strings.Builder
		for i := 0; i < 40; i++ {
			_, err := flavors.Get(testCtx(t), cc, "1").Extract()
			switch {
			case err == nil:
				b.WriteByte('.')
			case gophercloud.ResponseCodeIs(err, http.StatusBadGateway):
				b.WriteByte('x')
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		return b.String()
	}
	first, second := run(), run()
	if first != second {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", first, second)
	}
	if n := strings.Count(first, "x"); n < 8 || n > 32 {
		t.Fatalf("%d of 40 requests failed with probability 0.5: %s", n, first)
	}
	// The other services and methods are untouched.
	if _, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract(); err != nil {
		t.Fatal(err)
	}
}

func TestControl_FaultAfterProcessingCreatesServerButLosesTheAnswer(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", Method: "POST", Path: "/servers", Status: 504, After: true, Times: 1}}})
	_, err := servers.Create(testCtx(t), cc, servers.CreateOpts{Name: "orphan", ImageRef: c.Seed().BaseImageID, FlavorRef: "1",
		Networks: []servers.Network{{UUID: c.Seed().NetworkID}}}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusGatewayTimeout) {
		t.Fatalf("err = %v, want 504", err)
	}
	// The client never got an id, but the server exists and a list finds it.
	list := listServers(t, cc, servers.ListOpts{Name: "^orphan$"})
	if len(list) != 1 {
		t.Fatalf("servers named orphan = %v, want the one created behind the 504", names(list))
	}
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", Method: "POST", Path: "/servers", Drop: true, After: true, Times: 1}}})
	_, err = servers.Create(testCtx(t), cc, servers.CreateOpts{Name: "orphan2", ImageRef: c.Seed().BaseImageID, FlavorRef: "1",
		Networks: []servers.Network{{UUID: c.Seed().NetworkID}}}, nil).Extract()
	if err == nil {
		t.Fatal("dropped answer: no error")
	}
	// Go does not resend a POST on a dropped connection, so exactly one server exists.
	if list := listServers(t, cc, servers.ListOpts{Name: "^orphan2$"}); len(list) != 1 {
		t.Fatalf("servers named orphan2 = %v, want exactly 1", names(list))
	}
}
