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

// Discover reads the pool's servers (one metadata listing) and the pool's members, and
// reconciles them with the nodes already known: a server whose create response was lost
// is adopted, a known server deleted outside is dropped, a member whose server is gone is
// kept as an orphan (so the plan removes it), unmanaged members are ignored.
func (p *Pool) Discover(ctx context.Context) error {
	servers, err := p.compute.ListServers(ctx, PoolMatch(p.spec.Key))
	if err != nil {
		return fmt.Errorf("listing the servers of pool %q: %w", p.spec.Key, err)
	}
	members, err := p.listSettledMembers(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		// A pool that is gone (or never was) has no member to drain: the servers are still
		// found, so they can be deleted, and the pool can be forgotten.
		p.progress(StepRemoveOrphans, nil, "Octavia pool %s does not exist: the pool's servers have no member", p.spec.PoolID)
		members = nil
	case err != nil:
		return fmt.Errorf("listing the members of Octavia pool %s: %w", p.spec.PoolID, err)
	}
	known := p.Nodes()

	byName := map[string]*Node{}
	seenServer := map[string]bool{}
	addServer := func(s Server) {
		if s.Status == "DELETED" || s.Status == "SOFT_DELETED" || seenServer[s.ID] {
			return
		}
		seenServer[s.ID] = true
		ord, err := strconv.Atoi(s.Metadata[MetaOrdinal])
		if err != nil {
			ord, _ = OrdinalFromName(p.spec.NamePrefix, s.Name)
		}
		byName[s.Name] = &Node{Ordinal: ord, Name: s.Name, ServerID: s.ID, Address: s.Address,
			ImageID: s.ImageID, Flavor: s.Flavor, Status: s.Status, Created: s.Created, Weight: p.spec.Weight,
			ServerGroup: s.Metadata[MetaServerGroup]}
	}
	for _, s := range servers {
		if isPoolServer(p.spec.Key, s) {
			addServer(s)
		}
	}
	// A known server missing from the listing may have lost its metadata; ask by id
	// before concluding it is gone.
	for _, k := range known {
		if k.ServerID == "" || seenServer[k.ServerID] {
			continue
		}
		s, err := p.compute.GetServer(ctx, k.ServerID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return fmt.Errorf("looking up server %s (%s): %w", k.Name, k.ServerID, err)
		default:
			if s.Name == "" {
				s.Name = k.Name
			}
			addServer(s)
		}
	}

	knownMember := map[string]Node{}
	for _, k := range known {
		if k.MemberID != "" {
			knownMember[k.MemberID] = k
		}
	}
	byAddress := map[string]*Node{}
	for _, n := range byName {
		if n.Address != "" {
			byAddress[n.Address] = n
		}
	}
	for _, m := range members {
		n := byAddress[m.Address]
		if c := byName[m.Name]; n == nil && c != nil && c.MemberID == "" && c.Address == "" {
			// The server shows no address (ERROR, or an API that hides it): the member
			// of the same name is its member, never an orphan to remove without drain.
			n = c
			n.Address = m.Address
		}
		managed := IsPoolMember(p.spec.Key, m)
		if k, ok := knownMember[m.ID]; ok {
			managed = true
			if n == nil && byName[k.Name] != nil && byName[k.Name].Address == m.Address {
				n = byName[k.Name]
			}
		}
		// A member created by this pool on a cloud that drops tags: same name and address
		// as one of the pool's servers.
		if !managed && n != nil && m.Name == n.Name {
			managed = true
		}
		if !managed {
			continue
		}
		if n == nil || n.MemberID != "" {
			name := m.Name
			if name == "" || byName[name] != nil {
				name = "member-" + m.ID
			}
			ord, _ := OrdinalFromName(p.spec.NamePrefix, m.Name)
			n = &Node{Ordinal: ord, Name: name, Address: m.Address}
			byName[name] = n
		}
		n.MemberID = m.ID
		n.OperatingStatus = m.OperatingStatus
		n.Drained = m.Weight == 0 || !m.AdminStateUp
		if m.Weight > 0 {
			n.Weight = m.Weight
		} else if k, ok := knownMember[m.ID]; ok && k.Weight > 0 {
			n.Weight = k.Weight
		} else {
			n.Weight = p.spec.Weight
		}
	}
	out := make([]Node, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	p.replaceAll(out)
	return nil
}

// listSettledMembers lists the pool's members as the load balancer applied them. A member in
// a PENDING_* status is in a change Octavia has not applied yet (a removal shows as
// PENDING_DELETE, and such a member may still carry connections): the list is read again once
// the load balancer is ACTIVE, so that a node is never taken for memberless while its
// removal is under way. A load balancer that stays busy past settleWait (an Octavia worker
// that died mid-update leaves it PENDING_UPDATE for good) does not hold a refresh forever: the
// members are returned as listed, the pending ones still counted as members.
func (p *Pool) listSettledMembers(ctx context.Context) ([]Member, error) {
	members, err := p.lb.ListMembers(ctx, p.spec.PoolID)
	if err != nil || !slices.ContainsFunc(members, pendingMember) {
		return members, err
	}
	wctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	if err := p.lb.WaitActive(wctx, p.spec.LoadBalancerID); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for load balancer %s to apply a member change under way: %w", p.spec.LoadBalancerID, err)
		}
		var pending []string
		for _, m := range members {
			if pendingMember(m) {
				pending = append(pending, fmt.Sprintf("%s (%s, %s)", m.Name, m.ID, m.ProvisioningStatus))
			}
		}
		p.progress(StepRemoveOrphans, nil, "load balancer %s did not apply the change to member(s) %s within %s (%v): they are counted as members still",
			p.spec.LoadBalancerID, strings.Join(pending, ", "), settleWait, err)
		return members, nil
	}
	return p.lb.ListMembers(ctx, p.spec.PoolID)
}

func pendingMember(m Member) bool { return strings.HasPrefix(m.ProvisioningStatus, "PENDING_") }

// settleWait bounds how long discovery waits for a member change under way: a few of
// Octavia's update cycles, which take seconds.
const settleWait = 2 * time.Minute
