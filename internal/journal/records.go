package journal

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LoadTest is a load test: while it runs (Running, with the counts so far) and when it is
// done (the result). The entries of one test share Resource, Label and Started.
type LoadTest struct {
	// Label says what the test is for: LabelBaseline, LabelTuned, LabelPeak, LabelSteady or
	// another word. The review measures capacity with every test but a steady one.
	Label   string    `json:"label,omitempty"`
	Target  string    `json:"target,omitempty"`
	Started time.Time `json:"started"`
	Running bool      `json:"running,omitempty"`
	// Nodes are the web nodes in service during the test, when the writer knows them.
	Nodes int `json:"nodes,omitempty"`

	Rate     float64  `json:"rate"`                // requested req/s (the end rate of a ramp)
	RampFrom float64  `json:"ramp_from,omitempty"` // start rate of a ramp
	Duration Duration `json:"duration_ms,omitempty"`
	Elapsed  Duration `json:"elapsed_ms,omitempty"`

	Requests     uint64  `json:"requests"`
	Successes    uint64  `json:"successes"`
	AchievedRate float64 `json:"achieved_rate,omitempty"` // req/s attempted
	Throughput   float64 `json:"throughput,omitempty"`    // successful req/s
	SuccessRatio float64 `json:"success_ratio"`

	P50 Duration `json:"p50_ms,omitempty"`
	P95 Duration `json:"p95_ms,omitempty"`
	P99 Duration `json:"p99_ms,omitempty"`
	Max Duration `json:"max_ms,omitempty"`

	StatusCodes map[string]int `json:"status_codes,omitempty"` // "0": no HTTP answer
	// PerMember counts requests by the member that answered, when the target says so
	// (a response header naming the node, say).
	PerMember map[string]uint64 `json:"per_member,omitempty"`

	MaxP95     Duration `json:"max_p95_ms,omitempty"` // the test's p95 threshold
	Passed     *bool    `json:"passed,omitempty"`     // nil while running or without thresholds
	Violations []string `json:"violations,omitempty"`
	Errors     []string `json:"errors,omitempty"` // the first distinct errors
}

// Labels of the load tests of an event.
const (
	LabelBaseline = "baseline" // the tier as it is, on few nodes: where does it saturate?
	LabelTuned    = "tuned"    // the same after tuning
	LabelPeak     = "peak"     // the planned pool at the expected peak rate
	LabelSteady   = "steady"   // background traffic through a scale-back, to count failed requests
)

// Failed is the number of requests without a 2xx or 3xx answer.
func (l LoadTest) Failed() uint64 {
	if l.Successes > l.Requests {
		return 0
	}
	return l.Requests - l.Successes
}

// Name is the label, or "load test" without one.
func (l LoadTest) Name() string {
	if l.Label != "" {
		return l.Label
	}
	return "load test"
}

// Sentence describes the test in one line.
func (l LoadTest) Sentence() string {
	if l.Running {
		s := fmt.Sprintf("load test %s running: %s", l.Name(), clock(l.Elapsed.Std()))
		if l.Duration > 0 {
			s += " of " + clock(l.Duration.Std())
		}
		return s + fmt.Sprintf(", %d requests, %d failed", l.Requests, l.Failed())
	}
	s := fmt.Sprintf("load test %s at %s req/s", l.Name(), num(l.Rate))
	if l.RampFrom > 0 {
		s = fmt.Sprintf("load test %s ramping %s to %s req/s", l.Name(), num(l.RampFrom), num(l.Rate))
	}
	if l.Duration > 0 {
		s += " for " + l.Duration.Std().String()
	}
	s += fmt.Sprintf(": %d requests, %d failed (%s%% success), p50 %s, p95 %s, p99 %s",
		l.Requests, l.Failed(), num(l.SuccessRatio*100), Millis(l.P50), Millis(l.P95), Millis(l.P99))
	if l.Nodes > 0 {
		s += fmt.Sprintf(", %d nodes", l.Nodes)
	}
	switch {
	case l.Passed == nil:
	case *l.Passed:
		s += "; passed"
	default:
		s += "; FAILED"
		if len(l.Violations) > 0 {
			s += ": " + strings.Join(l.Violations, "; ")
		}
	}
	return s
}

