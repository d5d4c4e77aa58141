package provider

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

func fipLoadBalancerHCL(target accTarget, name, floatingIP string) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name          = %q
  vip_subnet_id = %q
  floating_ip   = %s
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {}
  members = [{ address = %q, protocol_port = 80 }]
}
`, name, target.SubnetID, floatingIP, target.ServerAddress)
}

// publicAnswers GETs the tier through its public address, as users would: on devcloud the floating
// address is served on loopback (the data plane's mapping), so the request goes there.
func publicAnswers(target accTarget, address string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, f := range target.Dev.FloatingIPTargets() {
			if f.FloatingIPAddress != address {
				continue
			}
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(f.URL + "/")
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %d", address, resp.StatusCode)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devcloud serves no listener behind floating IP %s", address)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAccLoadBalancer_FloatingIPGivesTheVIPAPublicAddressAllocatedOrAdopted(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's external network and data plane (the lab's floating IPs carry no traffic)")
	}
	ctx := context.Background()
	net, err := target.Client.Network(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A floating IP the project already holds, as one a DNS name points at.
	kept, err := floatingips.Create(ctx, net.Client, floatingips.CreateOpts{FloatingNetworkID: target.Dev.Seed().PublicNetworkID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = net.ReleaseFloatingIP(ctx, kept.ID, false) }()
	const addr = "eventscale_load_balancer.event"
	name := accName(t, "acc-lb-fip")
	var allocated string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(testAccCheckLoadBalancersGone(target), func(*terraform.State) error {
			if _, err := net.GetFloatingIP(ctx, allocated); !cloud.IsNotFound(err) {
				return fmt.Errorf("the allocated floating IP %s was not released: %v", allocated, err)
			}
			f, err := net.GetFloatingIP(ctx, kept.ID)
			if err != nil || f.PortID != "" {
				return fmt.Errorf("the adopted floating IP must stay, disassociated: %+v, %v", f, err)
			}
			return nil
		}),
		Steps: []resource.TestStep{
			{
				Config: fipLoadBalancerHCL(target, name, `{ network = "public" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrSet(addr, "floating_ip_id"),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources[addr].Primary
						allocated = rs.Attributes["floating_ip_id"]
						if rs.Attributes["public_address"] == rs.Attributes["vip_address"] {
							return fmt.Errorf("public_address is the VIP %s, want the floating IP", rs.Attributes["vip_address"])
						}
						return publicAnswers(target, rs.Attributes["public_address"])
					},
				),
			},
			{
				Config: fipLoadBalancerHCL(target, name, fmt.Sprintf(`{ address = %q }`, kept.FloatingIP)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "public_address", kept.FloatingIP),
					resource.TestCheckResourceAttr(addr, "floating_ip_id", kept.ID),
					func(s *terraform.State) error {
						if _, err := net.GetFloatingIP(ctx, allocated); !cloud.IsNotFound(err) {
							return fmt.Errorf("the floating IP allocated before (%s) was not released when the configuration adopted another: %v", allocated, err)
						}
						return publicAnswers(target, kept.FloatingIP)
					},
				),
			},
		},
	})
}
