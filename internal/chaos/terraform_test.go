package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// workspace is one Terraform working directory: the event's configuration, its variables,
// the CLI configuration that installs the provider binary through dev_overrides (no terraform
// init), and the log of every command.
type workspace struct {
	dir  string
	bin  string
	env  []string
	vars map[string]any

	mu  sync.Mutex
	log bytes.Buffer
}

// cliConfig installs the locally built provider for both spellings of its address (Terraform's
// registry and OpenTofu's).
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

func newWorkspace(dir, terraform, providerDir, hcl string) (*workspace, error) {
	rc := filepath.Join(dir, "dev.tfrc")
	if err := os.WriteFile(rc, []byte(cliConfig(providerDir)), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		return nil, err
	}
	env := []string{
		"TF_CLI_CONFIG_FILE=" + rc,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		// devcloud runs a hundred times faster than a cloud: the provider's waiters poll it often.
		"EVENTSCALE_POLL_INTERVAL=20ms",
	}
	for _, kv := range os.Environ() {
		// The user's cloud, Terraform settings and provider tuning must not leak in.
		if strings.HasPrefix(kv, "OS_") || strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "EVENTSCALE_") ||
			strings.HasPrefix(kv, "CHECKPOINT_") {
			continue
		}
		env = append(env, kv)
	}
	return &workspace{dir: dir, bin: terraform, env: env, vars: map[string]any{}}, nil
}

// note appends a line of the suite's own to the log.
func (w *workspace) note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(&w.log, "## %s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (w *workspace) logText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

// tfResult is one Terraform command as it ended.
type tfResult struct {
	args     []string
	output   string
	exitCode int
	killed   bool // by a kill point
	timedOut bool
	took     time.Duration
}

func (r tfResult) ok() bool { return r.exitCode == 0 && !r.killed && !r.timedOut }

func (r tfResult) String() string {
	return "terraform " + strings.Join(r.args, " ")
}

var errorLine = regexp.MustCompile(`(?m)^(?:│ )?Error: (.+)$`)

// errorSummary is the first diagnostic of a failed command with a few lines of its detail.
func (r tfResult) errorSummary() string {
	loc := errorLine.FindStringSubmatchIndex(r.output)
	if loc == nil {
		return lastLines(r.output, 6)
	}
	var lines []string
	for _, l := range strings.Split(r.output[loc[0]:], "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(l, "│"))
		if l == "" || strings.HasPrefix(l, "with ") || strings.HasPrefix(l, "on ") || strings.HasPrefix(l, "╵") {
			continue
		}
		lines = append(lines, l)
		if len(lines) == 4 {
			break
		}
	}
	return strings.Join(lines, " ")
}

// unclear says why a failure is not a diagnostic an operator can act on (a crash, a plugin
// that stopped answering, no error at all), or "" for a clear error.
func (r tfResult) unclear() string {
	switch {
	case r.timedOut:
		return "the command did not end within its bound"
	case strings.Contains(r.output, "panic:") || strings.Contains(r.output, "The plugin encountered an error"):
		return "the provider crashed"
	case strings.Contains(r.output, "Plugin did not respond") || strings.Contains(r.output, "plugin exited"):
		return "the provider stopped answering"
	case !errorLine.MatchString(r.output):
		return "no error diagnostic"
	}
	return ""
}

// lockMessage is what Terraform prints when the state lock is held.
const lockMessage = "Error acquiring the state lock"

// commandBound is the longest any one Terraform command may take: past it the suite kills it
// and counts the step as failed without a clear error.
const commandBound = 4 * time.Minute

// run executes one Terraform command with the variables written first. trigger, when not nil,
// is watched while the command runs: when it returns true, Terraform and its plugin are
// SIGKILLed at once, as by an out-of-memory killer or a lost CI runner.
func (w *workspace) run(ctx context.Context, trigger func(done <-chan struct{}) bool, args ...string) tfResult {
	res := tfResult{args: args}
	if err := w.writeVars(); err != nil {
		res.exitCode, res.output = -1, err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, commandBound)
	defer cancel()
	var out lockedBuffer
	cmd := exec.Command(w.bin, args...) //nolint:gosec // the Terraform CLI the suite was given
	cmd.Dir = w.dir
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	ownProcessGroup(cmd)
	start := time.Now()
	w.note("$ terraform %s", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		res.exitCode, res.output = -1, err.Error()
		return res
	}
	done := make(chan struct{})
	var killedMu sync.Mutex
	go func() {
		select {
		case <-ctx.Done():
			killedMu.Lock()
			res.timedOut = ctx.Err() != nil
			killedMu.Unlock()
			killGroup(cmd)
		case <-done:
		}
	}()
	if trigger != nil {
		go func() {
			if trigger(done) {
				killedMu.Lock()
				res.killed = true
				killedMu.Unlock()
				killGroup(cmd)
			}
		}()
	}
	err := cmd.Wait()
	close(done)
	// A plugin that outlived Terraform (it cannot after a normal exit) goes with the group.
	killGroup(cmd)
	res.took = time.Since(start)
	killedMu.Lock()
	defer killedMu.Unlock()
	res.output = out.String()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
		if res.exitCode < 0 {
			res.exitCode = 137 // killed by a signal
		}
	default:
		res.exitCode = -1
		res.output += "\n" + err.Error()
	}
	if res.killed {
		// A kill that came as Terraform was ending by itself did not stop anything.
		res.killed, res.timedOut = err != nil, false
	}
	status := fmt.Sprintf("exit %d", res.exitCode)
	if res.killed {
		status = "SIGKILLed at the kill point"
	} else if res.timedOut {
		status = "killed after " + commandBound.String()
	}
	w.mu.Lock()
	w.log.WriteString(res.output)
	fmt.Fprintf(&w.log, "## %s after %.1fs\n", status, res.took.Seconds())
	w.mu.Unlock()
	return res
}

func (w *workspace) writeVars() error {
	b, err := json.MarshalIndent(w.vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.dir, "terraform.tfvars.json"), b, 0o600)
}

// restoreBackup puts terraform.tfstate.backup in place of terraform.tfstate.
func (w *workspace) restoreBackup() error {
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate.backup"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.dir, "terraform.tfstate"), b, 0o600)
}

// lockInfo returns the id in a lock file Terraform left behind, if there is one.
func (w *workspace) lockInfo() (id string, ok bool) {
	b, err := os.ReadFile(filepath.Join(w.dir, ".terraform.tfstate.lock.info"))
	if err != nil {
		return "", false
	}
	var info struct {
		ID string `json:"ID"`
	}
	if json.Unmarshal(b, &info) != nil {
		return "", true
	}
	return info.ID, true
}

var lockIDLine = regexp.MustCompile(`(?m)^\s*│?\s*ID:\s+(\S+)`)

// lockID reads the lock's id from Terraform's "Error acquiring the state lock" message.
func lockID(output string) string {
	if m := lockIDLine.FindStringSubmatch(output); m != nil {
		return m[1]
	}
	return ""
}

// lockedBuffer collects a command's output from its two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// planChanges lists the "# address will be ..." lines of a plan: what it would change.
func planChanges(output string) string {
	var out []string
	for _, l := range strings.Split(output, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "# ") && (strings.Contains(l, " will be ") || strings.Contains(l, " must be ")) {
			out = append(out, strings.TrimPrefix(l, "# "))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
