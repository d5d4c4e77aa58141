package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A load test through devcloud's load balancer VIP: web01 plus a one-node pool hold a modest
// rate, and a rate above what two nodes can serve misses the thresholds, with the measured
// values in the error.
func TestAccLoadTest_ThroughTheVIPHoldsThenMissesAboveCapacity(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("counts requests per member from devcloud's data plane; the same threshold behaviour is covered against a local server in TestAccLoadTest_*")
	}
	name := accName(t, "acclt")
	base := webPoolConfig{Name: name, Size: 1}
	// devcloud gives each listener a random 127.0.0.1 port, known only once the load balancer
	// exists: the load test steps read their configuration from files written after step 1.
	var vip string
	dir := t.TempDir()
	fileFor := func(step string) config.TestStepConfigFunc {
		return func(config.TestStepConfigRequest) string { return filepath.Join(dir, step, "main.tf") }
	}
	write := func(step, hcl string) error {
		if err := os.MkdirAll(filepath.Join(dir, step), 0o755); err != nil {
			return err
		}
		// Unlike an inline Config, a file gets no required_providers from the test framework;
		// the full source address also keeps OpenTofu off its own registry.
		const required = `terraform {
  required_providers {
    eventscale = { source = "registry.terraform.io/eventscale/eventscale" }
  }
}
`
		return os.WriteFile(filepath.Join(dir, step, "main.tf"), []byte(required+hcl), 0o600)
	}
	loadTest := func(rate int, thresholds string) string {
		return base.hcl(target) + fmt.Sprintf(`
resource "eventscale_load_test" "vip" {
  url        = %q
  rate       = %d
  duration   = "2s"
  timeout    = "2s"
  thresholds = { %s }
  triggers   = { rate = "%d" }
}
`, vip, rate, thresholds, rate)
	}
	// terraform-plugin-testing checks that the files exist before step 1 runs.
	for _, step := range []string{"holds", "misses"} {
		if err := write(step, base.hcl(target)); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		CheckDestroy: testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   base.hcl(target),
				Check: func(s *terraform.State) error {
					var reason string
					vip, reason = accVIPURL(t, target, s.RootModule().Resources["eventscale_load_balancer.front"].Primary.ID)
					if vip == "" {
						return fmt.Errorf("no VIP URL: %s", reason)
					}
					if err := write("holds", loadTest(40, "max_p95_ms = 500, max_error_rate = 0, min_rate = 35")); err != nil {
						return err
					}
					return write("misses", loadTest(400, "max_p95_ms = 200, max_error_rate = 0.01"))
				},
			},
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigFile:               fileFor("holds"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_load_test.vip", "passed", "true"),
					resource.TestCheckResourceAttr("eventscale_load_test.vip", "status_codes.200", "80"),
					func(s *terraform.State) error {
						served := int64(0)
						for _, m := range target.Dev.MemberTraffic() {
							served += m.Served
						}
						if served < 80 {
							return fmt.Errorf("devcloud served %d requests through its members, want the test's 80", served)
						}
						rate, _ := strconv.ParseFloat(s.RootModule().Resources["eventscale_load_test.vip"].Primary.Attributes["throughput"], 64)
						if rate < 35 {
							return fmt.Errorf("throughput %.1f req/s, want about 40", rate)
						}
						return nil
					},
				),
			},
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigFile:               fileFor("misses"),
				ExpectError:              regexp.MustCompile(`(?s)(p95 latency [0-9.]+ ?ms exceeds max_p95_ms 200|error rate .* exceeds max_error_rate 0.01)`),
			},
		},
	})
}
