package scaling

// The staggered scale-back, one batch at a time:
//
//	drain (weight 0 or admin_state_up=false) -> wait ACTIVE
//	wait drain_timeout -> pre-delete webhook (2xx)
//	remove the members -> wait ACTIVE
//	delete the servers -> wait gone, while the health gate runs:
//	health gate: remaining members healthy, health URL answers
//
// A batch of several nodes is drained in ONE member update and removed in ONE member update
// (Octavia's batch member PUT, every other member re-sent as it is, the unmanaged ones
// included): one load balancer update cycle each per batch, not per node. The servers'
// deletion overlaps the health gate and the next batch's drain, since their members are gone
// and they serve nothing. The next batch's members are removed only once those servers are
// gone and the remaining members are healthy still (overlapsDeletes, finishDeletes): one batch
// drains at a time, and one batch's servers are deleted at a time.
//
// Cancellation or an error in the middle of a batch is settled so that every node is
// either fully in service or fully gone (see settle).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

func (r *run) drain(ctx context.Context, st Step) error {
	p := r.p
	if err := r.checkEndpoints(ctx); err != nil {
		return err
	}
	if err := r.ensureBaseline(ctx); err != nil {
		return err
	}
	how := "weight 0"
	if p.opts.DrainMethod == DrainDisable {
		how = "admin_state_up=false"
	}
	batch := map[string]string{} // member id -> node name
	var ids []string
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if n.MemberID == "" {
			return fmt.Errorf("node %s has no member to drain", name)
		}
		batch[n.MemberID] = name
		ids = append(ids, n.MemberID)
	}
	if len(st.Nodes) == 0 {
		return nil
	}
	// Marked before the call: if the call's outcome is unknown, settle re-reads the
	// members and puts them back.
	r.mu.Lock()
	for _, name := range st.Nodes {
		r.drainedAt[name] = p.clock.Now()
	}
	r.mu.Unlock()
	names := strings.Join(st.Nodes, ", ")
	if len(st.Nodes) == 1 {
		var weight *int
		var up *bool
		if p.opts.DrainMethod == DrainDisable {
			f := false
			up = &f
		} else {
			z := 0
			weight = &z
		}
		if err := p.lb.UpdateMember(ctx, p.spec.PoolID, ids[0], weight, up); err != nil {
			return fmt.Errorf("draining member %s (%s) with %s: %w", names, ids[0], how, err)
		}
	} else {
		err := r.updateMembers(ctx, StepDrain, batch, true, func(m Member, ours bool) (MemberSpec, bool) {
			spec := specOf(m)
			if ours {
				if p.opts.DrainMethod == DrainDisable {
					spec.AdminStateUp = false
				} else {
					spec.Weight = 0
				}
			}
			return spec, true
		})
		if err != nil {
			return fmt.Errorf("draining members %s with %s in one member update: %w", names, how, err)
		}
	}
	if err := p.lb.WaitActive(ctx, p.spec.LoadBalancerID); err != nil {
		return fmt.Errorf("waiting for load balancer %s after draining %s: %w", p.spec.LoadBalancerID, names, err)
	}
	// The drain time counts from the moment Octavia applied the change.
	now := p.clock.Now()
	r.mu.Lock()
	for _, name := range st.Nodes {
		r.drainedAt[name] = now
	}
	r.mu.Unlock()
	for _, name := range st.Nodes {
		p.update(name, false, func(n *Node) { n.Drained = true })
	}
	for i, name := range st.Nodes {
		p.progress(st.Kind, []string{name}, "member %s (%s) drained (%s)", name, ids[i], how)
	}
	return nil
}

