package devcloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
)

// openstackCLI runs the openstack CLI (python3-openstackclient with python3-octaviaclient)
// against devcloud as the demo user, or as admin.
type openstackCLI struct {
	t    *testing.T
	bin  string
	env  []string
	home string
}

func newOpenstackCLI(t *testing.T, c *Cloud) *openstackCLI {
	t.Helper()
	bin, err := exec.LookPath("openstack")
	if err != nil {
		t.Skipf("the openstack CLI is not on PATH (%v): install python3-openstackclient and python3-octaviaclient to run this test", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		// The cloud comes from devcloud's variables only.
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	home := t.TempDir()
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	return &openstackCLI{t: t, bin: bin, env: env, home: home}
}

// asAdmin is the same CLI with the admin user's credentials.
func (o *openstackCLI) asAdmin() *openstackCLI {
	admin := *o
	admin.env = append(append([]string{}, o.env...), "OS_USERNAME=admin", "OS_PROJECT_NAME=admin")
	return &admin
}

// run returns the exit code and the combined output.
func (o *openstackCLI) run(args ...string) (int, string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env, cmd.Dir = o.env, o.home
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		o.t.Fatalf("openstack %v: %v", args, err)
	}
	return 0, string(out)
}

// ok runs a command that must succeed.
func (o *openstackCLI) ok(args ...string) string {
	o.t.Helper()
	code, out := o.run(args...)
	if code != 0 {
		o.t.Fatalf("openstack %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// json runs a command with -f json and decodes its output into v.
func (o *openstackCLI) json(v any, args ...string) {
	o.t.Helper()
	out := o.ok(append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		o.t.Fatalf("openstack %s: output is not JSON (%v):\n%s", strings.Join(args, " "), err, out)
	}
}

// quotaRows is the output of `quota list --detail`.
type quotaRows []struct {
	Resource string `json:"Resource"`
	InUse    int    `json:"In Use"`
	Limit    int    `json:"Limit"`
}

func (q quotaRows) find(t *testing.T, resource string) (inUse, limit int) {
	t.Helper()
	for _, r := range q {
		if r.Resource == resource {
			return r.InUse, r.Limit
		}
	}
	t.Fatalf("no %s in %+v", resource, q)
	return 0, 0
}

// TestOpenstackCLI_FloatingIPsSecurityGroupRulesAndQuotas runs the openstack CLI unchanged
// against devcloud. It needs the CLI on PATH (Debian: python3-openstackclient,
// python3-octaviaclient); OSC 6 (Zed) shows quota usage with `quota list --detail`, the
// command later releases call `quota show --usage`.
func TestOpenstackCLI_FloatingIPsSecurityGroupRulesAndQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the openstack CLI takes seconds per command")
	}
	c, err := Start(Options{TimeScale: 0.01, Seed: true, RandSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	osc := newOpenstackCLI(t, c)
	s := c.Seed()
	nc := networkClient(t, provider(t, demoAuth(c)))

	// Floating IPs: create from the external network, associate, disassociate, delete.
	var fip map[string]any
	osc.json(&fip, "floating", "ip", "create", "public")
	id, _ := fip["id"].(string)
	if addr, _ := fip["floating_ip_address"].(string); !strings.HasPrefix(addr, "203.0.113.") || fip["status"] != "DOWN" || fip["port_id"] != nil {
		t.Fatalf("floating ip create = %+v", fip)
	}
	var webPorts []map[string]any
	osc.json(&webPorts, "port", "list", "--device-id", s.Web01ServerID)
	if len(webPorts) != 1 {
		t.Fatalf("web01's ports = %+v", webPorts)
	}
	portID := webPorts[0]["ID"].(string)
	osc.ok("floating", "ip", "set", "--port", portID, id)
	waitFloatingIPStatus(t, nc, id, "ACTIVE")
	osc.json(&fip, "floating", "ip", "show", id)
	if fip["port_id"] != portID || fip["fixed_ip_address"] != s.Web01Address || fip["router_id"] != s.RouterID || fip["status"] != "ACTIVE" {
		t.Fatalf("floating ip show after set = %+v", fip)
	}
	osc.ok("floating", "ip", "unset", "--port", id)
	osc.json(&fip, "floating", "ip", "show", id)
	if fip["port_id"] != nil || fip["fixed_ip_address"] != nil {
		t.Fatalf("floating ip show after unset = %+v", fip)
	}
	osc.ok("floating", "ip", "delete", id)
	if _, err := floatingips.Get(testCtx(t), nc, id).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("floating IP after the CLI deleted it: %v", err)
	}

	// Security group rules: create, a duplicate refused, list, delete.
	osc.ok("security", "group", "create", "tf-web")
	var rule map[string]any
	osc.json(&rule, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "--remote-ip", "0.0.0.0/0", "tf-web")
	ruleID, _ := rule["id"].(string)
	if rule["port_range_min"] != 80.0 || rule["port_range_max"] != 80.0 || rule["protocol"] != "tcp" || rule["direction"] != "ingress" {
		t.Fatalf("rule create = %+v", rule)
	}
	if code, out := osc.run("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "tf-web"); code == 0 ||
		!strings.Contains(out, "Security group rule already exists. Rule id is "+ruleID+".") {
		t.Fatalf("duplicate rule: exit %d\n%s", code, out)
	}
	var rules []map[string]any
	osc.json(&rules, "security", "group", "rule", "list", "tf-web")
	if len(rules) != 3 { // two egress rules and ours
		t.Fatalf("rule list = %+v", rules)
	}
	osc.ok("security", "group", "rule", "delete", ruleID)
	osc.json(&rules, "security", "group", "rule", "list", "tf-web", "--protocol", "tcp")
	if len(rules) != 0 {
		t.Fatalf("rules after delete = %+v", rules)
	}

	// Quotas with usage (compute and network), and the load balancer's limits.
	var compute, network quotaRows
	osc.json(&compute, "quota", "list", "--detail", "--compute", "--project", s.ProjectID)
	if inUse, limit := compute.find(t, "instances"); inUse != 1 || limit != 10 {
		t.Fatalf("compute instances = %d of %d", inUse, limit)
	}
	if inUse, limit := compute.find(t, "server_group_members"); inUse != 0 || limit != 10 {
		t.Fatalf("compute server_group_members = %d of %d", inUse, limit)
	}
	osc.json(&network, "quota", "list", "--detail", "--network", "--project", s.ProjectID)
	if inUse, limit := network.find(t, "security_groups"); inUse != 2 || limit != 10 {
		t.Fatalf("network security_groups = %d of %d", inUse, limit)
	}
	if inUse, limit := network.find(t, "floating_ips"); inUse != 0 || limit != 50 {
		t.Fatalf("network floating_ips = %d of %d", inUse, limit)
	}
	var lbQuota map[string]any
	osc.json(&lbQuota, "loadbalancer", "quota", "show", s.ProjectID)
	if lbQuota["load_balancer"] != -1.0 || lbQuota["member"] != -1.0 || len(lbQuota) != 7 {
		t.Fatalf("loadbalancer quota show = %+v", lbQuota)
	}
	admin := osc.asAdmin()
	admin.ok("loadbalancer", "quota", "set", "--loadbalancer", "3", s.ProjectID)
	admin.ok("quota", "set", "--floating-ips", "20", "--instances", "12", s.ProjectID)
	osc.json(&lbQuota, "loadbalancer", "quota", "show", s.ProjectID)
	osc.json(&compute, "quota", "list", "--detail", "--compute", "--project", s.ProjectID)
	osc.json(&network, "quota", "list", "--detail", "--network", "--project", s.ProjectID)
	_, instances := compute.find(t, "instances")
	_, fips := network.find(t, "floating_ips")
	if lbQuota["load_balancer"] != 3.0 || instances != 12 || fips != 20 {
		t.Fatalf("after the admin's quota set: load_balancer %v, instances %d, floating_ips %d", lbQuota["load_balancer"], instances, fips)
	}
}
