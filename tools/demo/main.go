// Command demo is `make demo`: the whole event on devcloud, the in-process OpenStack
// simulator, driven by the real Terraform CLI and the locally built provider through
// examples/event. It applies the tier, load-tests it through the VIP, scales it to the
// capacity plan, tests again, and scales it back under steady traffic, then shows devcloud's
// timeline of the scale-back and how many requests failed (the promise is none).
//
// It exits non-zero when a step fails, when a request fails during the scale-back, or when
// the timeline shows a node removed before its drain ended or two nodes scaled back at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type config struct {
	repo        string        // repository root: examples/event and bin/ are found there
	terraform   string        // Terraform CLI
	providerDir string        // directory of terraform-provider-eventscale
	workDir     string        // working copy of examples/event, state, log and reports
	timeScale   float64       // devcloud's time scale
	duration    time.Duration // each load test run
	drain       time.Duration // the pool's drain timeout
	steadyRate  int           // background traffic during the scale-back, req/s
	timeout     time.Duration // bound on the whole demo
}

func main() {
	var cfg config
	flag.StringVar(&cfg.repo, "repo", ".", "repository root (examples/event, bin/)")
	flag.StringVar(&cfg.terraform, "terraform", os.Getenv("TERRAFORM"), "Terraform CLI (default $TERRAFORM, else bin/terraform, else terraform on PATH)")
	flag.StringVar(&cfg.providerDir, "provider-dir", "", "directory holding terraform-provider-eventscale (default <repo>/bin)")
	flag.StringVar(&cfg.workDir, "workdir", "", "working directory, emptied first (default <repo>/.demo)")
	flag.Float64Var(&cfg.timeScale, "time-scale", 0.02, "devcloud time scale: 0.02 makes a 30 s server build take 0.6 s")
	flag.DurationVar(&cfg.duration, "load-test-duration", 10*time.Second, "length of each load test")
	flag.DurationVar(&cfg.drain, "drain-timeout", 1200*time.Millisecond, "the web pool's drain timeout (60 s on a real cloud, scaled)")
	flag.IntVar(&cfg.steadyRate, "steady-rate", 30, "requests per second of background traffic during the scale-back (web01 alone serves 50)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "bound on the whole demo")
	flag.Parse()

	os.Exit(runMain(cfg))
}

// runMain runs the demo and returns the exit code, so that its deferred clean-up runs before
// main exits.
func runMain(cfg config) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		if !errors.As(err, new(reportedError)) {
			_, _ = fmt.Fprintf(os.Stdout, "\nDEMO FAILED: %v\n", err)
		}
		return 1
	}
	return 0
}

// run is the demo; out gets the person-readable story.
func run(ctx context.Context, cfg config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if err := cfg.resolve(); err != nil {
		return err
	}
	d := &demo{cfg: cfg, out: out, start: time.Now()}
	defer d.close()
	err := d.story(ctx)
	if err != nil && ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (the demo is bounded to %s)", err, cfg.timeout)
		} else {
			// Terraform's complaints about being stopped are in the log, not worth a screen.
			err = errors.New("interrupted; devcloud is stopped and nothing is left running")
		}
	}
	return err
}

func (c *config) resolve() error {
	repo, err := filepath.Abs(c.repo)
	if err != nil {
		return err
	}
	c.repo = repo
	if _, err := os.Stat(filepath.Join(repo, "examples", "event", "main.tf")); err != nil {
		return fmt.Errorf("%s has no examples/event/main.tf: run the demo from the repository root (make demo)", repo)
	}
	if c.providerDir == "" {
		c.providerDir = filepath.Join(repo, "bin")
	}
	if c.providerDir, err = filepath.Abs(c.providerDir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.providerDir, "terraform-provider-eventscale")); err != nil {
		return fmt.Errorf("no provider binary in %s: build it first (make build, or make demo which does)", c.providerDir)
	}
	if c.terraform == "" {
		c.terraform = filepath.Join(repo, "bin", "terraform")
		if _, err := os.Stat(c.terraform); err != nil {
			c.terraform = "terraform"
		}
	}
	// Terraform runs in the work dir: a relative path must not be resolved there.
	if strings.ContainsRune(c.terraform, filepath.Separator) {
		c.terraform, err = filepath.Abs(c.terraform)
	} else {
		c.terraform, err = exec.LookPath(c.terraform)
	}
	if err != nil {
		return fmt.Errorf("no Terraform CLI: %w (make demo builds bin/terraform)", err)
	}
	if c.workDir == "" {
		c.workDir = filepath.Join(repo, ".demo")
	}
	if c.workDir, err = filepath.Abs(c.workDir); err != nil {
		return err
	}
	if c.steadyRate < 1 || c.steadyRate > 45 {
		return fmt.Errorf("-steady-rate must be 1 to 45 req/s: at the end of the scale-back web01 (50 req/s) serves it alone")
	}
	if c.duration < time.Second || c.duration%time.Second != 0 {
		return fmt.Errorf("-load-test-duration must be whole seconds, got %s", c.duration)
	}
	return nil
}

// section prints a heading with the time since the start.
func (d *demo) section(n int, title string) {
	_, _ = fmt.Fprintf(d.out, "\n== %d. %s  [%s]\n", n, title, d.since())
}

func (d *demo) since() string {
	return fmt.Sprintf("%.0fs", time.Since(d.start).Seconds())
}

func (d *demo) say(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	_, _ = fmt.Fprintf(d.out, "   "+format+"\n", args...)
}

// indent prints a block of text (the runbook) indented under the section.
func (d *demo) indent(text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(d.out, "   │ %s\n", line)
	}
}