// CapacityPlan is the capacity plan: the inputs and what they gave.
type CapacityPlan struct {
	NodeCapacityRPS    float64 `json:"node_capacity_rps"`
	CurrentPeakRPS     float64 `json:"current_peak_rps"`
	ExpectedMultiplier float64 `json:"expected_multiplier"`
	TargetUtilization  float64 `json:"target_utilization"`
	MinNodes           int     `json:"min_nodes,omitempty"`
	DBReadShare        float64 `json:"db_read_share,omitempty"`
	ReplicaCapacityQPS float64 `json:"replica_capacity_qps,omitempty"`
	QueriesPerRequest  float64 `json:"queries_per_request,omitempty"`

	ExpectedPeakRPS float64 `json:"expected_peak_rps"`
	WebNodes        int     `json:"web_nodes"`
	DBReadQPS       float64 `json:"db_read_qps,omitempty"`
	Replicas        int     `json:"replicas,omitempty"`
	HeadroomPercent float64 `json:"headroom_percent"`
	Formula         string  `json:"formula,omitempty"`
}

// Sentence describes the plan in one line.
func (c CapacityPlan) Sentence() string {
	return fmt.Sprintf("capacity plan: %s req/s × %s = %s req/s expected; at %s req/s per node and %s%% utilization: %d web nodes (%s%% headroom), %d replicas",
		num(c.CurrentPeakRPS), num(c.ExpectedMultiplier), num(c.ExpectedPeakRPS), num(c.NodeCapacityRPS),
		num(c.TargetUtilization*100), c.WebNodes, num(c.HeadroomPercent), c.Replicas)
}

// Preflight is a quota pre-flight: for each quota the event uses, whether what it needs fits.
type Preflight struct {
	Checks []QuotaCheck `json:"checks"`
}

// QuotaCheck is one quota of one service.
type QuotaCheck struct {
	Service  string `json:"service"`  // "compute", "network", "load-balancer", "database", ...
	Resource string `json:"resource"` // "instances", "cores", "ram_mb", "floatingip", ...
	Limit    int64  `json:"limit"`    // -1: unlimited
	InUse    int64  `json:"in_use"`
	Needed   int64  `json:"needed"`
}

// Fits reports whether the quota leaves room for what is needed.
func (q QuotaCheck) Fits() bool { return q.Limit < 0 || q.InUse+q.Needed <= q.Limit }

// Key names the quota: "compute cores".
func (q QuotaCheck) Key() string { return q.Service + " " + q.Resource }

// Short returns the checks that do not fit.
func (p Preflight) Short() []QuotaCheck {
	var out []QuotaCheck
	for _, c := range p.Checks {
		if !c.Fits() {
			out = append(out, c)
		}
	}
	return out
}

// Sentence describes the pre-flight in one line.
func (p Preflight) Sentence() string {
	short := p.Short()
	if len(short) == 0 {
		return fmt.Sprintf("quota pre-flight: all %d quotas leave room for the event", len(p.Checks))
	}
	parts := make([]string, len(short))
	for i, c := range short {
		parts[i] = fmt.Sprintf("%s: limit %d, in use %d, needed %d", c.Key(), c.Limit, c.InUse, c.Needed)
	}
	return fmt.Sprintf("quota pre-flight: %d of %d quotas too small: %s", len(short), len(p.Checks), strings.Join(parts, "; "))
}

// Backup is an image, snapshot or database backup taken before the event.
type Backup struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Type      string    `json:"type"`             // "image", "volume-snapshot", "database-backup"
	Source    string    `json:"source,omitempty"` // the server or instance it was taken of
	Status    string    `json:"status,omitempty"`
	Created   time.Time `json:"created"`
	SizeBytes int64     `json:"size_bytes,omitempty"`
}

// Sentence describes the backup in one line.
func (b Backup) Sentence() string {
	s := fmt.Sprintf("%s %s (%s)", b.Type, b.Name, b.ID)
	if b.Source != "" {
		s += " of " + b.Source
	}
	s += " created " + b.Created.UTC().Format(TimeLayout)
	if b.Status != "" {
		s += ", " + b.Status
	}
	return s
}

// Moments of an LBStats snapshot.
const (
	MomentScaleBackStart = "scale-back-start"
	MomentScaleBackEnd   = "scale-back-end"
	MomentDrain          = "drain" // polled while a node drains
)

