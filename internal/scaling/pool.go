package scaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Order decides which nodes a scale-in removes first.
type Order string

const (
	NewestFirst Order = "newest-first"
	OldestFirst Order = "oldest-first"
)

// DrainMethod decides how a member is taken out of rotation before removal.
type DrainMethod string

const (
	// DrainWeight sets weight 0: the member keeps its open connections (amphora shows DRAINING).
	DrainWeight DrainMethod = "weight"
	// DrainDisable sets admin_state_up=false, for providers without weights (OVN).
	DrainDisable DrainMethod = "disable"
)

// PoolSpec describes the managed web nodes and the Octavia pool they serve in.
type PoolSpec struct {
	// Key identifies the pool's nodes in Nova metadata and member tags; it must be
	// stable for the life of the pool (the provider uses the resource id).
	Key        string
	NamePrefix string

	ImageID  string
	FlavorID string
	// FlavorName is FlavorID's name: servers show the flavor by name, so this is what tells a
	// node on another flavor (to be replaced, like one on another image).
	FlavorName     string
	Networks       []string
	KeyPair        string
	SecurityGroups []string
	UserData       string
	// AvailabilityZones spreads the nodes: node N goes to zone (N-1) mod len, so that losing a
	// zone takes a predictable share of the pool. Empty lets Nova choose.
	AvailabilityZones []string
	ServerGroupID     string
	// ServerGroupIDs spreads the nodes over several groups of the same policy, when one group
	// cannot hold them all (Nova's server_group_members quota): each new node joins the group with
	// the fewest of the pool's nodes. Empty means ServerGroupID alone.
	ServerGroupIDs []string
	Metadata       map[string]string // extra Nova metadata; the eventscale_* keys win

	LoadBalancerID string
	PoolID         string
	ProtocolPort   int
	SubnetID       string
	Weight         int // member weight in service; default 1
}

// Options tune the scaling behaviour. Zero values take the defaults noted.
type Options struct {
	MaxParallel       int           // concurrent server creations; default 10
	BatchSize         int           // nodes drained per scale-in step; default 1
	Order             Order         // default NewestFirst
	DrainMethod       DrainMethod   // default DrainWeight
	DrainTimeout      time.Duration // default 60s; negative means no wait, as NoDrainWait
	MinHealthyPercent int           // 0 means every new node must be healthy
	HealthyStatuses   []string      // default ["ONLINE"]
	CreateRetries     int           // replacements of a node whose server ends in ERROR; default 2, negative means none
	RebootCheck       bool
	SkipHealthWait    bool          // report success once members joined, without waiting for health
	HealthyTimeout    time.Duration // wait for members to be healthy; default 10m
	PollInterval      time.Duration // default 5s

	// NoDrainWait removes a drained member without waiting: an explicit "0s", which
	// DrainTimeout's zero value (the default) cannot say.
	NoDrainWait bool

	PreDeleteWebhook string
	WebhookTimeout   time.Duration // default 5m

	HealthCheckURL       string
	HealthCheckSuccesses int           // consecutive 2xx/3xx answers; default 3
	HealthCheckTimeout   time.Duration // default 5m
	HTTPClient           *http.Client  // default: 10s timeout, no redirects followed

	// CleanupTimeout bounds the work done after cancellation to leave every node
	// fully in service or fully gone; default 5m.
	CleanupTimeout time.Duration

	// Progress receives every step and wait. Calls are serialised; it must not block for long.
	Progress func(Progress)
	// OnChange receives the full node list whenever a server id becomes known, a member
	// joins or is removed, or a server is gone. Calls are serialised; it must not call the Pool.
	OnChange func(nodes []Node)
}

// Progress is one event of a running Apply.
type Progress struct {
	At      time.Time // Clock time
	Step    StepKind
	Nodes   []string
	Message string
}

func (p Progress) String() string { return p.Message }

// Node is one managed web node: a Nova server and its Octavia member.
type Node struct {
	Ordinal  int
	Name     string
	ServerID string
	Address  string
	MemberID string
	ImageID  string
	Flavor   string // flavor name of the server ("" when not known)
	// ServerGroup is the server group the node was created in ("" when none, or not recorded).
	ServerGroup string
	Status      string // Nova status of the server ("" when the server is gone)
	Created     time.Time

	OperatingStatus string // member operating status as last seen
	Weight          int    // member weight when in service (restored after a rolled-back drain)
	Drained         bool   // member has weight 0 or admin_state_up=false
}

// Config is what New needs.
type Config struct {
	Spec    PoolSpec
	Options Options
	Compute Compute
	LB      LoadBalancer
	Clock   Clock // default: wall clock
	// Known is the node list from the caller's state; the cloud is authoritative, but a
	// known server id missing from the metadata listing is looked up by id.
	Known []Node
}

