package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// suite is what every schedule shares: the Terraform CLI and the provider binary.
type suite struct {
	terraform   string
	providerDir string
	workRoot    string
}

// maxRuns bounds the operator's re-runs of a failed step (kills and lock clean-ups aside).
const maxRuns = 5

// scheduleBound is the longest one schedule may take.
const scheduleBound = 10 * time.Minute

// outcome of a step.
type outcome int

const (
	firstTime        outcome = iota // the first run succeeded
	onRerun                         // a plain re-run (apply or destroy again) succeeded
	afterFaultsEnded                // it succeeded once the faults were over
	clearError                      // it failed every time, with an error an operator can act on
	unclearError                    // it failed without a clear error (a crash, a hang)
)

// figures are a run's counts; the suite sums them over schedules.
type figures struct {
	Schedules, KillSchedules int
	FaultsArmed, FaultsActed int
	Steps                    int
	Outcomes                 [5]int
	Runs                     int
	Kills, KillsMissed       int
	LockInfoLeft             int
	StateLost                int // terraform.tfstate left empty or cut short by a kill
	StateLostNoBackup        int // ... when there was no backup to restore
	LockRefused              int
	ForceUnlocks             int
	Requests, Lost           int64
	Leaks, Duplicates        int
	Violations               int
}

func (f *figures) add(o figures) {
	f.Schedules += o.Schedules
	f.KillSchedules += o.KillSchedules
	f.FaultsArmed += o.FaultsArmed
	f.FaultsActed += o.FaultsActed
	f.Steps += o.Steps
	for i := range f.Outcomes {
		f.Outcomes[i] += o.Outcomes[i]
	}
	f.Runs += o.Runs
	f.Kills += o.Kills
	f.KillsMissed += o.KillsMissed
	f.LockInfoLeft += o.LockInfoLeft
	f.StateLost += o.StateLost
	f.StateLostNoBackup += o.StateLostNoBackup
	f.LockRefused += o.LockRefused
	f.ForceUnlocks += o.ForceUnlocks
	f.Requests += o.Requests
	f.Lost += o.Lost
	f.Leaks += o.Leaks
	f.Duplicates += o.Duplicates
	f.Violations += o.Violations
}

// result is one schedule's outcome.
type result struct {
	sched    schedule
	problems []problem
	errors   []string // the clear errors steps ended with
	figures  figures
	log      string
	took     time.Duration
}

// scheduleRun is one schedule in progress.
type scheduleRun struct {
	s      schedule
	dc     *devcloud.Cloud
	client *cloud.Client
	ws     *workspace
	gate   *healthGate
	vip    vipTarget
	base   baseline
	res    *result
	seen   map[string]bool // problems reported, so a broken promise is counted once
}

func (r *scheduleRun) report(ps ...problem) {
	for _, p := range ps {
		if r.seen[p.String()] {
			continue
		}
		r.seen[p.String()] = true
		r.res.problems = append(r.res.problems, p)
		switch p.Kind {
		case kindLeak:
			r.res.figures.Leaks++
		case kindDuplicate:
			r.res.figures.Duplicates++
		case kindLost:
		default:
			r.res.figures.Violations++
		}
		r.ws.note("PROBLEM %s", p)
	}
}

