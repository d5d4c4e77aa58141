package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// testAccProtoV6ProviderFactories serves the provider in-process to the Terraform CLI that
// terraform-plugin-testing runs (TF_ACC_TERRAFORM_PATH).
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"eventscale": providerserver.NewProtocol6WithError(New("test")()),
}

// offlineProviderHCL configures the provider for tests whose resources make no cloud call
// (the event, the capacity plan, load tests of a URL): nothing listens on this address, so
// they set delayed_auth, as an operator planning them without a reachable cloud would. Without
// it the provider reports the unreachable auth_url (TestAccProvider_UnreachableAuthURLIsReportedOnTheProvider).
const offlineProviderHCL = `
provider "eventscale" {
  auth_url     = "http://127.0.0.1:9/identity/v3"
  user_name    = "nobody"
  password     = "unused"
  tenant_name  = "none"
  delayed_auth = true
}
`

// accTarget is the cloud an acceptance test runs against and the seed objects it may use.
type accTarget struct {
	// ProviderHCL is a complete provider block. For devcloud it carries explicit credentials so
	// that tests can run in parallel, each against its own devcloud, without OS_* variables.
	ProviderHCL string

	ServerID      string // the ACTIVE seed server (web01)
	ServerAddress string // its fixed IPv4 address, for static members
	ImageID       string // the image web01 was booted from
	FlavorID      string // m1.tiny
	NetworkID     string // "private"
	SubnetID      string // the first subnet of that network
	DatabaseID    string // db01 on devcloud; EVENTSCALE_ACC_SEED_DATABASE's id on an external cloud, or ""

	// HealthyHCL is the scale_out healthy_statuses line web pools need on this cloud (""
	// where members become ONLINE); set by accWebCloud from the member health probe.
	HealthyHCL string

	// Dev is the in-process devcloud, nil when EVENTSCALE_ACC_CLOUD=external.
	Dev *devcloud.Cloud
	// Client talks to the same cloud with the same credentials, for CheckDestroy and checks
	// that read objects back from the API rather than from state.
	Client *cloud.Client
}

func accExternal() bool { return os.Getenv("EVENTSCALE_ACC_CLOUD") == "external" }

// testAccPreCheck fails early, with the reason, when an acceptance test cannot run.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if !accExternal() {
		return
	}
	if os.Getenv("OS_CLOUD") == "" && os.Getenv("OS_AUTH_URL") == "" {
		t.Fatal("EVENTSCALE_ACC_CLOUD=external needs OS_CLOUD (clouds.yaml) or OS_AUTH_URL and the other OS_* variables")
	}
}

var pollEnvOnce sync.Once

