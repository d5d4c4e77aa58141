package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
)

// EnsureServerGroup returns the id of the server group with this name, creating it with the
// policy when none exists, so a re-run after a lost response never makes a second group.
func (c *Compute) EnsureServerGroup(ctx context.Context, name, policy string) (string, error) {
	pages, err := servergroups.List(c.Client, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing server groups", err)
	}
	groups, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return "", apiError("reading server groups", err)
	}
	for _, g := range groups {
		if g.Name == name {
			return g.ID, nil
		}
	}
	g, err := servergroups.Create(ctx, c.Client, servergroups.CreateOpts{Name: name, Policies: []string{policy}}).Extract()
	if err != nil {
		return "", apiError(fmt.Sprintf("creating server group %s (%s)", name, policy), err)
	}
	return g.ID, nil
}

// FindServerGroup returns the id and policy of the server group with this name, or "" when
// there is none.
func (c *Compute) FindServerGroup(ctx context.Context, name string) (id, policy string, err error) {
	pages, err := servergroups.List(c.Client, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return "", "", apiError("listing server groups", err)
	}
	groups, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return "", "", apiError("reading server groups", err)
	}
	for _, g := range groups {
		if g.Name != name {
			continue
		}
		switch {
		case g.Policy != nil && *g.Policy != "":
			return g.ID, *g.Policy, nil
		case len(g.Policies) > 0:
			return g.ID, g.Policies[0], nil
		}
		return g.ID, "", nil
	}
	return "", "", nil
}

// DeleteServerGroup deletes a server group; one already gone is not an error.
func (c *Compute) DeleteServerGroup(ctx context.Context, id string) error {
	err := servergroups.Delete(ctx, c.Client, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting server group "+id, err)
	}
	return nil
}

// ResolveFlavor accepts a flavor id or name and returns the id.
func (c *Compute) ResolveFlavor(ctx context.Context, idOrName string) (string, error) {
	if idOrName == "" {
		return "", fmt.Errorf("no flavor given")
	}
	f, err := flavors.Get(ctx, c.Client, idOrName).Extract()
	switch {
	case err == nil && f != nil && f.ID != "":
		return f.ID, nil
	case err != nil && !IsNotFound(err):
		return "", apiError("reading flavor "+idOrName, err)
	}
	// Not an id (or an answer without a flavor in it): look the name up.
	pages, err := flavors.ListDetail(c.Client, flavors.ListOpts{}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing flavors", err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return "", apiError("reading flavors", err)
	}
	for _, f := range all {
		if f.Name == idOrName {
			return f.ID, nil
		}
	}
	return "", fmt.Errorf("no flavor with id or name %q", idOrName)
}

// KeyPairExists says whether the user has a key pair of this name.
func (c *Compute) KeyPairExists(ctx context.Context, name string) (bool, error) {
	_, err := keypairs.Get(ctx, c.Client, name, keypairs.GetOpts{}).Extract()
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, apiError("reading key pair "+name, err)
}

// AvailabilityZones lists the compute availability zones that are available.
func (c *Compute) AvailabilityZones(ctx context.Context) ([]string, error) {
	pages, err := availabilityzones.List(c.Client).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing availability zones", err)
	}
	all, err := availabilityzones.ExtractAvailabilityZones(pages)
	if err != nil {
		return nil, apiError("reading availability zones", err)
	}
	var out []string
	for _, z := range all {
		if z.ZoneState.Available {
			out = append(out, z.ZoneName)
		}
	}
	return out, nil
}

// FlavorName returns the name of a flavor given by id or name (servers at microversion 2.47
// and later carry the flavor's name, not its id).
func (c *Compute) FlavorName(ctx context.Context, idOrName string) (string, error) {
	id, err := c.ResolveFlavor(ctx, idOrName)
	if err != nil {
		return "", err
	}
	f, err := flavors.Get(ctx, c.Client, id).Extract()
	if err != nil {
		return "", apiError("reading flavor "+id, err)
	}
	return f.Name, nil
}

// ServerStatus returns a server's status, or "" when Nova does not know it.
func (c *Compute) ServerStatus(ctx context.Context, id string) (string, error) {
	s, err := c.GetServer(ctx, id)
	switch {
	case err == nil:
		return s.Status, nil
	case IsNotFound(err):
		return "", nil
	}
	return "", err
}

// AddSecurityGroup gives a running server a security group (by name); already having it is not an error.
func (c *Compute) AddSecurityGroup(ctx context.Context, serverID, group string) error {
	err := secgroups.AddServer(ctx, c.Client, serverID, group).ExtractErr()
	if err != nil && StatusCode(err) != 409 {
		return apiError(fmt.Sprintf("adding security group %s to server %s", group, serverID), err)
	}
	return nil
}