// sendMembers sends ONE batch member update, the list build makes from the pool's members as
// they are now (send false: nothing to send). A list refused because the load balancer was
// busy (ErrStale) may have been built from members read before another change: it is read and
// built again, never re-sent as it was.
func (r *run) sendMembers(ctx context.Context, kind StepKind, build func(members []Member) (specs []MemberSpec, send bool, err error)) error {
	p := r.p
	for attempt := 1; ; attempt++ {
		members, err := p.lb.ListMembers(ctx, p.spec.PoolID)
		if err != nil {
			return fmt.Errorf("listing members of pool %s: %w", p.spec.PoolID, err)
		}
		specs, send, err := build(members)
		if err != nil || !send {
			return err
		}
		err = p.lb.BatchUpdateMembers(ctx, p.spec.PoolID, specs)
		if !errors.Is(err, ErrStale) || attempt >= maxStaleUpdates {
			return err
		}
		p.progress(kind, nil, "the member update of pool %s met another change of load balancer %s: reading the members again (attempt %d of %d)",
			p.spec.PoolID, p.spec.LoadBalancerID, attempt+1, maxStaleUpdates)
	}
}

// updateMembers sends ONE batch member update: every member of the pool as change returns it
// (keep false drops it), so that members this pool does not manage, web01 among them, are
// re-sent with every field they had; ours says whether the member is one of batch (member id
// -> node name). With requireAll, a member of batch missing from the pool stops it before
// anything is sent.
func (r *run) updateMembers(ctx context.Context, kind StepKind, batch map[string]string, requireAll bool, change func(m Member, ours bool) (spec MemberSpec, keep bool)) error {
	return r.sendMembers(ctx, kind, func(members []Member) ([]MemberSpec, bool, error) {
		specs := make([]MemberSpec, 0, len(members))
		seen := map[string]bool{}
		for _, m := range members {
			_, ours := batch[m.ID]
			seen[m.ID] = ours
			if spec, keep := change(m, ours); keep {
				specs = append(specs, spec)
			}
		}
		if requireAll {
			var missing []string
			for id, name := range batch {
				if !seen[id] {
					missing = append(missing, fmt.Sprintf("%s (%s)", name, id))
				}
			}
			if len(missing) > 0 {
				sort.Strings(missing)
				return nil, false, fmt.Errorf("members %s are missing from pool %s", strings.Join(missing, ", "), r.p.spec.PoolID)
			}
		}
		return specs, true, nil
	})
}

// maxStaleUpdates bounds the member updates rebuilt after meeting another change: each attempt
// waited for a whole update cycle of someone else's.
const maxStaleUpdates = 10

// specOf is a member as a batch member update re-sends it unchanged.
func specOf(m Member) MemberSpec {
	return MemberSpec{Name: m.Name, Address: m.Address, ProtocolPort: m.ProtocolPort,
		SubnetID: m.SubnetID, Weight: m.Weight, AdminStateUp: m.AdminStateUp, Tags: m.Tags,
		Backup: m.Backup, MonitorAddress: m.MonitorAddress, MonitorPort: m.MonitorPort}
}

