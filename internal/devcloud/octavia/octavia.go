// Package octavia simulates the OpenStack Load Balancing API (Octavia v2,
// amphora provider) and its data plane for devcloud.
//
// Control plane. Objects live in memory. Every mutating call puts the object
// and its load balancer in PENDING_*; after Env.Delay("lb_create" /
// "lb_update" / "lb_delete") one commit applies the change to the stored
// object and to the data plane at once (as the controller worker does after
// the amphora took the new configuration) and sets ACTIVE. Until then GETs
// show the old values and every mutating call on that load balancer gets
// Octavia's 409 "is immutable".
//
// Data plane. Each HTTP listener of a load balancer is a real HTTP server on
// 127.0.0.1 (see VIPs and the devcloud_vip_url field) proxying to the
// webnode.Node registered at each member's address. A TERMINATED_HTTPS listener
// is the same behind TLS, with the certificates of its Barbican references
// (tls.go): the API checks them as Octavia does and, with the caller's token,
// grants Octavia's service user read access when Env implements KeyManager.
//
// Health rule. A pool with a health monitor sees a member ONLINE only once the
// monitor's first check passed: HealthCheckDelay after the member (or the
// monitor) was committed. HealthCheckDelay is the monitor's delay times the
// time scale when Env implements TimeScaler, otherwise Env.Delay("lb_update")/2.
// From then on the member's status follows its node at once: ERROR when the
// node is missing or unhealthy, ONLINE (DRAINING at weight 0) when healthy.
// The data plane sends new requests only to members whose status is ONLINE
// or NO_MONITOR and whose weight is above 0 (backup members only when no
// other member qualifies).
//
// Breaks. A request in flight on a member breaks (the client's connection
// closes without a response; the member's Broken counter grows) when the
// member is deleted or dropped by a batch update, disabled
// (admin_state_up=false), its pool, listener or load balancer is deleted, or
// its node stops. Weight 0 breaks nothing: in-flight requests finish.
//
// Events (Env.Event; ids as attrs lb_id, pool_id, member_id, listener_id,
// healthmonitor_id, address where relevant):
//
//	lb.status             id, lb_id, provisioning_status (PENDING_*, ACTIVE, DELETED)
//	lb.created            lb_id, name, vip_address
//	lb.deleted            lb_id
//	listener.created      lb_id, listener_id, protocol, protocol_port, vip_url (HTTP, TERMINATED_HTTPS) or error
//	listener.deleted      lb_id, listener_id
//	pool.created          lb_id, pool_id, listener_id, lb_algorithm
//	pool.deleted          lb_id, pool_id
//	healthmonitor.created lb_id, pool_id, healthmonitor_id, type, delay
//	healthmonitor.deleted lb_id, pool_id, healthmonitor_id
//	member.added          lb_id, pool_id, member_id, address, protocol_port, weight, admin_state_up
//	member.weight         lb_id, pool_id, member_id, address, weight
//	member.admin_state    lb_id, pool_id, member_id, address, admin_state_up
//	member.removed        lb_id, pool_id, member_id, address
//
// All but lb.status/lb.created are emitted at commit time, when the change
// reaches the data plane.
//
// Files: api.go routes /v2/lbaas, writes faults, filters lists and holds the change helpers
// (updateCycle, changeChild, previewReply) every object's PUT and DELETE go through;
// loadbalancers.go, listeners.go, pools.go, members.go and monitors.go serve one object each
// (body, validation, routes, view); quotas.go serves /quotas and the checks every create makes;
// status.go computes operating statuses and the status tree; dataplane.go is the VIP proxy;
// tls.go reads and checks Barbican certificates; model.go the stored objects. A new object
// gets its own file and one case in serveAPI.
package octavia

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

// Port is a Neutron port allocated for a VIP.
type Port struct{ ID, NetworkID, SubnetID, Address string }

// Env is what the service needs from the rest of devcloud.
type Env interface {
	ProjectID(r *http.Request) string
	Delay(name string) time.Duration
	Event(kind string, attrs map[string]any)
	AllocatePort(projectID, networkID, subnetID, name string) (Port, error)
	ReleasePort(portID string)
	Nodes() *webnode.Registry
}

// TimeScaler is optionally implemented by Env: the health monitor's delay
// (seconds, as configured) is multiplied by TimeScale to time its first check.
type TimeScaler interface {
	TimeScale() float64
}

// VIPInfo locates the real listener behind a load balancer's listener.
type VIPInfo struct {
	LoadBalancerID, ListenerID, VIPAddress, URL string
	// Protocol is the listener's (HTTP or TERMINATED_HTTPS, whose URL is https://) and
	// Address the socket's host:port on 127.0.0.1.
	Protocol, Address string
}

