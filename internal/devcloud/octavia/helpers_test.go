package octavia

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

const testProject = "0f9c6d3e6a7b4f0c8d2e1a3b5c7d9e11"

type recordedEvent struct {
	kind  string
	attrs map[string]any
}

// fakeEnv stands in for the devcloud core: fixed delays, a port allocator
// and an event log.
type fakeEnv struct {
	nodes  *webnode.Registry
	delays map[string]time.Duration

	mu       sync.Mutex
	events   []recordedEvent
	ports    map[string]Port
	released []string
	nextIP   int
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{
		nodes:  webnode.NewRegistry(),
		delays: map[string]time.Duration{"lb_create": 60 * time.Millisecond, "lb_update": 60 * time.Millisecond, "lb_delete": 60 * time.Millisecond},
		ports:  map[string]Port{},
		nextIP: 10,
	}
}

func (e *fakeEnv) ProjectID(*http.Request) string { return testProject }

func (e *fakeEnv) Delay(name string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.delays[name]
}

func (e *fakeEnv) setDelay(name string, d time.Duration) {
	e.mu.Lock()
	e.delays[name] = d
	e.mu.Unlock()
}

func (e *fakeEnv) Event(kind string, attrs map[string]any) {
	e.mu.Lock()
	e.events = append(e.events, recordedEvent{kind, attrs})
	e.mu.Unlock()
}

func (e *fakeEnv) AllocatePort(projectID, networkID, subnetID, name string) (Port, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if networkID == "" && subnetID == "" {
		return Port{}, errors.New("no network given")
	}
	if subnetID == "" {
		subnetID = "subnet-of-" + networkID
	}
	if networkID == "" {
		networkID = "net-of-" + subnetID
	}
	e.nextIP++
	p := Port{ID: newID(), NetworkID: networkID, SubnetID: subnetID, Address: fmt.Sprintf("10.0.0.%d", e.nextIP)}
	e.ports[p.ID] = p
	return p, nil
}

func (e *fakeEnv) ReleasePort(portID string) {
	e.mu.Lock()
	e.released = append(e.released, portID)
	delete(e.ports, portID)
	e.mu.Unlock()
}

func (e *fakeEnv) Nodes() *webnode.Registry { return e.nodes }

func (e *fakeEnv) eventsSince(n int) []recordedEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recordedEvent(nil), e.events[n:]...)
}

func (e *fakeEnv) eventCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events)
}

// harness is a Service behind an httptest server and a gophercloud client
// built the way openstack.NewLoadBalancerV2 builds it.
type harness struct {
	t   *testing.T
	env *fakeEnv
	svc *Service
	lb  *gophercloud.ServiceClient
	ctx context.Context
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessEnv(t, func(f *fakeEnv) Env { return f })
}

