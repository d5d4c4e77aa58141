package scalingtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Cloud wires a Compute, an LB and a DB on one model clock: members are healthy when
// their server is ACTIVE (or when the address is an external backend), and a server
// deletion is audited against the pool.
type Cloud struct {
	Clock   *Clock
	Compute *Compute
	LB      *LB
	DB      *DB

	external map[string]bool
	down     map[string]bool
}

// PoolKey is the key Spec uses.
const PoolKey = "pool-key-1"

// NewCloud returns a cloud with an unmanaged member "web01" (10.0.9.1) already in the pool.
func NewCloud() *Cloud {
	clk := NewClock()
	c := &Cloud{Clock: clk, Compute: NewCompute(clk), LB: NewLB(clk), DB: NewDB(clk),
		external: map[string]bool{}, down: map[string]bool{}}
	c.LB.backend = func(addr string) (bool, bool, time.Time) {
		if c.external[addr] {
			return true, !c.down[addr], time.Time{}
		}
		exists, up, since := c.Compute.backend(addr)
		return exists, up && !c.down[addr], since
	}
	c.Compute.onDelete = c.LB.checkServerDelete
	c.AddUnmanagedMember("web01", "10.0.9.1")
	return c
}

// AddUnmanagedMember adds a member this pool does not manage, backed by an external server.
func (c *Cloud) AddUnmanagedMember(name, address string) scaling.Member {
	c.external[address] = true
	return c.LB.AddMember(scaling.Member{Name: name, Address: address, ProtocolPort: 80, Weight: 1, AdminStateUp: true})
}

// SetDown makes the backend at address fail its health checks (or recover).
func (c *Cloud) SetDown(address string, down bool) {
	c.LB.mu.Lock()
	defer c.LB.mu.Unlock()
	c.down[address] = down
}

// Spec is a pool spec matching this cloud.
func (c *Cloud) Spec(prefix, image string) scaling.PoolSpec {
	return scaling.PoolSpec{Key: PoolKey, NamePrefix: prefix, ImageID: image, FlavorID: "m1.small", FlavorName: "m1.small",
		Networks: []string{"net-1"}, LoadBalancerID: c.LB.ID, PoolID: c.LB.PoolID, ProtocolPort: 80, SubnetID: "subnet-1"}
}

// Violations joins the LB's and the DB's audit findings.
func (c *Cloud) Violations() []string {
	return append(c.LB.Violations(), c.DB.Violations()...)
}

// CheckNodes compares a node list with the cloud: every managed server and member that
// exists is listed with its id, and nothing listed is missing. It returns "" when exact.
func (c *Cloud) CheckNodes(nodes []scaling.Node) string {
	var problems []string
	haveServer, haveMember := map[string]bool{}, map[string]bool{}
	for _, n := range nodes {
		if n.ServerID != "" {
			haveServer[n.ServerID] = true
		}
		if n.MemberID != "" {
			haveMember[n.MemberID] = true
		}
	}
	cloudServer, cloudMember := map[string]bool{}, map[string]bool{}
	for _, s := range c.Compute.Servers() {
		if s.Metadata[scaling.MetaPool] != PoolKey {
			continue
		}
		cloudServer[s.ID] = true
		if !haveServer[s.ID] {
			problems = append(problems, fmt.Sprintf("server %s (%s) exists but is not listed", s.Name, s.ID))
		}
	}
	for _, m := range c.LB.Members() {
		if !managed(m) {
			continue
		}
		cloudMember[m.ID] = true
		if !haveMember[m.ID] {
			problems = append(problems, fmt.Sprintf("member %s (%s) exists but is not listed", m.Name, m.ID))
		}
	}
	for id := range haveServer {
		if !cloudServer[id] {
			problems = append(problems, "listed server "+id+" does not exist")
		}
	}
	for id := range haveMember {
		if !cloudMember[id] {
			problems = append(problems, "listed member "+id+" does not exist")
		}
	}
	sort.Strings(problems)
	return strings.Join(problems, "; ")
}

// ManagedMembers returns the pool's managed members, by name.
func (c *Cloud) ManagedMembers() []scaling.Member {
	var out []scaling.Member
	for _, m := range c.LB.Members() {
		if managed(m) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b scaling.Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}