func (r *run) drainWait(ctx context.Context, st Step) error {
	p := r.p
	var last time.Time
	r.mu.Lock()
	for _, name := range st.Nodes {
		if t := r.drainedAt[name]; t.After(last) {
			last = t
		}
	}
	r.mu.Unlock()
	if wait := last.Add(p.opts.DrainTimeout).Sub(p.clock.Now()); wait > 0 {
		p.progress(st.Kind, st.Nodes, "waiting %s for open connections to %s to finish", wait.Round(time.Second), strings.Join(st.Nodes, ", "))
		if err := p.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	if p.opts.PreDeleteWebhook == "" {
		return nil
	}
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if err := r.callWebhook(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) removeMembers(ctx context.Context, st Step) error {
	p := r.p
	batch := map[string]string{} // member id -> node name
	var ids []string
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		r.mu.Lock()
		at, drained := r.drainedAt[name]
		r.mu.Unlock()
		// Belt and braces: the plan always drains first, but a member is never removed
		// before its drain time, whatever the plan says.
		if !drained || p.clock.Now().Sub(at) < p.opts.DrainTimeout {
			return fmt.Errorf("refusing to remove member %s (%s): it has not been drained for %s", name, n.MemberID, p.opts.DrainTimeout)
		}
		batch[n.MemberID] = name
		ids = append(ids, n.MemberID)
	}
	if len(st.Nodes) == 0 {
		return nil
	}
	names := strings.Join(st.Nodes, ", ")
	if len(st.Nodes) == 1 {
		if err := p.lb.DeleteMember(ctx, p.spec.PoolID, ids[0]); err != nil {
			return fmt.Errorf("removing member %s (%s) from pool %s: %w", names, ids[0], p.spec.PoolID, err)
		}
	} else {
		err := r.updateMembers(ctx, StepRemoveMembers, batch, false, func(m Member, ours bool) (MemberSpec, bool) {
			return specOf(m), !ours
		})
		if err != nil {
			return fmt.Errorf("removing members %s from pool %s in one member update: %w", names, p.spec.PoolID, err)
		}
	}
	r.mu.Lock()
	for i, name := range st.Nodes {
		delete(r.drainedAt, name)
		r.removed[name] = true
		r.unapplied[name] = ids[i]
	}
	r.mu.Unlock()
	for _, name := range st.Nodes {
		p.update(name, true, func(n *Node) { n.MemberID, n.OperatingStatus, n.Drained = "", "", false })
	}
	if err := p.lb.WaitActive(ctx, p.spec.LoadBalancerID); err != nil {
		return fmt.Errorf("waiting for load balancer %s after removing members %s: %w", p.spec.LoadBalancerID, names, err)
	}
	r.mu.Lock()
	for _, name := range st.Nodes {
		delete(r.unapplied, name)
	}
	r.mu.Unlock()
	for _, name := range st.Nodes {
		p.progress(st.Kind, []string{name}, "member %s removed", name)
	}
	return nil
}

// deleteServers deletes servers that are no longer members, all requests first. Their
// waits until gone run in the background (see awaitDeletes): the health gate that follows
// may run meanwhile, nothing else. A node stays in the pool's nodes, with its server id,
// until its server is gone.
func (r *run) deleteServers(ctx context.Context, st Step) error {
	p := r.p
	var ids []string
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if n.MemberID != "" {
			return fmt.Errorf("refusing to delete server %s (%s): it is still member %s of pool %s", name, n.ServerID, n.MemberID, p.spec.PoolID)
		}
		if n.ServerID == "" {
			continue
		}
		// Recorded before the call: a node whose delete was sent is finished by settle
		// whatever happens next.
		r.mu.Lock()
		r.removed[name] = true
		r.mu.Unlock()
		if err := p.compute.DeleteServer(ctx, n.ServerID); err != nil {
			return fmt.Errorf("deleting server %s (%s): %w", name, n.ServerID, err)
		}
		ids = append(ids, n.ServerID)
		r.deleting.Add(1)
		go func(name, id string) {
			defer r.deleting.Done()
			if err := p.compute.WaitServerGone(ctx, id); err != nil {
				r.mu.Lock()
				r.deleteErrs = append(r.deleteErrs, fmt.Errorf("waiting for server %s (%s) to be gone: %w", name, id, err))
				r.mu.Unlock()
				return
			}
			r.mu.Lock()
			delete(r.removed, name)
			r.mu.Unlock()
			p.update(name, true, func(n *Node) {
				if n.ServerID == id {
					n.ServerID, n.Status = "", ""
				}
			})
			p.progress(StepDelete, []string{name}, "server %s (%s) deleted", name, id)
		}(name, n.ServerID)
	}
	if len(ids) > 0 {
		p.progress(st.Kind, st.Nodes, "deletion of server(s) %s sent", strings.Join(ids, ", "))
	}
	return nil
}

// awaitDeletes waits until every server deletion in flight is over and returns the
// failures.
func (r *run) awaitDeletes() error {
	r.deleting.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	err := errors.Join(r.deleteErrs...)
	r.deleteErrs = nil
	return err
}

