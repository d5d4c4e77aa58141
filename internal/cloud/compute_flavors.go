package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
)

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