// MemberTraffic counts what the data plane sent to one member.
type MemberTraffic struct {
	LoadBalancerID, PoolID, MemberID, Address string
	Served, Broken                            int64
	// Errors counts requests that got no answer from the member other than
	// a break (connection refused, timeout).
	Errors int64
	// InFlight is the number of requests being served by the member now.
	InFlight int64
}

// Service is the Octavia API and data plane.
type Service struct {
	env Env

	mu        sync.Mutex
	lbs       map[string]*loadBalancer
	listeners map[string]*listener
	pools     map[string]*pool
	members   map[string]*member
	monitors  map[string]*monitor
	// gen is bumped by Reset so that commits scheduled before it do nothing.
	gen    uint64
	timers map[*time.Timer]struct{}
	// traffic keeps counters of deleted members too, so that a test can see
	// what happened to requests on a member after it was removed.
	traffic map[string]*memberCounters
	closed  bool
	post    []func()
	// quotas are the projects' quota rows (quotas.go).
	quotas map[string]projectQuota
}

// New returns an empty service.
func New(env Env) *Service {
	s := &Service{env: env}
	s.resetLocked()
	return s
}

func (s *Service) resetLocked() {
	s.lbs = map[string]*loadBalancer{}
	s.listeners = map[string]*listener{}
	s.pools = map[string]*pool{}
	s.members = map[string]*member{}
	s.monitors = map[string]*monitor{}
	s.timers = map[*time.Timer]struct{}{}
	s.traffic = map[string]*memberCounters{}
	s.quotas = map[string]projectQuota{}
	s.gen++
}

// Reset drops every object and closes every VIP listener.
func (s *Service) Reset() {
	s.mu.Lock()
	var servers []*vipServer
	for _, l := range s.listeners {
		if l.vip != nil {
			servers = append(servers, l.vip)
		}
	}
	for _, m := range s.members {
		m.breakInFlight()
	}
	for t := range s.timers {
		t.Stop()
	}
	s.resetLocked()
	s.unlock()
	for _, v := range servers {
		v.close()
	}
}

// Close resets the service and refuses later scheduling.
func (s *Service) Close() {
	s.Reset()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// VIPs lists the real listeners, one per ACTIVE HTTP or TERMINATED_HTTPS listener.
func (s *Service) VIPs() []VIPInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []VIPInfo
	for _, l := range sortedValues(s.listeners) {
		if l.vip == nil {
			continue
		}
		lb := s.lbs[l.LoadBalancerID]
		addr := ""
		if lb != nil {
			addr = lb.VipAddress
		}
		out = append(out, VIPInfo{LoadBalancerID: l.LoadBalancerID, ListenerID: l.ID, VIPAddress: addr, URL: l.vip.url,
			Protocol: l.vip.protocol, Address: l.vip.addr})
	}
	return out
}

// MemberTraffic reports per-member counters, removed members included.
func (s *Service) MemberTraffic() []MemberTraffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MemberTraffic, 0, len(s.traffic))
	for _, c := range sortedValues(s.traffic) {
		out = append(out, c.snapshot())
	}
	return out
}

// schedule runs fn under s.mu after d, unless Reset or Close came first.
func (s *Service) schedule(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	gen := s.gen
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		if s.gen == gen && !s.closed {
			fn()
		}
		s.unlock()
	})
	s.timers[t] = struct{}{}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// timestamp renders times as Octavia does (UTC, no zone suffix).
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// emit queues an event for delivery after s.mu is released.
func (s *Service) emit(kind string, attrs map[string]any) {
	s.later(func() { s.env.Event(kind, attrs) })
}

// later queues fn to run once s.mu is released, so that Env's methods that
// take the core's locks (Event, Delay, ReleasePort) never run under the
// service's lock: the core may hold its lock while calling the service.
// Only Nodes(), a plain getter, is called under s.mu.
func (s *Service) later(fn func()) {
	s.post = append(s.post, fn)
}

// unlock releases s.mu and runs what was queued by later meanwhile.
func (s *Service) unlock() {
	post := s.post
	s.post = nil
	s.mu.Unlock()
	for _, fn := range post {
		fn()
	}
}

// listenLoopback opens a VIP socket; split out so that the failure has context.
func listenLoopback() (net.Listener, error) {
	// Binding a loopback port does not block, so no caller's context is needed.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("octavia data plane: open VIP listener on 127.0.0.1: %w", err)
	}
	return ln, nil
}
