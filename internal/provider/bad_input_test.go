package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// badInput is one row of the bad-input table: a configuration that must be refused at plan time,
// with a diagnostic naming the attribute, before any call that changes something.
type badInput struct {
	name string
	hcl  string // the resource under test, with the bad value
	want string // the attribute named and the reason, as a regexp
}

// badInputTable lists what a user can get wrong in each resource. The load balancer "front" exists
// when they are planned, so that the pool rows can point at a real pool.
func badInputTable(target accTarget) []badInput {
	pool := func(over map[string]string, extra string) string {
		attrs := map[string]string{
			"name": `"tfacc-bad"`, "size": "2", "image_id": fmt.Sprintf("%q", target.ImageID), "flavor": fmt.Sprintf("%q", target.FlavorID),
			"networks": fmt.Sprintf("[%q]", target.NetworkID), "load_balancer_id": "eventscale_load_balancer.front.id",
			"pool_id": "eventscale_load_balancer.front.pool_id", "protocol_port": "80",
		}
		for k, v := range over {
			attrs[k] = v
		}
		var b strings.Builder
		b.WriteString("resource \"eventscale_web_pool\" \"bad\" {\n")
		for _, k := range []string{"name", "size", "image_id", "flavor", "networks", "load_balancer_id", "pool_id", "protocol_port"} {
			fmt.Fprintf(&b, "  %s = %s\n", k, attrs[k])
		}
		for k, v := range over {
			if !strings.Contains(b.String(), "  "+k+" =") {
				fmt.Fprintf(&b, "  %s = %s\n", k, v)
			}
		}
		b.WriteString(extra + "}\n")
		return b.String()
	}
	scaleIn := func(attr, value string) string {
		return pool(nil, fmt.Sprintf("  scale_in = {\n    %s = %s\n  }\n", attr, value))
	}
	const noSuchID = `"00000000-0000-4000-8000-000000000000"`
	return []badInput{
		{"unknown flavor", pool(map[string]string{"flavor": `"m9.nonexistent"`}, ""), `(?s)Unknown flavor.*with eventscale_web_pool.bad.*flavor = "m9.nonexistent"`},
		{"unknown image", pool(map[string]string{"image_id": noSuchID}, ""), `(?s)Unknown image.*image_id = "00000000`},
		{"unknown network by name", pool(map[string]string{"networks": `["no-such-network"]`}, ""), `(?s)Unknown network.*networks = \[`},
		{"unknown network by id", pool(map[string]string{"networks": "[" + noSuchID + "]"}, ""), `(?s)Unknown network.*networks = \[`},
		{"unknown pool", pool(map[string]string{"pool_id": noSuchID}, ""), `(?s)Unknown pool.*pool_id = "00000000`},
		{"unknown load balancer", pool(map[string]string{"load_balancer_id": noSuchID, "pool_id": noSuchID}, ""), `(?s)Unknown load balancer.*load_balancer_id = "00000000`},
		{"unknown key pair", pool(map[string]string{"key_pair": `"no-such-key"`}, ""), `(?s)Unknown key pair.*key_pair = "no-such-key"`},
		{"unknown security group", pool(map[string]string{"security_groups": `["no-such-group"]`}, ""), `(?s)Unknown security group.*security_groups = \["no-such-group"\]`},
		{"unknown availability zone", pool(map[string]string{"availability_zones": `["no-such-zone"]`}, ""), `(?s)Unknown availability zone.*availability_zones = \["no-such-zone"\]`},
		{"unknown subnet", pool(map[string]string{"subnet_id": noSuchID}, ""), `(?s)Unknown subnet.*subnet_id = "00000000`},
		{"reserved metadata key", pool(map[string]string{"metadata": `{ eventscale_pool = "other" }`}, ""), `(?s)Reserved metadata key.*metadata = \{ eventscale_pool = "other" \}`},
		{"size out of range", pool(map[string]string{"size": "600"}, ""), `(?s)size.*between 0 and 500`},
		{"bad pool name", pool(map[string]string{"name": `"bad/name"`}, ""), `(?s)name.*letters, digits`},
		{"bad server group policy", pool(map[string]string{"server_group_policy": `"affinity-please"`}, ""), `(?s)server_group_policy.*value must be one of`},
		{"drain_timeout far too long", scaleIn("drain_timeout", `"99999999h"`), `(?s)Invalid scale_in.drain_timeout.*"99999999h"`},
		{"drain_timeout above the bound", scaleIn("drain_timeout", `"2h"`), `(?s)Invalid scale_in.drain_timeout.*2h is outside 0s to 1h`},
		{"drain_timeout not a duration", scaleIn("drain_timeout", `"soon"`), `(?s)Invalid scale_in.drain_timeout.*"soon" must be a duration`},
		{"webhook_timeout zero", scaleIn("webhook_timeout", `"0s"`), `(?s)Invalid scale_in.webhook_timeout.*0s is outside 1s to 1h`},
		{"health_check_url without host", scaleIn("health_check_url", `"http://"`), `(?s)Invalid scale_in.health_check_url.*no host`},
		{"pre_delete_webhook not http", scaleIn("pre_delete_webhook", `"ftp://hooks.example.com/x"`), `(?s)Invalid scale_in.pre_delete_webhook.*only http and https`},
		{"batch_size out of range", scaleIn("batch_size", "0"), `(?s)scale_in.batch_size.*between 1 and 100`},
		{"load balancer on an unknown subnet", fmt.Sprintf(`
resource "eventscale_load_balancer" "bad" {
  name          = "tfacc-bad-lb"
  vip_subnet_id = %s
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {}
}
`, noSuchID), `(?s)Unknown subnet.*vip_subnet_id = "00000000`},
		{"load balancer member not an address", fmt.Sprintf(`
resource "eventscale_load_balancer" "bad" {
  name          = "tfacc-bad-lb"
  vip_subnet_id = %q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {}
  members = [{ address = "web01.example.com", protocol_port = 80 }]
}
`, target.SubnetID), `(?s)Invalid members\[0\].address.*"web01.example.com" is not an IP address`},
		{"seed image of an unknown server", fmt.Sprintf(`
resource "eventscale_seed_image" "bad" {
  server_id = %s
  name      = "tfacc-bad-seed"
}
`, noSuchID), `(?s)Unknown server.*server_id = "00000000`},
		{"replicas of an unknown primary", fmt.Sprintf(`
resource "eventscale_database_replica" "bad" {
  name        = "tfacc-bad-db"
  primary_id  = %s
  flavor_id   = "1"
  volume_size = 1
}
`, noSuchID), `(?s)Unknown database instance.*primary_id  = "00000000`},
		{"event ending before it starts", `
resource "eventscale_event" "bad" {
  name      = "bad"
  starts_at = "2030-01-10T22:00:00Z"
  ends_at   = "2030-01-10T18:00:00Z"
}
`, `(?s)ends_at`},
	}
}

