package devcloud

import (
	"fmt"
	"net/http"
	"time"
)

// scheduleServer places the server on a fake host honouring its group's policy.
// It runs with c.mu held (from afterGen).
func (c *Cloud) scheduleServer(id string, gen int64) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted || s.Deleting {
		return nil
	}
	host := c.pickHost(s)
	now := time.Now().UTC()
	action := c.lastActionLocked(s.ID, "create")
	failed, msg := c.faults.serverBuildFails("schedule")
	if host == "" && !failed {
		failed, msg = true, "No valid host was found. There are not enough hosts available."
	}
	if failed {
		c.failServerLocked(s, now, msg, "")
		// The conductor records its failed scheduling as an Error event of the create action.
		action.finish(action.startEvent(eventSchedule, "devcloud-conductor"), "nova.exception.NoValidHost", msg)
		// Nova deallocates the networking of a server that could not be scheduled.
		c.releaseServerPortsLocked(s)
		s.Ports = nil
		c.Event("server.error", map[string]any{"server_id": s.ID, "name": s.Name, "message": s.Fault.Message})
		return nil
	}
	action.startEvent(eventBuild, host)
	s.Host, s.TaskState, s.ShowAddrs, s.Updated = host, "spawning", true, now
	c.afterGen(gen, c.Delay("server_build"), func() func() { return c.finishBuild(id) })
	return nil
}

func (c *Cloud) failServerLocked(s *server, now time.Time, msg, details string) {
	s.Status, s.VMState, s.TaskState, s.Updated = "ERROR", "error", "", now
	s.Fault = &serverFault{Code: 500, Message: msg, Details: details, Created: now}
}

func (c *Cloud) hostNames() []string {
	out := make([]string, c.st.hostCount)
	for i := range out {
		out[i] = fmt.Sprintf("devcloud-compute-%d", i+1)
	}
	return out
}

func (c *Cloud) pickHost(s *server) string {
	hosts := c.hostNames()
	if len(hosts) == 0 {
		return ""
	}
	load := map[string]int{}
	for _, o := range c.st.servers {
		if o.Host != "" && !o.Deleted {
			load[o.Host]++
		}
	}
	leastLoaded := func(cands []string) string {
		best := ""
		for _, h := range cands {
			if best == "" || load[h] < load[best] {
				best = h
			}
		}
		return best
	}
	g := c.st.groups[s.GroupID]
	if g == nil {
		return leastLoaded(hosts)
	}
	used := map[string]int{}
	for _, mid := range g.Members {
		if m := c.st.servers[mid]; m != nil && m.ID != s.ID && m.Host != "" && !m.Deleted {
			used[m.Host]++
		}
	}
	switch g.Policy {
	case "affinity", "soft-affinity":
		for h := range used {
			return h
		}
		return leastLoaded(hosts)
	default: // anti-affinity, soft-anti-affinity
		maxPer := 1
		if v, ok := g.Rules["max_server_per_host"].(float64); ok && v >= 1 {
			maxPer = int(v)
		}
		var free []string
		for _, h := range hosts {
			if used[h] < maxPer {
				free = append(free, h)
			}
		}
		if len(free) > 0 {
			return leastLoaded(free)
		}
		if g.Policy == "soft-anti-affinity" {
			min := -1
			var cands []string
			for _, h := range hosts {
				if min < 0 || used[h] < min {
					min, cands = used[h], nil
				}
				if used[h] == min {
					cands = append(cands, h)
				}
			}
			return leastLoaded(cands)
		}
		return ""
	}
}

// finishBuild ends a build in ACTIVE, or in ERROR when a fault is injected. Runs with c.mu held.
func (c *Cloud) finishBuild(id string) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted || s.Deleting || s.Status != "BUILD" {
		return nil
	}
	now := time.Now().UTC()
	// _do_build_and_run_instance catches build failures itself, so Nova Zed finishes its
	// event as Success even when the server ends in ERROR; the server's fault has the error.
	if a := c.lastActionLocked(s.ID, "create"); a != nil && len(a.Events) > 0 {
		a.finish(a.Events[len(a.Events)-1], "", "")
	}
	if fails, msg := c.faults.serverBuildFails("build"); fails {
		c.failServerLocked(s, now, msg, "injected by devcloud")
		c.Event("server.error", map[string]any{"server_id": s.ID, "name": s.Name, "message": msg})
		return nil
	}
	s.Status, s.VMState, s.TaskState, s.PowerState, s.LaunchedAt, s.Updated = "ACTIVE", "active", "", 1, now, now
	return c.nodeUpLocked(s, "server.active")
}

// nodeUpLocked registers the server's web node; the returned func does it outside c.mu.
func (c *Cloud) nodeUpLocked(s *server, event string) func() {
	addr := c.serverAddress(s)
	vcpus := 1
	if f := c.st.flavors[s.FlavorID]; f != nil {
		vcpus = f.VCPUs
	}
	capacity := c.st.capacity
	s.NodeAddress = addr
	id, name := s.ID, s.Name
	return func() {
		if addr != "" {
			c.dp.nodeUp(id, addr, vcpus, capacity)
		}
		c.Event(event, map[string]any{"server_id": id, "name": name, "address": addr})
	}
}

// nodeDownLocked unregisters the server's web node; the returned func does it outside c.mu.
func (c *Cloud) nodeDownLocked(s *server) func() {
	addr := s.NodeAddress
	s.NodeAddress = ""
	return func() {
		if addr != "" {
			c.dp.nodeDown(addr)
		}
	}
}

func (n *novaReq) availabilityZones(rest []string) {
	c := n.c
	zone := map[string]any{"zoneName": "nova", "zoneState": map[string]any{"available": true}, "hosts": nil}
	if len(rest) == 1 && rest[0] == "detail" {
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
			return
		}
		c.mu.Lock()
		hosts := map[string]any{}
		for _, h := range c.hostNames() {
			hosts[h] = map[string]any{"nova-compute": map[string]any{"available": true, "active": true, "updated_at": isoMicro(time.Now())}}
		}
		c.mu.Unlock()
		zone["hosts"] = hosts
	} else if len(rest) != 0 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"availabilityZoneInfo": []any{zone}})
}
