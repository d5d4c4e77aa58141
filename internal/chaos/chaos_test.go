package chaos

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagSchedules = flag.Int("chaos.schedules", envInt("CHAOS_SCHEDULES", 20), "fault schedules to run (env CHAOS_SCHEDULES)")
	flagKills     = flag.Int("chaos.kills", envInt("CHAOS_KILLS", 4), "kill schedules to run, 3 kill points each (env CHAOS_KILLS)")
	flagCreate    = flag.Int("chaos.create-kills", envInt("CHAOS_CREATE_KILLS", 0), "schedules that SIGKILL the first apply, which creates everything (env CHAOS_CREATE_KILLS)")
	flagSeed      = flag.Int64("chaos.seed", int64(envInt("CHAOS_SEED", 1)), "seed of the first schedule; the others follow (env CHAOS_SEED)")
	flagOnly      = flag.String("chaos.only", os.Getenv("CHAOS_ONLY"), "run only this schedule, e.g. faults-17 or kills-1000003 (env CHAOS_ONLY)")
	flagParallel  = flag.Int("chaos.parallel", envInt("CHAOS_PARALLEL", 6), "schedules run at once, each on its own devcloud (env CHAOS_PARALLEL)")
	flagSummary   = flag.String("chaos.summary", os.Getenv("CHAOS_SUMMARY"), "where the figures are written (default bin/chaos-summary.txt; env CHAOS_SUMMARY)")
	flagLogs      = flag.Bool("chaos.logs", os.Getenv("CHAOS_LOGS") != "", "keep every schedule's log in bin/chaos-logs/, not only the failed ones' (env CHAOS_LOGS)")
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// killSeedOffset separates the kill schedules' seeds from the fault schedules'.
const killSeedOffset = 1_000_000

// schedules lists what this run does: -chaos.schedules fault schedules and -chaos.kills kill
// schedules from -chaos.seed on, or the one -chaos.only names.
func schedules(t *testing.T) []schedule {
	if only := *flagOnly; only != "" {
		kind, num, ok := strings.Cut(only, "-")
		seed, err := strconv.ParseInt(num, 10, 64)
		switch {
		case !ok || err != nil:
		case kind == "faults":
			return []schedule{newFaultSchedule(seed)}
		case kind == "kills":
			return []schedule{newKillSchedule(seed)}
		case kind == "createkills":
			return []schedule{newCreateKillSchedule(seed)}
		}
		t.Fatalf("-chaos.only=%q: want faults-<seed>, kills-<seed> or createkills-<seed>", only)
	}
	var out []schedule
	for i := range *flagSchedules {
		out = append(out, newFaultSchedule(*flagSeed+int64(i)))
	}
	for i := range *flagKills {
		out = append(out, newKillSchedule(killSeedOffset+*flagSeed+int64(i)))
	}
	for i := range *flagCreate {
		out = append(out, newCreateKillSchedule(2*killSeedOffset+*flagSeed+int64(i)))
	}
	return out
}

// The provider's promises under a busy cloud's faults and under SIGKILL: partial failure is a
// warning and the next apply adds only what is missing; the state always equals the cloud; no
// server (or anything else) is created twice; a resumed apply never deletes a node that
// serves; nothing is left after destroy; no request through the VIP is lost during a drain.
func TestChaos_EventKeepsItsPromisesUnderFaultsAndKills(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("chaos suite: set TF_ACC=1 (make test runs it)")
	}
	if testing.Short() {
		t.Skip("chaos suite: not with -short")
	}
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if terraform == "" {
		var err error
		if terraform, err = exec.LookPath("terraform"); err != nil {
			t.Skip("chaos suite: no Terraform CLI (set TF_ACC_TERRAFORM_PATH)")
		}
	}
	all := schedules(t)
	if !canKill {
		var kept []schedule
		for _, s := range all {
			if !s.Kill {
				kept = append(kept, s)
			}
		}
		t.Logf("no process groups on this platform: %d kill schedule(s) skipped", len(all)-len(kept))
		all = kept
	}
	root := moduleRoot(t)
	work := t.TempDir()
	start := time.Now()
	su := &suite{terraform: terraform, providerDir: filepath.Join(work, "provider"), workRoot: work}
	buildProvider(t, root, su.providerDir)
	t.Logf("provider built in %.1fs; %d schedule(s), %d at once", time.Since(start).Seconds(), len(all), *flagParallel)

	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	results := make([]result, len(all))
	sem := make(chan struct{}, max(1, *flagParallel))
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				results[i] = result{sched: s, problems: []problem{{kindHarness, "not run: the test's deadline is near"}}}
				return
			}
			results[i] = su.runSchedule(ctx, s)
		}()
	}
	wg.Wait()

	var total figures
	for _, res := range results {
		total.add(res.figures)
		t.Run(res.sched.Name, func(t *testing.T) {
			t.Logf("%s in %.1fs", strings.TrimSpace(res.sched.describe()), res.took.Seconds())
			for _, e := range res.errors {
				t.Logf("ended with a clear error: %s", e)
			}
			if len(res.problems) == 0 {
				if *flagLogs {
					writeLog(t, root, res)
				}
				return
			}
			logPath := writeLog(t, root, res)
			for _, p := range res.problems {
				t.Errorf("%s", p)
			}
			t.Errorf("replay: go test ./internal/chaos/ -run TestChaos -chaos.only=%s -v   (log: %s)", res.sched.Name, logPath)
		})
	}
	summary := summarize(total, results, time.Since(start)) + cpuLine()
	t.Log("\n" + summary)
	path := *flagSummary
	if path == "" {
		path = filepath.Join(root, "bin", "chaos-summary.txt")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("writing the summary: %v", err)
	} else if err := os.WriteFile(path, []byte(summary), 0o644); err != nil { //nolint:gosec // a report for people, not a secret
		t.Errorf("writing the summary: %v", err)
	}
}