func TestAccBadInput_RefusedAtPlanNamingTheAttributeBeforeAnyChange(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("counts mutating calls in devcloud's request log")
	}
	front := fmt.Sprintf(`
resource "eventscale_load_balancer" "front" {
  name          = "tfacc-bad-front"
  vip_subnet_id = %q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {}
}
`, target.SubnetID)
	var before int64
	steps := []resource.TestStep{{
		Config: target.ProviderHCL + front,
		Check: func(*terraform.State) error {
			before, _ = mutatingCalls(target.Dev)
			return nil
		},
	}}
	table := badInputTable(target)
	for _, row := range table {
		steps = append(steps, resource.TestStep{
			Config:      target.ProviderHCL + front + row.hcl,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(row.want),
		})
	}
	// Back to the first configuration: nothing to change, and nothing may have changed since.
	steps = append(steps, resource.TestStep{
		Config: target.ProviderHCL + front,
		Check: func(*terraform.State) error {
			if after, calls := mutatingCalls(target.Dev); after != before {
				return fmt.Errorf("the %d refused plans made %d mutating calls: %v", len(table), after-before, calls)
			}
			return nil
		},
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps:                    steps,
	})
	t.Logf("bad-input table: %d rows refused at plan with 0 mutating calls", len(table))
}
