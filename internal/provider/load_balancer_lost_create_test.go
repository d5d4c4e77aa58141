package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// A load balancer create whose answer is lost after Octavia made the load balancer (a dropped
// connection, a proxy's 504) adopts it: one load balancer, in state, not a second one and a
// leak.
func TestAccLoadBalancer_CreateWhoseAnswerWasLostAdoptsTheLoadBalancer(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to lose the create's answer")
	}
	name := accName(t, "acclblost")
	onlyOne := func(s *terraform.State) error {
		lb, err := target.Client.LoadBalancer(context.Background(), "")
		if err != nil {
			return err
		}
		found, err := lb.LoadBalancersNamed(context.Background(), name+"-lb", "")
		if err != nil {
			return err
		}
		id := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.ID
		if len(found) != 1 || found[0].ID != id {
			return fmt.Errorf("load balancers named %s-lb: %d (%v), want exactly the one in state, %s", name, len(found), found, id)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{{Service: "load-balancer", Method: "POST",
						Path: "/lbaas/loadbalancers", Drop: true, After: true, Times: 1}}})
				},
				Config: webPoolConfig{Name: name, Size: -1}.hcl(target),
				Check: resource.ComposeAggregateTestCheckFunc(
					onlyOne,
					resource.TestCheckResourceAttr("eventscale_load_balancer.front", "provisioning_status", "ACTIVE"),
					resource.TestCheckResourceAttr("eventscale_load_balancer.front", "listener_ids.#", "1"),
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    webPoolConfig{Name: name, Size: -1}.hcl(target),
				PlanOnly:  true,
			},
		},
	})
}
