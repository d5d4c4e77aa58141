package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccPoolDataSource_ReadsLiveNodesAndLeavesWeb01Unmanaged(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accds")
	ds := `
data "eventscale_pool" "live" {
  name             = eventscale_web_pool.web.name
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
}
`
	checks := []resource.TestCheckFunc{
		resource.TestCheckResourceAttr("data.eventscale_pool.live", "node_count", "2"),
		resource.TestCheckResourceAttr("data.eventscale_pool.live", "member_count", "3"),
		resource.TestCheckResourceAttr("data.eventscale_pool.live", "unmanaged_member_addresses.#", "1"),
		resource.TestCheckResourceAttr("data.eventscale_pool.live", "unmanaged_member_addresses.0", target.ServerAddress),
		resource.TestCheckResourceAttr("data.eventscale_pool.live", "load_balancer_provisioning_status", "ACTIVE"),
		resource.TestCheckResourceAttrPair("data.eventscale_pool.live", "nodes.0.id", "eventscale_web_pool.web", "nodes.0.id"),
	}
	if accProbeMemberHealth(t, target).ReportsOnline {
		// A control plane without amphorae (the lab) reports no member health.
		checks = append(checks, resource.TestCheckResourceAttr("data.eventscale_pool.live", "online_count", "2"))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{Config: webPoolConfig{Name: name, Size: 2, Outside: ds}.hcl(target), Check: resource.ComposeAggregateTestCheckFunc(checks...)},
		},
	})
}
