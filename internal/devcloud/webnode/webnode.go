// Package webnode simulates the web servers that run on devcloud's Nova
// servers. There is no socket per node: the load balancer's data plane calls
// Node.Handle directly, keyed by the server's fixed IP address.
//
// Capacity model. A node admits requests into service at most RPS per second
// (a pacing slot per request; an idle node may take up to Concurrency at once)
// and holds at most Concurrency of them in service at once; requests beyond
// that wait in a queue. Service time is
// BaseLatency scaled by utilisation (BaseLatency × (1 + busy/Concurrency)),
// so latency climbs with load. A request whose queueing delay would exceed
// QueueTimeout is refused at once with 503, as an overloaded web server or
// its accept queue would. A load test at a rate above RPS therefore settles
// at about RPS successes per second with growing latency and then 503s.
package webnode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ErrBroken is returned (wrapped) by Handle when the node stopped while the
// request was in flight: the connection to the client breaks.
var ErrBroken = errors.New("webnode: connection broken: the server went away mid-request")

// ErrStopped is returned (wrapped) by Handle when the node was already stopped:
// nothing listens any more, as a connection refused.
var ErrStopped = errors.New("webnode: connection refused: the server is stopped")

// ServedByHeader is the response header in which a node names itself, with its address, as a web
// server configured with nginx's `add_header X-Served-By $server_addr always;` does. Octavia keeps
// no per-member statistics, so this is how a load test tells which member answered.
const ServedByHeader = "X-Served-By"

// DefaultQueueTimeout bounds queueing when Capacity.QueueTimeout is zero.
const DefaultQueueTimeout = time.Second

// Capacity describes how much load one node serves.
type Capacity struct {
	RPS         float64       // sustained requests per second
	Concurrency int           // requests in service at once
	BaseLatency time.Duration // service time of one request on an idle node
	// QueueTimeout is the longest a request may wait for service before the
	// node refuses it with 503; 0 means DefaultQueueTimeout.
	QueueTimeout time.Duration
}

