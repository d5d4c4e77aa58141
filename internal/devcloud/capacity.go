package devcloud

import (
	"fmt"
	"time"
)

// CapacityModel sizes the simulated web node of every ACTIVE server from its flavor's vCPUs,
// and sets how many fake compute hosts the scheduler places servers on.
type CapacityModel struct {
	RPSPerVCPU         float64 `json:"rps_per_vcpu"`
	ConcurrencyPerVCPU int     `json:"concurrency_per_vcpu"`
	BaseLatencyMS      float64 `json:"base_latency_ms"`
	ComputeHosts       int     `json:"compute_hosts"`
}

func defaultCapacity() CapacityModel {
	return CapacityModel{RPSPerVCPU: 50, ConcurrencyPerVCPU: 8, BaseLatencyMS: 20, ComputeHosts: 4}
}

func (m CapacityModel) validate() error {
	if m.RPSPerVCPU <= 0 || m.ConcurrencyPerVCPU <= 0 || m.BaseLatencyMS < 0 || m.ComputeHosts < 0 {
		return fmt.Errorf("capacity: rps_per_vcpu and concurrency_per_vcpu must be positive, base_latency_ms and compute_hosts not negative (got %+v)", m)
	}
	return nil
}

func (m CapacityModel) baseLatency() time.Duration {
	return time.Duration(m.BaseLatencyMS * float64(time.Millisecond))
}

// Capacity returns the current model.
func (c *Cloud) Capacity() CapacityModel {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.st.capacity
	m.ComputeHosts = c.st.hostCount
	return m
}

// SetCapacity changes the model and re-creates the web nodes of ACTIVE servers with it, so a
// load test sees the new capacity at once (requests in flight on the old nodes break).
func (c *Cloud) SetCapacity(m CapacityModel) error {
	if err := m.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.st.capacity = m
	c.st.hostCount = m.ComputeHosts
	type node struct {
		id, addr string
		vcpus    int
	}
	var nodes []node
	for _, id := range c.st.serverOrder {
		s := c.st.servers[id]
		if s.NodeAddress != "" {
			nodes = append(nodes, node{s.ID, s.NodeAddress, c.st.flavors[s.FlavorID].VCPUs})
		}
	}
	c.mu.Unlock()
	for _, n := range nodes {
		c.dp.nodeDown(n.addr)
		c.dp.nodeUp(n.id, n.addr, n.vcpus, m)
	}
	return nil
}
