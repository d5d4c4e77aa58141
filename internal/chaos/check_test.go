package chaos

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// problem is one broken promise.
type problem struct {
	Kind string // see the kind* constants
	Msg  string
}

func (p problem) String() string { return p.Kind + ": " + p.Msg }

// Kinds of broken promises; leaks, duplicates and lost requests have figures of their own.
const (
	kindStateCloud = "state differs from the cloud"
	kindLeak       = "leak"
	kindDuplicate  = "name created twice"
	kindDrained    = "member left drained"
	kindServing    = "remaining nodes not serving"
	kindOrder      = "staggered scale-back broken"
	kindLost       = "requests lost"
	kindUnclear    = "failure without a clear error"
	kindStuck      = "no convergence once the faults ended"
	kindPlan       = "plan not empty after the step"
	kindTainted    = "resource tainted"
	kindHarness    = "suite could not check"
)

// baseline is what devcloud's seed holds before the schedule starts (web01, db01, their
// images): never the suite's to account for.
type baseline struct {
	servers, images, instances, groups map[string]bool
}

func baselineOf(v cloudView) baseline {
	return baseline{servers: keys(v.servers), images: keys(v.images), instances: keys(v.instances), groups: keys(v.groups)}
}

func keys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// setDiff names what is in a and not in b, sorted.
func setDiff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func set(ids ...string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			out[id] = true
		}
	}
	return out
}

// checkStateEqualsCloud compares every object Terraform's state lists with what the APIs
// show, both ways: a server, member, load balancer (and its pool, listener and monitor),
// image or replica in one and not the other is a broken promise.
//
// Two differences are allowed before a step is done (final false). After a failed run, the
// state may still list an object whose deletion the cloud had accepted and finished after the
// provider last looked (gone holds such ids): the next refresh drops it, nothing leaks. And a
// load balancer's pool, listener, monitor or static member whose create answer was lost is
// not in state until the next refresh adopts it (it reads them from the load balancer when
// their ids are unknown); the load balancer's cascade delete would take them anyway.
func checkStateEqualsCloud(st stateView, cv cloudView, base baseline, gone map[string]bool, final bool) []problem {
	var out []problem
	adoptedLater := map[string]bool{"pool": true, "listener": true, "health monitor": true}
	static := map[string]bool{} // static members' ids: adopted later too
	differ := func(what string, inCloud, inState map[string]bool, describe func(string) string) {
		for _, id := range setDiff(inCloud, inState) {
			if !final && (adoptedLater[what] || what == "member" && static[id]) {
				continue
			}
			out = append(out, problem{kindStateCloud, fmt.Sprintf("%s %s exists but is not in state", what, describe(id))})
		}
		for _, id := range setDiff(inState, inCloud) {
			if gone[id] {
				continue
			}
			out = append(out, problem{kindStateCloud, fmt.Sprintf("state lists %s %s, which does not exist", what, id)})
		}
	}

	cloudServers := map[string]bool{}
	for id := range cv.servers {
		if !base.servers[id] {
			cloudServers[id] = true
		}
	}
	stateServers := map[string]bool{}
	if st.pool != nil {
		for _, n := range st.pool.Nodes {
			if n.ID != "" {
				stateServers[n.ID] = true
			}
		}
	}
	differ("server", cloudServers, stateServers, func(id string) string {
		s := cv.servers[id]
		return fmt.Sprintf("%s (%s, %s)", s.Name, id, s.Status)
	})

	cloudLBs := keys(cv.lbs)
	stateLBs := map[string]bool{}
	if st.lb != nil {
		stateLBs[st.lb.ID] = true
	}
	differ("load balancer", cloudLBs, stateLBs, func(id string) string {
		return fmt.Sprintf("%s (%s, %s)", cv.lbs[id].Name, id, cv.lbs[id].Status)
	})
	if st.lb != nil {
		if lb, ok := cv.lbs[st.lb.ID]; ok {
			pools := map[string]bool{}
			var members, monitors map[string]bool
			memberDesc := map[string]string{}
			for _, p := range lb.Pools {
				pools[p.ID] = true
				if p.ID == st.lb.PoolID {
					monitors = set(p.Monitors...)
					members = map[string]bool{}
					for _, m := range p.Members {
						static[m.ID] = slices.Contains(m.Tags, "eventscale:static")
						members[m.ID] = true
						memberDesc[m.ID] = fmt.Sprintf("%s (%s, %s, weight %d)", m.Name, m.ID, m.Address, m.Weight)
					}
				}
			}
			differ("pool", pools, set(st.lb.PoolID), func(id string) string { return id + " of " + lb.Name })
			differ("listener", set(lb.Listeners...), set(st.lb.ListenerIDs...), func(id string) string { return id + " of " + lb.Name })
			if members != nil {
				differ("health monitor", monitors, set(st.lb.HealthMonitorID), func(id string) string { return id })
				wanted := set(slices.Collect(maps.Values(st.lb.MemberIDs))...)
				if st.pool != nil {
					for _, n := range st.pool.Nodes {
						if n.MemberID != "" {
							wanted[n.MemberID] = true
						}
					}
				}
				differ("member", members, wanted, func(id string) string { return memberDesc[id] })
			}
		}
	}

	cloudImages := map[string]bool{}
	for id, img := range cv.images {
		if !base.images[id] && img.Status != "deleted" && img.Status != "pending_delete" {
			cloudImages[id] = true
		}
	}
	stateImages := map[string]bool{}
	if st.image != nil {
		stateImages[st.image.ID] = true
	}
	differ("image", cloudImages, stateImages, func(id string) string {
		return fmt.Sprintf("%s (%s, %s)", cv.images[id].Name, id, cv.images[id].Status)
	})

	cloudInstances := map[string]bool{}
	for id := range cv.instances {
		if !base.instances[id] {
			cloudInstances[id] = true
		}
	}
	stateInstances := map[string]bool{}
	if st.replicas != nil {
		for _, in := range st.replicas.Instances {
			stateInstances[in.ID] = true
		}
	}
	differ("replica", cloudInstances, stateInstances, func(id string) string {
		in := cv.instances[id]
		return fmt.Sprintf("%s (%s, %s)", in.Name, id, in.Status)
	})
	for _, t := range st.tainted {
		out = append(out, problem{kindTainted, t + " is tainted: the next apply would replace it"})
	}
	return out
}

