package provider

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/zones"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// Backup images are named <name>-<server>, so the eventscale_seed_image sweeper, which deletes
// every image whose name starts with accPrefix, removes them too. Trove backups and the DNS tests'
// zones are swept here.
func init() {
	resource.AddTestSweepers("eventscale_backup", &resource.Sweeper{Name: "eventscale_backup", F: sweepDatabaseBackups})
	resource.AddTestSweepers("eventscale_dns_record", &resource.Sweeper{Name: "eventscale_dns_record", F: sweepZones})
}

func sweepDatabaseBackups(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	if has, err := client.HasService(ctx, cloud.ServiceDatabase); err != nil || !has {
		return err
	}
	trove, err := client.TroveBackups(ctx)
	if err != nil {
		return err
	}
	var body struct {
		Backups []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"backups"`
	}
	resp, err := trove.Client.Get(ctx, trove.Client.ServiceURL("backups")+"?"+url.Values{"limit": {"1000"}}.Encode(), &body, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("listing database backups: %w", err)
	}
	var errs []error
	for _, b := range body.Backups {
		if !accSwept(b.Name) {
			continue
		}
		if err := trove.Delete(ctx, b.ID); err != nil {
			errs = append(errs, fmt.Errorf("database backup %s (%s): %w", b.Name, b.ID, err))
		}
	}
	return errors.Join(errs...)
}

func sweepZones(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	if has, err := client.HasService(ctx, cloud.ServiceDNS); err != nil || !has {
		return err
	}
	api, err := client.DNS(ctx)
	if err != nil {
		return err
	}
	pages, err := zones.List(api.Client, zones.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing zones: %w", err)
	}
	list, err := zones.ExtractZones(pages)
	if err != nil {
		return err
	}
	var errs []error
	for _, z := range list {
		if !accSwept(z.Name) || z.Action == "DELETE" {
			continue
		}
		if _, err := zones.Delete(ctx, api.Client, z.ID).Extract(); err != nil && !cloud.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("zone %s (%s): %w", z.Name, z.ID, err))
		}
	}
	return errors.Join(errs...)
}