func (su *suite) runSchedule(ctx context.Context, s schedule) (res result) {
	start := time.Now()
	res.sched = s
	res.figures.Schedules = 1
	if s.Kill {
		res.figures.KillSchedules = 1
	}
	ctx, cancel := context.WithTimeout(ctx, scheduleBound)
	defer cancel()

	dir, err := os.MkdirTemp(su.workRoot, s.Name+"-")
	if err != nil {
		res.problems = append(res.problems, problem{kindHarness, err.Error()})
		return res
	}
	defer func() { _ = os.RemoveAll(dir) }()
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: s.Seed})
	if err != nil {
		res.problems = append(res.problems, problem{kindHarness, "starting devcloud: " + err.Error()})
		return res
	}
	defer func() { _ = dc.Close() }()
	r := &scheduleRun{s: s, dc: dc, res: &res, seen: map[string]bool{}}
	if r.gate, err = startHealthGate(&r.vip); err != nil {
		res.problems = append(res.problems, problem{kindHarness, "starting the health URL: " + err.Error()})
		return res
	}
	defer r.gate.close()
	if r.ws, err = newWorkspace(dir, su.terraform, su.providerDir, eventHCL(dc, r.gate.url)); err != nil {
		res.problems = append(res.problems, problem{kindHarness, err.Error()})
		return res
	}
	defer func() {
		res.log = r.ws.logText()
		res.took = time.Since(start)
	}()
	r.ws.note("%s", strings.TrimSpace(s.describe()))
	env := dc.Env()
	cfg := cloud.Config{AuthURL: dc.AuthURL(), UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"], ProjectName: env["OS_PROJECT_NAME"],
		UserDomainName: env["OS_USER_DOMAIN_NAME"], ProjectDomainName: env["OS_PROJECT_DOMAIN_NAME"], Region: env["OS_REGION_NAME"]}
	if cfg, err = cfg.Resolve(); err != nil {
		r.report(problem{kindHarness, "cloud configuration: " + err.Error()})
		return res
	}
	if r.client, err = cloud.NewClient(cfg, nil, "eventscale-chaos-suite"); err != nil {
		r.report(problem{kindHarness, "cloud client: " + err.Error()})
		return res
	}
	cv, err := readCloud(ctx, r.client)
	if err != nil {
		r.report(problem{kindHarness, "reading the seed: " + err.Error()})
		return res
	}
	r.base = baselineOf(cv)

	destroyed := false
	for st := stepCreate; st < numSteps; st++ {
		ok := r.step(ctx, st)
		if st == stepDestroy {
			destroyed = ok
		}
		if !ok {
			break
		}
	}
	if !destroyed {
		r.cleanUp(ctx)
	}
	if cv, err := r.read(ctx); err == nil {
		r.report(checkNoLeaks(cv, r.base)...)
	} else {
		r.report(problem{kindHarness, "reading the cloud after destroy: " + err.Error()})
	}
	events := dc.Events()
	r.report(checkNoDuplicates(events)...)
	r.report(checkStaggered(events, dc.Seed().Web01Address)...)
	return res
}

// read lists the cloud with the faults paused: the suite must see the cloud as it is, and
// must not use up a fault meant for the provider.
func (r *scheduleRun) read(ctx context.Context) (cloudView, error) {
	resume := r.dc.SuspendFaults()
	defer resume()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return readCloud(rctx, r.client)
}

// sizes are the variables of a step.
func (r *scheduleRun) sizes(st step) (nodes, replicas int) {
	i := min(int(st), 2)
	return r.s.Nodes[i], r.s.Replicas[i]
}

func (st step) args() []string {
	switch st {
	case stepDestroyPool:
		return []string{"destroy", "-auto-approve", "-input=false", "-no-color", "-target=eventscale_web_pool.web"}
	case stepDestroy:
		return []string{"destroy", "-auto-approve", "-input=false", "-no-color"}
	}
	return []string{"apply", "-auto-approve", "-input=false", "-no-color"}
}

// Pool timeouts: generous, and short for the run whose health URL fails, which would
// otherwise hold the scale-in for the health check's five minutes.
const (
	poolTimeout     = "120s"
	gatePoolTimeout = "10s"
)

