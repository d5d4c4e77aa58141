package cloud

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// ConsoleOutput returns the last lines of a server's console log (Nova's
// os-getConsoleOutput); lines <= 0 asks for all of it. Cloud-init copies the output of
// user data scripts there, which is how a setup that failed inside the server is explained.
func (c *Compute) ConsoleOutput(ctx context.Context, id string, lines int) (string, error) {
	opts := servers.ShowConsoleOutputOpts{Length: lines}
	if lines <= 0 {
		opts.Length = -1
	}
	out, err := servers.ShowConsoleOutput(ctx, c.Client, id, opts).Extract()
	if err != nil {
		return "", apiError("reading the console log of server "+id, err)
	}
	return out, nil
}
