package devcloud

import (
	"net/netip"
	"time"
)

// state is every API object; guarded by Cloud.mu.
type state struct {
	domains  map[string]*domain
	projects map[string]*project
	users    map[string]*user
	roles    map[string]string // id -> name
	tokens   map[string]*token
	appCreds map[string]*appCred

	flavors      map[string]*flavor
	flavorOrder  []string
	servers      map[string]*server
	serverOrder  []string // creation order, as Nova lists newest first
	groups       map[string]*serverGroup
	keypairs     map[string]*keypair // user id + "/" + name
	quotas       map[string]map[string]int
	hostCount    int
	images       map[string]*image
	imageOrder   []string
	networks     map[string]*network
	networkOrder []string
	subnets      map[string]*subnet
	subnetOrder  []string
	ports        map[string]*port
	portOrder    []string
	secGroups    map[string]*secGroup
	routers      map[string]*router
	routerOrder  []string

	// Floating IPs, security group rules and Neutron quota overrides (project -> resource -> limit).
	floatingIPs   map[string]*floatingIP
	fipOrder      []string
	sgRules       map[string]*secGroupRule
	neutronQuotas map[string]map[string]int

	datastores map[string]*datastore
	dbs        map[string]*dbInstance
	dbOrder    []string
	dbQuotas   map[string]map[string]int

	// Barbican (barbican_*.go).
	secrets    map[string]*kmSecret
	containers map[string]*kmContainer

	dbBackups   map[string]*dbBackup
	backupOrder []string

	zones          map[string]*dnsZone
	zoneOrder      []string
	recordsets     map[string]*dnsRecordset
	recordsetOrder []string
	dnsQuotas      map[string]map[string]int

	// actions are Nova's instance actions by server id, oldest first; they outlive the server.
	actions map[string][]*instanceAction

	capacity CapacityModel
	seed     SeedInfo
}

func newState() *state {
	return &state{
		domains:    map[string]*domain{},
		projects:   map[string]*project{},
		users:      map[string]*user{},
		roles:      map[string]string{},
		tokens:     map[string]*token{},
		appCreds:   map[string]*appCred{},
		flavors:    map[string]*flavor{},
		servers:    map[string]*server{},
		groups:     map[string]*serverGroup{},
		keypairs:   map[string]*keypair{},
		quotas:     map[string]map[string]int{},
		hostCount:  4,
		images:     map[string]*image{},
		networks:   map[string]*network{},
		subnets:    map[string]*subnet{},
		ports:      map[string]*port{},
		secGroups:  map[string]*secGroup{},
		routers:    map[string]*router{},
		datastores: map[string]*datastore{},
		dbs:        map[string]*dbInstance{},
		dbQuotas:   map[string]map[string]int{},
		secrets:    map[string]*kmSecret{},
		containers: map[string]*kmContainer{},
		capacity:   defaultCapacity(),

		dbBackups:     map[string]*dbBackup{},
		zones:         map[string]*dnsZone{},
		recordsets:    map[string]*dnsRecordset{},
		dnsQuotas:     map[string]map[string]int{},
		actions:       map[string][]*instanceAction{},
		floatingIPs:   map[string]*floatingIP{},
		sgRules:       map[string]*secGroupRule{},
		neutronQuotas: map[string]map[string]int{},
	}
}

type domain struct{ ID, Name string }

type project struct {
	ID, Name, DomainID string
}

type user struct {
	ID, Name, DomainID, Password, DefaultProjectID string
	// Roles per project id.
	Roles map[string][]string
}

type token struct {
	ID        string
	UserID    string
	ProjectID string // "" for unscoped or domain-scoped
	DomainID  string // set for a domain-scoped token
	Roles     []string
	Methods   []string
	AppCredID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuditID   string
}

type appCred struct {
	ID, Name, Secret, Description, UserID, ProjectID string
	Roles                                            []string
	Unrestricted                                     bool
	ExpiresAt                                        *time.Time
}

type flavor struct {
	ID, Name    string
	VCPUs, RAM  int
	Disk        int
	Description string
}

