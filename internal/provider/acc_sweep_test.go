package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// accPrefix starts the name of everything the acceptance tests create (accName, the probe
// load balancer): the sweeper removes exactly the objects whose names start with it. It is
// specific enough not to match a user's own objects.
const accPrefix = "tfacc-"

// TestMain runs the sweepers instead of the tests when -sweep is given (make sweep).
func TestMain(m *testing.M) {
	// The provider's address in every test configuration is registry.terraform.io/eventscale/eventscale:
	// OpenTofu needs the namespace spelled out, and `go test` alone must not depend on make for it.
	if os.Getenv("TF_ACC_PROVIDER_NAMESPACE") == "" {
		_ = os.Setenv("TF_ACC_PROVIDER_NAMESPACE", providerNamespace)
	}
	// The provider journals into the directory it runs in: the tests' journal goes to a
	// temporary directory, not into the source tree.
	cleanup := func() {}
	if os.Getenv(journal.EnvPath) == "" {
		if dir, err := os.MkdirTemp("", "eventscale-acc-journal-"); err == nil {
			_ = os.Setenv(journal.EnvPath, filepath.Join(dir, "journal.jsonl"))
			cleanup = func() { _ = os.RemoveAll(dir) }
		}
	}
	resource.TestMain(runThen{m: m, after: cleanup})
}

// runThen runs the tests, then clean-up that resource.TestMain's os.Exit would skip.
type runThen struct {
	m     *testing.M
	after func()
}

func (r runThen) Run() int {
	defer r.after()
	return r.m.Run()
}

// providerNamespace is the provider's namespace in test configurations.
const providerNamespace = "eventscale"

// withProviderSource declares the provider's source in a configuration, which the test framework
// adds to inline configurations itself but not to the ones of an import block step.
func withProviderSource(cfg string) string {
	return fmt.Sprintf("terraform {\n  required_providers {\n    eventscale = { source = %q }\n  }\n}\n", os.Getenv("TF_ACC_PROVIDER_NAMESPACE")+"/eventscale") + cfg
}

func init() {
	resource.AddTestSweepers("eventscale_load_balancer", &resource.Sweeper{Name: "eventscale_load_balancer", F: sweepLoadBalancers})
	resource.AddTestSweepers("eventscale_web_pool", &resource.Sweeper{Name: "eventscale_web_pool", F: sweepServers,
		// Members go with their load balancer's cascade delete before their servers.
		Dependencies: []string{"eventscale_load_balancer"}})
	resource.AddTestSweepers("eventscale_server_group", &resource.Sweeper{Name: "eventscale_server_group", F: sweepServerGroups,
		Dependencies: []string{"eventscale_web_pool"}})
	resource.AddTestSweepers("eventscale_seed_image", &resource.Sweeper{Name: "eventscale_seed_image", F: sweepImages,
		Dependencies: []string{"eventscale_web_pool"}})
	resource.AddTestSweepers("eventscale_database_replica", &resource.Sweeper{Name: "eventscale_database_replica", F: sweepDatabases})
}

func accSwept(name string) bool { return strings.HasPrefix(name, accPrefix) }

// sweepClient connects with OS_* / clouds.yaml, like make testacc, in the sweep's region.
func sweepClient(region string) (*cloud.Client, error) {
	cfg, err := cloud.Config{Region: region}.Resolve()
	if err != nil {
		return nil, fmt.Errorf("sweeper cloud configuration: %w", err)
	}
	return cloud.NewClient(cfg, nil, "terraform-provider-eventscale-sweeper")
}

func sweepContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Minute)
}

func sweepLoadBalancers(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	lb, err := client.LoadBalancer(ctx, "")
	if err != nil {
		return err
	}
	pages, err := loadbalancers.List(lb.Client, loadbalancers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing load balancers: %w", err)
	}
	list, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range list {
		if !accSwept(l.Name) {
			continue
		}
		lb.LoadBalancerID = l.ID
		if err := lb.DeleteLoadBalancerCascade(ctx, l.ID); err != nil {
			errs = append(errs, fmt.Errorf("load balancer %s (%s): %w", l.Name, l.ID, err))
		}
	}
	return errors.Join(errs...)
}

func sweepServers(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	compute, err := client.Compute(ctx)
	if err != nil {
		return err
	}
	pages, err := servers.List(compute.Client, servers.ListOpts{Name: "^" + accPrefix}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing servers: %w", err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		return err
	}
	var errs []error
	var deleting []servers.Server
	for _, s := range list {
		if !accSwept(s.Name) {
			continue
		}
		if err := compute.DeleteServer(ctx, s.ID); err != nil && !cloud.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("server %s (%s): %w", s.Name, s.ID, err))
			continue
		}
		deleting = append(deleting, s)
	}
	// Wait, so that the server groups and images that follow are no longer in use.
	for _, s := range deleting {
		if err := compute.WaitServerGone(ctx, s.ID); err != nil {
			errs = append(errs, fmt.Errorf("server %s (%s): %w", s.Name, s.ID, err))
		}
	}
	return errors.Join(errs...)
}

func sweepServerGroups(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	compute, err := client.Compute(ctx)
	if err != nil {
		return err
	}
	pages, err := servergroups.List(compute.Client, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing server groups: %w", err)
	}
	list, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range list {
		if accSwept(g.Name) {
			if err := compute.DeleteServerGroup(ctx, g.ID); err != nil && !cloud.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("server group %s (%s): %w", g.Name, g.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func sweepImages(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	glance, err := client.ServiceClient(ctx, cloud.ServiceImage)
	if err != nil {
		return err
	}
	pages, err := images.List(glance, images.ListOpts{Owner: ""}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		return err
	}
	imgs := &cloud.Images{Image: glance, Poll: client.Poll()}
	var errs []error
	for _, img := range list {
		if !accSwept(img.Name) {
			continue
		}
		if img.Protected {
			if _, err := images.Update(ctx, glance, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract(); err != nil {
				errs = append(errs, fmt.Errorf("unprotecting image %s (%s): %w", img.Name, img.ID, err))
				continue
			}
		}
		if err := imgs.DeleteImage(ctx, img.ID); err != nil && !cloud.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("image %s (%s): %w", img.Name, img.ID, err))
		}
	}
	return errors.Join(errs...)
}

func sweepDatabases(region string) error {
	ctx, cancel := sweepContext()
	defer cancel()
	client, err := sweepClient(region)
	if err != nil {
		return err
	}
	db, err := client.Database(ctx)
	if err != nil {
		// No Trove in the catalog: nothing of ours can be there.
		if strings.Contains(err.Error(), "catalog has no") {
			return nil
		}
		return err
	}
	list, err := db.ListInstances(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, inst := range list {
		if !accSwept(inst.Name) {
			continue
		}
		if err := db.DeleteInstance(ctx, inst.ID); err != nil && !cloud.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("database instance %s (%s): %w", inst.Name, inst.ID, err))
		}
	}
	return errors.Join(errs...)
}