// accCloud starts devcloud for this test (or connects to the external cloud) and finds the
// seed objects. Tests are skipped without TF_ACC, before anything is started.
func accCloud(t *testing.T) accTarget {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test or make testacc)")
	}
	testAccPreCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if accExternal() {
		return accExternalCloud(ctx, t)
	}

	// devcloud runs a hundred times faster than a cloud: poll it every few milliseconds. The
	// variable is process-wide and only ever set to this value, so parallel tests agree.
	pollEnvOnce.Do(func() {
		if os.Getenv("EVENTSCALE_POLL_INTERVAL") == "" {
			_ = os.Setenv("EVENTSCALE_POLL_INTERVAL", "20ms")
		}
	})
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: time.Now().UnixNano()})
	if err != nil {
		t.Fatalf("starting devcloud: %v", err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	env := dc.Env()
	cfg := cloud.Config{
		AuthURL: dc.AuthURL(), UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"], ProjectName: env["OS_PROJECT_NAME"],
		UserDomainName: env["OS_USER_DOMAIN_NAME"], ProjectDomainName: env["OS_PROJECT_DOMAIN_NAME"], Region: env["OS_REGION_NAME"],
	}
	client := accClient(t, cfg)
	seed := dc.Seed()
	return accTarget{
		ProviderHCL: fmt.Sprintf(`
provider "eventscale" {
  auth_url            = %q
  user_name           = %q
  password            = %q
  tenant_name         = %q
  user_domain_name    = %q
  project_domain_name = %q
  region              = %q
}
`, cfg.AuthURL, cfg.UserName, cfg.Password, cfg.ProjectName, cfg.UserDomainName, cfg.ProjectDomainName, cfg.Region),
		ServerID: seed.Web01ServerID, ServerAddress: seed.Web01Address, ImageID: seed.Web01ImageID,
		FlavorID: seed.FlavorIDs["m1.tiny"], NetworkID: seed.NetworkID, SubnetID: seed.SubnetID, DatabaseID: seed.DB01ID,
		Dev: dc, Client: client,
	}
}

// accWebCloud is accCloud for tests whose web pools wait for healthy members: it asks the
// cloud (once per process) what a serving member reports.
func accWebCloud(t *testing.T) accTarget {
	t.Helper()
	target := accCloud(t)
	target.HealthyHCL = accHealthyStatusesHCL(t, target)
	return target
}

func accClient(t *testing.T, cfg cloud.Config) *cloud.Client {
	t.Helper()
	resolved, err := cfg.Resolve()
	if err != nil {
		t.Fatalf("acceptance cloud configuration: %v", err)
	}
	client, err := cloud.NewClient(resolved, nil, "terraform-provider-eventscale-acctest")
	if err != nil {
		t.Fatalf("acceptance cloud client: %v", err)
	}
	return client
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var (
	externalOnce   sync.Once
	externalTarget accTarget
	externalErr    error
)

// accExternalCloud takes credentials from OS_* / clouds.yaml (the provider block stays empty
// and resolves them the same way) and finds the seed objects by name, once per process:
// parallel tests share the seed (and, with EVENTSCALE_ACC_SEED=create, must not race to
// create it twice).
func accExternalCloud(ctx context.Context, t *testing.T) accTarget {
	t.Helper()
	externalOnce.Do(func() {
		fatal := func(format string, args ...any) { externalErr = fmt.Errorf(format, args...) }
		externalTarget = resolveExternalCloud(ctx, fatal)
	})
	if externalErr != nil {
		t.Fatal(externalErr)
	}
	return externalTarget
}

func resolveExternalCloud(ctx context.Context, fatalf func(string, ...any)) accTarget {
	resolved, err := cloud.Config{}.Resolve()
	if err != nil {
		fatalf("acceptance cloud configuration: %v", err)
		return accTarget{}
	}
	client, err := cloud.NewClient(resolved, nil, "terraform-provider-eventscale-acctest")
	if err != nil {
		fatalf("acceptance cloud client: %v", err)
		return accTarget{}
	}
	target := accTarget{ProviderHCL: "provider \"eventscale\" {}\n", Client: client}
	serverName := envOr("EVENTSCALE_ACC_SEED_SERVER", "web01")
	netName := envOr("EVENTSCALE_ACC_NETWORK", "private")
	if accSeedWanted() {
		seedCtx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := accEnsureSeed(seedCtx, client, serverName, netName); err != nil {
			fatalf("EVENTSCALE_ACC_SEED=create: %v", err)
			return accTarget{}
		}
	}

	compute, err := client.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		fatalf("compute service: %v", err)
		return accTarget{}
	}
	pages, err := servers.List(compute, servers.ListOpts{Name: "^" + serverName + "$"}).AllPages(ctx)
	if err != nil {
		fatalf("listing servers named %s: %v", serverName, err)
		return accTarget{}
	}
	list, err := servers.ExtractServers(pages)
	if err != nil || len(list) != 1 {
		fatalf("want exactly one server named %s, got %d (%v); EVENTSCALE_ACC_SEED=create prepares one", serverName, len(list), err)
		return accTarget{}
	}
	// The adapter reads the image and the fixed address exactly as the web pool does.
	seed, err := (&cloud.Compute{Client: compute}).GetServer(ctx, list[0].ID)
	if err != nil {
		fatalf("reading server %s: %v", serverName, err)
		return accTarget{}
	}
	target.ServerID, target.ImageID, target.ServerAddress = seed.ID, seed.ImageID, seed.Address

	fpages, err := flavors.ListDetail(compute, flavors.ListOpts{}).AllPages(ctx)
	if err != nil {
		fatalf("listing flavors: %v", err)
		return accTarget{}
	}
	fl, _ := flavors.ExtractFlavors(fpages)
	for _, f := range fl {
		if f.Name == envOr("EVENTSCALE_ACC_FLAVOR", "m1.tiny") {
			target.FlavorID = f.ID
		}
	}

	network, err := client.ServiceClient(ctx, cloud.ServiceNetwork)
	if err != nil {
		fatalf("network service: %v", err)
		return accTarget{}
	}
	npages, err := networks.List(network, networks.ListOpts{Name: netName}).AllPages(ctx)
	if err != nil {
		fatalf("listing networks named %s: %v", netName, err)
		return accTarget{}
	}
	nets, err := networks.ExtractNetworks(npages)
	if err != nil || len(nets) == 0 {
		fatalf("no network named %s (%v)", netName, err)
		return accTarget{}
	}
	target.NetworkID = nets[0].ID
	if len(nets[0].Subnets) > 0 {
		target.SubnetID = nets[0].Subnets[0]
	}
	if target.ServerAddress == "" || target.SubnetID == "" {
		fatalf("server %s has no fixed IPv4 address or network %s no subnet", serverName, netName)
		return accTarget{}
	}
	target.DatabaseID = os.Getenv("EVENTSCALE_ACC_SEED_DATABASE_ID")
	return target
}

// accName is a name unique to this test run, so that parallel runs on one external cloud
// do not collide.
// Every name starts with accPrefix, which the sweeper looks for; the test's own prefix (its
// leading "acc" dropped) says which test left an object behind.
func accName(t *testing.T, prefix string) string {
	prefix = strings.TrimPrefix(strings.TrimPrefix(prefix, "acc"), "-")
	return accPrefix + prefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
}

func dataSourceSchema(t *testing.T, ds datasource.DataSource) dsschema.Schema {
	t.Helper()
	var resp datasource.SchemaResponse
	ds.Schema(context.Background(), datasource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("schema: %v", resp.Diagnostics)
	}
	return resp.Schema
}

func resourceSchema(t *testing.T, r resource.Resource) rschema.Schema {
	t.Helper()
	var resp resource.SchemaResponse
	r.Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("schema: %v", resp.Diagnostics)
	}
	if diags := resp.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("schema implementation: %v", diags)
	}
	return resp.Schema
}
