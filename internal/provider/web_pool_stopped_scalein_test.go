package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A scale-in stopped (its Terraform killed) after removing a node's member but before deleting
// its server leaves the pool at the configured size with one more server that serves nothing.
// The next plan must not call that "no changes": the apply deletes the server.
func TestAccWebPool_ServerLeftWithoutMemberByAStoppedScaleInIsDeletedByTheNextApply(t *testing.T) {
	testAccWebPoolStoppedScaleIn(t, true)
}

// The same scale-in stopped right after draining the node: its member is left at weight 0.
func TestAccWebPool_NodeLeftDrainedByAStoppedScaleInIsRemovedByTheNextApply(t *testing.T) {
	testAccWebPoolStoppedScaleIn(t, false)
}

// testAccWebPoolStoppedScaleIn grows a pool to 3, then does to node 01 what a scale-in to 2
// did before it was killed (drain, and the member's removal when removed), and applies size 2.
// Node 01 is the oldest, which a newest-first scale-in would keep: the next apply must still
// remove it, and leave the two serving nodes alone.
func testAccWebPoolStoppedScaleIn(t *testing.T, removed bool) {
	target := accWebCloud(t)
	name := accName(t, "accwebleft")
	var lbID, poolID, memberID, serverID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				Config: webPoolConfig{Name: name, Size: 3}.hcl(target),
				Check: func(s *terraform.State) error {
					lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes
					lbID, poolID = lb["id"], lb["pool_id"]
					pool := s.RootModule().Resources["eventscale_web_pool.web"].Primary.Attributes
					for i := range 3 {
						if pool[fmt.Sprintf("nodes.%d.name", i)] == name+"-01" {
							memberID, serverID = pool[fmt.Sprintf("nodes.%d.member_id", i)], pool[fmt.Sprintf("nodes.%d.id", i)]
						}
					}
					if memberID == "" {
						return fmt.Errorf("no member for %s-01 in state", name)
					}
					return nil
				},
			},
			{
				// What the stopped scale-in to 2 did: node 01 drained, perhaps its member removed;
				// its server still exists.
				PreConfig: func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					lb, err := target.Client.LoadBalancer(ctx, lbID)
					if err != nil {
						t.Fatal(err)
					}
					zero := 0
					if err := lb.UpdateMember(ctx, poolID, memberID, &zero, nil); err != nil {
						t.Fatal(err)
					}
					if err := lb.WaitActive(ctx, lbID); err != nil {
						t.Fatal(err)
					}
					if !removed {
						return
					}
					if err := lb.DeleteMember(ctx, poolID, memberID); err != nil {
						t.Fatal(err)
					}
					if err := lb.WaitActive(ctx, lbID); err != nil {
						t.Fatal(err)
					}
				},
				Config: webPoolConfig{Name: name, Size: 2}.hcl(target),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_web_pool.web", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "2"),
					testAccCheckPoolMatchesCloud(target, name, 2),
					func(*terraform.State) error {
						servers, err := poolServers(context.Background(), target, name)
						if err != nil {
							return err
						}
						for _, s := range servers {
							if s.ID == serverID {
								return fmt.Errorf("server %s (%s), drained by the stopped scale-in, is still there", s.Name, s.ID)
							}
						}
						return nil
					},
				),
			},
			{
				Config:   webPoolConfig{Name: name, Size: 2}.hcl(target),
				PlanOnly: true,
			},
		},
	})
}