// finishDeletes waits until the deletions in flight are over, then, when a health gate passed
// while they ran, checks again that the remaining members are healthy with those servers
// gone. Every step but those overlapsDeletes names calls it first, and so does the end of
// the run.
func (r *run) finishDeletes(ctx context.Context) error {
	if err := r.awaitDeletes(); err != nil {
		return err
	}
	gate := r.gated
	if gate == nil {
		return nil
	}
	r.gated = nil
	p := r.p
	if err := r.membersHealthy(ctx, *gate, p.clock.Now().Add(p.opts.HealthyTimeout)); err != nil {
		return err
	}
	p.progress(gate.Kind, gate.Nodes, "members healthy with the servers of %s gone", strings.Join(gate.Nodes, ", "))
	return nil
}

func (r *run) removeOrphans(ctx context.Context, st Step) error {
	p := r.p
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if n.ServerID != "" {
			return fmt.Errorf("refusing to remove member %s without drain: its server %s exists", name, n.ServerID)
		}
		if err := p.lb.DeleteMember(ctx, p.spec.PoolID, n.MemberID); err != nil {
			return fmt.Errorf("removing member %s (%s), whose server is gone: %w", name, n.MemberID, err)
		}
		p.update(name, true, func(n *Node) { n.MemberID, n.OperatingStatus = "", "" })
		if err := p.lb.WaitActive(ctx, p.spec.LoadBalancerID); err != nil {
			return fmt.Errorf("waiting for load balancer %s after removing member %s: %w", p.spec.LoadBalancerID, name, err)
		}
	}
	return nil
}

// restore puts drained members back in service with their weight and admin state up: one
// member update for one node, ONE batch member update for several (one load balancer update
// cycle, every other member re-sent unchanged), as the drain did.
func (r *run) restore(ctx context.Context, nodes []string) error {
	p := r.p
	if len(nodes) == 0 {
		return nil
	}
	batch := map[string]string{} // member id -> node name
	weight := map[string]int{}   // member id -> the weight it goes back to
	for _, name := range nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		batch[n.MemberID], weight[n.MemberID] = name, n.Weight
		if n.Weight <= 0 {
			weight[n.MemberID] = p.spec.Weight
		}
	}
	names := strings.Join(nodes, ", ")
	if len(nodes) == 1 {
		n, _ := r.node(nodes[0])
		up, w := true, weight[n.MemberID]
		var wp *int
		if p.opts.DrainMethod == DrainWeight {
			wp = &w
		}
		if err := p.lb.UpdateMember(ctx, p.spec.PoolID, n.MemberID, wp, &up); err != nil {
			return fmt.Errorf("putting member %s (%s) back in service: %w", n.Name, n.MemberID, err)
		}
	} else {
		err := r.updateMembers(ctx, StepRestore, batch, true, func(m Member, ours bool) (MemberSpec, bool) {
			spec := specOf(m)
			if ours {
				spec.AdminStateUp = true
				if p.opts.DrainMethod == DrainWeight {
					spec.Weight = weight[m.ID]
				}
			}
			return spec, true
		})
		if err != nil {
			return fmt.Errorf("putting members %s back in service in one member update: %w", names, err)
		}
	}
	if err := p.lb.WaitActive(ctx, p.spec.LoadBalancerID); err != nil {
		return fmt.Errorf("waiting for load balancer %s after putting %s back in service: %w", p.spec.LoadBalancerID, names, err)
	}
	for _, name := range nodes {
		r.mu.Lock()
		delete(r.drainedAt, name)
		r.mu.Unlock()
		p.update(name, false, func(n *Node) { n.Drained = false })
		n, _ := p.node(name)
		p.progress(StepRestore, []string{name}, "member %s (%s) back in service", name, n.MemberID)
	}
	return nil
}

