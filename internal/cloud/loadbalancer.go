package cloud

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// LoadBalancer implements scaling.LoadBalancer with Octavia.
type LoadBalancer struct {
	Client *gophercloud.ServiceClient
	Poll   Poll
	// LoadBalancerID is the LB that owns the pools this adapter changes: Octavia's 409
	// "immutable" while it is PENDING_* is answered by waiting for ACTIVE and trying again.
	LoadBalancerID string
}

var _ scaling.LoadBalancer = (*LoadBalancer)(nil)

func (l *LoadBalancer) ListMembers(ctx context.Context, poolID string) ([]scaling.Member, error) {
	pages, err := pools.ListMembers(l.Client, poolID, pools.ListMembersOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing members of pool "+poolID, err)
	}
	all, err := pools.ExtractMembers(pages)
	if err != nil {
		return nil, apiError("reading members of pool "+poolID, err)
	}
	out := make([]scaling.Member, 0, len(all))
	for _, m := range all {
		out = append(out, toMember(m))
	}
	return out, nil
}

func toMember(m pools.Member) scaling.Member {
	return scaling.Member{
		ID: m.ID, Name: m.Name, Address: m.Address, ProtocolPort: m.ProtocolPort, SubnetID: m.SubnetID,
		Weight: m.Weight, AdminStateUp: m.AdminStateUp, OperatingStatus: m.OperatingStatus,
		ProvisioningStatus: m.ProvisioningStatus, Tags: m.Tags, Backup: m.Backup,
		MonitorAddress: m.MonitorAddress, MonitorPort: m.MonitorPort,
	}
}

func (l *LoadBalancer) BatchUpdateMembers(ctx context.Context, poolID string, members []scaling.MemberSpec) error {
	opts := make([]pools.BatchUpdateMemberOpts, 0, len(members))
	for _, m := range members {
		name, weight, admin := m.Name, m.Weight, m.AdminStateUp
		o := pools.BatchUpdateMemberOpts{Address: m.Address, ProtocolPort: m.ProtocolPort, Name: &name,
			Weight: &weight, AdminStateUp: &admin, Tags: m.Tags}
		if m.SubnetID != "" {
			subnet := m.SubnetID
			o.SubnetID = &subnet
		}
		if m.Backup {
			backup := true
			o.Backup = &backup
		}
		if m.MonitorAddress != "" {
			addr := m.MonitorAddress
			o.MonitorAddress = &addr
		}
		if m.MonitorPort != 0 {
			port := m.MonitorPort
			o.MonitorPort = &port
		}
		opts = append(opts, o)
	}
	return l.mutateNoWait(ctx, "updating the members of pool "+poolID, func(ctx context.Context) error {
		return pools.BatchUpdateMembers(ctx, l.Client, poolID, opts).ExtractErr()
	})
}

func (l *LoadBalancer) UpdateMember(ctx context.Context, poolID, memberID string, weight *int, adminStateUp *bool) error {
	opts := pools.UpdateMemberOpts{Weight: weight, AdminStateUp: adminStateUp}
	return l.mutateNoWait(ctx, fmt.Sprintf("updating member %s of pool %s", memberID, poolID), func(ctx context.Context) error {
		_, err := pools.UpdateMember(ctx, l.Client, poolID, memberID, opts).Extract()
		return err
	})
}

func (l *LoadBalancer) DeleteMember(ctx context.Context, poolID, memberID string) error {
	err := l.mutateNoWait(ctx, fmt.Sprintf("removing member %s from pool %s", memberID, poolID), func(ctx context.Context) error {
		return pools.DeleteMember(ctx, l.Client, poolID, memberID).ExtractErr()
	})
	if IsNotFound(err) {
		return nil
	}
	return err
}

func (l *LoadBalancer) WaitActive(ctx context.Context, loadBalancerID string) error {
	_, err := WaitLoadBalancer(ctx, l.Client, l.Poll, loadBalancerID, "ACTIVE")
	return err
}

