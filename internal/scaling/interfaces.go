package scaling

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (possibly wrapped) by adapters when the object does not exist.
var ErrNotFound = errors.New("not found")

// ErrRefused is joined by adapters to the error of a create the cloud refused outright (a 4xx
// answer such as a quota or a bad request): nothing was made, so there is nothing to look for
// and sending it again would be refused again. Any other create error is ambiguous: the cloud
// may have acted on it.
var ErrRefused = errors.New("refused by the cloud")

// ErrStale is a load balancer adapter's answer to a batch member update that Octavia refused
// because the load balancer was busy with another change: the adapter waited until it was
// ACTIVE again, but does not re-send the list, which was built from members read before that
// change. The caller reads the members again and builds the list anew.
var ErrStale = errors.New("the load balancer changed while the member list was prepared")

// ServerFaultError reports a server that ended in ERROR, carrying Nova's fault message.
type ServerFaultError struct {
	ServerID string
	Name     string
	Message  string
}

func (e *ServerFaultError) Error() string {
	return "server " + e.Name + " (" + e.ServerID + ") went to ERROR: " + e.Message
}

// Server is a Nova server as the scaling library sees it.
type Server struct {
	ID       string
	Name     string
	Status   string // BUILD, ACTIVE, ERROR, REBOOT, DELETED, ...
	ImageID  string
	Flavor   string // the flavor's name (Nova shows names, not ids, from microversion 2.47)
	Address  string // the fixed address on the pool's network ("" while building)
	Metadata map[string]string
	Created  time.Time
	Fault    string
}

// ServerSpec is one server to create.
type ServerSpec struct {
	Name             string
	ImageID          string
	FlavorID         string
	Networks         []string // network UUIDs, first one carries the member address
	KeyPair          string
	SecurityGroups   []string
	UserData         string
	AvailabilityZone string
	ServerGroupID    string
	Metadata         map[string]string
	Tags             []string
}

// Compute is the part of Nova the library needs. Implementations wait with their own
// poll intervals; every method honours ctx.
type Compute interface {
	// CreateServer sends ONE create request (never retried blindly) and returns as soon
	// as Nova answers with the server's id.
	CreateServer(ctx context.Context, spec ServerSpec) (Server, error)
	// ListServers returns, in one list call, the servers whose metadata has every
	// key/value in match (the pool's managed-by and pool keys).
	ListServers(ctx context.Context, match map[string]string) ([]Server, error)
	GetServer(ctx context.Context, id string) (Server, error)
	// DeleteServer asks Nova to delete; a server already gone is not an error.
	DeleteServer(ctx context.Context, id string) error
	RebootServer(ctx context.Context, id string) error
	// WaitServerActive waits for ACTIVE; ERROR gives a *ServerFaultError.
	WaitServerActive(ctx context.Context, id string) (Server, error)
	// WaitServerGone waits until GET answers 404.
	WaitServerGone(ctx context.Context, id string) error
}

// Member is an Octavia pool member.
type Member struct {
	ID                 string
	Name               string
	Address            string
	ProtocolPort       int
	SubnetID           string
	Weight             int
	AdminStateUp       bool
	OperatingStatus    string // ONLINE, DRAINING, OFFLINE, ERROR, NO_MONITOR
	ProvisioningStatus string
	Tags               []string
	Backup             bool
	MonitorAddress     string
	MonitorPort        int
}

// MemberSpec is one entry of a batch member update (Octavia's PUT /pools/{id}/members).
type MemberSpec struct {
	Name         string
	Address      string
	ProtocolPort int
	SubnetID     string
	Weight       int
	AdminStateUp bool
	Tags         []string
	// A batch update resets any field it omits, so a member this pool does not manage is
	// re-sent with every field it had.
	Backup         bool
	MonitorAddress string
	MonitorPort    int
}

// LoadBalancer is the part of Octavia the library needs. Mutating calls retry Octavia's
// 409 "immutable" (LB PENDING_*) by waiting for ACTIVE and trying again, until ctx ends;
// they do not wait for the change itself to finish: callers call WaitActive.
type LoadBalancer interface {
	ListMembers(ctx context.Context, poolID string) ([]Member, error)
	// BatchUpdateMembers replaces the pool's whole member list in one update cycle:
	// members missing from the list are deleted by Octavia. Refused because the load balancer
	// was busy, it waits until it is ACTIVE and returns ErrStale, without sending the list again.
	BatchUpdateMembers(ctx context.Context, poolID string, members []MemberSpec) error
	// UpdateMember changes weight and/or admin_state_up (nil leaves it as is).
	UpdateMember(ctx context.Context, poolID, memberID string, weight *int, adminStateUp *bool) error
	// DeleteMember removes one member; a member already gone is not an error.
	DeleteMember(ctx context.Context, poolID, memberID string) error
	// WaitActive waits until the load balancer's provisioning_status is ACTIVE.
	WaitActive(ctx context.Context, loadBalancerID string) error
	// MemberOperatingStatuses reads the LB status tree: member id -> operating_status.
	MemberOperatingStatuses(ctx context.Context, loadBalancerID, poolID string) (map[string]string, error)
}

// Instance is a Trove database instance.
type Instance struct {
	ID        string
	Name      string
	Status    string // BUILD, ACTIVE, ERROR, ...
	ReplicaOf string // primary's id, "" for a primary
	FlavorID  string
	VolumeGB  int
	Datastore string
	Version   string
	Hostname  string
	Fault     string
}

// ReplicaSpec is one replica to create.
type ReplicaSpec struct {
	Name      string
	PrimaryID string
	FlavorID  string
	VolumeGB  int
}

// Database is the part of Trove the library needs.
type Database interface {
	// CreateReplica sends one create request with replica_of; never retried blindly.
	CreateReplica(ctx context.Context, spec ReplicaSpec) (Instance, error)
	GetInstance(ctx context.Context, id string) (Instance, error)
	// ListInstances lists the project's instances (one call) so a lost create can be adopted by name.
	ListInstances(ctx context.Context) ([]Instance, error)
	WaitInstanceActive(ctx context.Context, id string) (Instance, error)
	// DetachReplica promotes a replica to a standalone instance (PATCH replica_of: null).
	DetachReplica(ctx context.Context, id string) error
	DeleteInstance(ctx context.Context, id string) error
	WaitInstanceGone(ctx context.Context, id string) error
}

// Clock lets tests run drain timeouts in model time.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// MonitorDelayReader is what a LoadBalancer adapter may offer for the waits on new members: the
// delay of the pool's health monitor, after which Octavia first reports a new member ONLINE.
// found is false when the pool has no monitor.
type MonitorDelayReader interface {
	HealthMonitorDelay(ctx context.Context, poolID string) (delay time.Duration, found bool, err error)
}
