package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
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
