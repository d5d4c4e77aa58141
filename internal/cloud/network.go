package cloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Network reads Neutron: what the provider resolves at plan time and the security groups and
// floating IPs it manages.
type Network struct {
	Client *gophercloud.ServiceClient
}

// ResolveNetwork accepts a network id or name, as terraform-provider-openstack does, and returns
// the id. A name shared by several networks visible to the project is refused as ambiguous.
func (n *Network) ResolveNetwork(ctx context.Context, idOrName string) (string, error) {
	if idOrName == "" {
		return "", fmt.Errorf("no network given")
	}
	net, err := networks.Get(ctx, n.Client, idOrName).Extract()
	switch {
	case err == nil:
		return net.ID, nil
	case !IsNotFound(err):
		return "", apiError("reading network "+idOrName, err)
	}
	pages, err := networks.List(n.Client, networks.ListOpts{Name: idOrName}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing networks named "+idOrName, err)
	}
	found, err := networks.ExtractNetworks(pages)
	if err != nil {
		return "", apiError("reading networks named "+idOrName, err)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no network with id or name %q is visible to the project", idOrName)
	case 1:
		return found[0].ID, nil
	}
	ids := make([]string, 0, len(found))
	for _, f := range found {
		ids = append(ids, f.ID)
	}
	return "", fmt.Errorf("%d networks are named %q (%s): give the id", len(found), idOrName, strings.Join(ids, ", "))
}

// MissingSecurityGroups returns the given names or ids that match no security group of the
// project (Nova takes either at server create).
func (n *Network) MissingSecurityGroups(ctx context.Context, namesOrIDs []string) ([]string, error) {
	if len(namesOrIDs) == 0 {
		return nil, nil
	}
	pages, err := groups.List(n.Client, groups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing security groups", err)
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil {
		return nil, apiError("reading security groups", err)
	}
	known := map[string]bool{}
	for _, g := range all {
		known[g.ID], known[g.Name] = true, true
	}
	var missing []string
	for _, s := range namesOrIDs {
		if !known[s] {
			missing = append(missing, s)
		}
	}
	return missing, nil
}

// SubnetExists says whether the project can see the subnet.
func (n *Network) SubnetExists(ctx context.Context, id string) (bool, error) {
	_, err := subnets.Get(ctx, n.Client, id).Extract()
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, apiError("reading subnet "+id, err)
}

// NetworkExists says whether the project can see the network.
func (n *Network) NetworkExists(ctx context.Context, id string) (bool, error) {
	_, err := networks.Get(ctx, n.Client, id).Extract()
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, apiError("reading network "+id, err)
}
