package devcloud

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/octavia"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

// dataPlane joins the core to the Octavia service and the simulated web nodes.
type dataPlane struct {
	c        *Cloud
	nodes    *webnode.Registry
	lb       *octavia.Service
	machines *machines // the database servers behind servers with the replica setup as user data
}

func newDataPlane(c *Cloud) *dataPlane {
	dp := &dataPlane{c: c, nodes: webnode.NewRegistry(), machines: newMachines(c)}
	dp.lb = octavia.New(octaviaEnv{c: c, nodes: dp.nodes})
	return dp
}

func (d *dataPlane) handler() http.Handler { return d.lb.Handler() }

func (d *dataPlane) nodeUp(serverID, address string, vcpus int, m CapacityModel) {
	if vcpus < 1 {
		vcpus = 1
	}
	d.nodes.Put(webnode.NewNode(serverID, address, webnode.Capacity{
		RPS:         m.RPSPerVCPU * float64(vcpus),
		Concurrency: m.ConcurrencyPerVCPU * vcpus,
		BaseLatency: m.baseLatency(),
	}))
	d.machines.up(serverID, address)
}

func (d *dataPlane) nodeDown(address string) {
	d.nodes.Remove(address)
	d.machines.down(address)
}

func (d *dataPlane) vips() []octavia.VIPInfo { return d.lb.VIPs() }

func (d *dataPlane) traffic() []octavia.MemberTraffic { return d.lb.MemberTraffic() }

func (d *dataPlane) reset() {
	d.lb.Reset()
	d.nodes.Reset()
	d.machines.reset()
}

func (d *dataPlane) close() {
	d.lb.Close()
	d.nodes.Reset()
	d.machines.close()
}

// octaviaEnv is the core as the Octavia service sees it.
type octaviaEnv struct {
	c     *Cloud
	nodes *webnode.Registry
}

var _ octavia.Env = octaviaEnv{}

func (e octaviaEnv) ProjectID(r *http.Request) string        { return e.c.ProjectID(r) }
func (e octaviaEnv) Delay(name string) time.Duration         { return e.c.Delay(name) }
func (e octaviaEnv) Event(kind string, attrs map[string]any) { e.c.Event(kind, attrs) }
func (e octaviaEnv) Nodes() *webnode.Registry                { return e.nodes }

// IsAdmin lets Octavia's quota API tell the cloud admin (role admin) from project members.
func (e octaviaEnv) IsAdmin(r *http.Request) bool {
	t := tokenFrom(r)
	return t != nil && contains(t.Roles, "admin")
}

var _ octavia.AdminChecker = octaviaEnv{}

// TimeScale lets Octavia scale health-monitor intervals like every other delay.
func (e octaviaEnv) TimeScale() float64 { return e.c.Timing().TimeScale }

func (e octaviaEnv) AllocatePort(projectID, networkID, subnetID, name string) (octavia.Port, error) {
	c := e.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if networkID == "" && subnetID != "" {
		if s := c.st.subnets[subnetID]; s != nil {
			networkID = s.NetworkID
		}
	}
	if networkID == "" {
		return octavia.Port{}, fmt.Errorf("subnet %s could not be found", subnetID)
	}
	p, err := c.allocatePortLocked(projectID, networkID, subnetID, name, "")
	if err != nil {
		return octavia.Port{}, fmt.Errorf("allocating a VIP port on network %s: %w", networkID, err)
	}
	p.DeviceOwner = "Octavia"
	// Octavia names the VIP port octavia-lb-<id> and binds it to device lb-<id>.
	p.DeviceID = "lb-" + strings.TrimPrefix(name, "octavia-lb-")
	return octavia.Port{ID: p.ID, NetworkID: p.NetworkID, SubnetID: p.FixedIPs[0].SubnetID, Address: p.FixedIPs[0].Address.String()}, nil
}

func (e octaviaEnv) ReleasePort(portID string) {
	c := e.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletePortLocked(portID)
}
