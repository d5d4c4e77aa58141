package cloud

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
)

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
