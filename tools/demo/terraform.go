package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// terraform runs the Terraform CLI in the demo's working copy, its output going to the log.
type terraform struct {
	bin  string
	dir  string
	env  []string
	log  io.Writer
	vars map[string]any // written to terraform.tfvars.json before every command
}

// cliConfig points Terraform at the locally built provider: with dev_overrides there is no
// registry download and no `terraform init`. "eventscale/eventscale" means registry.terraform.io
// to Terraform and registry.opentofu.org to OpenTofu: both are overridden.
func cliConfig(providerDir string) string {
	return fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/eventscale/eventscale"  = %[1]q
    "registry.opentofu.org/eventscale/eventscale" = %[1]q
  }
  direct {}
}
`, providerDir)
}

// terraformEnv is the environment without the user's own OS_* and TF_* settings (a real
// cloud in OS_CLOUD, TF_CLI_ARGS, TF_VAR_*), which must not leak into the demo, plus extra.
func terraformEnv(base []string, extra map[string]string) []string {
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

// tfError carries the tail of a failed command's output, to show on screen.
type tfError struct {
	args   []string
	err    error
	output string
	tail   string
}

func (e *tfError) Error() string {
	return fmt.Sprintf("terraform %s: %v\n--- last lines of its output ---\n%s", strings.Join(e.args, " "), e.err, e.tail)
}

// run executes one Terraform command. An interrupt (ctx cancelled) is passed on as SIGINT so
// that Terraform stops its providers cleanly; after 30 s it is killed.
func (t *terraform) run(ctx context.Context, stdout io.Writer, args ...string) error {
	if err := t.writeVars(); err != nil {
		return err
	}
	fmt.Fprintf(t.log, "\n$ terraform %s   # %s\n", strings.Join(args, " "), time.Now().UTC().Format(time.RFC3339))
	// Terraform's stdout and stderr are copied by two goroutines into writers they share
	// (the log, the captured output): one lock orders their writes.
	var captured bytes.Buffer
	var mu sync.Mutex
	cmd := exec.CommandContext(ctx, t.bin, args...)
	cmd.Dir = t.dir
	cmd.Env = t.env
	if stdout == nil {
		cmd.Stdout = &lockedWriter{mu: &mu, w: io.MultiWriter(t.log, &captured)}
	} else {
		cmd.Stdout = &lockedWriter{mu: &mu, w: stdout}
	}
	cmd.Stderr = &lockedWriter{mu: &mu, w: io.MultiWriter(t.log, &captured)}
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return interruptGroup(cmd) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	killGroup(cmd)
	if err != nil {
		return &tfError{args: args, err: err, output: captured.String(), tail: lastLines(captured.String(), 40)}
	}
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (t *terraform) writeVars() error {
	b, err := json.MarshalIndent(t.vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.dir, "terraform.tfvars.json"), b, 0o644)
}

func (t *terraform) apply(ctx context.Context, extra ...string) error {
	return t.run(ctx, nil, append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, extra...)...)
}

// planDestroyPreview runs `terraform plan -destroy` and returns, in order, the nodes the web
// pool's scale-back warning says it will drain: the preview the operator reviews.
func (t *terraform) planDestroyPreview(ctx context.Context, extra ...string) ([]string, error) {
	var buf bytes.Buffer
	args := append([]string{"plan", "-destroy", "-input=false", "-no-color"}, extra...)
	if err := t.run(ctx, io.MultiWriter(t.log, &buf), args...); err != nil {
		return nil, err
	}
	return drainOrder(buf.String()), nil
}

var drainLine = regexp.MustCompile(`(?m)^\s*\d+\. drain (.+?) with `)

// drainOrder picks the drained nodes out of the scale-back warning's numbered steps.
func drainOrder(planOutput string) []string {
	var names []string
	for _, m := range drainLine.FindAllStringSubmatch(planOutput, -1) {
		names = append(names, strings.Split(m[1], ", ")...)
	}
	return names
}

// shortfallLine is one quota the pre-flight found short, as the provider's diagnostic lists it:
// "  - compute instances: limit 10, in use 6, this plan needs 13 more (...)".
var shortfallLine = regexp.MustCompile(`(?m)^\s*- (compute|network|load-balancer|database) (\S+): limit (-?\d+), in use (\d+), this plan needs (\d+) more.*$`)

// quotaShortfall is one line of the pre-flight's finding and the limit the operator asks for.
type quotaShortfall struct {
	Service, Resource  string
	Limit, InUse, Need int
	Line               string
}

func (s quotaShortfall) Ask() int { return s.InUse + s.Need }

// parseShortfalls reads the pre-flight's shortfalls out of Terraform's diagnostics, once each.
func parseShortfalls(output string) []quotaShortfall {
	var out []quotaShortfall
	seen := map[string]bool{}
	for _, m := range shortfallLine.FindAllStringSubmatch(output, -1) {
		key := m[1] + " " + m[2]
		if seen[key] {
			continue
		}
		seen[key] = true
		limit, _ := strconv.Atoi(m[3])
		inUse, _ := strconv.Atoi(m[4])
		need, _ := strconv.Atoi(m[5])
		out = append(out, quotaShortfall{Service: m[1], Resource: m[2], Limit: limit, InUse: inUse, Need: need, Line: strings.TrimPrefix(strings.TrimSpace(m[0]), "- ")})
	}
	return out
}

// planShortfalls runs `terraform plan` and returns the quota shortfalls its pre-flight
// refuses the plan for; none when the plan passes. A plan that fails for another reason is an error.
func (t *terraform) planShortfalls(ctx context.Context) ([]quotaShortfall, error) {
	err := t.run(ctx, t.log, "plan", "-input=false", "-no-color")
	if err == nil {
		return nil, nil
	}
	var te *tfError
	if errors.As(err, &te) {
		if s := parseShortfalls(te.output); len(s) > 0 {
			return s, nil
		}
	}
	return nil, err
}

func (t *terraform) destroy(ctx context.Context, extra ...string) error {
	return t.run(ctx, nil, append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, extra...)...)
}

// outputs returns `terraform output -json`, decoded into v (a struct of the outputs' values).
func (t *terraform) outputs(ctx context.Context, v any) error {
	var buf bytes.Buffer
	if err := t.run(ctx, &buf, "output", "-json", "-no-color"); err != nil {
		return err
	}
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		return fmt.Errorf("decoding terraform output -json: %w", err)
	}
	values := map[string]json.RawMessage{}
	for k, o := range raw {
		values[k] = o.Value
	}
	b, _ := json.Marshal(values)
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding the outputs: %w", err)
	}
	return nil
}

// resourceAttr reads one attribute of a resource from `terraform show -json`: after a
// targeted apply the outputs are not all known, the state is.
func (t *terraform) resourceAttr(ctx context.Context, address, attr string) (string, error) {
	var buf bytes.Buffer
	if err := t.run(ctx, &buf, "show", "-json", "-no-color"); err != nil {
		return "", err
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(buf.Bytes(), &state); err != nil {
		return "", fmt.Errorf("decoding terraform show -json: %w", err)
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == address {
			if s, ok := r.Values[attr].(string); ok && s != "" {
				return s, nil
			}
			return "", fmt.Errorf("%s has no %s in state", address, attr)
		}
	}
	return "", fmt.Errorf("%s is not in the state", address)
}

func (t *terraform) version(ctx context.Context) (string, error) {
	var buf bytes.Buffer
	if err := t.run(ctx, &buf, "version", "-json"); err != nil {
		return "", err
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		return "", fmt.Errorf("decoding terraform version -json: %w", err)
	}
	return v.Version, nil
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