// settle leaves every node fully in service or fully gone after an error or a
// cancellation, under a fresh bounded context (the caller's may be done):
//
//   - a node drained but still a member is put back in service. Finishing its removal
//     instead would mean either cutting its open connections (removing before the drain
//     time) or waiting out the drain after the user asked to stop; restoring is one quick
//     update and loses nothing. The next Apply drains it again from the start.
//   - a node whose member is removed has its server deleted: it carries no traffic any
//     more, so finishing is safe and quick.
//
// Nothing is decided before the load balancer is ACTIVE: Octavia applies a removal (or a
// drain) in the update cycle the call starts, and until then the member list still shows the
// member (PENDING_DELETE) and the member may still carry connections. A load balancer that
// cannot be read leaves every node as it is, servers kept, for the next Apply to finish.
func (r *run) settle(ctx context.Context, cause error) error {
	// Deletions in flight end first (with the caller's context: cancelled, they stop at
	// once). Their failures need no report of their own here: a server not known to be gone
	// stays in removed, is deleted again below, and that failure is reported.
	_ = r.awaitDeletes()
	r.mu.Lock()
	var drained, removed []string
	for name := range r.drainedAt {
		drained = append(drained, name)
	}
	for name := range r.removed {
		removed = append(removed, name)
	}
	unapplied := maps.Clone(r.unapplied)
	r.mu.Unlock()
	if len(drained) == 0 && len(removed) == 0 {
		return cause
	}
	sort.Strings(drained)
	sort.Strings(removed)
	p := r.p
	cctx, cancel := p.cleanupContext(ctx)
	defer cancel()
	unsettled := strings.Join(append(append([]string(nil), drained...), removed...), ", ")
	if err := p.lb.WaitActive(cctx, p.spec.LoadBalancerID); err != nil {
		return errors.Join(cause, fmt.Errorf("cleaning up after the failure: waiting for load balancer %s to apply the last member change: %w; "+
			"node(s) %s left as they are, their servers kept: the next apply finishes them", p.spec.LoadBalancerID, err, unsettled))
	}
	var errs []error
	if len(drained) > 0 || len(unapplied) > 0 {
		members, err := p.lb.ListMembers(cctx, p.spec.PoolID)
		if err != nil {
			// Only the nodes whose member is known to be gone are finished.
			kept := slices.Clone(drained)
			var gone []string
			for _, name := range removed {
				if _, sent := unapplied[name]; sent {
					kept = append(kept, name)
				} else {
					gone = append(gone, name)
				}
			}
			removed = gone
			errs = append(errs, fmt.Errorf("listing the members of pool %s: %w; node(s) %s left as they are, their servers kept: the next apply finishes them",
				p.spec.PoolID, err, strings.Join(kept, ", ")))
			drained, unapplied = nil, nil
		}
		exists := map[string]bool{}
		for _, m := range members {
			exists[m.ID] = true
		}
		// A removal that was sent but did not take leaves a drained member: it goes back
		// in service with the others.
		removed = slices.DeleteFunc(removed, func(name string) bool {
			id, sent := unapplied[name]
			if !sent || !exists[id] {
				return false
			}
			p.update(name, false, func(n *Node) { n.MemberID, n.Drained = id, true })
			drained = append(drained, name)
			r.mu.Lock()
			delete(r.removed, name)
			r.mu.Unlock()
			return true
		})
		var back []string
		for _, name := range drained {
			n, ok := p.node(name)
			switch {
			case !ok:
			case exists[n.MemberID]:
				back = append(back, name)
			default:
				// The removal went through although its call failed: finish the node.
				p.update(name, true, func(n *Node) { n.MemberID, n.Drained = "", false })
				removed = append(removed, name)
			}
		}
		if len(back) > 0 {
			p.progress(StepRestore, back, "stopping: putting drained node(s) %s back in service", strings.Join(back, ", "))
			if rerr := r.restore(cctx, back); rerr != nil {
				errs = append(errs, rerr)
			}
		}
	}
	for _, name := range removed {
		n, ok := p.node(name)
		if !ok || n.ServerID == "" {
			continue
		}
		p.progress(StepDelete, []string{name}, "stopping: finishing the removal of %s (member already removed), deleting server %s", name, n.ServerID)
		if derr := r.deleteAndWait(cctx, name, n.ServerID); derr != nil {
			errs = append(errs, derr)
		}
		r.mu.Lock()
		delete(r.removed, name)
		r.mu.Unlock()
	}
	if len(errs) > 0 {
		return errors.Join(cause, fmt.Errorf("cleaning up after the failure: %w", errors.Join(errs...)))
	}
	return cause
}

