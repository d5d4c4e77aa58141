package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// lab is a devcloud with a load balancer in front of web01, and the adapters on it.
type lab struct {
	dc      *devcloud.Cloud
	seed    devcloud.SeedInfo
	compute *cloud.Compute
	lb      *cloud.LoadBalancer
	lbID    string
	poolID  string
	vipURL  string
}

const testPoll = 10 * time.Millisecond

func newLab(t *testing.T, timeScale float64) *lab {
	t.Helper()
	dc, err := devcloud.Start(devcloud.Options{TimeScale: timeScale, Seed: true, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	env := dc.Env()
	cfg, err := cloud.Config{AuthURL: dc.AuthURL(), UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"],
		ProjectName: env["OS_PROJECT_NAME"], UserDomainName: "Default", ProjectDomainName: "Default", Region: "RegionOne"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(cfg, nil, "eventscale-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	compute, err := client.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compute.Poll = cloud.Poll{Interval: testPoll}
	l := &lab{dc: dc, seed: dc.Seed(), compute: compute}
	sc, err := client.ServiceClient(ctx, cloud.ServiceLoadBalancer)
	if err != nil {
		t.Fatal(err)
	}
	l.buildLoadBalancer(ctx, t, sc)
	return l
}

// buildLoadBalancer makes the event's front door the way an operator would: LB, HTTP listener,
// round-robin pool with an HTTP monitor, web01 as the one existing member.
func (l *lab) buildLoadBalancer(ctx context.Context, t *testing.T, sc *gophercloud.ServiceClient) {
	t.Helper()
	poll := cloud.Poll{Interval: testPoll}
	wait := func() {
		if _, err := cloud.WaitLoadBalancer(ctx, sc, poll, l.lbID, "ACTIVE"); err != nil {
			t.Fatal(err)
		}
	}
	lb, err := loadbalancers.Create(ctx, sc, loadbalancers.CreateOpts{Name: "front", VipSubnetID: l.seed.SubnetID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	l.lbID = lb.ID
	wait()
	lis, err := listeners.Create(ctx, sc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	wait()
	pool, err := pools.Create(ctx, sc, pools.CreateOpts{ListenerID: lis.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	l.poolID = pool.ID
	wait()
	if _, err := monitors.Create(ctx, sc, monitors.CreateOpts{PoolID: pool.ID, Type: monitors.TypeHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, URLPath: "/"}).Extract(); err != nil {
		t.Fatal(err)
	}
	wait()
	if _, err := pools.CreateMember(ctx, sc, pool.ID, pools.CreateMemberOpts{Name: "web01", Address: l.seed.Web01Address, ProtocolPort: 80}).Extract(); err != nil {
		t.Fatal(err)
	}
	wait()
	l.lb = &cloud.LoadBalancer{Client: sc, Poll: poll, LoadBalancerID: lb.ID}
	var vips struct {
		VIPs []struct{ LoadBalancerID, URL string } `json:"vips"`
	}
	l.control(t, "/_devcloud/vips", &vips)
	for _, v := range vips.VIPs {
		if v.LoadBalancerID == lb.ID {
			l.vipURL = v.URL
		}
	}
	if l.vipURL == "" {
		t.Fatalf("devcloud lists no VIP URL for load balancer %s: %+v", lb.ID, vips)
	}
}

func (l *lab) control(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get(l.dc.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

func (l *lab) pool(t *testing.T, drain time.Duration) *scaling.Pool {
	t.Helper()
	p, err := scaling.New(scaling.Config{
		Spec: scaling.PoolSpec{Key: "event-web", NamePrefix: "event-web", ImageID: l.seed.Web01ImageID,
			FlavorID: l.seed.Web01FlavorID, Networks: []string{l.seed.NetworkID}, LoadBalancerID: l.lbID,
			PoolID: l.poolID, ProtocolPort: 80, SubnetID: l.seed.SubnetID},
		Options: scaling.Options{DrainTimeout: drain, PollInterval: testPoll, HealthCheckURL: l.vipURL,
			HealthCheckSuccesses: 2, HealthyTimeout: time.Minute},
		Compute: l.compute, LB: l.lb,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type memberTraffic struct {
	MemberID string `json:"MemberID"`
	Address  string `json:"Address"`
	Served   int64  `json:"Served"`
	Broken   int64  `json:"Broken"`
}

func (l *lab) traffic(t *testing.T) (served, broken int64) {
	t.Helper()
	var doc struct {
		MemberTraffic []memberTraffic `json:"member_traffic"`
	}
	l.control(t, "/_devcloud/events", &doc)
	for _, m := range doc.MemberTraffic {
		served += m.Served
		broken += m.Broken
	}
	return served, broken
}

// steadyLoad sends requests through the VIP from a few workers until stopped, counting the
// requests that failed as a visitor would see them: transport errors and 5xx answers.
type steadyLoad struct {
	ok, failed atomic.Int64
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startLoad(url string, workers int, pause time.Duration) *steadyLoad {
	s := &steadyLoad{stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	for range workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.stop:
					return
				default:
				}
				resp, err := client.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				if err != nil || resp.StatusCode >= 500 {
					s.failed.Add(1)
				} else {
					s.ok.Add(1)
				}
				time.Sleep(pause)
			}
		}()
	}
	return s
}

func (s *steadyLoad) finish() (ok, failed int64) {
	close(s.stop)
	s.wg.Wait()
	return s.ok.Load(), s.failed.Load()
}

func TestScaleBack_UnderTrafficOnDevcloudBreaksNoRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test on devcloud")
	}
	l := newLab(t, 0.01)
	// Requests that take a while make the in-flight window wide enough to catch a bad removal.
	if err := l.dc.SetCapacity(devcloud.CapacityModel{RPSPerVCPU: 200, ConcurrencyPerVCPU: 16, BaseLatencyMS: 150, ComputeHosts: 4}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := l.pool(t, 600*time.Millisecond)
	nodes, err := p.Apply(ctx, 8)
	if err != nil || len(nodes) != 8 {
		t.Fatalf("scale out to 8: %d nodes, %v", len(nodes), err)
	}
	load := startLoad(l.vipURL, 6, 10*time.Millisecond)
	if nodes, err = p.Apply(ctx, 2); err != nil || len(nodes) != 2 {
		load.finish()
		t.Fatalf("scale in to 2: %d nodes, %v", len(nodes), err)
	}
	if nodes, err = p.Destroy(ctx); err != nil || len(nodes) != 0 {
		load.finish()
		t.Fatalf("destroy: %d nodes left, %v", len(nodes), err)
	}
	ok, failed := load.finish()
	served, broken := l.traffic(t)
	t.Logf("steady load: %d requests answered, %d failed; devcloud: %d served, %d broken", ok, failed, served, broken)
	if ok < 100 {
		t.Fatalf("only %d requests went through: the load did not run during the scale-back", ok)
	}
	if broken != 0 || failed != 0 {
		t.Fatalf("the staggered scale-back broke %d in-flight requests (%d failed at the client)", broken, failed)
	}
	// web01, which the pool does not manage, is still a member with its weight.
	members, err := l.lb.ListMembers(ctx, l.poolID)
	if err != nil || len(members) != 1 || members[0].Address != l.seed.Web01Address || members[0].Weight != 1 {
		t.Fatalf("members after destroy = %+v (%v), want web01 alone and unchanged", members, err)
	}
}

// The same scale-back done the way tools without a drain do it — member and server deleted
// at once — must break requests on the same cloud under the same load: proof that the test
// above can fail.
func TestScaleBack_WithoutDrainBreaksRequestsOnDevcloud(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test on devcloud")
	}
	l := newLab(t, 0.01)
	if err := l.dc.SetCapacity(devcloud.CapacityModel{RPSPerVCPU: 200, ConcurrencyPerVCPU: 16, BaseLatencyMS: 150, ComputeHosts: 4}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes, err := l.pool(t, time.Second).Apply(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	load := startLoad(l.vipURL, 6, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	for _, n := range nodes {
		if err := l.lb.DeleteMember(ctx, l.poolID, n.MemberID); err != nil {
			t.Fatal(err)
		}
		if err := l.compute.DeleteServer(ctx, n.ServerID); err != nil {
			t.Fatal(err)
		}
		if err := l.lb.WaitActive(ctx, l.lbID); err != nil {
			t.Fatal(err)
		}
	}
	ok, failed := load.finish()
	_, broken := l.traffic(t)
	t.Logf("without drain: %d requests answered, %d failed; devcloud counted %d broken", ok, failed, broken)
	if broken == 0 {
		t.Fatal("removing members without a drain broke no request: this cloud could not tell a safe scale-back from an unsafe one")
	}
}

func TestAdapters_LoadBalancerRetriesImmutableConflictUntilActive(t *testing.T) {
	l := newLab(t, 0.05)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	members := []scaling.Member{l.web01Member(ctx, t)}
	zero, one := 0, 1
	// The first update puts the LB in PENDING_UPDATE; the second must get Octavia's 409 and
	// be retried after the LB is ACTIVE again, not fail.
	if err := l.lb.UpdateMember(ctx, l.poolID, members[0].ID, &zero, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.lb.UpdateMember(ctx, l.poolID, members[0].ID, &one, nil); err != nil {
		t.Fatalf("second update while PENDING_UPDATE: %v", err)
	}
	if err := l.lb.WaitActive(ctx, l.lbID); err != nil {
		t.Fatal(err)
	}
	members, _ = l.lb.ListMembers(ctx, l.poolID)
	if members[0].Weight != 1 {
		t.Fatalf("weight = %d, want 1 after both updates", members[0].Weight)
	}
	if l.conflicts(t, http.MethodPut) == 0 {
		t.Fatal("no 409 was answered: the test did not exercise the immutable retry")
	}
}

// A batch member update refused as immutable is not re-sent: the list was read before the
// change that made the load balancer busy, and sending it would undo that change. The adapter
// waits for ACTIVE and answers scaling.ErrStale; the change that came first stands.
func TestAdapters_BatchMemberUpdateRefusedWhileBusyIsNotResent(t *testing.T) {
	l := newLab(t, 0.05)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	members := []scaling.Member{l.web01Member(ctx, t)}
	stale := []scaling.MemberSpec{{Name: members[0].Name, Address: members[0].Address, ProtocolPort: members[0].ProtocolPort,
		Weight: members[0].Weight, AdminStateUp: true}}
	zero := 0
	if err := l.lb.UpdateMember(ctx, l.poolID, members[0].ID, &zero, nil); err != nil {
		t.Fatal(err)
	}
	err := l.lb.BatchUpdateMembers(ctx, l.poolID, stale)
	if !errors.Is(err, scaling.ErrStale) {
		t.Fatalf("batch update while PENDING_UPDATE: err = %v, want scaling.ErrStale", err)
	}
	if err := l.lb.WaitActive(ctx, l.lbID); err != nil {
		t.Fatal(err)
	}
	members, _ = l.lb.ListMembers(ctx, l.poolID)
	if len(members) != 1 || members[0].Weight != 0 {
		t.Fatalf("members = %+v, want web01 at weight 0: the stale list (weight 1) must not have been sent again", members)
	}
	if l.conflicts(t, http.MethodPut) == 0 {
		t.Fatal("no 409 was answered: the test did not exercise the refusal")
	}
}

// web01Member is the pool's one member before a test adds any: web01.
func (l *lab) web01Member(ctx context.Context, t *testing.T) scaling.Member {
	t.Helper()
	members, err := l.lb.ListMembers(ctx, l.poolID)
	if err != nil || len(members) != 1 {
		t.Fatalf("members %v %v", members, err)
	}
	return members[0]
}

// conflicts counts devcloud's 409 answers to requests of this method.
func (l *lab) conflicts(t *testing.T, method string) int {
	t.Helper()
	var metrics struct {
		Requests []struct {
			Service, Method, Path string
			Status                int
			Count                 int
		} `json:"requests"`
	}
	l.control(t, "/_devcloud/metrics", &metrics)
	conflicts := 0
	for _, r := range metrics.Requests {
		if r.Method == method && r.Status == http.StatusConflict {
			conflicts += r.Count
		}
	}
	if conflicts == 0 {
		t.Logf("devcloud answered no %s request with 409: %+v", method, metrics.Requests)
	}
	return conflicts
}

// A delete sent while a change is being applied gets Octavia's 409 "immutable": the cascade
// waits for the change through the load balancer's one waiter, deletes, and returns only once
// Octavia no longer knows the load balancer.
func TestAdapters_CascadeDeleteWaitsOutAChangeThenUntilTheLoadBalancerIsGone(t *testing.T) {
	l := newLab(t, 0.05)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	members := []scaling.Member{l.web01Member(ctx, t)}
	zero := 0
	if err := l.lb.UpdateMember(ctx, l.poolID, members[0].ID, &zero, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.lb.DeleteLoadBalancerCascade(ctx, l.lbID); err != nil {
		t.Fatalf("delete while PENDING_UPDATE: %v", err)
	}
	if l.conflicts(t, http.MethodDelete) == 0 {
		t.Fatal("no 409 was answered: the test did not exercise the wait for a change in progress")
	}
	if lb, err := l.lb.GetLoadBalancer(ctx, l.lbID); !cloud.IsNotFound(err) && (err != nil || lb.ProvisioningStatus != "DELETED") {
		t.Fatalf("after the cascade delete Octavia still has load balancer %s: %+v (%v)", l.lbID, lb, err)
	}
	if err := l.lb.DeleteLoadBalancerCascade(ctx, l.lbID); err != nil {
		t.Fatalf("deleting a load balancer already gone: %v", err)
	}
}

func TestAdapters_ServerFaultCarriesNovaMessage(t *testing.T) {
	l := newLab(t, 0.01)
	l.dc.InjectFaults(devcloud.FaultSpec{ServerErrors: &devcloud.ServerErrorFault{Next: 1, Message: "No valid host was found."}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := l.compute.CreateServer(ctx, scaling.ServerSpec{Name: "doomed", ImageID: l.seed.Web01ImageID,
		FlavorID: l.seed.Web01FlavorID, Networks: []string{l.seed.NetworkID}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.compute.WaitServerActive(ctx, srv.ID)
	var fault *scaling.ServerFaultError
	if !errors.As(err, &fault) || fault.Message != "No valid host was found." {
		t.Fatalf("err = %v, want a ServerFaultError with Nova's message", err)
	}
}

// Octavia's status tree lists pools only under listeners (as the lab's Zed answers): the
// members of a pool attached to the load balancer alone are read from the pool itself.
func TestAdapters_MemberStatusesOfAPoolNoListenerUses(t *testing.T) {
	l := newLab(t, 0.05)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := l.lb.CreatePool(ctx, cloud.PoolSpec{LoadBalancerID: l.lbID, Protocol: "HTTP", LBMethod: "ROUND_ROBIN"})
	if err != nil {
		t.Fatal(err)
	}
	member, err := l.lb.CreateMember(ctx, pool.ID, cloud.MemberSpec{Address: l.seed.Web01Address, ProtocolPort: 80})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.lb.WaitActive(ctx, l.lbID); err != nil {
		t.Fatal(err)
	}
	statuses, err := l.lb.MemberOperatingStatuses(ctx, l.lbID, pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses[member.ID]; got != "NO_MONITOR" {
		t.Fatalf("member of the listener-less pool: %q (all: %v), want NO_MONITOR", got, statuses)
	}
}
