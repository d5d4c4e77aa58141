package cloud

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// MemberOperatingStatuses reads the members' operating_status from the load balancer's status
// tree: the health monitor's verdict on each member, which the library waits on.
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
