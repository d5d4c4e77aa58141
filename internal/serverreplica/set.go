package serverreplica

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Compute is the part of Nova a set needs. internal/cloud's Compute implements it.
type Compute interface {
	// CreateServer sends one create request and returns when Nova answers with the id.
	CreateServer(ctx context.Context, spec scaling.ServerSpec) (scaling.Server, error)
	// ListServers returns, in one call, the servers whose metadata has every key/value in match.
	ListServers(ctx context.Context, match map[string]string) ([]scaling.Server, error)
	GetServer(ctx context.Context, id string) (scaling.Server, error)
	// DeleteServer asks Nova to delete; a server already gone is not an error.
	DeleteServer(ctx context.Context, id string) error
	// WaitServerActive waits for ACTIVE; ERROR gives a *scaling.ServerFaultError.
	WaitServerActive(ctx context.Context, id string) (scaling.Server, error)
	WaitServerGone(ctx context.Context, id string) error
	// ConsoleOutput returns the last lines of the server's console log.
	ConsoleOutput(ctx context.Context, id string, lines int) (string, error)
}

// Spec is the set as configured.
type Spec struct {
	// Name names the set: its servers are <Name>-01, <Name>-02, ...; its accounts
	// dbreplica.ReplicationUserName(Name) and MonitorUserName(Name).
	Name string
	// Primary is how this process reaches the primary, with an account that may create
	// and grant accounts (dbreplica.CheckPrimary says what it lacks).
	Primary dbreplica.Endpoint
	// SourceHost and SourcePort are how the replicas reach the primary (often its private
	// address); Primary's host and port when empty.
	SourceHost string
	SourcePort int
	// ReplicationUserHost is the host part of the replication account ("%" when empty):
	// narrow it to the replicas' subnet, e.g. "10.0.0.%".
	ReplicationUserHost string
	// ServerIDBase: replica NN gets server_id ServerIDBase+NN.
	ServerIDBase uint32

	ImageID string
	// Flavor is the flavor as configured (an id or a name) and FlavorID its id.
	Flavor, FlavorID string
	Networks         []string
	KeyPair          string
	SecurityGroups   []string

	// MaxLag is the lag under which a replica counts as in sync (dbreplica.DefaultMaxLag
	// when 0).
	MaxLag time.Duration
	// ReplicaPort is the replicas' database port (3306 when 0).
	ReplicaPort int
	// Dial, when set, connects to the replicas (and the primary) instead of net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func (sp Spec) sourceHost() string {
	if sp.SourceHost != "" {
		return sp.SourceHost
	}
	return sp.Primary.Host
}

func (sp Spec) sourcePort() int {
	switch {
	case sp.SourcePort != 0:
		return sp.SourcePort
	case sp.Primary.Port != 0:
		return sp.Primary.Port
	}
	return dbreplica.DefaultPort
}

func (sp Spec) replicationUserHost() string {
	if sp.ReplicationUserHost == "" {
		return "%"
	}
	return sp.ReplicationUserHost
}

func (sp Spec) maxLag() time.Duration {
	if sp.MaxLag <= 0 {
		return dbreplica.DefaultMaxLag
	}
	return sp.MaxLag
}

func (sp Spec) replicaPort() int {
	if sp.ReplicaPort == 0 {
		return dbreplica.DefaultPort
	}
	return sp.ReplicaPort
}

// Secrets are the set's two generated passwords; the caller keeps them (sensitive state).
type Secrets struct {
	ReplicationPassword string
	MonitorPassword     string
}

// Complete returns the secrets with any missing password generated.
func (s Secrets) Complete() (Secrets, error) {
	var err error
	if s.ReplicationPassword == "" {
		if s.ReplicationPassword, err = dbreplica.GeneratePassword(); err != nil {
			return s, err
		}
	}
	if s.MonitorPassword == "" {
		s.MonitorPassword, err = dbreplica.GeneratePassword()
	}
	return s, err
}