// newHarnessEnv lets a test wrap the fake (to add optional interfaces).
func newHarnessEnv(t *testing.T, wrap func(*fakeEnv) Env) *harness {
	t.Helper()
	env := newFakeEnv()
	svc := New(wrap(env))
	mux := http.NewServeMux()
	mux.Handle("/load-balancer/", http.StripPrefix("/load-balancer", svc.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		svc.Close()
		srv.Close()
		env.nodes.Reset()
	})
	provider := &gophercloud.ProviderClient{TokenID: "fake-token"}
	provider.HTTPClient = http.Client{Timeout: 10 * time.Second}
	provider.EndpointLocator = func(gophercloud.EndpointOpts) (string, error) {
		return srv.URL + "/load-balancer/", nil
	}
	client, err := openstack.NewLoadBalancerV2(provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("load-balancer client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &harness{t: t, env: env, svc: svc, lb: client, ctx: ctx}
}

// addNode registers a simulated web server as the core does for an ACTIVE server.
func (h *harness) addNode(address string, c webnode.Capacity) *webnode.Node {
	n := webnode.NewNode("server-"+address, address, c)
	h.env.nodes.Put(n)
	return n
}

func (h *harness) waitLB(id, want string) *loadbalancers.LoadBalancer {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lb, err := loadbalancers.Get(h.ctx, h.lb, id).Extract()
		if err != nil {
			h.t.Fatalf("get load balancer %s: %v", id, err)
		}
		if lb.ProvisioningStatus == want {
			return lb
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("load balancer %s stayed %s, want %s", id, lb.ProvisioningStatus, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) createLB() *loadbalancers.LoadBalancer {
	h.t.Helper()
	lb, err := loadbalancers.Create(h.ctx, h.lb, loadbalancers.CreateOpts{Name: "web", VipSubnetID: "subnet-1"}).Extract()
	if err != nil {
		h.t.Fatalf("create load balancer: %v", err)
	}
	h.waitLB(lb.ID, "ACTIVE")
	return lb
}

// stack builds LB → HTTP listener → pool (optionally with a monitor) →
// members at the given addresses, waiting for ACTIVE after each step.
type stack struct {
	lb       *loadbalancers.LoadBalancer
	listener *listeners.Listener
	pool     *pools.Pool
	members  []*pools.Member
	vipURL   string
}

func (h *harness) buildStack(algorithm pools.LBMethod, withMonitor bool, addresses ...string) *stack {
	h.t.Helper()
	st := &stack{lb: h.createLB()}
	l, err := listeners.Create(h.ctx, h.lb, listeners.CreateOpts{LoadbalancerID: st.lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	if err != nil {
		h.t.Fatalf("create listener: %v", err)
	}
	st.listener = l
	h.waitLB(st.lb.ID, "ACTIVE")
	p, err := pools.Create(h.ctx, h.lb, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: algorithm}).Extract()
	if err != nil {
		h.t.Fatalf("create pool: %v", err)
	}
	st.pool = p
	h.waitLB(st.lb.ID, "ACTIVE")
	if withMonitor {
		if _, err := monitors.Create(h.ctx, h.lb, monitors.CreateOpts{PoolID: p.ID, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, URLPath: "/health"}).Extract(); err != nil {
			h.t.Fatalf("create monitor: %v", err)
		}
		h.waitLB(st.lb.ID, "ACTIVE")
	}
	for _, a := range addresses {
		m, err := pools.CreateMember(h.ctx, h.lb, p.ID, pools.CreateMemberOpts{Address: a, ProtocolPort: 80}).Extract()
		if err != nil {
			h.t.Fatalf("create member %s: %v", a, err)
		}
		st.members = append(st.members, m)
		h.waitLB(st.lb.ID, "ACTIVE")
	}
	for _, v := range h.svc.VIPs() {
		if v.ListenerID == l.ID {
			st.vipURL = v.URL
		}
	}
	if st.vipURL == "" {
		h.t.Fatalf("no VIP URL for listener %s", l.ID)
	}
	return st
}

func (h *harness) memberStatus(poolID, memberID string) string {
	h.t.Helper()
	m, err := pools.GetMember(h.ctx, h.lb, poolID, memberID).Extract()
	if err != nil {
		h.t.Fatalf("get member %s: %v", memberID, err)
	}
	return m.OperatingStatus
}

func (h *harness) waitMemberStatus(poolID, memberID, want string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := h.memberStatus(poolID, memberID)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("member %s operating_status %s, want %s", memberID, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) traffic(memberID string) MemberTraffic {
	for _, t := range h.svc.MemberTraffic() {
		if t.MemberID == memberID {
			return t
		}
	}
	return MemberTraffic{}
}

// httpResult is what a client of the VIP got.
type httpResult struct {
	status int
	member string
	err    error
}

func get(url string) httpResult {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return httpResult{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return httpResult{status: resp.StatusCode, err: err}
	}
	return httpResult{status: resp.StatusCode, member: resp.Header.Get("X-Devcloud-Member")}
}

// wantCode fails the test unless err is an HTTP error with the wanted status; for checks that
// need nothing else from the error.
func wantCode(t *testing.T, err error, want int) {
	t.Helper()
	_ = asCodeError(t, err, want)
}

func asCodeError(t *testing.T, err error, want int) gophercloud.ErrUnexpectedResponseCode {
	t.Helper()
	var ce gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &ce) {
		t.Fatalf("want an HTTP %d error, got %v", want, err)
	}
	if ce.Actual != want {
		t.Fatalf("status %d, want %d (body %s)", ce.Actual, want, ce.Body)
	}
	return ce
}

func webnodeCapacity(rps float64, latency time.Duration) webnode.Capacity {
	return webnode.Capacity{RPS: rps, Concurrency: 16, BaseLatency: latency}
}
