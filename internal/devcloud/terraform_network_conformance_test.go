package devcloud

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
)

// terraformNetworkConfig is what the provider adds around a web tier: a security group with
// rules for the web nodes, a floating IP on the load balancer's VIP (associated separately)
// and one created on a port.
const terraformNetworkConfig = `
terraform {
  required_providers {
    openstack = { source = "terraform-provider-openstack/openstack" }
  }
}
provider "openstack" {}

data "openstack_networking_network_v2" "private" { name = "private" }
data "openstack_networking_subnet_v2" "private" { name = "private-subnet" }

resource "openstack_networking_secgroup_v2" "web" {
  name        = "tf-web"
  description = "web nodes"
  tags        = ["eventscale"]
}
resource "openstack_networking_secgroup_rule_v2" "http" {
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 80
  port_range_max    = 80
  remote_ip_prefix  = "0.0.0.0/0"
  security_group_id = openstack_networking_secgroup_v2.web.id
}
resource "openstack_networking_secgroup_rule_v2" "peers" {
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 8080
  port_range_max    = 8081
  remote_group_id   = openstack_networking_secgroup_v2.web.id
  security_group_id = openstack_networking_secgroup_v2.web.id
  description       = "between web nodes"
}
resource "openstack_networking_secgroup_rule_v2" "ping" {
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "icmp"
  security_group_id = openstack_networking_secgroup_v2.web.id
}
resource "openstack_networking_port_v2" "web" {
  name               = "tf-web-port"
  network_id         = data.openstack_networking_network_v2.private.id
  security_group_ids = [openstack_networking_secgroup_v2.web.id]
  fixed_ip { subnet_id = data.openstack_networking_subnet_v2.private.id }
}
resource "openstack_networking_floatingip_v2" "web" {
  pool    = "public"
  port_id = openstack_networking_port_v2.web.id
  tags    = ["eventscale"]
}
resource "openstack_lb_loadbalancer_v2" "lb" {
  name          = "tf-lb"
  vip_subnet_id = data.openstack_networking_subnet_v2.private.id
}
resource "openstack_networking_floatingip_v2" "vip" {
  pool        = "public"
  description = "load balancer"
}
resource "openstack_networking_floatingip_associate_v2" "vip" {
  floating_ip = openstack_networking_floatingip_v2.vip.address
  port_id     = openstack_lb_loadbalancer_v2.lb.vip_port_id
}
`

// terraformRunner runs the terraform CLI with terraform-provider-openstack on a config
// against devcloud, or skips the test, saying why, when either binary is missing.
func terraformRunner(t *testing.T, c *Cloud, config string) func(args ...string) (int, string) {
	t.Helper()
	providerDir := os.Getenv("DEVCLOUD_TF_PROVIDER_DIR")
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf, _ = exec.LookPath("terraform")
	}
	if providerDir == "" || tf == "" {
		t.Skip("set DEVCLOUD_TF_PROVIDER_DIR (and terraform on PATH or TF_ACC_TERRAFORM_PATH) to run")
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "tf.rc")
	for name, text := range map[string]string{rc: `provider_installation {
  dev_overrides { "terraform-provider-openstack/openstack" = "` + providerDir + `" }
  direct {}
}
`, filepath.Join(dir, "main.tf"): config} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := userEnvironment("TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	return func(args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tf, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("terraform %v: %v", args, err)
		}
		return 0, string(out)
	}
}

// TestTerraformProviderOpenStack_FloatingIPsAndSecurityGroupRulesWithoutDrift runs the peer
// provider's networking resources against devcloud: apply, an empty plan, destroy.
// Opt-in like TestTerraformProviderOpenStack_ApplyPlanDestroyWithoutDrift.
func TestTerraformProviderOpenStack_FloatingIPsAndSecurityGroupRulesWithoutDrift(t *testing.T) {
	c, err := Start(Options{TimeScale: 0.01, Seed: true, RandSeed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	run := terraformRunner(t, c, terraformNetworkConfig)
	if code, out := run("apply", "-auto-approve"); code != 0 {
		t.Fatalf("apply failed:\n%s", out)
	}
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	pages, err := floatingips.List(nc, floatingips.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fips, _ := floatingips.ExtractFloatingIPs(pages)
	associated := 0
	for _, f := range fips {
		if f.PortID != "" && f.RouterID == c.Seed().RouterID {
			associated++
		}
	}
	if len(fips) != 2 || associated != 2 {
		t.Fatalf("floating IPs after apply = %+v", fips)
	}
	// Exit code 2 would mean the provider read back something different from what it wrote.
	if code, out := run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply is not empty (exit %d):\n%s", code, out)
	}
	if code, out := run("destroy", "-auto-approve"); code != 0 {
		t.Fatalf("destroy failed:\n%s", out)
	}
	pages, _ = floatingips.List(nc, floatingips.ListOpts{}).AllPages(ctx)
	if left, _ := floatingips.ExtractFloatingIPs(pages); len(left) != 0 {
		t.Errorf("floating IPs left after destroy: %+v", left)
	}
	gpages, _ := groups.List(nc, groups.ListOpts{}).AllPages(ctx)
	if left, _ := groups.ExtractGroups(gpages); len(left) != 1 || left[0].Name != "default" {
		t.Errorf("security groups left after destroy: %+v", left)
	}
}