// WaitLoadBalancer waits for the LB's provisioning_status to reach target; ERROR fails.
func WaitLoadBalancer(ctx context.Context, client *gophercloud.ServiceClient, p Poll, id, target string) (*loadbalancers.LoadBalancer, error) {
	return waitFor(ctx, p, "load balancer "+id, func(ctx context.Context) (*loadbalancers.LoadBalancer, string, error) {
		lb, err := loadbalancers.Get(ctx, client, id).Extract()
		if err != nil {
			return nil, "", apiError("reading load balancer "+id, err)
		}
		return lb, lb.ProvisioningStatus, nil
	}, []string{"PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", "ACTIVE"}, []string{target}, []string{"ERROR"})
}

func (l *LoadBalancer) MemberOperatingStatuses(ctx context.Context, loadBalancerID, poolID string) (map[string]string, error) {
	tree, err := loadbalancers.GetStatuses(ctx, l.Client, loadBalancerID).Extract()
	if err != nil {
		return nil, apiError("reading the status tree of load balancer "+loadBalancerID, err)
	}
	out := map[string]string{}
	if tree.Loadbalancer == nil {
		return out, nil
	}
	collect := func(ps []pools.Pool) {
		for _, p := range ps {
			if p.ID != poolID {
				continue
			}
			for _, m := range p.Members {
				out[m.ID] = m.OperatingStatus
			}
		}
	}
	collect(tree.Loadbalancer.Pools)
	for _, lis := range tree.Loadbalancer.Listeners {
		collect(lis.Pools)
	}
	if len(out) > 0 {
		return out, nil
	}
	// Octavia's status tree lists pools only under listeners: a pool no listener uses is not
	// in it. Its members still carry their operating_status.
	members, err := l.ListMembers(ctx, poolID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		out[m.ID] = m.OperatingStatus
	}
	return out, nil
}

// IsImmutable reports Octavia's 409 "... is immutable and cannot be updated".
func IsImmutable(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusConflict) && strings.Contains(strings.ToLower(err.Error()), "immutable")
}

// PoolTags reads the tags of an Octavia pool.
func (l *LoadBalancer) PoolTags(ctx context.Context, poolID string) ([]string, error) {
	p, err := l.GetPool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	return p.Tags, nil
}

// SetPoolTags replaces the pool's tags and waits until the load balancer has applied it.
func (l *LoadBalancer) SetPoolTags(ctx context.Context, poolID string, tags []string) error {
	return l.UpdatePool(ctx, poolID, PoolUpdate{Tags: &tags})
}

// CheckPool reports a pool that does not exist, or that is not a pool of the load balancer.
func (l *LoadBalancer) CheckPool(ctx context.Context, poolID, loadBalancerID string) error {
	p, err := l.GetPool(ctx, poolID)
	if err != nil {
		return err
	}
	for _, lb := range p.Loadbalancers {
		if lb.ID == loadBalancerID {
			return nil
		}
	}
	return fmt.Errorf("pool %s (%s) is a pool of load balancer %s, not of %s", poolID, p.Name, poolLoadBalancers(p), loadBalancerID)
}

func poolLoadBalancers(p *pools.Pool) string {
	ids := make([]string, 0, len(p.Loadbalancers))
	for _, lb := range p.Loadbalancers {
		ids = append(ids, lb.ID)
	}
	return strings.Join(ids, ", ")
}

// Stats are Octavia's statistics of a load balancer or a listener.
type Stats struct {
	ActiveConnections int64
	TotalConnections  int64
	BytesIn           int64
	BytesOut          int64
	RequestErrors     int64
}

// LoadBalancerStats reads GET /v2/lbaas/loadbalancers/{id}/stats. Octavia counts connections per
// load balancer and per listener only, never per member.
func (l *LoadBalancer) LoadBalancerStats(ctx context.Context, id string) (Stats, error) {
	s, err := loadbalancers.GetStats(ctx, l.Client, id).Extract()
	if err != nil {
		return Stats{}, apiError("reading the statistics of load balancer "+id, err)
	}
	return Stats{ActiveConnections: int64(s.ActiveConnections), TotalConnections: int64(s.TotalConnections),
		BytesIn: int64(s.BytesIn), BytesOut: int64(s.BytesOut), RequestErrors: int64(s.RequestErrors)}, nil
}