func (c Capacity) normalised() Capacity {
	if c.RPS <= 0 {
		c.RPS = 50
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.BaseLatency < 0 {
		c.BaseLatency = 0
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = DefaultQueueTimeout
	}
	return c
}

// Stats are a node's counters since it was created.
type Stats struct {
	InService int   // requests being served now
	Waiting   int   // requests queued for service now
	Served    int64 // requests answered with 200
	Refused   int64 // requests answered with 503 because the queue was full
	Broken    int64 // requests broken by Stop
	Failed    int64 // requests answered with 500 while unhealthy
}

// Node is one simulated web server.
type Node struct {
	serverID string
	address  string
	cap      Capacity

	slots   chan struct{} // one token per request in service
	stopped chan struct{}

	mu        sync.Mutex
	nextStart time.Time // earliest time the next request may enter service
	stopOnce  sync.Once
	unhealthy bool
	stats     Stats
}

// NewNode returns a running node for the server serverID at address.
func NewNode(serverID, address string, c Capacity) *Node {
	c = c.normalised()
	return &Node{
		serverID: serverID,
		address:  address,
		cap:      c,
		slots:    make(chan struct{}, c.Concurrency),
		stopped:  make(chan struct{}),
	}
}

// ServerID is the Nova server this node runs on.
func (n *Node) ServerID() string { return n.serverID }

// Address is the fixed IP the node is reached at.
func (n *Node) Address() string { return n.address }

// ResponseHeader is what the node adds to every answer it gives (its own 500s and 503s
// included, as with nginx's `always`): its address in ServedByHeader. Each node, web01 among
// them, has its own fixed IP, so every member is told apart.
func (n *Node) ResponseHeader() http.Header {
	return http.Header{ServedByHeader: {n.address}}
}

// Capacity is the node's configured capacity.
func (n *Node) Capacity() Capacity { return n.cap }

// Healthy reports whether a health check against the node would pass: it
// runs and its application was not marked failing.
func (n *Node) Healthy() bool {
	if n.isStopped() {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.unhealthy
}

// SetHealthy marks the application failing (false: it answers 500 and fails
// health checks while the server stays up) or working again.
func (n *Node) SetHealthy(ok bool) {
	n.mu.Lock()
	n.unhealthy = !ok
	n.mu.Unlock()
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

func (n *Node) isStopped() bool {
	select {
	case <-n.stopped:
		return true
	default:
		return false
	}
}

// Stop takes the node away, as when its server is deleted or rebooted:
// requests in flight fail with ErrBroken, later ones with ErrStopped.
func (n *Node) Stop() {
	n.stopOnce.Do(func() { close(n.stopped) })
}

func (n *Node) count(f func(s *Stats)) {
	n.mu.Lock()
	f(&n.stats)
	n.mu.Unlock()
}

// Handle serves one request. It returns the HTTP status and body the web
// server answers with; err is set when no answer comes: ErrStopped (nothing
// listens), ErrBroken (the node stopped mid-request) or the context's error
// (the caller gave up or cut the request).
func (n *Node) Handle(ctx context.Context, r *http.Request) (int, []byte, error) {
	if n.isStopped() {
		return 0, nil, fmt.Errorf("%s (%s): %w", n.address, n.serverID, ErrStopped)
	}
	if !n.Healthy() {
		n.count(func(s *Stats) { s.Failed++ })
		return http.StatusInternalServerError, []byte("application error on " + n.serverID + "\n"), nil
	}

	// Reserve a pacing slot: this is what caps throughput at RPS.
	now := time.Now()
	interval := time.Duration(float64(time.Second) / n.cap.RPS)
	n.mu.Lock()
	// Unused slots of the recent past (up to Concurrency of them) may be
	// taken now: an idle server absorbs a short burst at once, while the
	// sustained rate stays at RPS.
	slot := n.nextStart
	if floor := now.Add(-time.Duration(n.cap.Concurrency-1) * interval); slot.Before(floor) {
		slot = floor
	}
	start := slot
	if start.Before(now) {
		start = now
	}
	wait := start.Sub(now)
	if wait > n.cap.QueueTimeout {
		n.stats.Refused++
		n.mu.Unlock()
		return http.StatusServiceUnavailable, []byte("server overloaded: request queue full on " + n.serverID + "\n"), nil
	}
	n.nextStart = slot.Add(interval)
	n.stats.Waiting++
	n.mu.Unlock()

	leaveQueue := func() { n.count(func(s *Stats) { s.Waiting-- }) }
	deadline := now.Add(n.cap.QueueTimeout)
	if err := n.sleep(ctx, wait); err != nil {
		leaveQueue()
		return 0, nil, err
	}
	// Wait for a free worker; the queue timeout still bounds the whole wait.
	qt := time.NewTimer(time.Until(deadline))
	defer qt.Stop()
	select {
	case n.slots <- struct{}{}:
	case <-qt.C:
		leaveQueue()
		n.count(func(s *Stats) { s.Refused++ })
		return http.StatusServiceUnavailable, []byte("server overloaded: no free worker on " + n.serverID + "\n"), nil
	case <-ctx.Done():
		leaveQueue()
		return 0, nil, context.Cause(ctx)
	case <-n.stopped:
		leaveQueue()
		n.count(func(s *Stats) { s.Broken++ })
		return 0, nil, fmt.Errorf("%s (%s): %w", n.address, n.serverID, ErrBroken)
	}
	defer func() { <-n.slots }()

	n.mu.Lock()
	n.stats.Waiting--
	n.stats.InService++
	busy := n.stats.InService
	n.mu.Unlock()
	defer n.count(func(s *Stats) { s.InService-- })

	service := n.cap.BaseLatency + time.Duration(float64(n.cap.BaseLatency)*float64(busy)/float64(n.cap.Concurrency))
	if err := n.sleep(ctx, service); err != nil {
		return 0, nil, err
	}
	n.count(func(s *Stats) { s.Served++ })
	body := fmt.Sprintf("served by %s (%s) %s %s\n", n.serverID, n.address, r.Method, r.URL.Path)
	return http.StatusOK, []byte(body), nil
}

// sleep waits d, failing early with ErrBroken when the node stops or with
// the context's cause when the caller gives up.
func (n *Node) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-n.stopped:
		n.count(func(s *Stats) { s.Broken++ })
		return fmt.Errorf("%s (%s): %w", n.address, n.serverID, ErrBroken)
	}
}

// Registry holds the running nodes by address. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	nodes map[string]*Node
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{nodes: map[string]*Node{}}
}

// Put registers n under its address. A different node already registered
// there is stopped: two servers cannot hold the same fixed IP.
func (r *Registry) Put(n *Node) {
	r.mu.Lock()
	old := r.nodes[n.address]
	r.nodes[n.address] = n
	r.mu.Unlock()
	if old != nil && old != n {
		old.Stop()
	}
}

// Remove stops and forgets the node at address, if any.
func (r *Registry) Remove(address string) {
	r.mu.Lock()
	n := r.nodes[address]
	delete(r.nodes, address)
	r.mu.Unlock()
	if n != nil {
		n.Stop()
	}
}

// Get returns the node at address.
func (r *Registry) Get(address string) (*Node, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n, ok := r.nodes[address]
	return n, ok
}

// List returns every registered node.
func (r *Registry) List() []*Node {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Node, 0, len(r.nodes))
	for _, n := range r.nodes {
		out = append(out, n)
	}
	return out
}

// Reset stops and forgets every node.
func (r *Registry) Reset() {
	r.mu.Lock()
	old := r.nodes
	r.nodes = map[string]*Node{}
	r.mu.Unlock()
	for _, n := range old {
		n.Stop()
	}
}