// step runs one operator step under its faults until it succeeds, re-running it as an
// operator would, and checks the promises after every run. It reports whether the step got
// done; a step that could not (after its re-runs and one run once the faults ended) ends the
// schedule, and the clean-up destroys what is left.
func (r *scheduleRun) step(ctx context.Context, st step) bool {
	f := &r.res.figures
	f.Steps++
	nodes, replicas := r.sizes(st)
	r.ws.vars["web_nodes"], r.ws.vars["replicas"], r.ws.vars["pool_timeout"] = nodes, replicas, poolTimeout
	spec, gateFault := r.s.spec(st)
	armed := len(spec.Rules)
	if spec.ServerErrors != nil {
		armed++
	}
	if spec.ReplicaErrors != nil {
		armed++
	}
	armed += len(spec.ExtraDelaySeconds)
	if gateFault != nil {
		armed++
	}
	f.FaultsArmed += armed
	r.ws.note("step %s: %d web nodes, %d replicas, %d fault(s)", st, nodes, replicas, armed)
	r.dc.InjectFaults(spec)
	var load *traffic
	if st.underTraffic() {
		load = startTraffic(&r.vip)
	}
	var kill *killPoint
	for i := range r.s.Kills {
		if r.s.Kills[i].Step == st {
			kill = &r.s.Kills[i]
		}
	}
	from := len(r.dc.Events())
	killed := false

	result := clearError
	var lastErr string
	failures, unclear := 0, false
	// Killed runs and lock clean-ups are not failures of the step, but they are bounded too.
	for attempt := 0; attempt < 2*maxRuns && failures < maxRuns; attempt++ {
		if ctx.Err() != nil {
			break
		}
		var trigger func(<-chan struct{}) bool
		if kill != nil && !killed {
			trigger = r.killTrigger(*kill, from)
		}
		r.gate.failWhen(nil)
		r.ws.vars["pool_timeout"] = poolTimeout
		if gateFault != nil && failures == 0 && !killed {
			r.gate.failWhen(r.removedSince(len(r.dc.Events())))
			r.ws.vars["pool_timeout"] = gatePoolTimeout
		}
		res := r.ws.run(ctx, trigger, st.args()...)
		f.Runs++
		if res.killed {
			killed = true
			f.Kills++
			r.afterKill()
			continue
		}
		if strings.Contains(res.output, lockMessage) {
			r.forceUnlock(ctx, res)
			continue
		}
		done, why := r.state().converged(st, nodes, replicas)
		r.afterRun(ctx, st, res, from, res.ok() && done)
		if res.ok() && done {
			result = firstTime
			if failures > 0 || killed {
				result = onRerun
			}
			break
		}
		if res.ok() {
			r.ws.note("the run succeeded but the step is not done (%s): applying again", why)
		} else {
			lastErr = res.errorSummary()
			if why := res.unclear(); why != "" {
				unclear = true
				r.report(problem{kindUnclear, fmt.Sprintf("%s, %s: %s: %s", st, res, why, lastLines(res.output, 8))})
			}
		}
		failures++
	}
	if kill != nil && !killed {
		f.KillsMissed++
		r.ws.note("kill point %s not reached", kill)
	}
	acted := r.dc.FaultsActed()
	f.FaultsActed += acted
	r.dc.InjectFaults(devcloud.FaultSpec{})
	r.gate.failWhen(nil)
	r.ws.vars["pool_timeout"] = poolTimeout

	if result == clearError && ctx.Err() == nil {
		// The cloud calmed down: the operator's next apply must finish the step.
		res := r.ws.run(ctx, nil, st.args()...)
		f.Runs++
		ok, why := r.state().converged(st, nodes, replicas)
		r.afterRun(ctx, st, res, from, res.ok() && ok)
		switch {
		case res.ok() && ok:
			result = afterFaultsEnded
		case res.ok():
			r.report(problem{kindStuck, fmt.Sprintf("%s: applied without faults, and still %s", st, why)})
		default:
			r.report(problem{kindStuck, fmt.Sprintf("%s: fails without faults: %s", st, res.errorSummary())})
		}
		if result == clearError && lastErr != "" {
			r.res.errors = append(r.res.errors, fmt.Sprintf("%s: %s", st, lastErr))
		}
	}
	if load != nil {
		sent, failed, reasons := load.stop()
		f.Requests += sent
		f.Lost += failed
		if failed > 0 {
			r.report(problem{kindLost, fmt.Sprintf("%s: %d of %d requests through the VIP failed: %s", st, failed, sent, reasons)})
		}
	}
	if unclear && result == clearError {
		result = unclearError
	}
	f.Outcomes[result]++
	done := result <= afterFaultsEnded
	// Once a step that met a fault or a kill is done, the next plan must be empty: the re-runs
	// added exactly what was missing. (A step that ran clean first time is the plain case
	// the acceptance tests cover, and not worth a Terraform run here.)
	if done && st <= stepScaleIn && (acted > 0 || result != firstTime || gateFault != nil) {
		r.planIsEmpty(ctx, st)
	}
	r.ws.note("step %s: %s", st, [...]string{"succeeded first time", "succeeded on re-run", "succeeded once the faults ended",
		"failed with a clear error", "failed without a clear error"}[result])
	return done
}

// state reads Terraform's state file; a state the suite cannot read is a broken promise too.
func (r *scheduleRun) state() stateView {
	st, err := readState(r.ws.dir)
	if err != nil {
		r.report(problem{kindStateCloud, "reading terraform.tfstate: " + err.Error()})
	}
	return st
}

// afterRun checks the promises that hold after every run that ended by itself, failed or not.
// from is the event index at which the step began: after a failed run, the state may still
// list what a failed run of the step had deleted (no refresh has succeeded since).
func (r *scheduleRun) afterRun(ctx context.Context, st step, res tfResult, from int, final bool) {
	state := r.state()
	if state.lb != nil {
		r.updateVIP(state.lb.ID)
	}
	cv, err := r.read(ctx)
	if err != nil {
		r.report(problem{kindHarness, fmt.Sprintf("%s: reading the cloud: %v", st, err)})
		return
	}
	gone := map[string]bool{}
	if !res.ok() {
		gone = deletedIDs(r.dc.Events(), from)
	}
	for _, p := range checkStateEqualsCloud(state, cv, r.base, gone, final) {
		p.Msg = fmt.Sprintf("after %s (%s): %s", res, st, p.Msg)
		r.report(p)
	}
	r.report(checkNoDrainedMember(cv)...)
	if st.drains() {
		for _, p := range checkServing(state, cv) {
			p.Msg = fmt.Sprintf("after %s (%s, exit %d): %s", res, st, res.exitCode, p.Msg)
			r.report(p)
		}
	}
}

