package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// TestAccWebPool_QuotaRefusalMidCreateIsResumedKeepingTheServingNode is the busy cloud's most
// common partial failure, on devcloud and on a real cloud alike: Nova refuses a node of the
// create for the instances quota. With the pre-flight off (a quota that shrank between the plan
// and the apply looks the same), the project is filled with servers of the test's own until one
// instance is left, and a pool of 2 is created: one node serves, the other is refused with
// Nova's 403. The create ends with a warning and the refused node recorded as not built; once a
// server is deleted and the quota has room, the next plain apply adds the missing node and keeps
// the one that serves.
//
// Not parallel: it counts on the project's instances quota, which the parallel tests share.
func TestAccWebPool_QuotaRefusalMidCreateIsResumedKeepingTheServingNode(t *testing.T) {
	target := accCloud(t)
	target.HealthyHCL = accHealthyStatusesHCL(t, target)
	ctx := context.Background()
	limit, inUse := instancesQuota(ctx, t, target)
	room := limit - inUse
	if limit < 0 || room < 2 || room > 16 {
		t.Skipf("the instances quota (%d, %d in use) is unlimited, full, or too large to fill for this test", limit, inUse)
	}
	name := accName(t, "accquotafull")
	fillers := fillInstances(ctx, t, target, name+"-filler", room-1)

	providerHCL := strings.Replace(target.ProviderHCL, "provider \"eventscale\" {", "provider \"eventscale\" {\n  preflight = \"off\"\n", 1)
	cfg := webPoolConfig{Name: name, Size: 2}.hcl(target)
	cfg = strings.Replace(cfg, target.ProviderHCL, providerHCL, 1)
	cfg = strings.Replace(cfg, "  scale_out = {\n    max_parallel = 4\n  }\n", "  scale_out = {\n    create_retries = 0\n  }\n", 1)
	serving := map[string]string{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				// The create succeeds with a warning: the refresh after it shows the pool short.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckPoolMatchesCloud(target, name, 1),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "2"),
					resource.TestCheckTypeSetElemNestedAttrs("eventscale_web_pool.web", "nodes.*", map[string]string{"status": notBuilt, "id": ""}),
					serverIDs(serving),
				),
			},
			{
				// The operator frees an instance (or the cloud's operator raises the quota).
				PreConfig: func() { fillers.deleteOne(ctx, t) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_web_pool.web", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckPoolMatchesCloud(target, name, 2),
					testAccCheckServingNodesKept(serving, 1),
				),
			},
		},
	})
}

// fillers are servers a test creates to use up the project's instances quota.
type fillers struct {
	compute *cloud.Compute
	mu      sync.Mutex
	ids     []string
}

// fillInstances boots n servers named prefix-N and waits for them; they are deleted when the
// test ends (and by the sweeper, by name, if it crashes).
func fillInstances(ctx context.Context, t *testing.T, target accTarget, prefix string, n int) *fillers {
	t.Helper()
	sc, err := target.Client.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		t.Fatal(err)
	}
	f := &fillers{compute: &cloud.Compute{Client: sc, Poll: cloud.ConfiguredPoll()}}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, id := range f.ids {
			if err := servers.Delete(context.Background(), sc, id).ExtractErr(); err != nil && !cloud.IsNotFound(err) {
				t.Errorf("deleting filler server %s: %v", id, err)
			}
		}
	})
	for i := 1; i <= n; i++ {
		srv, err := servers.Create(ctx, sc, servers.CreateOpts{Name: fmt.Sprintf("%s-%02d", prefix, i), ImageRef: target.ImageID,
			FlavorRef: target.FlavorID, Networks: []servers.Network{{UUID: target.NetworkID}}}, nil).Extract()
		if err != nil {
			t.Fatalf("creating filler server %d of %d: %v", i, n, err)
		}
		f.ids = append(f.ids, srv.ID)
	}
	for _, id := range f.ids {
		if _, err := f.compute.WaitServerActive(ctx, id); err != nil {
			t.Fatalf("waiting for filler server %s: %v", id, err)
		}
	}
	return f
}

// deleteOne deletes one filler and waits until Nova has released its instance.
func (f *fillers) deleteOne(ctx context.Context, t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ids) == 0 {
		t.Fatal("no filler server left to delete")
	}
	id := f.ids[len(f.ids)-1]
	if err := servers.Delete(ctx, f.compute.Client, id).ExtractErr(); err != nil {
		t.Fatalf("deleting filler server %s: %v", id, err)
	}
	if err := f.compute.WaitServerGone(ctx, id); err != nil {
		t.Fatalf("waiting for filler server %s to go: %v", id, err)
	}
	f.ids = f.ids[:len(f.ids)-1]
}
