package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Provider is a Terraform provider to benchmark: its registry address, the plugin binary and
// the configuration that puts N web nodes behind the lab's pool.
type Provider struct {
	// Name labels its rows: "eventscale", "terraform-provider-openstack v3.4.0".
	Name    string
	Address string // registry.terraform.io/<namespace>/<type>
	Binary  string // the plugin executable
	config  func(t Target, size int, o ConfigOptions) (hcl string, vars map[string]any)
}

// ConfigOptions are the knobs of a benchmark configuration.
type ConfigOptions struct {
	MaxParallel int
	BatchSize   int
	// Drain is the drain timeout in wall time (the model's drain times the time scale).
	Drain time.Duration
}

// Eventscale is this provider: one eventscale_web_pool of size nodes, scaled back one node at a
// time with the VIP as health check URL, as examples/event does.
func Eventscale(binary string) Provider {
	return Provider{Name: "eventscale", Address: "registry.terraform.io/eventscale/eventscale", Binary: binary,
		config: func(t Target, size int, o ConfigOptions) (string, map[string]any) {
			return eventscaleConfig, map[string]any{
				"size": size, "image_id": t.ImageID, "flavor": t.FlavorName, "network_id": t.NetworkID, "subnet_id": t.SubnetID,
				"load_balancer_id": t.LoadBalancerID, "pool_id": t.PoolID, "health_check_url": t.VIPURL,
				"max_parallel": max(o.MaxParallel, 1), "batch_size": max(o.BatchSize, 1), "drain_timeout": o.Drain.String(),
			}
		}}
}

const eventscaleConfig = `terraform {
  required_providers {
    eventscale = { source = "eventscale/eventscale" }
  }
}

provider "eventscale" {}

variable "size" { type = number }
variable "image_id" { type = string }
variable "flavor" { type = string }
variable "network_id" { type = string }
variable "subnet_id" { type = string }
variable "load_balancer_id" { type = string }
variable "pool_id" { type = string }
variable "health_check_url" { type = string }
variable "max_parallel" { type = number }
variable "batch_size" { type = number }
variable "drain_timeout" { type = string }

resource "eventscale_web_pool" "web" {
  name             = "bench-web"
  size             = var.size
  image_id         = var.image_id
  flavor           = var.flavor
  networks         = [var.network_id]
  subnet_id        = var.subnet_id
  load_balancer_id = var.load_balancer_id
  pool_id          = var.pool_id
  protocol_port    = 80

  scale_out = {
    max_parallel = var.max_parallel
  }

  scale_in = {
    batch_size       = var.batch_size
    drain_timeout    = var.drain_timeout
    health_check_url = var.health_check_url
  }
}
`

// PeerVersion is the terraform-provider-openstack release operators use today.
const PeerVersion = "v3.4.0"

// Peer is terraform-provider-openstack as its users scale a web tier: count = N instances and
// one openstack_lb_member_v2 each, Terraform's default parallelism of 10.
func Peer(binary string) Provider {
	return Provider{Name: "terraform-provider-openstack " + PeerVersion,
		Address: "registry.terraform.io/terraform-provider-openstack/openstack", Binary: binary,
		config: func(t Target, size int, _ ConfigOptions) (string, map[string]any) {
			return peerConfig, map[string]any{"size": size, "image_id": t.ImageID, "flavor_id": t.FlavorID,
				"network_id": t.NetworkID, "subnet_id": t.SubnetID, "pool_id": t.PoolID}
		}}
}

const peerConfig = `terraform {
  required_providers {
    openstack = { source = "terraform-provider-openstack/openstack" }
  }
}

provider "openstack" {}

variable "size" { type = number }
variable "image_id" { type = string }
variable "flavor_id" { type = string }
variable "network_id" { type = string }
variable "subnet_id" { type = string }
variable "pool_id" { type = string }

resource "openstack_compute_instance_v2" "web" {
  count     = var.size
  name      = format("bench-web-%02d", count.index + 1)
  image_id  = var.image_id
  flavor_id = var.flavor_id
  network {
    uuid = var.network_id
  }
}

resource "openstack_lb_member_v2" "web" {
  count         = var.size
  name          = format("bench-web-%02d", count.index + 1)
  pool_id       = var.pool_id
  address       = openstack_compute_instance_v2.web[count.index].access_ip_v4
  protocol_port = 80
  subnet_id     = var.subnet_id
}
`

// workspace is one Terraform working directory with a provider installed through
// dev_overrides (no registry, no terraform init).
type workspace struct {
	tf       string
	dir      string
	provider Provider
	rssLog   string
	log      io.Writer
}

