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

// web01Member reads the static member back from Octavia: its weight and backup flag.
func web01Member(target accTarget, s *terraform.State) (weight int, backup bool, err error) {
	rs := s.RootModule().Resources["eventscale_load_balancer.front"].Primary
	api, err := accLB(target)
	if err != nil {
		return 0, false, err
	}
	members, err := api.ListMembers(context.Background(), rs.Attributes["pool_id"])
	if err != nil {
		return 0, false, err
	}
	for _, m := range members {
		if m.Address == target.ServerAddress {
			return m.Weight, m.Backup, nil
		}
	}
	return 0, false, fmt.Errorf("web01 (%s) is not a member of pool %s", target.ServerAddress, rs.Attributes["pool_id"])
}

func TestAccLoadBalancer_Web01OutOfFirstLineRotationUntilTheEventEndsThenRestored(t *testing.T) {
	target := accCloud(t)
	// The event has begun and ends shortly: the apply now takes web01 out of first-line
	// rotation; the first apply after the end puts it back.
	starts := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	ends := time.Now().Add(40 * time.Second).UTC().Truncate(time.Second)
	cfg := target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_event" "launch" {
  name      = %q
  starts_at = %q
  ends_at   = %q
}

resource "eventscale_load_balancer" "front" {
  name          = %q
  vip_subnet_id = %q
  event_id      = eventscale_event.launch.id
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {}
  members = [{
    address      = %q
    protocol_port = 80
    weight       = 3
    event_backup = true
    event_weight = 1
  }]
}
`, accName(t, "web01-event"), starts.Format(time.RFC3339), ends.Format(time.RFC3339), accName(t, "acc-lb-web01"), target.SubnetID, target.ServerAddress)
	const addr = "eventscale_load_balancer.front"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "members.0.backup_in_effect", "true"),
					resource.TestCheckResourceAttr(addr, "members.0.weight_in_effect", "1"),
					resource.TestCheckResourceAttr(addr, "members.0.weight", "3"),
					func(s *terraform.State) error {
						w, b, err := web01Member(target, s)
						if err != nil || w != 1 || !b {
							return fmt.Errorf("web01 in Octavia: weight %d, backup %v (%v); want 1, backup during the event", w, b, err)
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() { time.Sleep(time.Until(ends) + time.Second) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "members.0.backup_in_effect", "false"),
					resource.TestCheckResourceAttr(addr, "members.0.weight_in_effect", "3"),
					func(s *terraform.State) error {
						w, b, err := web01Member(target, s)
						if err != nil || w != 3 || b {
							return fmt.Errorf("web01 in Octavia after the event: weight %d, backup %v (%v); want 3, not backup", w, b, err)
						}
						return nil
					},
				),
			},
		},
	})
}
