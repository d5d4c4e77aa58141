package cloud

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
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

// FloatingIP is a Neutron floating IP as the load balancer uses it.
type FloatingIP struct {
	ID      string
	Address string
	PortID  string
}

// EnsureVIPFloatingIP gives the port a floating IP from the external network: the one an earlier
// attempt made for it (found by port and description, after a lost answer) or a new one.
func (n *Network) EnsureVIPFloatingIP(ctx context.Context, networkID, portID, description string) (FloatingIP, error) {
	find := func() (FloatingIP, bool, error) {
		pages, err := floatingips.List(n.Client, floatingips.ListOpts{FloatingNetworkID: networkID, PortID: portID}).AllPages(ctx)
		if err != nil {
			return FloatingIP{}, false, apiError("listing the floating IPs of port "+portID, err)
		}
		all, err := floatingips.ExtractFloatingIPs(pages)
		if err != nil {
			return FloatingIP{}, false, apiError("reading the floating IPs of port "+portID, err)
		}
		for _, f := range all {
			if f.PortID == portID {
				return FloatingIP{ID: f.ID, Address: f.FloatingIP, PortID: f.PortID}, true, nil
			}
		}
		return FloatingIP{}, false, nil
	}
	if f, ok, err := find(); err != nil || ok {
		return f, err
	}
	f, err := floatingips.Create(ctx, n.Client, floatingips.CreateOpts{FloatingNetworkID: networkID, PortID: portID, Description: description}).Extract()
	if err != nil {
		if StatusCode(err) < 400 || StatusCode(err) >= 500 {
			if found, ok, ferr := find(); ferr == nil && ok {
				return found, nil
			}
		}
		return FloatingIP{}, createError("allocating a floating IP from network "+networkID, err)
	}
	return FloatingIP{ID: f.ID, Address: f.FloatingIP, PortID: f.PortID}, nil
}

// AdoptFloatingIP associates an existing floating IP, given by address, with the port.
func (n *Network) AdoptFloatingIP(ctx context.Context, address, portID string) (FloatingIP, error) {
	pages, err := floatingips.List(n.Client, floatingips.ListOpts{FloatingIP: address}).AllPages(ctx)
	if err != nil {
		return FloatingIP{}, apiError("looking up floating IP "+address, err)
	}
	all, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil {
		return FloatingIP{}, apiError("reading floating IP "+address, err)
	}
	if len(all) == 0 {
		return FloatingIP{}, fmt.Errorf("the project has no floating IP %s (openstack floating ip list)", address)
	}
	f := all[0]
	if f.PortID == portID {
		return FloatingIP{ID: f.ID, Address: f.FloatingIP, PortID: f.PortID}, nil
	}
	if f.PortID != "" {
		return FloatingIP{}, fmt.Errorf("floating IP %s is associated with port %s: disassociate it first, or give another address", address, f.PortID)
	}
	u, err := floatingips.Update(ctx, n.Client, f.ID, floatingips.UpdateOpts{PortID: &portID}).Extract()
	if err != nil {
		return FloatingIP{}, apiError("associating floating IP "+address+" with port "+portID, err)
	}
	return FloatingIP{ID: u.ID, Address: u.FloatingIP, PortID: u.PortID}, nil
}

// ReleaseFloatingIP deletes a floating IP the provider allocated, or only disassociates one it
// adopted; one already gone is not an error.
func (n *Network) ReleaseFloatingIP(ctx context.Context, id string, adopted bool) error {
	if adopted {
		// An empty port id is sent as null: gophercloud's way to disassociate.
		none := ""
		_, err := floatingips.Update(ctx, n.Client, id, floatingips.UpdateOpts{PortID: &none}).Extract()
		if err != nil && !IsNotFound(err) {
			return apiError("disassociating floating IP "+id, err)
		}
		return nil
	}
	err := floatingips.Delete(ctx, n.Client, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting floating IP "+id, err)
	}
	return nil
}