// newWorkspace prepares dir. When wrapper is set (the benchmark binary), Terraform starts it
// as the plugin and it measures the real plugin's peak memory (see RunPluginWrapper).
func newWorkspace(tf, dir string, p Provider, wrapper string, log io.Writer) (*workspace, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	plugins := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(p.Binary)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("provider %s: plugin binary: %w", p.Name, err)
	}
	exe := bin
	if wrapper != "" {
		exe = wrapper
	}
	// The file name is what Terraform looks for: terraform-provider-<type>.
	name := "terraform-provider-" + p.Address[strings.LastIndex(p.Address, "/")+1:]
	if err := os.Symlink(exe, filepath.Join(plugins, name)); err != nil {
		return nil, err
	}
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", p.Address, plugins)
	if err := os.WriteFile(filepath.Join(dir, "terraform.rc"), []byte(rc), 0o644); err != nil {
		return nil, err
	}
	w := &workspace{tf: tf, dir: dir, provider: p, log: log}
	if wrapper != "" {
		w.rssLog = filepath.Join(dir, "plugin-rss.log")
	}
	return w, nil
}

// tfRun is one Terraform command as measured.
type tfRun struct {
	Start, End time.Time
	RSSKB      int64
	ExitCode   int
}

// run writes the configuration for size nodes and runs one Terraform command. env adds to
// (and overrides) the lab's environment.
func (w *workspace) run(ctx context.Context, lab *Lab, size int, o ConfigOptions, env map[string]string, args ...string) (tfRun, error) {
	hcl, vars := w.provider.config(lab.Target, size, o)
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(hcl), 0o644); err != nil {
		return tfRun{}, err
	}
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return tfRun{}, err
	}
	if err := os.WriteFile(filepath.Join(w.dir, "terraform.tfvars.json"), b, 0o644); err != nil {
		return tfRun{}, err
	}
	extra := lab.Target.Env()
	extra["TF_CLI_CONFIG_FILE"] = filepath.Join(w.dir, "terraform.rc")
	extra["TF_IN_AUTOMATION"] = "1"
	extra["TF_INPUT"] = "0"
	extra["CHECKPOINT_DISABLE"] = "1"
	// The provider's waiters poll every 2 s on a real cloud; devcloud's time runs 1/scale as fast.
	extra["EVENTSCALE_POLL_INTERVAL"] = time.Duration(float64(2*time.Second) * lab.Scale).String()
	extra["EVENTSCALE_JOURNAL"] = filepath.Join(w.dir, "journal.jsonl")
	if w.rssLog != "" {
		bin, _ := filepath.Abs(w.provider.Binary)
		extra[wrapPluginEnv] = bin
		extra[wrapRSSLogEnv] = w.rssLog
		if err := os.Remove(w.rssLog); err != nil && !errors.Is(err, os.ErrNotExist) {
			return tfRun{}, err
		}
	}
	for k, v := range env {
		extra[k] = v
	}
	fmt.Fprintf(w.log, "\n$ terraform %s   # size %d, %s\n", strings.Join(args, " "), size, time.Now().UTC().Format(time.RFC3339))
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, w.tf, args...)
	cmd.Dir = w.dir
	cmd.Env = cleanEnv(os.Environ(), extra)
	cmd.Stdout = io.MultiWriter(w.log, &tail)
	cmd.Stderr = io.MultiWriter(w.log, &tail)
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return interruptGroup(cmd) }
	cmd.WaitDelay = 30 * time.Second
	r := tfRun{Start: time.Now()}
	err = cmd.Run()
	r.End = time.Now()
	killGroup(cmd)
	if w.rssLog != "" {
		r.RSSKB = peakFromLog(w.rssLog)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("terraform %s: %w", strings.Join(args, " "), err)
	}
	// plan -detailed-exitcode exits 2 for a plan with changes: the caller reports it.
	planWithChanges := r.ExitCode == 2 && contains(args, "-detailed-exitcode")
	if r.ExitCode != 0 && !planWithChanges {
		return r, fmt.Errorf("terraform %s exited %d:\n%s", strings.Join(args, " "), r.ExitCode, lastLines(tail.String(), 30))
	}
	return r, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cleanEnv is the environment without the caller's own OpenStack and Terraform settings (a
// real cloud in OS_CLOUD, TF_CLI_ARGS), which must not reach the benchmark, plus extra.
func cleanEnv(base []string, extra map[string]string) []string {
	var env []string
	for _, kv := range base {
		if strings.HasPrefix(kv, "OS_") || strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "EVENTSCALE_") {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