type server struct {
	ID, Name, ProjectID, UserID string
	ImageID, FlavorID           string
	KeyName                     string
	SecurityGroups              []string
	UserData                    string
	AZ                          string
	Metadata                    map[string]string
	Tags                        []string
	GroupID                     string
	Host                        string

	Status, VMState, TaskState string
	PowerState                 int
	Fault                      *serverFault
	Created, Updated           time.Time
	LaunchedAt                 time.Time
	AdminPass                  string

	Ports       []string // port ids in network order
	OwnedPorts  map[string]bool
	ShowAddrs   bool // false until networking is allocated during the build
	Deleting    bool
	Deleted     bool
	NodeAddress string // the webnode's address while one is registered
}

type serverFault struct {
	Code    int
	Message string
	Details string
	Created time.Time
}

type serverGroup struct {
	ID, Name, ProjectID, UserID string
	Policy                      string
	Rules                       map[string]any
	Members                     []string
}

type keypair struct {
	Name, UserID, PublicKey, Fingerprint, Type string
	ID                                         int
	Created                                    time.Time
}

type image struct {
	ID, Name, Status, Visibility, Owner string
	ContainerFormat, DiskFormat         string
	MinDisk, MinRAM                     int
	Size                                int64
	Checksum                            string
	Protected                           bool
	Tags                                []string
	Properties                          map[string]any
	Created, Updated                    time.Time
}

type network struct {
	ID, Name, ProjectID string
	Shared, AdminUp     bool
	Subnets             []string
	MTU                 int
	Tags                []string
	Created, Updated    time.Time
	Description         string
	External            bool
}

type subnet struct {
	ID, Name, NetworkID, ProjectID string
	CIDR                           netip.Prefix
	Gateway                        netip.Addr
	Pools                          [][2]netip.Addr
	EnableDHCP                     bool
	DNS                            []string
	Tags                           []string
	Created, Updated               time.Time
	Description                    string
}

type fixedIP struct {
	SubnetID string
	Address  netip.Addr
}

type port struct {
	ID, Name, NetworkID, ProjectID string
	MAC                            string
	FixedIPs                       []fixedIP
	DeviceID, DeviceOwner          string
	SecurityGroups                 []string
	AdminUp                        bool
	Tags                           []string
	Description                    string
	Created, Updated               time.Time
}

type router struct {
	ID, Name, ProjectID, Description string
	AdminUp                          bool
	Created, Updated                 time.Time
	// GatewayPortID is the router's port on its external network ("" without a gateway).
	GatewayPortID string
	EnableSNAT    bool
	Tags          []string
}

type secGroup struct {
	ID, Name, ProjectID, Description string
	Created                          time.Time
	Updated                          time.Time
	Stateful                         bool
	Tags                             []string
	Revision                         int
}

// secGroupRule is a Neutron security group rule; "" and nil stand for JSON null.
type secGroupRule struct {
	ID, GroupID, ProjectID string
	Direction, Ethertype   string
	Protocol               string
	PortMin, PortMax       *int
	RemoteIPPrefix         string
	RemoteGroupID          string
	// Description is nil for the rules Neutron creates with a group, "" for rules created by
	// a user without one: Neutron shows null and "" respectively.
	Description *string
	Created     time.Time
}

// floatingIP is a Neutron floating IP: an address held by a port (owner network:floatingip)
// on an external network, mapped to a fixed IP of an internal port when associated.
type floatingIP struct {
	ID, ProjectID, NetworkID string
	ExternalPortID, Address  string
	PortID, FixedIP          string
	RouterID                 string
	Description              string
	Status                   string
	Tags                     []string
	Revision                 int
	Created, Updated         time.Time
	// assoc counts association changes, so that a status update scheduled for an earlier
	// association does nothing.
	assoc int
}

type datastore struct {
	ID, Name string
	Versions []datastoreVersion
	Default  string
}

type datastoreVersion struct{ ID, Name string }

type dbInstance struct {
	ID, Name, ProjectID string
	FlavorID            string
	VolumeSize          int
	Datastore, Version  string
	Status              string
	ReplicaOf           string
	Replicas            []string
	PortID              string
	Address             string
	Created, Updated    time.Time
	Deleting            bool
	Fault               *dbFault // why the build ended in ERROR
}

type dbFault struct {
	Message string
	Created time.Time
}
