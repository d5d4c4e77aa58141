// Package fromloadtest journals a load test of internal/loadtest: its counts while it runs
// and its result. It is apart from package journal so that what only reads journals (the
// eventscale command) does not link the load generator.
package fromloadtest

import (
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/loadtest"
)

// Recorder journals one load test run: its counts while it runs and its result.
type Recorder struct {
	w        *journal.Writer
	resource string
	base     journal.LoadTest
	every    time.Duration

	mu          sync.Mutex
	wrote       bool
	lastWritten time.Duration
	lastFailed  uint64
}

// NewRecorder describes the run about to start. label says what the test is for
// ("baseline", "tuned", "peak", "steady"); nodes are the web nodes in service, 0 when
// unknown.
func NewRecorder(w *journal.Writer, resource, label string, spec loadtest.Spec, nodes int) *Recorder {
	base := journal.LoadTest{Label: label, Target: journal.Target(spec.URL), Started: time.Now().UTC(), Nodes: nodes,
		Rate: float64(spec.Rate), Duration: journal.Duration(spec.Duration), MaxP95: journal.Duration(spec.Thresholds.MaxP95)}
	if spec.IsRamp() {
		base.RampFrom, base.Rate = float64(spec.RampFrom), float64(spec.RampTo)
	}
	return &Recorder{w: w, resource: resource, base: base, every: 5 * time.Second}
}

// Progress is the loadtest.Spec.Progress callback. It writes the first call, then a line
// every five seconds, and one at once when requests fail, so that a watcher sees failures
// as they happen.
func (l *Recorder) Progress(p loadtest.Progress) {
	failed := p.Requests - min(p.Successes, p.Requests)
	l.mu.Lock()
	due := !l.wrote || p.Elapsed-l.lastWritten >= l.every || failed != l.lastFailed
	if due {
		l.wrote, l.lastWritten, l.lastFailed = true, p.Elapsed, failed
	}
	l.mu.Unlock()
	if !due {
		return
	}
	lt := l.base
	lt.Running = true
	lt.Elapsed = journal.Duration(p.Elapsed)
	lt.Requests, lt.Successes = p.Requests, p.Successes
	if p.Requests > 0 {
		lt.SuccessRatio = float64(p.Successes) / float64(p.Requests)
	}
	_ = l.w.Write(journal.LoadTestEntry(l.resource, lt))
}

// Result writes the run's result, thresholds evaluated as the load test resource does, and
// the responses per backend when the run counted them.
func (l *Recorder) Result(spec loadtest.Spec, res loadtest.Result, runErr error) {
	lt := l.base
	if !res.StartedAt.IsZero() {
		lt.Started = res.StartedAt.UTC()
	}
	lt.Elapsed = journal.Duration(res.Elapsed)
	lt.Requests, lt.Successes = res.Requests, res.Successes
	lt.AchievedRate, lt.Throughput, lt.SuccessRatio = res.Rate, res.Throughput, res.Success
	lt.P50, lt.P95, lt.P99, lt.Max = journal.Duration(res.Latencies.P50), journal.Duration(res.Latencies.P95), journal.Duration(res.Latencies.P99), journal.Duration(res.Latencies.Max)
	lt.StatusCodes = res.StatusCodes
	// vegeta's errors quote the URL, whose query may hold a token.
	for _, e := range res.FirstErrors {
		lt.Errors = append(lt.Errors, strings.ReplaceAll(e, spec.URL, lt.Target))
	}
	if len(res.Backends) > 0 {
		lt.PerMember = make(map[string]uint64, len(res.Backends))
		for name, c := range res.Backends {
			lt.PerMember[name] = c.Responses
		}
	}
	violations := spec.Thresholds.Evaluate(res)
	for _, v := range violations {
		lt.Violations = append(lt.Violations, v.Message)
	}
	if runErr != nil {
		lt.Violations = append(lt.Violations, "did not complete: "+strings.ReplaceAll(runErr.Error(), spec.URL, lt.Target))
	}
	// A complete run without thresholds was measured, not judged: no verdict, as for a test
	// still running.
	if spec.Thresholds.IsSet() || len(lt.Violations) > 0 {
		lt.Passed = journal.Ptr(len(lt.Violations) == 0)
	}
	_ = l.w.Write(journal.LoadTestEntry(l.resource, lt))
}
