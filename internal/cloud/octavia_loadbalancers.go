package cloud

import (
	"context"
	"fmt"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// LoadBalancer is the Octavia adapter. It implements scaling.LoadBalancer for the library and
// builds and changes a load balancer's tree, one object at a time, for the provider: one file per
// object family (octavia_listeners.go, octavia_pools.go, octavia_members.go,
// octavia_monitors.go), each with its find, status and wait; octavia_mutate.go makes the changes.
type LoadBalancer struct {
	Client *gophercloud.ServiceClient
	Poll   Poll
	// LoadBalancerID is the LB that owns the pools this adapter changes: Octavia's 409
	// "immutable" while it is PENDING_* is answered by waiting for ACTIVE and trying again.
	LoadBalancerID string
}

var _ scaling.LoadBalancer = (*LoadBalancer)(nil)

// LoadBalancerSpec is a load balancer to create.
type LoadBalancerSpec struct {
	Name         string
	VIPSubnetID  string
	VIPNetworkID string
	Tags         []string
}

// ToLoadBalancerCreateMap implements loadbalancers.CreateOptsBuilder.
func (s LoadBalancerSpec) ToLoadBalancerCreateMap() (map[string]any, error) {
	return loadbalancers.CreateOpts{Name: s.Name, VipSubnetID: s.VIPSubnetID, VipNetworkID: s.VIPNetworkID, Tags: s.Tags}.ToLoadBalancerCreateMap()
}

// LoadBalancerInfo is a load balancer as Octavia reports it.
type LoadBalancerInfo struct {
	ID                 string
	Name               string
	VIPAddress         string
	VIPPortID          string
	VIPSubnetID        string
	VIPNetworkID       string
	ProvisioningStatus string
	OperatingStatus    string
	// ListenerIDs and PoolIDs are the load balancer's children, in Octavia's order.
	ListenerIDs []string
	PoolIDs     []string
}

func loadBalancerInfo(lb *loadbalancers.LoadBalancer) *LoadBalancerInfo {
	out := &LoadBalancerInfo{ID: lb.ID, Name: lb.Name, VIPAddress: lb.VipAddress, VIPPortID: lb.VipPortID,
		VIPSubnetID: lb.VipSubnetID, VIPNetworkID: lb.VipNetworkID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus}
	for _, l := range lb.Listeners {
		out.ListenerIDs = append(out.ListenerIDs, l.ID)
	}
	for _, p := range lb.Pools {
		out.PoolIDs = append(out.PoolIDs, p.ID)
	}
	return out
}

// CreateLoadBalancer sends the create once and returns what Octavia answered (PENDING_CREATE).
func (l *LoadBalancer) CreateLoadBalancer(ctx context.Context, spec LoadBalancerSpec) (*LoadBalancerInfo, error) {
	lb, err := loadbalancers.Create(ctx, l.Client, spec).Extract()
	if err != nil {
		return nil, apiError(fmt.Sprintf("creating load balancer %q", spec.Name), err)
	}
	return loadBalancerInfo(lb), nil
}

// LoadBalancersNamed lists the project's load balancers of this name that carry tag (all of
// them when tag is ""), deleted ones left out: what a create whose answer was lost looks for.
func (l *LoadBalancer) LoadBalancersNamed(ctx context.Context, name, tag string) ([]LoadBalancerInfo, error) {
	pages, err := loadbalancers.List(l.Client, loadbalancers.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing load balancers named %q", name), err)
	}
	all, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing load balancers named %q", name), err)
	}
	var out []LoadBalancerInfo
	for i := range all {
		lb := &all[i]
		if lb.Name == name && lb.ProvisioningStatus != "DELETED" && lb.ProvisioningStatus != "PENDING_DELETE" &&
			(tag == "" || slices.Contains(lb.Tags, tag)) {
			out = append(out, *loadBalancerInfo(lb))
		}
	}
	return out, nil
}

// GetLoadBalancer reads one load balancer; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetLoadBalancer(ctx context.Context, id string) (*LoadBalancerInfo, error) {
	lb, err := getLoadBalancer(ctx, l.Client, id)
	if err != nil {
		return nil, err
	}
	return loadBalancerInfo(lb), nil
}