// checkNoDrainedMember: after any run ends, no member is out of rotation (weight 0 or
// admin_state_up false) while its server is alive: a drain is always finished or undone.
func checkNoDrainedMember(cv cloudView) []problem {
	alive := map[string]cloudServer{}
	for _, s := range cv.servers {
		if s.Address != "" && s.Status != "DELETED" {
			alive[s.Address] = s
		}
	}
	var out []problem
	for _, lb := range cv.lbs {
		for _, p := range lb.Pools {
			for _, m := range p.Members {
				if m.Weight != 0 && m.AdminStateUp {
					continue
				}
				if s, ok := alive[m.Address]; ok {
					out = append(out, problem{kindDrained, fmt.Sprintf("member %s (%s) has weight %d, admin_state_up %t, and its server %s (%s) is %s",
						m.Name, m.Address, m.Weight, m.AdminStateUp, s.Name, s.ID, s.Status)})
				}
			}
		}
	}
	return out
}

// checkServing: during a scale-back, whatever the outcome of the run, every node the state
// keeps is an ACTIVE server whose member takes traffic.
func checkServing(st stateView, cv cloudView) []problem {
	if st.pool == nil || st.lb == nil {
		return nil
	}
	members := map[string]bool{}
	if lb, ok := cv.lbs[st.lb.ID]; ok {
		for _, p := range lb.Pools {
			for _, m := range p.Members {
				members[m.ID] = m.Weight > 0 && m.AdminStateUp
			}
		}
	}
	var out []problem
	for _, n := range st.pool.Nodes {
		s, ok := cv.servers[n.ID]
		switch {
		case !ok:
			out = append(out, problem{kindServing, fmt.Sprintf("node %s (%s) is in state but its server is gone", n.Name, n.ID)})
		case s.Status != "ACTIVE":
			out = append(out, problem{kindServing, fmt.Sprintf("node %s (%s) is %s", n.Name, n.ID, s.Status)})
		case n.MemberID == "":
			out = append(out, problem{kindServing, fmt.Sprintf("node %s (%s) has no member", n.Name, n.ID)})
		case !members[n.MemberID]:
			out = append(out, problem{kindServing, fmt.Sprintf("node %s: member %s is missing or out of rotation", n.Name, n.MemberID)})
		}
	}
	return out
}

