package cloud

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
)

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