// Pool scales one set of web nodes behind one Octavia pool.
type Pool struct {
	spec    PoolSpec
	opts    Options
	compute Compute
	lb      LoadBalancer
	clock   Clock

	mu    sync.Mutex // guards nodes
	nodes map[string]*Node

	notifyMu   sync.Mutex // serialises OnChange
	progressMu sync.Mutex // serialises Progress
}

// New validates the configuration and fills in defaults.
func New(cfg Config) (*Pool, error) {
	s := cfg.Spec
	var missing []string
	// image_id and flavor_id are checked when a node is to be created: reading, scaling in and
	// destroying a pool (after an import, say) need neither.
	for name, v := range map[string]string{"key": s.Key, "name_prefix": s.NamePrefix,
		"load_balancer_id": s.LoadBalancerID, "pool_id": s.PoolID} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if s.ProtocolPort <= 0 {
		missing = append(missing, "protocol_port")
	}
	if cfg.Compute == nil {
		missing = append(missing, "compute client")
	}
	if cfg.LB == nil {
		missing = append(missing, "load balancer client")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("scaling pool %q: missing %v", s.Key, missing)
	}
	if s.Weight <= 0 {
		s.Weight = 1
	}
	o := withDefaults(cfg.Options)
	if o.Order != NewestFirst && o.Order != OldestFirst {
		return nil, fmt.Errorf("scaling pool %q: order %q is neither %q nor %q", s.Key, o.Order, NewestFirst, OldestFirst)
	}
	if o.DrainMethod != DrainWeight && o.DrainMethod != DrainDisable {
		return nil, fmt.Errorf("scaling pool %q: drain_method %q is neither %q nor %q", s.Key, o.DrainMethod, DrainWeight, DrainDisable)
	}
	for option, u := range map[string]string{"health_check_url": o.HealthCheckURL, "pre_delete_webhook": o.PreDeleteWebhook} {
		if u == "" {
			continue
		}
		if err := ValidateEndpointURL(u); err != nil {
			return nil, &EndpointError{Option: option, URL: u, Err: err}
		}
	}
	if o.MinHealthyPercent < 0 || o.MinHealthyPercent > 100 {
		return nil, fmt.Errorf("scaling pool %q: min_healthy_percent %d is outside 0..100", s.Key, o.MinHealthyPercent)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = WallClock{}
	}
	p := &Pool{spec: s, opts: o, compute: cfg.Compute, lb: cfg.LB, clock: clock, nodes: map[string]*Node{}}
	for _, n := range cfg.Known {
		if n.Name != "" {
			p.nodes[n.Name] = &n
		}
	}
	return p, nil
}

func withDefaults(o Options) Options {
	if o.MaxParallel <= 0 {
		o.MaxParallel = 10
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1
	}
	if o.Order == "" {
		o.Order = NewestFirst
	}
	if o.DrainMethod == "" {
		o.DrainMethod = DrainWeight
	}
	switch {
	case o.NoDrainWait || o.DrainTimeout < 0:
		o.DrainTimeout = 0
	case o.DrainTimeout == 0:
		o.DrainTimeout = 60 * time.Second
	}
	if len(o.HealthyStatuses) == 0 {
		o.HealthyStatuses = []string{"ONLINE"}
	}
	switch {
	case o.CreateRetries == 0:
		o.CreateRetries = 2
	case o.CreateRetries < 0:
		o.CreateRetries = 0
	}
	if o.HealthyTimeout <= 0 {
		o.HealthyTimeout = 10 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.WebhookTimeout <= 0 {
		o.WebhookTimeout = 5 * time.Minute
	}
	if o.HealthCheckSuccesses <= 0 {
		o.HealthCheckSuccesses = 3
	}
	if o.HealthCheckTimeout <= 0 {
		o.HealthCheckTimeout = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect is itself a healthy answer (3xx); following it could probe another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = 5 * time.Minute
	}
	return o
}

// Spec returns the pool's spec, defaults filled in.
func (p *Pool) Spec() PoolSpec { return p.spec }

// Options returns the options in effect, defaults filled in.
func (p *Pool) Options() Options { return p.opts }

// Nodes returns the nodes as last known, sorted by ordinal.
func (p *Pool) Nodes() []Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshotLocked()
}

func (p *Pool) snapshotLocked() []Node {
	out := make([]Node, 0, len(p.nodes))
	for _, n := range p.nodes {
		out = append(out, *n)
	}
	sortNodes(out)
	return out
}

func sortNodes(ns []Node) {
	sort.Slice(ns, func(i, j int) bool {
		if ns[i].Ordinal != ns[j].Ordinal {
			return ns[i].Ordinal < ns[j].Ordinal
		}
		return ns[i].Name < ns[j].Name
	})
}

