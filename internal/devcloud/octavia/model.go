package octavia

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Provisioning and operating statuses, as Octavia spells them.
const (
	statusActive        = "ACTIVE"
	statusPendingCreate = "PENDING_CREATE"
	statusPendingUpdate = "PENDING_UPDATE"
	statusPendingDelete = "PENDING_DELETE"
	statusDeleted       = "DELETED"

	opOnline    = "ONLINE"
	opOffline   = "OFFLINE"
	opDegraded  = "DEGRADED"
	opError     = "ERROR"
	opDraining  = "DRAINING"
	opNoMonitor = "NO_MONITOR"
)

var seqCounter atomic.Uint64

type ordered interface{ order() uint64 }

type base struct {
	ID                 string
	ProjectID          string
	Name               string
	Description        string
	AdminStateUp       bool
	ProvisioningStatus string
	Tags               []string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	seq                uint64
}

func newBase(projectID string) base {
	now := time.Now()
	return base{ID: newID(), ProjectID: projectID, AdminStateUp: true, ProvisioningStatus: statusPendingCreate,
		Tags: []string{}, CreatedAt: now, UpdatedAt: now, seq: seqCounter.Add(1)}
}

func (b *base) order() uint64 { return b.seq }

func (b *base) owner() string { return b.ProjectID }

// visibleViews renders, in creation order, the objects of a collection the project may see:
// the body of every list call.
func visibleViews[T interface {
	ordered
	owner() string
}](project string, objs map[string]T, view func(T) map[string]any) []map[string]any {
	var views []map[string]any
	for _, o := range sortedValues(objs) {
		if visible(project, o.owner()) {
			views = append(views, view(o))
		}
	}
	return views
}

func (b *base) pending() bool {
	switch b.ProvisioningStatus {
	case statusPendingCreate, statusPendingUpdate, statusPendingDelete:
		return true
	}
	return false
}

func sortedValues[T ordered](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order() < out[j].order() })
	return out
}

type loadBalancer struct {
	base
	VipAddress, VipPortID, VipSubnetID, VipNetworkID string
	Provider, FlavorID, AvailabilityZone             string
	stats                                            *trafficStats
	// ownsPort is set when the VIP port was allocated here and must be
	// released with the load balancer.
	ownsPort bool
}

type listener struct {
	base
	LoadBalancerID       string
	Protocol             string
	ProtocolPort         int
	DefaultPoolID        string
	ConnectionLimit      int
	TimeoutClientData    int
	TimeoutMemberConnect int
	TimeoutMemberData    int
	TimeoutTCPInspect    int
	InsertHeaders        map[string]string
	AllowedCIDRs         []string
	// DefaultTLSContainerRef and SNIContainerRefs are a TERMINATED_HTTPS listener's Barbican
	// references; tlsDefault and tlsSNI the certificates read from them when the API
	// accepted them, which the socket presents from the commit on.
	DefaultTLSContainerRef string
	SNIContainerRefs       []string
	tlsDefault             *servedCert
	tlsSNI                 []*servedCert
	// live is true once the listener is in the amphora's configuration.
	live  bool
	vip   *vipServer
	stats *trafficStats
}

type sessionPersistence struct {
	Type       string `json:"type"`
	CookieName string `json:"cookie_name,omitempty"`
}

type pool struct {
	base
	LoadBalancerID     string
	ListenerID         string
	LBAlgorithm        string
	Protocol           string
	SessionPersistence *sessionPersistence
	HealthMonitorID    string
	live               bool
	// members are the pool's members in creation order, pending ones included.
	members []*member
	// rr holds smooth weighted round robin state per member id.
	rr map[string]int
}

type member struct {
	base
	PoolID         string
	Address        string
	ProtocolPort   int
	Weight         int
	SubnetID       string
	Backup         bool
	MonitorAddress string
	MonitorPort    *int
	live           bool
	// checkedAt is when the health monitor's first check of this member
	// passes (see the package doc).
	checkedAt time.Time
	traffic   *memberCounters
}

type monitor struct {
	base
	PoolID         string
	Type           string
	Delay          int
	Timeout        int
	MaxRetries     int
	MaxRetriesDown int
	HTTPMethod     string
	HTTPVersion    *float64
	URLPath        string
	ExpectedCodes  string
	DomainName     string
	live           bool
}

// trafficStats are a listener's (or load balancer's) data-plane counters.
type trafficStats struct {
	active, total, bytesIn, bytesOut, requestErrors atomic.Int64
}

func (t *trafficStats) view() map[string]any {
	return map[string]any{
		"active_connections": t.active.Load(),
		"total_connections":  t.total.Load(),
		"bytes_in":           t.bytesIn.Load(),
		"bytes_out":          t.bytesOut.Load(),
		"request_errors":     t.requestErrors.Load(),
	}
}

// errMemberRemoved is the cause given to requests cut because their member
// left the configuration (deleted, disabled, its pool or load balancer gone).
var errMemberRemoved = errors.New("member removed from the load balancer configuration")

// memberCounters count a member's traffic and track its in-flight requests so
// that a removal can cut them. They outlive the member.
type memberCounters struct {
	lbID, poolID, memberID, address string
	seq                             uint64
	served, broken, errors          atomic.Int64
	inflightN                       atomic.Int64

	mu       sync.Mutex
	inflight map[uint64]context.CancelCauseFunc
	nextReq  uint64
}

func (c *memberCounters) order() uint64 { return c.seq }

func (c *memberCounters) snapshot() MemberTraffic {
	return MemberTraffic{LoadBalancerID: c.lbID, PoolID: c.poolID, MemberID: c.memberID, Address: c.address,
		Served: c.served.Load(), Broken: c.broken.Load(), Errors: c.errors.Load(), InFlight: c.inflightN.Load()}
}

// track registers an in-flight request; the returned func unregisters it.
func (c *memberCounters) track(cancel context.CancelCauseFunc) func() {
	c.mu.Lock()
	c.nextReq++
	id := c.nextReq
	if c.inflight == nil {
		c.inflight = map[uint64]context.CancelCauseFunc{}
	}
	c.inflight[id] = cancel
	c.mu.Unlock()
	c.inflightN.Add(1)
	return func() {
		c.mu.Lock()
		delete(c.inflight, id)
		c.mu.Unlock()
		c.inflightN.Add(-1)
	}
}

func (c *memberCounters) cutAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cancel := range c.inflight {
		cancel(errMemberRemoved)
	}
}

func (m *member) breakInFlight() {
	if m.traffic != nil {
		m.traffic.cutAll()
	}
}
