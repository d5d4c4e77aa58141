package scaling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// create builds the step's servers in parallel (at most MaxParallel at once). Every
// server id is recorded the moment Nova returns it. A create whose answer was lost is looked
// for in one listing afterwards: a server found is adopted rather than created twice, and
// one the listing proves was never made is created again, within CreateRetries.
func (r *run) create(ctx context.Context, st Step) error {
	if r.p.spec.ImageID == "" || r.p.spec.FlavorID == "" {
		return fmt.Errorf("creating %s in pool %q needs the image_id and flavor_id of the nodes", strings.Join(st.Nodes, ", "), r.p.spec.Key)
	}
	r.assignServerGroups(st.Ordinals)
	lost := make([]bool, len(st.Ordinals))
	errs := make([]error, len(st.Ordinals))
	waves := r.joinWaves(ctx, st.Wave, len(st.Ordinals))
	defer waves.finish()
	_ = parallel(ctx, len(st.Ordinals), r.p.opts.MaxParallel, func(i int) error {
		lost[i], errs[i] = r.buildNode(ctx, st.Ordinals[i], st.ImageID, Server{})
		if !lost[i] && errs[i] == nil {
			waves.built(st.Nodes[i])
		}
		return nil
	})
	for resend := 1; ctx.Err() == nil; resend++ {
		var retry []int
		for i := range st.Ordinals {
			if lost[i] {
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 {
			break
		}
		found, err := r.poolServersByOrdinal(ctx)
		if err != nil {
			// Without the listing the lost creates cannot be told apart from failed ones:
			// stop, the final re-read of the pool reports whatever exists.
			return errors.Join(append(errs, fmt.Errorf("listing servers to find creates whose answer was lost: %w", err))...)
		}
		_ = parallel(ctx, len(retry), r.p.opts.MaxParallel, func(j int) error {
			i := retry[j]
			lost[i] = false
			if s, ok := found[st.Ordinals[i]]; ok {
				r.p.progress(StepCreate, []string{s.Name}, "create of %s answered with an error but the server exists (%s): adopting it", s.Name, s.ID)
				if _, errs[i] = r.buildNode(ctx, st.Ordinals[i], st.ImageID, s); errs[i] == nil {
					waves.built(st.Nodes[i])
				}
				return nil
			}
			if resend > r.p.opts.CreateRetries {
				return nil // the last create's error stands
			}
			r.p.progress(StepCreate, []string{st.Nodes[i]}, "create of %s failed (%v) and no such server exists: creating it again (attempt %d of %d)",
				st.Nodes[i], errs[i], resend+1, r.p.opts.CreateRetries+1)
			lost[i], errs[i] = r.buildNode(ctx, st.Ordinals[i], st.ImageID, Server{})
			if !lost[i] && errs[i] == nil {
				waves.built(st.Nodes[i])
			}
			return nil
		})
	}
	waves.finish()
	var stop []error
	for i, err := range errs {
		if err != nil {
			if err := r.buildFailed(ctx, st.Nodes[i], err); err != nil {
				stop = append(stop, err)
			}
		}
	}
	return errors.Join(stop...)
}

// poolServersByOrdinal lists the pool's servers (one call), keyed by their ordinal metadata.
func (r *run) poolServersByOrdinal(ctx context.Context) (map[int]Server, error) {
	servers, err := r.p.compute.ListServers(ctx, PoolMatch(r.p.spec.Key))
	if err != nil {
		return nil, err
	}
	found := map[int]Server{}
	for _, s := range servers {
		if !isPoolServer(r.p.spec.Key, s) || s.Status == "DELETED" {
			continue
		}
		if o, err := strconv.Atoi(s.Metadata[MetaOrdinal]); err == nil {
			found[o] = s
		}
	}
	return found, nil
}

// buildNode creates (or adopts) one server and waits until it is ACTIVE. A server that
// ends in ERROR is deleted and created again, up to CreateRetries times. lost reports a
// create call that failed without a server id and without a refusal: the server may exist
// nonetheless.
func (r *run) buildNode(ctx context.Context, ord int, imageID string, s Server) (lost bool, err error) {
	p := r.p
	name := NodeName(p.spec.NamePrefix, ord)
	spec := ServerSpec{
		Name: name, ImageID: imageID, FlavorID: p.spec.FlavorID, Networks: p.spec.Networks,
		KeyPair: p.spec.KeyPair, SecurityGroups: p.spec.SecurityGroups, UserData: p.spec.UserData,
		AvailabilityZone: p.spec.zoneFor(ord), ServerGroupID: r.serverGroupFor(ord),
		Metadata: p.serverMetadata(ord), Tags: ServerTags(p.spec.Key, ord),
	}
	if spec.ServerGroupID != "" {
		spec.Metadata[MetaServerGroup] = spec.ServerGroupID
	}
	for attempt := 1; ; attempt++ {
		if s.ID == "" {
			created, err := p.compute.CreateServer(ctx, spec)
			if err != nil || created.ID == "" {
				if err == nil {
					err = errors.New("no server id in Nova's answer")
				}
				return ctx.Err() == nil && !errors.Is(err, ErrRefused), fmt.Errorf("creating server %s: %w", name, err)
			}
			s = created
			p.progress(StepCreate, []string{name}, "server %s created (%s), building", name, s.ID)
		}
		r.recordServer(ord, name, imageID, s)

		active, err := p.compute.WaitServerActive(ctx, s.ID)
		if err == nil {
			r.recordServer(ord, name, imageID, active)
			p.progress(StepCreate, []string{name}, "server %s (%s) is ACTIVE at %s", name, s.ID, active.Address)
			return false, nil
		}
		var fault *ServerFaultError
		if !errors.As(err, &fault) {
			return false, fmt.Errorf("waiting for server %s (%s) to become ACTIVE: %w", name, s.ID, err)
		}
		// The server is useless in ERROR: remove it so it neither holds quota nor the name.
		if derr := r.deleteAndWait(ctx, name, s.ID); derr != nil {
			return false, fmt.Errorf("server %s (%s) went to ERROR (Nova fault: %s), and deleting it failed: %w", name, s.ID, fault.Message, derr)
		}
		if attempt > p.opts.CreateRetries {
			return false, fmt.Errorf("server %s went to ERROR %d time(s), last as %s with Nova fault: %s", name, attempt, s.ID, fault.Message)
		}
		p.progress(StepCreate, []string{name}, "server %s (%s) went to ERROR (Nova fault: %s): deleted, creating it again (attempt %d of %d)",
			name, s.ID, fault.Message, attempt+1, p.opts.CreateRetries+1)
		s = Server{}
	}
}

func (r *run) recordServer(ord int, name, imageID string, s Server) {
	created := s.Created
	if created.IsZero() {
		created = r.p.clock.Now()
	}
	if s.ImageID != "" {
		imageID = s.ImageID
	}
	flavor := s.Flavor
	if flavor == "" && s.ID != "" {
		flavor = r.p.spec.FlavorName
	}
	r.p.update(name, true, func(n *Node) {
		n.Ordinal, n.Name, n.ServerID, n.ImageID, n.Status = ord, name, s.ID, imageID, s.Status
		if flavor != "" {
			n.Flavor = flavor
		}
		if s.Address != "" {
			n.Address = s.Address
		}
		if n.Created.IsZero() || !s.Created.IsZero() {
			n.Created = created
		}
		if n.Weight == 0 {
			n.Weight = r.p.spec.Weight
		}
	})
}

func (r *run) deleteAndWait(ctx context.Context, name, id string) error {
	if err := r.p.compute.DeleteServer(ctx, id); err != nil {
		return fmt.Errorf("deleting server %s (%s): %w", name, id, err)
	}
	if err := r.p.compute.WaitServerGone(ctx, id); err != nil {
		return fmt.Errorf("waiting for server %s (%s) to be gone: %w", name, id, err)
	}
	r.p.update(name, true, func(n *Node) {
		if n.ServerID == id {
			n.ServerID, n.Status = "", ""
		}
	})
	return nil
}

// join adds the nodes to the pool in ONE batch member update: read the member list,
// keep every member as it is (the ones this pool does not manage included), append the
// new ones.
func (r *run) join(ctx context.Context, st Step) error {
	p := r.p
	// Servers adopted while still building are finished like new ones: waited for, and
	// replaced within the retry budget if they end in ERROR.
	var pending []Node
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if n.Status != "ACTIVE" || n.Address == "" {
			pending = append(pending, n)
		}
	}
	err := parallel(ctx, len(pending), p.opts.MaxParallel, func(i int) error {
		n := pending[i]
		_, err := r.buildNode(ctx, n.Ordinal, p.spec.ImageID, Server{ID: n.ServerID, Name: n.Name, Status: n.Status,
			ImageID: n.ImageID, Flavor: n.Flavor, Created: n.Created})
		if err != nil {
			return r.buildFailed(ctx, n.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.addMembers(ctx, r.withoutFailed(st))
}

// addMembers adds the named, built nodes that are not members yet to the pool in ONE batch
// member update (one load balancer update cycle): every member read back unchanged, the new
// ones appended; then it records every node's member.
func (r *run) addMembers(ctx context.Context, nodes []string) error {
	p := r.p
	var adding []string
	err := r.sendMembers(ctx, StepJoin, func(members []Member) ([]MemberSpec, bool, error) {
		adding = nil
		specs := make([]MemberSpec, 0, len(members)+len(nodes))
		present := map[string]bool{}
		for _, m := range members {
			specs = append(specs, specOf(m))
			present[m.Address+":"+strconv.Itoa(m.ProtocolPort)] = true
		}
		for _, name := range nodes {
			n, _ := p.node(name)
			if present[n.Address+":"+strconv.Itoa(p.spec.ProtocolPort)] {
				continue
			}
			w := n.Weight
			if w <= 0 {
				w = p.spec.Weight
			}
			specs = append(specs, MemberSpec{Name: name, Address: n.Address, ProtocolPort: p.spec.ProtocolPort,
				SubnetID: p.spec.SubnetID, Weight: w, AdminStateUp: true, Tags: MemberTags(p.spec.Key)})
			adding = append(adding, name)
		}
		return specs, len(adding) > 0, nil
	})
	if err != nil && len(adding) == 0 {
		return err
	}
	if err != nil {
		return fmt.Errorf("adding members %s to pool %s: %w", strings.Join(adding, ", "), p.spec.PoolID, err)
	}
	if len(adding) > 0 {
		p.progress(StepJoin, adding, "member update sent for %s; waiting for load balancer %s to be ACTIVE", strings.Join(adding, ", "), p.spec.LoadBalancerID)
		if err := p.lb.WaitActive(ctx, p.spec.LoadBalancerID); err != nil {
			return fmt.Errorf("waiting for load balancer %s after adding members %s: %w", p.spec.LoadBalancerID, strings.Join(adding, ", "), err)
		}
	}
	return r.recordMembers(ctx, nodes)
}

// recordMembers reads the pool's members and records each named node's member.
func (r *run) recordMembers(ctx context.Context, nodes []string) error {
	p := r.p
	members, err := p.lb.ListMembers(ctx, p.spec.PoolID)
	if err != nil {
		return fmt.Errorf("listing members of pool %s after the update: %w", p.spec.PoolID, err)
	}
	byAddr := map[string]Member{}
	for _, m := range members {
		if m.ProtocolPort == p.spec.ProtocolPort {
			byAddr[m.Address] = m
		}
	}
	var missing []string
	for _, name := range nodes {
		n, _ := p.node(name)
		m, ok := byAddr[n.Address]
		if !ok {
			missing = append(missing, name)
			continue
		}
		p.update(name, true, func(n *Node) {
			n.MemberID, n.OperatingStatus = m.ID, m.OperatingStatus
			n.Drained = m.Weight == 0 || !m.AdminStateUp
		})
	}
	if len(missing) > 0 {
		return fmt.Errorf("members for %s are missing from pool %s after the update", strings.Join(missing, ", "), p.spec.PoolID)
	}
	return nil
}

func (r *run) waitOnline(ctx context.Context, st Step) error {
	if r.p.opts.SkipHealthWait {
		r.p.progress(st.Kind, st.Nodes, "not waiting for %s to be healthy (wait_for_healthy = false)", strings.Join(st.Nodes, ", "))
		return nil
	}
	need := len(st.Nodes)
	if pct := r.p.opts.MinHealthyPercent; pct > 0 {
		need = (len(st.Nodes)*pct + 99) / 100
	}
	return r.waitHealthy(ctx, st.Kind, st.Nodes, need, r.onlineExpected(ctx))
}

// onlineExpected is how long a member just added takes to be reported ONLINE: the delay of the
// pool's health monitor, when the adapter can read it (once per run), 0 when unknown.
func (r *run) onlineExpected(ctx context.Context) time.Duration {
	reader, ok := r.p.lb.(MonitorDelayReader)
	if !ok {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.monitorRead {
		return r.monitorDelay
	}
	r.monitorRead = true
	delay, found, err := reader.HealthMonitorDelay(ctx, r.p.spec.PoolID)
	if err != nil {
		// Only the spacing of the looks depends on it: they back off from a short first look.
		r.p.progress(StepWaitOnline, nil, "reading the health monitor of pool %s failed, waiting for members without its delay: %v", r.p.spec.PoolID, err)
		return 0
	}
	if found {
		r.monitorDelay = delay
	}
	return r.monitorDelay
}

// waitHealthy polls the LB status tree until at least need of the nodes' members have
// a healthy operating status, bounded by HealthyTimeout. It looks at once, then after an
// eighth of the poll interval, then closer towards expect (how long the members are expected
// to take, 0 when unknown), backing off past it, never more than the poll interval apart.
func (r *run) waitHealthy(ctx context.Context, kind StepKind, nodes []string, need int, expect time.Duration) error {
	p := r.p
	start := p.clock.Now()
	deadline := start.Add(p.opts.HealthyTimeout)
	var wait time.Duration
	for {
		statuses, err := p.lb.MemberOperatingStatuses(ctx, p.spec.LoadBalancerID, p.spec.PoolID)
		if err != nil {
			return fmt.Errorf("reading member statuses of load balancer %s: %w", p.spec.LoadBalancerID, err)
		}
		healthy := 0
		var bad []string
		for _, name := range nodes {
			n, _ := p.node(name)
			st := statuses[n.MemberID]
			p.update(name, false, func(n *Node) { n.OperatingStatus = st })
			if p.healthy(st) {
				healthy++
			} else {
				bad = append(bad, fmt.Sprintf("%s is %s", name, orUnknown(st)))
			}
		}
		if healthy >= need {
			p.progress(kind, nodes, "%d of %d member(s) healthy", healthy, len(nodes))
			return nil
		}
		if !p.clock.Now().Before(deadline) {
			return fmt.Errorf("%d of %d member(s) healthy (%s) after %s, %d needed: %s",
				healthy, len(nodes), strings.Join(p.opts.HealthyStatuses, "/"), p.opts.HealthyTimeout, need, strings.Join(bad, ", "))
		}
		p.progress(kind, nodes, "waiting for members: %d of %d healthy, %d needed (%s)", healthy, len(nodes), need, strings.Join(bad, ", "))
		wait = NextLook(p.clock.Now().Sub(start), wait, expect, p.opts.PollInterval/8, p.opts.PollInterval)
		if err := p.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (p *Pool) healthy(status string) bool {
	for _, s := range p.opts.HealthyStatuses {
		if strings.EqualFold(s, status) {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "absent from the status tree"
	}
	return s
}

// rebootCheck reboots one node and requires it to come back healthy.
func (r *run) rebootCheck(ctx context.Context, st Step) error {
	p := r.p
	for _, name := range st.Nodes {
		n, err := r.node(name)
		if err != nil {
			return err
		}
		if err := p.compute.RebootServer(ctx, n.ServerID); err != nil {
			return fmt.Errorf("rebooting server %s (%s): %w", name, n.ServerID, err)
		}
		p.progress(st.Kind, []string{name}, "rebooting %s (%s)", name, n.ServerID)
		s, err := p.compute.WaitServerActive(ctx, n.ServerID)
		if err != nil {
			return fmt.Errorf("server %s (%s) did not come back ACTIVE after the reboot: %w", name, n.ServerID, err)
		}
		r.recordServer(n.Ordinal, name, n.ImageID, s)
		if err := r.waitHealthy(ctx, st.Kind, []string{name}, 1, 0); err != nil {
			return fmt.Errorf("node %s after the reboot: %w", name, err)
		}
	}
	return nil
}

// serverMetadata is the user's extra metadata with the pool's keys on top: the keys that
// identify the node must not be overridable, or the node could be lost or adopted by another pool.
func (p *Pool) serverMetadata(ord int) map[string]string {
	md := map[string]string{}
	for k, v := range p.spec.Metadata {
		md[k] = v
	}
	for k, v := range ServerMetadata(p.spec.Key, ord) {
		md[k] = v
	}
	return md
}

// zoneFor is the availability zone of the node with this ordinal (1-based).
func (s PoolSpec) zoneFor(ord int) string {
	if len(s.AvailabilityZones) == 0 {
		return ""
	}
	return s.AvailabilityZones[(max(ord, 1)-1)%len(s.AvailabilityZones)]
}

// assignServerGroups decides, before the parallel creates start, which server group each new
// node joins: the group holding the fewest of the pool's nodes, the first group on a tie. Nodes
// created before their group was recorded count in the first group.
func (r *run) assignServerGroups(ordinals []int) {
	groups := r.p.spec.ServerGroupIDs
	if len(groups) < 2 {
		return
	}
	count := map[string]int{}
	for _, n := range r.p.Nodes() {
		if n.ServerID == "" {
			continue
		}
		g := n.ServerGroup
		if !slices.Contains(groups, g) {
			g = groups[0]
		}
		count[g]++
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.groupOf == nil {
		r.groupOf = map[int]string{}
	}
	for _, ord := range ordinals {
		if _, done := r.groupOf[ord]; done {
			continue
		}
		best := groups[0]
		for _, g := range groups[1:] {
			if count[g] < count[best] {
				best = g
			}
		}
		r.groupOf[ord] = best
		count[best]++
	}
}

// serverGroupFor is the server group of the node with this ordinal.
func (r *run) serverGroupFor(ord int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g, ok := r.groupOf[ord]; ok {
		return g
	}
	return r.p.spec.ServerGroupID
}