// update changes one node under the lock; notify says whether the set of existing
// servers/members changed, so OnChange fires. A node with neither server nor member is dropped.
func (p *Pool) update(name string, notify bool, f func(n *Node)) {
	notify = notify && p.opts.OnChange != nil
	if notify {
		// Held across snapshot and delivery, so concurrent updates reach the caller in
		// the order they happened and a stale snapshot never overwrites a newer one.
		p.notifyMu.Lock()
		defer p.notifyMu.Unlock()
	}
	p.mu.Lock()
	n, ok := p.nodes[name]
	if !ok {
		n = &Node{Name: name}
		p.nodes[name] = n
	}
	f(n)
	if n.ServerID == "" && n.MemberID == "" {
		delete(p.nodes, name)
	}
	var snap []Node
	if notify {
		snap = p.snapshotLocked()
	}
	p.mu.Unlock()
	if notify {
		p.opts.OnChange(snap)
	}
}

func (p *Pool) node(name string) (Node, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.nodes[name]
	if !ok {
		return Node{}, false
	}
	return *n, true
}

func (p *Pool) replaceAll(nodes []Node) {
	p.notifyMu.Lock()
	defer p.notifyMu.Unlock()
	p.mu.Lock()
	changed := len(nodes) != len(p.nodes)
	next := map[string]*Node{}
	for _, n := range nodes {
		if old, ok := p.nodes[n.Name]; !ok || old.ServerID != n.ServerID || old.MemberID != n.MemberID {
			changed = true
		}
		next[n.Name] = &n
	}
	p.nodes = next
	var snap []Node
	if changed && p.opts.OnChange != nil {
		snap = p.snapshotLocked()
	}
	p.mu.Unlock()
	if snap != nil {
		p.opts.OnChange(snap)
	}
}

func (p *Pool) progress(kind StepKind, nodes []string, format string, args ...any) {
	if p.opts.Progress == nil {
		return
	}
	ev := Progress{At: p.clock.Now(), Step: kind, Nodes: nodes, Message: fmt.Sprintf(format, args...)}
	p.progressMu.Lock()
	defer p.progressMu.Unlock()
	p.opts.Progress(ev)
}

// cleanupContext gives post-cancellation work its own bounded lifetime: the caller's
// ctx is already done, yet a half-drained node must still be put back or finished.
func (p *Pool) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), p.opts.CleanupTimeout)
}

// Apply brings the pool to desired nodes running the spec's image: it discovers the
// current state, plans and executes the steps. The nodes returned are the servers and
// members that exist when it returns, error or not.
func (p *Pool) Apply(ctx context.Context, desired int) ([]Node, error) {
	if desired < 0 {
		return p.Nodes(), fmt.Errorf("scaling pool %q: desired count %d is negative", p.spec.Key, desired)
	}
	if err := p.Discover(ctx); err != nil {
		return p.Nodes(), err
	}
	steps := Plan(p.planInput(p.Nodes(), desired))
	err := p.execute(ctx, steps)
	if err != nil {
		// Re-read the cloud so the state returned is exact even when a call's outcome was
		// unknown (a lost create response, a timed-out member update).
		cctx, cancel := p.cleanupContext(ctx)
		if derr := p.Discover(cctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("re-reading the pool after the failure: %w", derr))
		}
		cancel()
	}
	return p.Nodes(), err
}

// Destroy scales the pool to zero with the same staggered steps.
func (p *Pool) Destroy(ctx context.Context) ([]Node, error) { return p.Apply(ctx, 0) }

// PlanApply discovers the current state and returns the steps Apply(desired) would take.
func (p *Pool) PlanApply(ctx context.Context, desired int) ([]Step, error) {
	if err := p.Discover(ctx); err != nil {
		return nil, err
	}
	return Plan(p.planInput(p.Nodes(), desired)), nil
}

// PlanFromState returns the steps for the given nodes without calling the cloud
// (for `terraform plan`, where the state is the best knowledge available).
func (p *Pool) PlanFromState(nodes []Node, desired int) []Step {
	return Plan(p.planInput(nodes, desired))
}

func (p *Pool) planInput(nodes []Node, desired int) PlanInput {
	return PlanInput{
		Nodes:          nodes,
		Desired:        desired,
		NamePrefix:     p.spec.NamePrefix,
		ImageID:        p.spec.ImageID,
		FlavorName:     p.spec.FlavorName,
		BatchSize:      p.opts.BatchSize,
		Order:          p.opts.Order,
		DrainMethod:    p.opts.DrainMethod,
		DrainTimeout:   p.opts.DrainTimeout,
		Webhook:        p.opts.PreDeleteWebhook != "",
		HealthCheckURL: p.opts.HealthCheckURL,
		RebootCheck:    p.opts.RebootCheck,
		Wave:           p.opts.MaxParallel,
	}
}

// WallClock is the real clock.
type WallClock struct{}

func (WallClock) Now() time.Time { return time.Now() }

func (WallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Preview returns the steps Apply(desired) would take from these nodes, the options' defaults
// filled in exactly as New fills them, without a cloud: what `terraform plan` shows.
func Preview(spec PoolSpec, opts Options, nodes []Node, desired int) []Step {
	p := &Pool{spec: spec, opts: withDefaults(opts)}
	return p.PlanFromState(nodes, desired)
}
