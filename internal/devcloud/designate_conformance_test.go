package devcloud

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dnsTerraformConfig is what a terraform-provider-openstack user writes to point a site's
// name at a tier: a zone, an A record and a TXT record. The A record's address comes from a
// variable so that a second apply changes it in place.
const dnsTerraformConfig = `
terraform {
  required_providers {
    openstack = { source = "terraform-provider-openstack/openstack" }
  }
}
provider "openstack" {}

variable "address" { default = "203.0.113.10" }

resource "openstack_dns_zone_v2" "event" {
  name        = "event.example.com."
  email       = "ops@example.com"
  ttl         = 300
  description = "launch night"
}
resource "openstack_dns_recordset_v2" "www" {
  zone_id     = openstack_dns_zone_v2.event.id
  name        = "www.event.example.com."
  type        = "A"
  ttl         = 60
  description = "the web tier"
  records     = [var.address]
}
resource "openstack_dns_recordset_v2" "txt" {
  zone_id = openstack_dns_zone_v2.event.id
  name    = "event.example.com."
  type    = "TXT"
  records = ["\"v=spf1 -all\""]
}
`

// terraformWorkdir prepares a directory that runs the peer provider from providerDir
// against c, and returns a function that runs terraform there.
func terraformWorkdir(t *testing.T, c *Cloud, tf, providerDir, config string) func(args ...string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "tf.rc")
	if err := os.WriteFile(rc, []byte(`provider_installation {
  dev_overrides { "terraform-provider-openstack/openstack" = "`+providerDir+`" }
  direct {}
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	env := userEnvironment("TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	return func(args ...string) (int, string) {
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

// peerProvider finds terraform and a terraform-provider-openstack build, or skips saying
// what is missing. The provider is looked up in DEVCLOUD_TF_PROVIDER_DIR, then in /tmp/tpo
// (where GOBIN=/tmp/tpo go install
// github.com/terraform-provider-openstack/terraform-provider-openstack/v3@v3.4.0 puts it).
func peerProvider(t *testing.T) (tf, providerDir string) {
	t.Helper()
	providerDir = os.Getenv("DEVCLOUD_TF_PROVIDER_DIR")
	if providerDir == "" {
		providerDir = "/tmp/tpo"
	}
	if _, err := os.Stat(filepath.Join(providerDir, "terraform-provider-openstack")); err != nil {
		t.Skipf("no terraform-provider-openstack binary in %s (set DEVCLOUD_TF_PROVIDER_DIR or run GOBIN=/tmp/tpo go install github.com/terraform-provider-openstack/terraform-provider-openstack/v3@v3.4.0)", providerDir)
	}
	tf = os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf, _ = exec.LookPath("terraform")
	}
	if tf == "" {
		t.Skip("no terraform binary: put it on PATH or set TF_ACC_TERRAFORM_PATH")
	}
	return tf, providerDir
}

// TestTerraformProviderOpenStack_DNSZoneAndRecordsetsApplyUpdateDestroy runs the peer
// provider's openstack_dns_zone_v2 and openstack_dns_recordset_v2 unchanged against devcloud:
// create (waiting for ACTIVE), a plan without drift, an in-place record change, destroy
// (waiting for the zone to go).
func TestTerraformProviderOpenStack_DNSZoneAndRecordsetsApplyUpdateDestroy(t *testing.T) {
	tf, providerDir := peerProvider(t)
	c, err := Start(Options{TimeScale: 0.01, Seed: true, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	run := terraformWorkdir(t, c, tf, providerDir, dnsTerraformConfig)
	if code, out := run("apply", "-auto-approve"); code != 0 {
		t.Fatalf("apply failed:\n%s", out)
	}
	if code, out := run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply is not empty (exit %d):\n%s", code, out)
	}
	if got := dnsRecordsRaw(c, "www.event.example.com.", "A"); got != "203.0.113.10" {
		t.Fatalf("A record after apply = %q", got)
	}
	if code, out := run("apply", "-auto-approve", "-var", "address=203.0.113.20"); code != 0 || !strings.Contains(out, "1 changed") {
		t.Fatalf("apply with a new address (exit %d):\n%s", code, out)
	}
	if got := dnsRecordsRaw(c, "www.event.example.com.", "A"); got != "203.0.113.20" {
		t.Fatalf("A record after the change = %q", got)
	}
	if code, out := run("plan", "-detailed-exitcode", "-var", "address=203.0.113.20"); code != 0 {
		t.Fatalf("plan after the change is not empty (exit %d):\n%s", code, out)
	}
	if code, out := run("destroy", "-auto-approve", "-var", "address=203.0.113.20"); code != 0 {
		t.Fatalf("destroy failed:\n%s", out)
	}
	c.mu.Lock()
	left := len(c.st.zones) + len(c.st.recordsets)
	c.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d zones and recordsets left after destroy", left)
	}
}

// dnsRecordsRaw reads a recordset's records straight from the state.
func dnsRecordsRaw(c *Cloud, name, typ string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range c.st.recordsets {
		if rs.Name == name && rs.Type == typ {
			var out []string
			for _, r := range rs.Records {
				out = append(out, r.Data)
			}
			return strings.Join(out, ",")
		}
	}
	return ""
}

// TestOpenStackCLI_ZoneAndRecordsetCreateSetDelete drives python-openstackclient with the
// designate plugin (python3-designateclient) against devcloud.
func TestOpenStackCLI_ZoneAndRecordsetCreateSetDelete(t *testing.T) {
	osc, err := exec.LookPath("openstack")
	if err != nil {
		t.Skip("no openstack CLI on PATH (Debian: apt-get install python3-openstackclient python3-designateclient)")
	}
	if out, err := exec.Command(osc, "zone", "list", "--help").CombinedOutput(); err != nil {
		t.Skipf("the openstack CLI has no zone commands, python3-designateclient is missing: %v\n%s", err, out)
	}
	c, err := Start(Options{TimeScale: 0.01, Seed: true, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	cli := func(args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, osc, append(args, "-f", "json")...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("openstack %v: %v\n%s", args, err, ee.Stderr)
			}
			t.Fatalf("openstack %v: %v", args, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("openstack %v: output is not a JSON object: %s", args, out)
		}
		return m
	}
	z := cli("zone", "create", "--email", "ops@example.com", "--ttl", "300", "cli.example.com.")
	if z["status"] != "PENDING" || z["action"] != "CREATE" {
		t.Fatalf("zone create = %v", z)
	}
	eventually(t, 10*time.Second, "zone ACTIVE", func() bool { return cli("zone", "show", "cli.example.com.")["status"] == "ACTIVE" })
	rs := cli("recordset", "create", "--type", "A", "--record", "192.0.2.1", "cli.example.com.", "www")
	if rs["name"] != "www.cli.example.com." || rs["records"] != "192.0.2.1" || rs["status"] != "PENDING" {
		t.Fatalf("recordset create = %v", rs)
	}
	eventually(t, 10*time.Second, "recordset ACTIVE", func() bool {
		return cli("recordset", "show", "cli.example.com.", "www.cli.example.com.")["status"] == "ACTIVE"
	})
	set := cli("recordset", "set", "--record", "192.0.2.2", "--ttl", "60", "cli.example.com.", "www.cli.example.com.")
	if set["records"] != "192.0.2.2" || set["ttl"] != float64(60) || set["action"] != "UPDATE" {
		t.Fatalf("recordset set = %v", set)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	del := exec.CommandContext(ctx, osc, "recordset", "delete", "cli.example.com.", "www.cli.example.com.")
	del.Env = env
	if out, err := del.CombinedOutput(); err != nil {
		t.Fatalf("recordset delete: %v\n%s", err, out)
	}
	if got := dnsRecordsRaw(c, "www.cli.example.com.", "A"); got != "" {
		t.Fatalf("recordset still there after delete: %q", got)
	}
}
