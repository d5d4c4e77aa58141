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
	"regexp"
	"strings"
	"time"
)

// Options configure a suite.
type Options struct {
	// Scale is devcloud's time scale for the library scenarios (0.05: a 30 s build takes 1.5 s).
	Scale float64
	// Terraform is the CLI; empty skips the Terraform scenarios.
	Terraform string
	// Provider is this provider's plugin binary, Peer terraform-provider-openstack's.
	Provider string
	Peer     string
	// WorkDir holds the Terraform working directories.
	WorkDir string
	// Self is the benchmark command's executable. The library scenarios run in a child process
	// of it, so that the peak memory is the library's and not devcloud's, and it wraps the
	// Terraform plugins to read theirs. Empty runs the library in this process and reports no RSS.
	Self string
	// Log receives progress; TerraformLog the Terraform commands' output and the library
	// runs' errors.
	Log          io.Writer
	TerraformLog io.Writer

	// CompareSmall and CompareLarge are the pool sizes of the comparison (10 and 50), and
	// CompareScale its time scale: 1, because terraform-provider-openstack waits in wall-clock
	// time (3 s between server polls, 1 s between load balancer polls, growing), which a faster
	// cloud would turn into model minutes.
	CompareSmall, CompareLarge int
	CompareScale               float64

	// Only, when set, runs the scenarios of -suite bench whose name it matches.
	Only *regexp.Regexp
}