// summarize renders the figures: what ran, how steps ended, and the promises' counters.
func summarize(f figures, results []result, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos suite: %d schedule(s) (%d with kills) in %s\n", f.Schedules, f.KillSchedules, elapsed.Round(time.Second))
	fmt.Fprintf(&b, "faults injected: %d armed, %d acted (requests failed, dropped, slowed or de-authenticated; builds failed)\n", f.FaultsArmed, f.FaultsActed)
	fmt.Fprintf(&b, "steps: %d; succeeded first time %d, on re-run %d, once the faults ended %d; failed with a clear error %d, without one %d\n",
		f.Steps, f.Outcomes[firstTime], f.Outcomes[onRerun], f.Outcomes[afterFaultsEnded], f.Outcomes[clearError], f.Outcomes[unclearError])
	var took []time.Duration
	for _, r := range results {
		took = append(took, r.took)
	}
	slices.Sort(took)
	if len(took) > 0 {
		fmt.Fprintf(&b, "terraform runs: %d; schedule time median %s, longest %s\n", f.Runs,
			took[len(took)/2].Round(time.Second), took[len(took)-1].Round(time.Second))
	}
	fmt.Fprintf(&b, "kills: %d SIGKILLs delivered (%d kill points not reached); lock file left %d time(s), lock refused %d time(s), "+
		"force-unlocks %d; terraform.tfstate left empty or cut short %d time(s), restored from its backup (%d time(s) there was none)\n",
		f.Kills, f.KillsMissed, f.LockInfoLeft, f.LockRefused, f.ForceUnlocks, f.StateLost, f.StateLostNoBackup)
	fmt.Fprintf(&b, "traffic through the VIP: %d requests, %d lost\n", f.Requests, f.Lost)
	fmt.Fprintf(&b, "leaks: %d   duplicates: %d   lost requests: %d   other broken promises: %d\n", f.Leaks, f.Duplicates, f.Lost, f.Violations)
	var failed []string
	for _, r := range results {
		if len(r.problems) > 0 {
			failed = append(failed, fmt.Sprintf("%s (%d)", r.sched.Name, len(r.problems)))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "FAILED schedules: %s\n", strings.Join(failed, ", "))
	} else {
		b.WriteString("every promise kept\n")
	}
	var clear []string
	for _, r := range results {
		for _, e := range r.errors {
			clear = append(clear, r.sched.Name+" "+e)
		}
	}
	if len(clear) > 0 {
		b.WriteString("steps that ended with a clear error:\n")
		for _, c := range clear {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	return b.String()
}

// writeLog keeps a schedule's Terraform log under bin/chaos-logs/.
func writeLog(t *testing.T, root string, res result) string {
	dir := filepath.Join(root, "bin", "chaos-logs")
	path := filepath.Join(dir, res.sched.Name+".log")
	var b strings.Builder
	b.WriteString(res.sched.describe())
	for _, p := range res.problems {
		fmt.Fprintf(&b, "PROBLEM %s\n", p)
	}
	b.WriteString("\n")
	b.WriteString(res.log)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keeping the log: %v", err)
		return "(not kept)"
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil { //nolint:gosec // a log for people
		t.Logf("keeping the log: %v", err)
		return "(not kept)"
	}
	return path
}

// moduleRoot is the repository root: bin/ and the provider's main package are there.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// buildProvider builds the provider binary: killing Terraform must take the provider with
// it, which an in-process provider would not allow.
func buildProvider(t *testing.T, root, dir string) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-buildvcs=false", "-o", filepath.Join(dir, "terraform-provider-eventscale"), ".") //nolint:gosec // the go command
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the provider: %v\n%s", err, out)
	}
}
