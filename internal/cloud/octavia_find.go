package cloud

import (
	"context"
	"fmt"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
)

// LoadBalancersNamed lists the project's load balancers of this name that carry tag (all of
// them when tag is ""), deleted ones left out: what a create whose answer was lost looks for.
func (l *LoadBalancer) LoadBalancersNamed(ctx context.Context, name, tag string) ([]loadbalancers.LoadBalancer, error) {
	pages, err := loadbalancers.List(l.Client, loadbalancers.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing load balancers named %q", name), err)
	}
	all, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing load balancers named %q", name), err)
	}
	var out []loadbalancers.LoadBalancer
	for _, lb := range all {
		if lb.Name == name && lb.ProvisioningStatus != "DELETED" && lb.ProvisioningStatus != "PENDING_DELETE" &&
			(tag == "" || slices.Contains(lb.Tags, tag)) {
			out = append(out, lb)
		}
	}
	return out, nil
}
