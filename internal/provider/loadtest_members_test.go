package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// The stampede check end to end on devcloud: web01 (a static member) and one pool node behind
// the VIP, each web node naming itself in X-Served-By. With equal weights the load test sees
// the load split evenly; when web01's member weight is raised by mistake, the test flags web01
// as overloaded. The counts per member are checked against devcloud's own count of what each
// member served, so they are what the load balancer did, not what the load test assumed.
func TestAccLoadTest_LoadPerMemberThroughTheVIPFlagsAnOverloadedWeb01(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs web servers that send X-Served-By, which devcloud's do; an external cloud's images may not")
	}
	name := accName(t, "accmembers")
	infra := func(web01Weight int) string {
		return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "front" {
  name          = "%[1]s-lb"
  vip_subnet_id = %[2]q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {
    lb_method = "ROUND_ROBIN"
  }
  members = [{ address = %[3]q, protocol_port = 80, weight = %[4]d }]
}

resource "eventscale_web_pool" "web" {
  name             = %[1]q
  size             = 1
  image_id         = %[5]q
  flavor           = %[6]q
  networks         = [%[7]q]
  subnet_id        = %[2]q
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
  protocol_port    = 80
  scale_out = {
    wait_for_healthy = false
  }
  scale_in = {
    drain_timeout = "1s"
  }
}
`, name, target.SubnetID, target.ServerAddress, web01Weight, target.ImageID, target.FlavorID, target.NetworkID)
	}
	// The intended weights: web01 and the node alike. The load test re-runs when web01's
	// actual weight changes.
	loadTest := func(vip string, web01Weight int) string {
		return infra(web01Weight) + fmt.Sprintf(`
resource "eventscale_load_test" "members" {
  url            = %q
  rate           = 40
  duration       = "2s"
  timeout        = "2s"
  label          = "members"
  backend_header = "X-Served-By"
  backend_weights = {
    (%q)                                    = 1
    (eventscale_web_pool.web.nodes[0].address) = 1
  }
  triggers = { web01_weight = "%d" }
}
`, vip, target.ServerAddress, web01Weight)
	}
	dir := t.TempDir()
	fileFor := func(step string) config.TestStepConfigFunc {
		return func(config.TestStepConfigRequest) string { return filepath.Join(dir, step, "main.tf") }
	}
	write := func(step, hcl string) error {
		if err := os.MkdirAll(filepath.Join(dir, step), 0o755); err != nil {
			return err
		}
		const required = `terraform {
  required_providers {
    eventscale = { source = "registry.terraform.io/eventscale/eventscale" }
  }
}
`
		return os.WriteFile(filepath.Join(dir, step, "main.tf"), []byte(required+hcl), 0o600)
	}
	for _, step := range []string{"even", "web01-heavy"} {
		if err := write(step, infra(1)); err != nil {
			t.Fatal(err)
		}
	}
	// served snapshots devcloud's count of the answers each member address gave.
	served := func() map[string]int64 {
		out := map[string]int64{}
		for _, m := range target.Dev.MemberTraffic() {
			out[m.Address] += m.Served
		}
		return out
	}
	var before map[string]int64
	var nodeAddress string
	// matchesDevcloud checks the load test's counts per member against devcloud's.
	matchesDevcloud := func(s *terraform.State) error {
		attrs := s.RootModule().Resources["eventscale_load_test.members"].Primary.Attributes
		after := served()
		n, _ := strconv.Atoi(attrs["backends.#"])
		if n != 2 {
			return fmt.Errorf("%d members in backends, want web01 and the node", n)
		}
		for i := range n {
			addr := attrs[fmt.Sprintf("backends.%d.name", i)]
			got, _ := strconv.ParseInt(attrs[fmt.Sprintf("backends.%d.responses", i)], 10, 64)
			if want := after[addr] - before[addr]; got != want {
				return fmt.Errorf("member %s: the load test counted %d responses, devcloud says it answered %d", addr, got, want)
			}
		}
		before = after
		return nil
	}
	// journaled checks that the journal's record of the run carries the same counts, for the
	// review after the event.
	journaled := func(s *terraform.State) error {
		attrs := s.RootModule().Resources["eventscale_load_test.members"].Primary.Attributes
		entries, err := journal.ReadFile(journal.PathFromEnv())
		if err != nil {
			return err
		}
		var last *journal.LoadTest
		for _, e := range entries {
			if e.LoadTest != nil && e.Resource == "eventscale_load_test.members" && !e.LoadTest.Running &&
				e.LoadTest.Started.Format("2006-01-02T15:04:05Z") == attrs["started_at"] {
				last = e.LoadTest
			}
		}
		if last == nil {
			return fmt.Errorf("no journal record of the run started at %s", attrs["started_at"])
		}
		for i := range 2 {
			name := attrs[fmt.Sprintf("backends.%d.name", i)]
			want, _ := strconv.ParseUint(attrs[fmt.Sprintf("backends.%d.responses", i)], 10, 64)
			if last.PerMember[name] != want {
				return fmt.Errorf("journal per member %v, state says %s answered %d", last.PerMember, name, want)
			}
		}
		if last.Passed != nil {
			return fmt.Errorf("a run without thresholds journaled with a verdict")
		}
		return nil
	}
	share := func(addr *string, lo, hi float64, overloaded bool) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			attrs := s.RootModule().Resources["eventscale_load_test.members"].Primary.Attributes
			for i := range 2 {
				if attrs[fmt.Sprintf("backends.%d.name", i)] != *addr {
					continue
				}
				v, _ := strconv.ParseFloat(attrs[fmt.Sprintf("backends.%d.share", i)], 64)
				if v < lo || v > hi {
					return fmt.Errorf("member %s share %v, want %v to %v", *addr, v, lo, hi)
				}
				if got := attrs[fmt.Sprintf("backends.%d.overloaded", i)]; got != strconv.FormatBool(overloaded) {
					return fmt.Errorf("member %s overloaded = %s, want %v", *addr, got, overloaded)
				}
				return nil
			}
			return fmt.Errorf("member %s not in backends", *addr)
		}
	}
	web01 := target.ServerAddress
	resource.Test(t, resource.TestCase{
		CheckDestroy: testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   infra(1),
				Check: func(s *terraform.State) error {
					lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.ID
					vip, reason := accVIPURL(t, target, lb)
					if vip == "" {
						return fmt.Errorf("no VIP URL: %s", reason)
					}
					nodeAddress = s.RootModule().Resources["eventscale_web_pool.web"].Primary.Attributes["nodes.0.address"]
					before = served()
					if err := write("even", loadTest(vip, 1)); err != nil {
						return err
					}
					return write("web01-heavy", loadTest(vip, 4))
				},
			},
			{
				// Equal weights: about half each, nobody overloaded.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigFile:               fileFor("even"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_load_test.members", "overloaded_backends.#", "0"),
					resource.TestCheckResourceAttr("eventscale_load_test.members", "unidentified_responses", "0"),
					share(&web01, 0.4, 0.6, false), share(&nodeAddress, 0.4, 0.6, false),
					matchesDevcloud,
				),
			},
			{
				// web01's member weight raised to 4 while it is meant to take half the node's
				// share: it takes about 80% against 50% expected.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigFile:               fileFor("web01-heavy"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_load_test.members", "overloaded_backends.#", "1"),
					resource.TestCheckResourceAttrPtr("eventscale_load_test.members", "overloaded_backends.0", &web01),
					share(&web01, 0.75, 0.85, true), share(&nodeAddress, 0.15, 0.25, false),
					matchesDevcloud, journaled,
				),
			},
		},
	})
}