func getLoadBalancer(ctx context.Context, client *gophercloud.ServiceClient, id string) (*loadbalancers.LoadBalancer, error) {
	lb, err := loadbalancers.Get(ctx, client, id).Extract()
	if err != nil {
		return nil, apiError("reading load balancer "+id, err)
	}
	return lb, nil
}

// RenameLoadBalancer changes the LB's name and waits for ACTIVE.
func (l *LoadBalancer) RenameLoadBalancer(ctx context.Context, id, name string) error {
	return l.mutate(ctx, "updating load balancer "+id, func(ctx context.Context) error {
		_, err := loadbalancers.Update(ctx, l.Client, id, loadbalancers.UpdateOpts{Name: &name}).Extract()
		return err
	})
}

// DeleteLoadBalancerCascade deletes the LB with every listener, pool, member and monitor
// under it, then waits until Octavia no longer knows it. One already gone is not an error.
func (l *LoadBalancer) DeleteLoadBalancerCascade(ctx context.Context, id string) error {
	action := "deleting load balancer " + id
	for {
		err := loadbalancers.Delete(ctx, l.Client, id, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr()
		if err == nil || IsNotFound(err) {
			break
		}
		if !IsImmutable(err) {
			return apiError(action, err)
		}
		// A change is still being applied: DELETE is refused until the LB is ACTIVE or ERROR.
		if _, werr := waitLoadBalancer(ctx, l.Client, l.Poll, "load balancer "+id, id,
			nil, []string{"ACTIVE", "ERROR", statusGone}, nil); werr != nil {
			return fmt.Errorf("%s: the load balancer stayed immutable: %w", action, werr)
		}
	}
	// ERROR after PENDING_DELETE means the delete failed.
	_, err := waitLoadBalancer(ctx, l.Client, l.Poll.Expecting(ExpectLBUpdate), "deletion of load balancer "+id, id, nil, []string{statusGone}, []string{"ERROR"})
	return err
}

// WaitActive waits for the load balancer to be ACTIVE: the library's wait after a change.
func (l *LoadBalancer) WaitActive(ctx context.Context, loadBalancerID string) error {
	_, err := WaitLoadBalancer(ctx, l.Client, l.Poll.Expecting(ExpectLBUpdate), loadBalancerID, "ACTIVE")
	return err
}

// loadBalancerPending are the provisioning statuses a load balancer passes through on its way
// to a target.
var loadBalancerPending = []string{"PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", "ACTIVE"}

// WaitLoadBalancer waits for the LB's provisioning_status to reach target; ERROR fails.
func WaitLoadBalancer(ctx context.Context, client *gophercloud.ServiceClient, p Poll, id, target string) (*loadbalancers.LoadBalancer, error) {
	return waitLoadBalancer(ctx, client, p, "load balancer "+id, id, loadBalancerPending, []string{target}, []string{"ERROR"})
}

// statusGone is the status a wait reads for a load balancer Octavia no longer knows.
const statusGone = "GONE"

// waitLoadBalancer is the one wait on a load balancer's provisioning_status: every wait on a
// load balancer, and on a child through it, comes here. When statusGone is a target, a load
// balancer Octavia no longer knows (404, or DELETED) reaches it; otherwise a 404 is an error.
func waitLoadBalancer(ctx context.Context, client *gophercloud.ServiceClient, p Poll, what, id string,
	pending, target, failed []string) (*loadbalancers.LoadBalancer, error) {
	untilGone := slices.Contains(target, statusGone)
	return waitFor(ctx, p, what, func(ctx context.Context) (*loadbalancers.LoadBalancer, string, error) {
		lb, err := getLoadBalancer(ctx, client, id)
		switch {
		case untilGone && IsNotFound(err):
			return nil, statusGone, nil
		case err != nil:
			return nil, "", err
		case untilGone && lb.ProvisioningStatus == "DELETED":
			return lb, statusGone, nil
		}
		return lb, lb.ProvisioningStatus, nil
	}, pending, target, failed)
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