// GetFloatingIP reads a floating IP; a 404 satisfies IsNotFound.
func (n *Network) GetFloatingIP(ctx context.Context, id string) (FloatingIP, error) {
	f, err := floatingips.Get(ctx, n.Client, id).Extract()
	if err != nil {
		return FloatingIP{}, apiError("reading floating IP "+id, err)
	}
	return FloatingIP{ID: f.ID, Address: f.FloatingIP, PortID: f.PortID}, nil
}

// FloatingIPOfPort finds the floating IP associated with a port, the name of its external network,
// and whether its description starts with ownPrefix (one this provider allocated).
func (n *Network) FloatingIPOfPort(ctx context.Context, portID, ownPrefix string) (f FloatingIP, networkName string, own bool, err error) {
	if portID == "" {
		return FloatingIP{}, "", false, nil
	}
	pages, err := floatingips.List(n.Client, floatingips.ListOpts{PortID: portID}).AllPages(ctx)
	if err != nil {
		return FloatingIP{}, "", false, apiError("listing the floating IPs of port "+portID, err)
	}
	all, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil || len(all) == 0 {
		return FloatingIP{}, "", false, err
	}
	x := all[0]
	name := x.FloatingNetworkID
	if net, err := networks.Get(ctx, n.Client, x.FloatingNetworkID).Extract(); err == nil && net.Name != "" {
		name = net.Name
	}
	return FloatingIP{ID: x.ID, Address: x.FloatingIP, PortID: x.PortID}, name, strings.HasPrefix(x.Description, ownPrefix), nil
}

// EnsureMemberSecurityGroup returns the security group named name, creating it when missing, with
// an ingress rule letting cidr reach the TCP port: what a load balancer's members need on a cloud
// whose default group lets nothing in. A rule already there is not an error.
func (n *Network) EnsureMemberSecurityGroup(ctx context.Context, name, description string, port int, cidr string) (string, error) {
	pages, err := groups.List(n.Client, groups.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing security groups named "+name, err)
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil {
		return "", apiError("reading security groups named "+name, err)
	}
	var id string
	for _, g := range all {
		if g.Name == name {
			id = g.ID
		}
	}
	if id == "" {
		g, err := groups.Create(ctx, n.Client, groups.CreateOpts{Name: name, Description: description}).Extract()
		if err != nil {
			return "", createError("creating security group "+name, err)
		}
		id = g.ID
	}
	_, err = rules.Create(ctx, n.Client, rules.CreateOpts{SecGroupID: id, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: port, PortRangeMax: port, RemoteIPPrefix: cidr,
		Description: "load balancer to members"}).Extract()
	if err != nil && StatusCode(err) != http.StatusConflict {
		return id, apiError(fmt.Sprintf("allowing %s to reach port %d in security group %s", cidr, port, name), err)
	}
	return id, nil
}

// DeleteSecurityGroup deletes a security group; one already gone is not an error.
func (n *Network) DeleteSecurityGroup(ctx context.Context, id string) error {
	err := groups.Delete(ctx, n.Client, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting security group "+id, err)
	}
	return nil
}

// SubnetCIDR returns a subnet's CIDR.
func (n *Network) SubnetCIDR(ctx context.Context, id string) (string, error) {
	s, err := subnets.Get(ctx, n.Client, id).Extract()
	if err != nil {
		return "", apiError("reading subnet "+id, err)
	}
	return s.CIDR, nil
}

// FindSecurityGroup returns the id of the project's security group with this name, or "".
func (n *Network) FindSecurityGroup(ctx context.Context, name string) (string, error) {
	pages, err := groups.List(n.Client, groups.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing security groups named "+name, err)
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil {
		return "", apiError("reading security groups named "+name, err)
	}
	for _, g := range all {
		if g.Name == name {
			return g.ID, nil
		}
	}
	return "", nil
}
