package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func TestAccWebPool_CreatedSecurityGroupLetsTheLoadBalancerReachTheMemberPort(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accsg")
	ctx := context.Background()
	net, err := target.Client.Network(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var groupID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(testAccCheckPoolGone(target, name), func(*terraform.State) error {
			if id, err := net.FindSecurityGroup(ctx, name+"-members"); err != nil || id != "" {
				return fmt.Errorf("the members' security group %s is left (%v)", id, err)
			}
			return nil
		}),
		Steps: []resource.TestStep{{
			Config: webPoolConfig{Name: name, Size: 2, Extra: "  create_security_group = true\n"}.hcl(target),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttrSet("eventscale_web_pool.web", "security_group_id"),
				func(s *terraform.State) error {
					groupID = s.RootModule().Resources["eventscale_web_pool.web"].Primary.Attributes["security_group_id"]
					cidr, err := net.SubnetCIDR(ctx, target.SubnetID)
					if err != nil {
						return err
					}
					pages, err := rules.List(net.Client, rules.ListOpts{SecGroupID: groupID, Direction: "ingress"}).AllPages(ctx)
					if err != nil {
						return err
					}
					rs, err := rules.ExtractRules(pages)
					if err != nil {
						return err
					}
					found := false
					for _, r := range rs {
						found = found || (r.Protocol == "tcp" && r.PortRangeMin == 80 && r.PortRangeMax == 80 && r.RemoteIPPrefix == cidr)
					}
					if !found {
						return fmt.Errorf("group %s has no ingress rule for tcp/80 from %s: %+v", groupID, cidr, rs)
					}
					compute, err := target.Client.Compute(ctx)
					if err != nil {
						return err
					}
					nodes, err := poolServers(ctx, target, name)
					if err != nil {
						return err
					}
					for _, n := range nodes {
						srv, err := servers.Get(ctx, compute.Client, n.ID).Extract()
						if err != nil {
							return err
						}
						has := false
						for _, g := range srv.SecurityGroups {
							has = has || g["name"] == name+"-members"
						}
						if !has {
							return fmt.Errorf("node %s has security groups %v, not %s-members", n.Name, srv.SecurityGroups, name)
						}
					}
					return nil
				},
			),
		}},
	})
}