func (o Options) tfLog() io.Writer {
	switch {
	case o.TerraformLog != nil:
		return o.TerraformLog
	case o.Log != nil:
		return o.Log
	}
	return io.Discard
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// The provider's defaults and the scenarios' settings: max_parallel 10 (the default, and
// Terraform's parallelism for the peer), a drain of 1 s so that the figures show the tools'
// own overhead rather than a wait every tool pays alike, and the 2 s poll of cloud.DefaultPoll.
const (
	benchParallel = 10
	benchDrain    = time.Second
	benchPoll     = 2 * time.Second
	libraryTool   = "library + adapters"
	terraformTool = "eventscale (terraform)"
)

type suite struct {
	lab *Lab
	o   Options
}

// RunBench runs `make bench`: the library scenarios at o.Scale, then the refresh of a
// 500-node web pool through the Terraform CLI.
func RunBench(ctx context.Context, o Options) ([]Row, error) {
	if o.Scale <= 0 {
		o.Scale = 0.05
	}
	lab, err := StartLab(ctx, Realistic, o.Scale)
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	s := &suite{lab: lab, o: o}
	m := Realistic
	pool := func(desired, batch int) PoolRun {
		return PoolRun{Key: "bench-web", Desired: desired, MaxParallel: benchParallel, BatchSize: batch, Drain: benchDrain,
			Poll: benchPoll, HealthCheck: true}
	}
	rolling := pool(20, 5)
	rolling.NewImage = true
	scenarios := []struct {
		name string
		run  func(name string) Row
	}{
		{"scale-out 0→50", func(name string) Row {
			return s.library(ctx, name, m.ScaleOutFloor(50, benchParallel), 0, pool(50, 1))
		}},
		{"scale-in 50→0, batch_size 1", func(name string) Row {
			return s.library(ctx, name, m.ScaleInFloor(50, 1, benchDrain), 50, pool(0, 1))
		}},
		{"scale-in 50→0, batch_size 5", func(name string) Row {
			return s.library(ctx, name, m.ScaleInFloor(50, 5, benchDrain), 50, pool(0, 5))
		}},
		{"scale-out 0→200", func(name string) Row {
			return s.library(ctx, name, m.ScaleOutFloor(200, benchParallel), 0, pool(200, 1))
		}},
		{"rolling replacement of 20 nodes, batch_size 5", func(name string) Row {
			// 200 nodes are faster gone with the lab than with a scale-back nobody measures.
			if err := lab.Reset(ctx); err != nil {
				return Row{Scenario: name, Tool: libraryTool, Err: err.Error()}
			}
			return s.library(ctx, name, m.RollingFloor(20, 5, benchParallel, benchDrain), 20, rolling)
		}},
		{"refresh, no changes, 500 nodes (terraform plan)", func(name string) Row {
			if o.Terraform == "" {
				return Row{Scenario: name, Tool: terraformTool, Err: "no Terraform CLI given (-terraform)"}
			}
			if err := lab.Reset(ctx); err != nil {
				return Row{Scenario: name, Tool: terraformTool, Err: err.Error()}
			}
			return s.refresh(ctx, name, 500)
		}},
	}
	var rows []Row
	for _, sc := range scenarios {
		if o.Only != nil && !o.Only.MatchString(sc.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		r := sc.run(sc.name)
		rows = append(rows, r)
		o.logf("%s", r.summary())
	}
	return rows, nil
}

// library measures one Apply of the library with the real adapters, after bringing the pool
// to from nodes (unmeasured; a pool already there costs one discovery).
func (s *suite) library(ctx context.Context, name string, floor time.Duration, from int, run PoolRun) Row {
	row := Row{Scenario: name, Tool: libraryTool, Floor: floor}
	s.o.logf("==> %s (floor %s)", name, secs(floor))
	run.Target, run.Scale = s.lab.Target, s.lab.Scale
	if run.NewImage {
		run.ImageID = s.lab.Target.NewImageID
	}
	if err := s.setUpPool(ctx, run.Key, from); err != nil {
		row.Err = err.Error()
		return row
	}
	m := s.lab.mark()
	res, rss, err := s.runPool(ctx, run)
	row.Usage = s.lab.usage(m)
	row.RSSKB = rss
	if err != nil {
		row.Err = err.Error()
		return row
	}
	row.Wall = res.End.Sub(res.Start)
	row.Measured = s.lab.modelTime(measuredEnd(res.End, row.Usage).Sub(res.Start))
	row.FirstServing = s.lab.firstServing(row.Usage, res.Start)
	row.Err = res.Err
	if row.Err == "" && res.Serving != run.Desired {
		row.Err = fmt.Sprintf("%d of %d nodes serve afterwards", res.Serving, run.Desired)
	}
	return row
}

// setUpPool brings the pool to n nodes on the lab's image, every server building at once.
func (s *suite) setUpPool(ctx context.Context, key string, n int) error {
	res, err := RunPool(ctx, PoolRun{Target: s.lab.Target, Scale: s.lab.Scale, Key: key, Desired: n, MaxParallel: 100,
		BatchSize: 100, Poll: benchPoll})
	if err == nil && res.Err != "" {
		err = errors.New(res.Err)
	}
	if err == nil && res.Serving != n {
		err = fmt.Errorf("%d of %d nodes serve", res.Serving, n)
	}
	if err != nil {
		return fmt.Errorf("setting the pool up with %d nodes: %w", n, err)
	}
	return nil
}

// runPool runs the library in a child process when there is one to run, so that its peak
// memory is its own.
func (s *suite) runPool(ctx context.Context, run PoolRun) (PoolResult, int64, error) {
	if s.o.Self == "" {
		res, err := RunPool(ctx, run)
		return res, 0, err
	}
	in, err := json.Marshal(run)
	if err != nil {
		return PoolResult{}, 0, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, s.o.Self, PoolRunFlag)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &out
	cmd.Stderr = s.o.tfLog()
	cmd.Env = cleanEnv(os.Environ(), nil)
	err = cmd.Run()
	rss := maxRSSKB(cmd.ProcessState)
	if err != nil {
		return PoolResult{}, rss, fmt.Errorf("library run (%s %s): %w", s.o.Self, PoolRunFlag, err)
	}
	var res PoolResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return PoolResult{}, rss, fmt.Errorf("library run: reading its result %q: %w", out.String(), err)
	}
	return res, rss, nil
}

// PoolRunFlag makes the benchmark command a library run: a PoolRun as JSON on stdin, its
// PoolResult as JSON on stdout.
const PoolRunFlag = "-pool-run"

// ServePoolRun is the child side of runPool.
func ServePoolRun(ctx context.Context, in io.Reader, out io.Writer) error {
	var run PoolRun
	if err := json.NewDecoder(in).Decode(&run); err != nil {
		return fmt.Errorf("reading the pool run: %w", err)
	}
	res, err := RunPool(ctx, run)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(res)
}

// refresh is a `terraform plan` of an n-node web pool that has not changed: the refresh
// operators run before and during an event. The pool is built first through Terraform (at the
// lab's scale, a hundred servers building at once), then the plan runs at time scale 1, where
// model time is wall time: a refresh waits for no state transition, so its time is the
// provider's and Terraform's own work.
func (s *suite) refresh(ctx context.Context, name string, n int) Row {
	row := Row{Scenario: name, Tool: terraformTool}
	s.o.logf("==> %s", name)
	ws, err := newWorkspace(s.o.Terraform, filepath.Join(s.o.WorkDir, "refresh"), Eventscale(s.o.Provider), s.o.Self, s.o.tfLog())
	if err != nil {
		row.Err = err.Error()
		return row
	}
	co := ConfigOptions{MaxParallel: 100, BatchSize: 1, Drain: time.Duration(float64(benchDrain) * s.lab.Scale)}
	// A hundred waiters polling every 0.1 s of wall time would only load the machine.
	if _, err := ws.run(ctx, s.lab, n, co, map[string]string{"EVENTSCALE_POLL_INTERVAL": "250ms"},
		"apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		row.Err = "setting up: " + err.Error()
		return row
	}
	scale := s.lab.Scale
	s.lab.SetScale(1)
	defer s.lab.SetScale(scale)
	row = s.terraform(ctx, ws, name, 0, n, co, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	row.Tool = terraformTool
	return row
}

// terraform measures one Terraform command: from its start to its end, or to the end of what
// it asked of the cloud when that comes later.
func (s *suite) terraform(ctx context.Context, ws *workspace, name string, floor time.Duration, size int, co ConfigOptions, args ...string) Row {
	row := Row{Scenario: name, Tool: ws.provider.Name, Floor: floor}
	m := s.lab.mark()
	r, err := ws.run(ctx, s.lab, size, co, nil, args...)
	row.Usage = s.lab.usage(m)
	row.RSSKB = r.RSSKB
	row.Wall = r.End.Sub(r.Start)
	row.Measured = s.lab.modelTime(measuredEnd(r.End, row.Usage).Sub(r.Start))
	row.FirstServing = s.lab.firstServing(row.Usage, r.Start)
	if err != nil {
		row.Err = err.Error()
	}
	if r.ExitCode == 2 {
		row.Err = "the plan is not empty: the provider read back something other than what it wrote"
	}
	return row
}

// RunCompare runs `make bench-compare`: this provider and terraform-provider-openstack through
// the Terraform CLI, back to back on one devcloud, each from a fresh lab: scale-out 0→small,
// scale-back small→0, scale-out 0→large, and a plan with no changes at large.
func RunCompare(ctx context.Context, o Options) ([]Row, error) {
	if o.CompareSmall <= 0 {
		o.CompareSmall = 10
	}
	if o.CompareLarge <= 0 {
		o.CompareLarge = 50
	}
	if o.CompareScale <= 0 {
		o.CompareScale = 1
	}
	if o.Terraform == "" {
		return nil, errors.New("the comparison needs the Terraform CLI")
	}
	lab, err := StartLab(ctx, Realistic, o.CompareScale)
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	s := &suite{lab: lab, o: o}
	m := Realistic
	small, large := o.CompareSmall, o.CompareLarge
	tf := func(command string, parallel int) []string {
		args := []string{command, "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", parallel)}
		if command == "apply" {
			return append(args, "-auto-approve")
		}
		return append(args, "-detailed-exitcode")
	}
	steps := []compareStep{
		{fmt.Sprintf("scale-out 0→%d", small), m.ScaleOutFloor(small, benchParallel), small, tf("apply", benchParallel)},
		{fmt.Sprintf("scale-back %d→0", small), m.ScaleInFloor(small, 1, benchDrain), 0, tf("apply", benchParallel)},
		{fmt.Sprintf("scale-out 0→%d", large), m.ScaleOutFloor(large, benchParallel), large, tf("apply", benchParallel)},
		{fmt.Sprintf("refresh, no changes, %d nodes (terraform plan)", large), 0, large, tf("plan", benchParallel)},
	}
	// The same scale-out with every server building at once (max_parallel and Terraform's
	// -parallelism raised to the pool's size): what is left is what each tool asks of the
	// cloud, one build for both, then one update cycle for all the members or one per member.
	wide := []compareStep{{fmt.Sprintf("scale-out 0→%d, max_parallel and -parallelism %d", large, large),
		m.ScaleOutFloor(large, large), large, tf("apply", large)}}
	providers := []Provider{Eventscale(o.Provider), Peer(o.Peer)}
	var rows []Row
	for i, p := range providers {
		got, err := s.compareRun(ctx, p, "compare-", i > 0, benchParallel, steps)
		rows = append(rows, got...)
		if err != nil {
			return rows, err
		}
	}
	for _, p := range providers {
		got, err := s.compareRun(ctx, p, "compare-wide-", true, large, wide)
		rows = append(rows, got...)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// compareStep is one Terraform command of the comparison: the pool's size and the command.
type compareStep struct {
	name  string
	floor time.Duration
	size  int
	args  []string
}

// compareRun runs the steps with one provider in a workspace of its own (dir + the provider's
// name), from a fresh devcloud when reset, with max_parallel set to parallel.
func (s *suite) compareRun(ctx context.Context, p Provider, dir string, reset bool, parallel int, steps []compareStep) ([]Row, error) {
	if reset {
		if err := s.lab.Reset(ctx); err != nil {
			return nil, err
		}
	}
	ws, err := newWorkspace(s.o.Terraform, filepath.Join(s.o.WorkDir, dir+p.Address[strings.LastIndex(p.Address, "/")+1:]), p, s.o.Self, s.o.tfLog())
	if err != nil {
		return nil, err
	}
	co := ConfigOptions{MaxParallel: parallel, BatchSize: 1, Drain: time.Duration(float64(benchDrain) * s.lab.Scale)}
	var rows []Row
	for _, st := range steps {
		s.o.logf("==> %s: %s (floor %s)", p.Name, st.name, secs(st.floor))
		r := s.terraform(ctx, ws, st.name, st.floor, st.size, co, st.args...)
		rows = append(rows, r)
		s.o.logf("%s", r.summary())
	}
	return rows, nil
}