func (r *scheduleRun) updateVIP(lbID string) {
	for _, v := range r.dc.VIPs() {
		if v.LoadBalancerID == lbID && v.URL != "" {
			r.vip.set(v.URL + "/")
			return
		}
	}
}

// planIsEmpty: once a step is done, with the faults over, the configuration and the cloud
// agree: terraform plan proposes nothing.
func (r *scheduleRun) planIsEmpty(ctx context.Context, st step) {
	res := r.ws.run(ctx, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	r.res.figures.Runs++
	switch res.exitCode {
	case 0:
	case 2:
		r.report(problem{kindPlan, fmt.Sprintf("after %s: %s", st, planChanges(res.output))})
	default:
		r.report(problem{kindPlan, fmt.Sprintf("after %s, terraform plan failed without faults: %s", st, res.errorSummary())})
	}
}

// killTrigger waits for the kill point's Nth event since from.
func (r *scheduleRun) killTrigger(k killPoint, from int) func(<-chan struct{}) bool {
	return func(done <-chan struct{}) bool {
		seen, next := 0, from
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return false
			case <-tick.C:
			}
			events := r.dc.Events()
			for ; next < len(events); next++ {
				if k.Match(events[next]) {
					seen++
					if seen >= k.N {
						r.ws.note("kill point %s reached: %s %v", k, events[next].Kind, events[next].Attrs)
						return true
					}
				}
			}
		}
	}
}

// removedSince reports, for the health URL, whether a web node's member has been removed
// since the event index from: the tier goes bad half-way through the scale-in.
func (r *scheduleRun) removedSince(from int) func() bool {
	return func() bool {
		events := r.dc.Events()
		for _, e := range events[min(from, len(events)):] {
			if e.Kind == "member.removed" {
				return true
			}
		}
		return false
	}
}

// afterKill records what a SIGKILLed Terraform leaves, and does what an operator does about
// it. The local backend's lock is an fcntl lock the kernel drops with the process, so the
// lock file left behind blocks nothing (the next run overwrites it; force-unlock is only
// needed if a run says the lock is held). But the local backend writes terraform.tfstate in
// place (truncate, then write): a kill in between leaves it empty or cut short, and the next
// run would see no state and create everything again. The operator restores
// terraform.tfstate.backup, the state as the killed run found it.
func (r *scheduleRun) afterKill() {
	if id, ok := r.ws.lockInfo(); ok {
		r.res.figures.LockInfoLeft++
		r.ws.note("SIGKILL left .terraform.tfstate.lock.info (lock %s)", id)
	} else {
		r.ws.note("SIGKILL left no lock file")
	}
	if _, err := readState(r.ws.dir); err != nil {
		r.res.figures.StateLost++
		r.ws.note("SIGKILL left terraform.tfstate unreadable (%v): restoring terraform.tfstate.backup", err)
		switch err := r.ws.restoreBackup(); {
		case errors.Is(err, os.ErrNotExist):
			// The first apply has no earlier state to back up: what it made is known to no
			// state, and only what the provider finds by name is not made twice.
			r.res.figures.StateLostNoBackup++
			r.ws.note("no terraform.tfstate.backup (the first apply): the next apply starts from no state")
		case err != nil:
			r.report(problem{kindHarness, "restoring terraform.tfstate.backup: " + err.Error()})
		}
	}
}

// forceUnlock is the operator's answer to a state lock a dead Terraform still holds.
func (r *scheduleRun) forceUnlock(ctx context.Context, res tfResult) {
	r.res.figures.LockRefused++
	id := lockID(res.output)
	if id == "" {
		id, _ = r.ws.lockInfo()
	}
	r.ws.note("the state lock is held (lock %q): terraform force-unlock", id)
	un := r.ws.run(ctx, nil, "force-unlock", "-force", id)
	if un.ok() {
		r.res.figures.ForceUnlocks++
	} else {
		r.report(problem{kindHarness, "terraform force-unlock failed: " + un.errorSummary()})
	}
}

// cleanUp destroys what a schedule that stopped early left, without faults.
func (r *scheduleRun) cleanUp(ctx context.Context) {
	r.dc.InjectFaults(devcloud.FaultSpec{})
	for range 3 {
		res := r.ws.run(ctx, nil, stepDestroy.args()...)
		r.res.figures.Runs++
		if strings.Contains(res.output, lockMessage) {
			r.forceUnlock(ctx, res)
			continue
		}
		if res.ok() {
			return
		}
	}
	r.report(problem{kindStuck, "terraform destroy without faults does not finish: the leaks below are left"})
}
