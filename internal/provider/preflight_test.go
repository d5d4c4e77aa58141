package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// mutatingCalls counts the requests devcloud served that could have changed something: every
// POST, PUT, PATCH and DELETE but Keystone's token requests.
func mutatingCalls(dev *devcloud.Cloud) (int64, []string) {
	var n int64
	var seen []string
	for _, r := range dev.Metrics().Requests {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		if r.Service == "identity" && strings.HasSuffix(r.Path, "/auth/tokens") {
			continue
		}
		n += r.Count
		seen = append(seen, fmt.Sprintf("%s %s %s (%d)", r.Service, r.Method, r.Path, r.Count))
	}
	return n, seen
}

// setComputeQuota sets one of the demo project's compute quotas as devcloud's admin, as the
// cloud's operator would after a request.
func setComputeQuota(t *testing.T, dev *devcloud.Cloud, opts quotasets.UpdateOpts) {
	t.Helper()
	ctx := context.Background()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: dev.AuthURL(),
		Username: "admin", Password: "secret", DomainName: "Default", Scope: &gophercloud.AuthScope{ProjectName: "admin", DomainName: "Default"}})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quotasets.Update(ctx, sc, dev.Seed().ProjectID, opts).Extract(); err != nil {
		t.Fatalf("raising the quota as admin: %v", err)
	}
}

func TestAccPreflight_ShortfallStopsThePlanNamingSizeAndEachQuotaBeforeAnyChange(t *testing.T) {
	target := accCloud(t)
	target.HealthyHCL = accHealthyStatusesHCL(t, target)
	ctx := context.Background()
	// One node more than the project's instances quota leaves room for: figures read from the cloud
	// itself, so the test holds on devcloud's defaults and on a real cloud's.
	limit, inUse := instancesQuota(ctx, t, target)
	if limit < 0 || limit-inUse+1 > maxWebPoolSize {
		t.Skipf("the instances quota (%d, %d in use) leaves room for more than a web pool holds", limit, inUse)
	}
	size := limit - inUse + 1
	name := accName(t, "accquota")
	cfg := webPoolConfig{Name: name, Size: size}.hcl(target)
	var before int64
	if target.Dev != nil {
		before, _ = mutatingCalls(target.Dev)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:   cfg,
				PlanOnly: true,
				ExpectError: regexp.MustCompile(fmt.Sprintf(`(?s)quotas cannot hold web pool.*size.*compute instances: limit %d, in use %d, this plan needs %d more.*Ask for compute instances %d[,.]`,
					limit, inUse, size, inUse+size)),
			},
			{
				// preflight = "warn" says the same and lets the plan through.
				Config:             strings.Replace(cfg, target.ProviderHCL, strings.Replace(target.ProviderHCL, "provider \"eventscale\" {", "provider \"eventscale\" {\n  preflight = \"warn\"\n", 1), 1),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
	if target.Dev != nil {
		if after, calls := mutatingCalls(target.Dev); after != before {
			t.Fatalf("the refused plan made %d mutating calls: %v", after-before, calls)
		}
	}
	if servers, err := poolServers(ctx, target, name); err != nil || len(servers) != 0 {
		t.Fatalf("the refused plan left %d servers (%v)", len(servers), err)
	}
}

func TestAccQuotaDataSource_ReadsTheFiguresThePreflightChecks(t *testing.T) {
	target := accCloud(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: target.ProviderHCL + `
data "eventscale_quota" "project" {
  services = ["compute"]
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckTypeSetElemNestedAttrs("data.eventscale_quota.project", "quotas.*",
					map[string]string{"service": "compute", "resource": "instances"}),
				resource.TestCheckResourceAttr("data.eventscale_quota.project", "unchecked.#", "0"),
			),
		}},
	})
}

func TestAccPreflight_PoolLargerThanAServerGroupIsSpreadOverGroups(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("sets devcloud's quotas as its admin")
	}
	target.HealthyHCL = accHealthyStatusesHCL(t, target)
	// The operator's answer to the pre-flight's request: instances raised; server_group_members stays
	// at Nova's default 10, which one group of 12 nodes would exceed.
	instances, cores, ram := 20, 40, 51200
	setComputeQuota(t, target.Dev, quotasets.UpdateOpts{Instances: &instances, Cores: &cores, RAM: &ram})
	name := accName(t, "accspread")
	cfg := webPoolConfig{Name: name, Size: 12, Extra: "  server_group_policy = \"soft-anti-affinity\"\n"}.hcl(target)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckPoolMatchesCloud(target, name, 12),
				resource.TestCheckResourceAttr("eventscale_web_pool.web", "server_group_ids.#", "2"),
				func(s *terraform.State) error {
					ctx := context.Background()
					compute, err := target.Client.Compute(ctx)
					if err != nil {
						return err
					}
					sizes, err := compute.ServerGroupSizes(ctx, name, name+"-2")
					if err != nil {
						return err
					}
					if sizes[name] != 6 || sizes[name+"-2"] != 6 {
						return fmt.Errorf("members per server group = %v, want 6 and 6", sizes)
					}
					return nil
				},
			),
		}},
	})
}

// instancesQuota reads the project's instances quota and what is in use, from the cloud
// itself; a cloud whose compute quotas cannot be read skips the test (the pre-flight only
// warns there). limit is -1 for unlimited.
func instancesQuota(ctx context.Context, t *testing.T, target accTarget) (limit, inUse int) {
	t.Helper()
	project, err := target.Client.ProjectID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compute, err := target.Client.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	usages, err := compute.QuotaUsage(ctx, project)
	if err != nil {
		t.Skipf("the cloud's compute quotas cannot be read here (%v): the pre-flight only warns on such a cloud", err)
	}
	limit = -1
	for _, u := range usages {
		if u.Resource == "instances" {
			limit, inUse = u.Limit, u.InUse
		}
	}
	return limit, inUse
}