// checkNoLeaks: after destroy the cloud holds its seed and nothing else.
func checkNoLeaks(cv cloudView, base baseline) []problem {
	var out []problem
	for id, s := range cv.servers {
		if !base.servers[id] {
			out = append(out, problem{kindLeak, fmt.Sprintf("server %s (%s, %s) left after destroy", s.Name, id, s.Status)})
		}
	}
	for id, lb := range cv.lbs {
		out = append(out, problem{kindLeak, fmt.Sprintf("load balancer %s (%s, %s) left after destroy", lb.Name, id, lb.Status)})
	}
	for id, img := range cv.images {
		if !base.images[id] && img.Status != "deleted" && img.Status != "pending_delete" {
			out = append(out, problem{kindLeak, fmt.Sprintf("image %s (%s, %s) left after destroy", img.Name, id, img.Status)})
		}
	}
	for id, in := range cv.instances {
		if !base.instances[id] {
			out = append(out, problem{kindLeak, fmt.Sprintf("database instance %s (%s, %s) left after destroy", in.Name, id, in.Status)})
		}
	}
	for id, name := range cv.groups {
		if !base.groups[id] {
			out = append(out, problem{kindLeak, fmt.Sprintf("server group %s (%s) left after destroy", name, id)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Msg < out[j].Msg })
	return out
}

// deletedIDs are the objects the timeline shows deleted since the event index from.
func deletedIDs(events []devcloud.Event, from int) map[string]bool {
	out := map[string]bool{}
	for _, e := range events[min(from, len(events)):] {
		switch e.Kind {
		case "server.deleting", "server.deleted":
			out[attr(e, "server_id")] = true
		case "replica.deleted", "db.deleted":
			out[attr(e, "instance_id")] = true
		case "image.deleted":
			out[attr(e, "image_id")] = true
		case "lb.deleted":
			out[attr(e, "lb_id")] = true
		case "member.removed":
			out[attr(e, "member_id")] = true
		}
	}
	return out
}

func attr(e devcloud.Event, k string) string {
	switch v := e.Attrs[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// checkNoDuplicates reads devcloud's timeline: two servers, load balancers, images or replicas
// alive at once under one name means one was created twice (a lost answer not adopted).
func checkNoDuplicates(events []devcloud.Event) []problem {
	type key struct{ what, name string }
	live := map[key]map[string]bool{}
	reported := map[key]bool{}
	var out []problem
	created := func(what, name, id string) {
		k := key{what, name}
		if live[k] == nil {
			live[k] = map[string]bool{}
		}
		live[k][id] = true
		if len(live[k]) > 1 && !reported[k] {
			reported[k] = true
			ids := slices.Sorted(maps.Keys(live[k]))
			out = append(out, problem{kindDuplicate, fmt.Sprintf("%s %q exists %d times at once: %s", what, name, len(ids), strings.Join(ids, ", "))})
		}
	}
	gone := func(what, id string) {
		for k, ids := range live {
			if k.what == what {
				delete(ids, id)
			}
		}
	}
	for _, e := range events {
		switch e.Kind {
		case "server.created":
			created("server", attr(e, "name"), attr(e, "server_id"))
		case "server.deleting", "server.deleted":
			gone("server", attr(e, "server_id"))
		case "lb.created":
			created("load balancer", attr(e, "name"), attr(e, "lb_id"))
		case "lb.deleted":
			gone("load balancer", attr(e, "lb_id"))
		case "lb.status":
			if s := attr(e, "provisioning_status"); s == "PENDING_DELETE" || s == "DELETED" {
				gone("load balancer", attr(e, "lb_id"))
			}
		case "image.created":
			created("image", attr(e, "name"), attr(e, "image_id"))
		case "image.deleted":
			gone("image", attr(e, "image_id"))
		case "replica.created", "db.created":
			created("database instance", attr(e, "name"), attr(e, "instance_id"))
		case "replica.deleted", "db.deleted":
			gone("database instance", attr(e, "instance_id"))
		}
	}
	return out
}

// checkStaggered reads the timeline for the staggered scale-back's promise, across kills and
// re-runs: a web node's member is drained before it is removed, removed no sooner than the
// drain timeout after its drain, and its server deleted only once the member is gone; static
// members (web01) are never drained or removed but with their load balancer.
func checkStaggered(events []devcloud.Event, staticAddress string) []problem {
	type member struct {
		lb, address string
		drainedAt   time.Time // zero while in rotation
	}
	members := map[string]*member{} // by member id
	lbDeleting := map[string]bool{}
	var out []problem
	for _, e := range events {
		lb := attr(e, "lb_id")
		switch e.Kind {
		case "lb.status":
			if s := attr(e, "provisioning_status"); s == "PENDING_DELETE" || s == "DELETED" {
				// A cascade delete takes the members with it: that is no scale-back.
				lbDeleting[lb] = true
				for id, m := range members {
					if m.lb == lb {
						delete(members, id)
					}
				}
			}
		case "member.added":
			m := &member{lb: lb, address: attr(e, "address")}
			if w, ok := e.Attrs["weight"].(int); ok && w == 0 {
				m.drainedAt = e.Time
			}
			members[attr(e, "member_id")] = m
		case "member.weight", "member.admin_state":
			m := members[attr(e, "member_id")]
			if m == nil {
				continue
			}
			if drained(e) {
				if m.address == staticAddress {
					out = append(out, problem{kindOrder, fmt.Sprintf("static member %s was drained", m.address)})
				}
				if m.drainedAt.IsZero() {
					m.drainedAt = e.Time
				}
			} else if e.Kind == "member.weight" || attr(e, "admin_state_up") == "true" {
				m.drainedAt = time.Time{}
			}
		case "member.removed":
			id := attr(e, "member_id")
			m := members[id]
			delete(members, id)
			if m == nil || lbDeleting[lb] {
				continue
			}
			switch {
			case m.address == staticAddress:
				out = append(out, problem{kindOrder, fmt.Sprintf("static member %s was removed", m.address)})
			case m.drainedAt.IsZero():
				out = append(out, problem{kindOrder, fmt.Sprintf("member %s (%s) removed without a drain", id, m.address)})
			case e.Time.Sub(m.drainedAt) < drainTimeout:
				out = append(out, problem{kindOrder, fmt.Sprintf("member %s (%s) removed %s after its drain, before the drain timeout %s",
					id, m.address, e.Time.Sub(m.drainedAt).Round(time.Millisecond), drainTimeout)})
			}
		case "server.deleting":
			addr := attr(e, "address")
			if addr == "" {
				continue
			}
			for id, m := range members {
				if m.address != addr {
					continue
				}
				state := "in rotation"
				if !m.drainedAt.IsZero() {
					state = "drained"
				}
				out = append(out, problem{kindOrder, fmt.Sprintf("server %s (%s) deleted while member %s (%s) still held it",
					attr(e, "name"), addr, id, state)})
			}
		}
	}
	return out
}