// ensureBaseline records which members this pool does not manage are healthy before the
// first drain: the health gate requires them to stay so, while one already down before
// we started does not block the scale-back.
func (r *run) ensureBaseline(ctx context.Context) error {
	if r.baseline != nil {
		return nil
	}
	p := r.p
	members, err := p.lb.ListMembers(ctx, p.spec.PoolID)
	if err != nil {
		return fmt.Errorf("listing members of pool %s: %w", p.spec.PoolID, err)
	}
	statuses, err := p.lb.MemberOperatingStatuses(ctx, p.spec.LoadBalancerID, p.spec.PoolID)
	if err != nil {
		return fmt.Errorf("reading member statuses of load balancer %s: %w", p.spec.LoadBalancerID, err)
	}
	ours := map[string]bool{}
	for _, n := range p.Nodes() {
		if n.MemberID != "" {
			ours[n.MemberID] = true
		}
	}
	r.baseline = map[string]string{}
	for _, m := range members {
		if ours[m.ID] || IsPoolMember(p.spec.Key, m) {
			continue
		}
		if p.healthy(statuses[m.ID]) {
			r.baseline[m.ID] = fmt.Sprintf("%s (%s, %s)", m.Name, m.Address, m.ID)
		}
	}
	return nil
}

// healthGate runs after a batch's members are removed, while its servers are deleted: the
// remaining members must be healthy and the health URL must answer before the next batch
// drains. Once the servers are gone, the members must be healthy still: finishDeletes checks
// it before the next batch's members are removed, or at the end. Otherwise the scale-back
// stops, removing nothing more.
func (r *run) healthGate(ctx context.Context, st Step) error {
	p := r.p
	deadline := p.clock.Now().Add(p.opts.HealthyTimeout)
	removed := strings.Join(st.Nodes, ", ")
	if err := r.membersHealthy(ctx, st, deadline); err != nil {
		return err
	}
	if p.opts.HealthCheckURL != "" {
		if err := r.checkURL(ctx); err != nil {
			return fmt.Errorf("health gate after removing %s failed: %w; removing nothing more", removed, err)
		}
	}
	gate := st
	r.gated = &gate
	p.progress(st.Kind, st.Nodes, "health gate passed after removing %s", removed)
	return nil
}

// membersHealthy waits until the members in service, ours and the unmanaged ones healthy
// before the first drain, are healthy, or fails at deadline.
func (r *run) membersHealthy(ctx context.Context, st Step, deadline time.Time) error {
	p := r.p
	removed := strings.Join(st.Nodes, ", ")
	for {
		statuses, err := p.lb.MemberOperatingStatuses(ctx, p.spec.LoadBalancerID, p.spec.PoolID)
		if err != nil {
			return fmt.Errorf("health gate after removing %s: reading member statuses: %w", removed, err)
		}
		var bad []string
		for _, n := range p.Nodes() {
			if n.MemberID == "" || n.Drained {
				continue
			}
			st := statuses[n.MemberID]
			p.update(n.Name, false, func(n *Node) { n.OperatingStatus = st })
			if !p.healthy(st) {
				bad = append(bad, fmt.Sprintf("member %s (%s) is %s", n.Name, n.MemberID, orUnknown(st)))
			}
		}
		for id, desc := range r.baseline {
			st, ok := statuses[id]
			if ok && !p.healthy(st) {
				bad = append(bad, fmt.Sprintf("unmanaged member %s is %s", desc, st))
			}
		}
		if len(bad) == 0 {
			return nil
		}
		if !p.clock.Now().Before(deadline) {
			return fmt.Errorf("health gate after removing %s failed after %s: %s; removing nothing more",
				removed, p.opts.HealthyTimeout, strings.Join(bad, "; "))
		}
		p.progress(st.Kind, st.Nodes, "health gate: waiting, %s", strings.Join(bad, "; "))
		if err := p.clock.Sleep(ctx, p.opts.PollInterval); err != nil {
			return err
		}
	}
}