// Replica statuses beyond Nova's own (BUILD, ERROR, ...), for an ACTIVE server.
const (
	StatusReplicating = "replicating" // both threads run, lag at most MaxLag
	StatusLagging     = "lagging"     // both threads run, lag above MaxLag or unknown
	StatusSettingUp   = "setting up"  // not replicating yet, the setup has not failed
	StatusFailed      = "failed"      // the setup failed, or replication stopped with an error
	StatusStopped     = "stopped"     // replication stopped or not configured, no error
	StatusUnreachable = "unreachable" // the database port does not answer
	StatusUnknown     = "unknown"     // no monitoring password to read it with
)

// Replica is one replica as it exists.
type Replica struct {
	Ordinal       int
	Name          string
	ServerID      string // Nova's id
	Address       string // fixed address, where the replica serves reads
	MySQLServerID uint32
	ServerStatus  string // Nova's status
	Status        string // ServerStatus, or one of the Status constants when ACTIVE
	Lag           time.Duration
	LagKnown      bool
	GTIDPosition  string
	Detail        string // why it is not replicating, when it is not
	// SyncedAfter is how long the replica took from its create request to in sync, when
	// this run built it.
	SyncedAfter time.Duration
}

// InService says whether the replica serves reads: its server is ACTIVE and it replicates
// (or nothing says otherwise, when it cannot be read).
func (r Replica) InService() bool {
	return r.ServerStatus == "ACTIVE" && (r.Status == StatusReplicating || r.Status == StatusLagging || r.Status == StatusUnknown)
}

// Progress is one step, for the caller's log.
type Progress struct {
	Replica string
	Message string
}

// Options tune a Set; zero values take the defaults.
type Options struct {
	MaxParallel   int           // servers built at once; default 3
	CreateRetries int           // creates sent again after ERROR or a proven-lost create; default 2
	PollInterval  time.Duration // replication polls; default 2 s
	// CheckTimeout bounds each CheckStillReplicating after a removal; default 2 minutes.
	CheckTimeout time.Duration
}

// Config builds a Set.
type Config struct {
	Spec    Spec
	Secrets Secrets
	Compute Compute
	// Known are the replicas the caller's state lists.
	Known    []Replica
	Progress func(Progress)
	Options  Options
}

// Set is one replica set being changed.
type Set struct {
	spec     Spec
	secrets  Secrets
	compute  Compute
	progress func(Progress)
	opts     Options

	mu       sync.Mutex
	known    map[int]Replica
	warnings []string
	// createdAccount: this run created the replication account.
	createdAccount bool
}

var setNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,48}$`)

// New checks the configuration and returns the set.
func New(cfg Config) (*Set, error) {
	sp := cfg.Spec
	if !setNameRE.MatchString(sp.Name) {
		return nil, fmt.Errorf("replica set name %q: use 1 to 49 letters, digits, '.', '_' or '-', starting with a letter or digit", sp.Name)
	}
	if cfg.Compute == nil {
		return nil, errors.New("replica set: no compute service")
	}
	if sp.ServerIDBase == 0 {
		sp.ServerIDBase = dbreplica.SuggestServerIDBase(sp.Name)
	}
	o := cfg.Options
	if o.MaxParallel <= 0 {
		o.MaxParallel = 3
	}
	if o.CreateRetries <= 0 {
		o.CreateRetries = 2
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 2 * time.Minute
	}
	sp.Primary.Dial = sp.Dial
	s := &Set{spec: sp, secrets: cfg.Secrets, compute: cfg.Compute, progress: cfg.Progress, opts: o, known: map[int]Replica{}}
	for _, r := range cfg.Known {
		if r.Ordinal > 0 {
			r.SyncedAfter = 0 // measured only for replicas this run builds
			s.known[r.Ordinal] = r
		}
	}
	return s, nil
}

func (s *Set) say(replica, format string, args ...any) {
	if s.progress != nil {
		s.progress(Progress{Replica: replica, Message: fmt.Sprintf(format, args...)})
	}
}

// Warnings are what a run noted without failing (a replica unreachable when it was
// stopped, ...).
func (s *Set) Warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.warnings...)
}

func (s *Set) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.warnings = append(s.warnings, msg)
	s.mu.Unlock()
	s.say("", "%s", msg)
}

// Replicas returns the replicas as this run knows them, by ordinal.
func (s *Set) Replicas() []Replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Replica, 0, len(s.known))
	for _, r := range s.known {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ordinal < out[j].Ordinal })
	return out
}

func (s *Set) record(r Replica) {
	s.mu.Lock()
	s.known[r.Ordinal] = r
	s.mu.Unlock()
}

func (s *Set) forget(ordinal int) {
	s.mu.Lock()
	delete(s.known, ordinal)
	s.mu.Unlock()
}

func (s *Set) replica(ordinal int) (Replica, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.known[ordinal]
	return r, ok
}

// ReplicationUser is the set's replication account on the primary.
func (s *Set) ReplicationUser() dbreplica.ReplicationUser {
	return dbreplica.ReplicationUser{Name: dbreplica.ReplicationUserName(s.spec.Name), Host: s.spec.replicationUserHost(),
		Password: s.secrets.ReplicationPassword}
}

// monitorEndpoint is how the set reads and stops replica r.
func (s *Set) monitorEndpoint(r Replica) dbreplica.Endpoint {
	return dbreplica.Endpoint{Host: r.Address, Port: s.spec.replicaPort(), User: dbreplica.MonitorUserName(s.spec.Name),
		Password: s.secrets.MonitorPassword, DialTimeout: 5 * time.Second, Dial: s.spec.Dial}
}

// list reads the set's servers from Nova (one call) and merges them into what the run
// knows: a server Nova has that the caller did not know is adopted; a known replica whose
// server Nova no longer has is forgotten.
func (s *Set) list(ctx context.Context) error {
	servers, err := s.compute.ListServers(ctx, SetMatch(s.spec.Name))
	if err != nil {
		return fmt.Errorf("listing the servers of replica set %q: %w", s.spec.Name, err)
	}
	found := map[int]scaling.Server{}
	for _, srv := range servers {
		o, ok := ordinalOf(s.spec.Name, srv)
		if !ok || srv.Status == "DELETED" || srv.Status == "SOFT_DELETED" {
			continue
		}
		if prev, dup := found[o]; dup {
			// Two servers with one ordinal: keep the one the state knows, else the older.
			keep, other := prev, srv
			k, known := s.replica(o)
			stateKnowsSrv, stateKnowsPrev := known && k.ServerID == srv.ID, known && k.ServerID == prev.ID
			if stateKnowsSrv || !stateKnowsPrev && srv.Created.Before(prev.Created) {
				keep, other = srv, prev
			}
			s.warn("replica set %q has two servers named %s (%s and %s): %s is not used; delete it", s.spec.Name, srv.Name, keep.ID, other.ID, other.ID)
			found[o] = keep
			continue
		}
		found[o] = srv
	}
	for _, k := range s.Replicas() {
		if _, ok := found[k.Ordinal]; !ok {
			s.say(k.Name, "server %s (%s) of replica %s no longer exists", k.ServerID, k.Name, k.Name)
			s.forget(k.Ordinal)
		}
	}
	for o, srv := range found {
		r, ok := s.replica(o)
		if !ok || r.ServerID != srv.ID {
			if !ok {
				s.say(srv.Name, "adopting server %s (%s): it carries the set's metadata", srv.Name, srv.ID)
			}
			r = Replica{Ordinal: o, Name: srv.Name, Status: srv.Status}
		}
		r.ServerID, r.Address, r.ServerStatus = srv.ID, srv.Address, srv.Status
		if id, err := parseUint32(srv.Metadata[MetaMySQLServerID]); err == nil {
			r.MySQLServerID = id
		}
		if srv.Status != "ACTIVE" {
			r.Status, r.Detail = srv.Status, srv.Fault
		}
		s.record(r)
	}
	return nil
}

func parseUint32(s string) (uint32, error) {
	var v uint64
	_, err := fmt.Sscan(s, &v)
	if err != nil || v > 1<<32-1 {
		return 0, fmt.Errorf("not a server_id: %q", s)
	}
	return uint32(v), nil
}

// Refresh reads the set as it is: Nova's view of each server and, through the
// monitoring account, each replica's replication.
func (s *Set) Refresh(ctx context.Context) ([]Replica, error) {
	if err := s.list(ctx); err != nil {
		return s.Replicas(), err
	}
	rs := s.Replicas()
	var wg sync.WaitGroup
	for i := range rs {
		if rs[i].ServerStatus != "ACTIVE" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readStatus(ctx, &rs[i])
			s.record(rs[i])
		}()
	}
	wg.Wait()
	return rs, nil
}

// readStatus reads one ACTIVE replica's replication into r.
func (s *Set) readStatus(ctx context.Context, r *Replica) {
	if s.secrets.MonitorPassword == "" {
		r.Status, r.Detail = StatusUnknown, "the monitoring account's password is not known (an imported set without monitor_password)"
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rep, err := dbreplica.OpenReplica(ctx, s.monitorEndpoint(*r))
	if err != nil {
		var ce *dbreplica.ConnError
		switch {
		case errors.As(err, &ce) && ce.Kind == dbreplica.ConnUnreachable:
			r.Status = StatusUnreachable
		case errors.As(err, &ce) && ce.Kind == dbreplica.ConnAccessDenied:
			// The setup creates the monitoring account at its end.
			r.Status = StatusSettingUp
		default:
			r.Status = StatusUnreachable
		}
		r.Detail = err.Error()
		return
	}
	defer rep.Close()
	st, err := rep.Status(ctx)
	if err != nil {
		r.Status, r.Detail = StatusUnreachable, err.Error()
		return
	}
	s.applyStatus(r, st)
}

func (s *Set) applyStatus(r *Replica, st dbreplica.ReplicaStatus) {
	r.Lag, r.LagKnown, r.GTIDPosition, r.Detail = st.Lag, st.LagKnown, st.GTIDPosition, ""
	if st.ServerID != 0 {
		r.MySQLServerID = st.ServerID
	}
	switch {
	case st.Failed():
		r.Status, r.Detail = StatusFailed, st.String()
	case !st.Configured:
		r.Status, r.Detail = StatusStopped, st.String()
	case st.Replicating() && st.LagKnown && st.Lag <= s.spec.maxLag():
		r.Status = StatusReplicating
	case st.Replicating():
		r.Status, r.Detail = StatusLagging, st.String()
	default:
		r.Status, r.Detail = StatusStopped, st.String()
	}
}

// Discover reads a set back from its servers, for an import: its replicas, and the
// configuration the servers' metadata record.
func Discover(ctx context.Context, c Compute, name string) ([]Replica, Imported, error) {
	s, err := New(Config{Spec: Spec{Name: name}, Compute: c})
	if err != nil {
		return nil, Imported{}, err
	}
	if err := s.list(ctx); err != nil {
		return nil, Imported{}, err
	}
	rs := s.Replicas()
	if len(rs) == 0 {
		return nil, Imported{}, fmt.Errorf("no server carries the metadata %s=%s (servers %s-01, %s-02, ...)", MetaSet, name, name, name)
	}
	srv, err := c.GetServer(ctx, rs[0].ServerID)
	if err != nil {
		return rs, Imported{}, fmt.Errorf("reading server %s: %w", rs[0].Name, err)
	}
	im, err := importedFrom(name, srv)
	return rs, im, err
}

// CheckPlan checks the primary and the server_ids of replicas 1..count before anything is
// made; existing are the ordinals that exist. It only reads. The info is the primary's,
// for the caller's plan (zero when it could not be read).
func CheckPlan(ctx context.Context, sp Spec, count int, existing []int) (dbreplica.PrimaryInfo, dbreplica.Problems) {
	sp.Primary.Dial = sp.Dial
	p, info, problems := dbreplica.CheckPrimary(ctx, sp.Primary)
	if p != nil {
		_ = p.Close()
	}
	if problems.HasErrors() || count <= 0 {
		return info, problems
	}
	return info, append(problems, dbreplica.CheckServerIDs(info, planned(sp, count, existing))...)
}

func planned(sp Spec, count int, existing []int) []dbreplica.PlannedReplica {
	base := sp.ServerIDBase
	if base == 0 {
		base = dbreplica.SuggestServerIDBase(sp.Name)
	}
	have := map[int]bool{}
	for _, o := range existing {
		have[o] = true
	}
	var out []dbreplica.PlannedReplica
	for o := 1; o <= count; o++ {
		id, err := dbreplica.ReplicaServerID(base, o)
		if err != nil {
			id = 0 // CheckServerIDs reports server_id 0
		}
		out = append(out, dbreplica.PlannedReplica{Name: scaling.NodeName(sp.Name, o), ServerID: id, Exists: have[o]})
	}
	return out
}