// LBStats is a snapshot of Octavia's statistics of a load balancer or of one listener.
type LBStats struct {
	LoadBalancerID    string `json:"load_balancer_id"`
	ListenerID        string `json:"listener_id,omitempty"`
	Moment            string `json:"moment,omitempty"`
	ActiveConnections int64  `json:"active_connections"`
	TotalConnections  int64  `json:"total_connections"`
	BytesIn           int64  `json:"bytes_in"`
	BytesOut          int64  `json:"bytes_out"`
	RequestErrors     int64  `json:"request_errors"`
}

// Scope is "listener" or "loadbalancer": what the counts are of.
func (s LBStats) Scope() string {
	if s.ListenerID != "" {
		return "listener"
	}
	return "loadbalancer"
}

// Sentence describes the snapshot in one line.
func (s LBStats) Sentence() string {
	what := "load balancer " + s.LoadBalancerID
	if s.ListenerID != "" {
		what = "listener " + s.ListenerID
	}
	pre := ""
	switch s.Moment {
	case MomentScaleBackStart:
		pre = "at the start of the scale-back, "
	case MomentScaleBackEnd:
		pre = "at the end of the scale-back, "
	}
	return fmt.Sprintf("%s%s: %d active connections, %d in total, %d request errors",
		pre, what, s.ActiveConnections, s.TotalConnections, s.RequestErrors)
}

// Outcomes of a Run.
const (
	RunStarted   = "started"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// Run is the start or the end of one scaling run (one Apply) of a pool.
type Run struct {
	Outcome string `json:"outcome"`
	From    int    `json:"from"`  // nodes in the pool before the run
	To      int    `json:"to"`    // nodes asked for
	Nodes   int    `json:"nodes"` // nodes in service: From at the start, the result at the end
	Error   string `json:"error,omitempty"`
}

// ScaleBack reports whether the run shrinks the pool.
func (r Run) ScaleBack() bool { return r.To < r.From }

// LoadTestEntry is the entry of a load test's progress or result.
func LoadTestEntry(resource string, lt LoadTest) Entry {
	return Entry{Kind: KindLoadTest, Resource: resource, Message: lt.Sentence(), LoadTest: &lt}
}

// CapacityPlanEntry is the entry of a capacity plan.
func CapacityPlanEntry(resource string, cp CapacityPlan) Entry {
	return Entry{Kind: KindCapacityPlan, Resource: resource, Message: cp.Sentence(), CapacityPlan: &cp}
}

// PreflightEntry is the entry of a quota pre-flight.
func PreflightEntry(resource string, pf Preflight) Entry {
	return Entry{Kind: KindPreflight, Resource: resource, Message: pf.Sentence(), Preflight: &pf}
}

// BackupEntry is the entry of a backup.
func BackupEntry(resource string, b Backup) Entry {
	return Entry{Kind: KindBackup, Resource: resource, Message: b.Sentence(), Backup: &b}
}

// LBStatsEntry is the entry of a statistics snapshot.
func LBStatsEntry(resource string, s LBStats) Entry {
	return Entry{Kind: KindLBStats, Resource: resource, Message: s.Sentence(), LBStats: &s,
		ActiveConnections: Ptr(s.ActiveConnections), ConnectionsScope: s.Scope()}
}

// NoteEntry is a free note: what an operator or the provider wants on the record.
func NoteEntry(resource, message string) Entry {
	return Entry{Kind: KindEvent, Resource: resource, Message: message}
}

// Target strips what must not be written down from a URL: user info and query (either may
// carry a token).
func Target(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// Millis writes a duration as milliseconds for people: "85 ms", "1.2 ms", "1400 ms".
func Millis(d Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms >= 10 {
		return strconv.FormatFloat(float64(int64(ms+0.5)), 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(float64(int64(ms*10+0.5))/10, 'f', -1, 64) + " ms"
}

// num writes a number without trailing zeros, to two decimals at most.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*100+0.5))/100, 'f', -1, 64)
}

// clock writes a duration as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Clock writes a duration as m:ss (h:mm:ss from an hour on), as a countdown shows it.
func Clock(d time.Duration) string { return clock(d) }
