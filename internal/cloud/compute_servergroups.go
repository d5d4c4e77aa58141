package cloud

import (
	"context"
	"fmt"

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
