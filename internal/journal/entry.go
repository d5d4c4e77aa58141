package journal

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// DefaultPath is where the provider writes the journal and where `eventscale watch` and
// `eventscale review` look for it: relative to the working directory, which for the
// provider is the directory Terraform runs in.
const DefaultPath = ".eventscale/journal.jsonl"

// EnvPath names the environment variable that moves the journal elsewhere, for the
// provider and the command alike.
const EnvPath = "EVENTSCALE_JOURNAL"

// PathFromEnv is $EVENTSCALE_JOURNAL when set, else DefaultPath.
func PathFromEnv() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return DefaultPath
}

// TimeLayout is the layout of an entry's time: RFC 3339 with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Kind says what an entry is about.
type Kind string

// The step kinds of the scaling library, one per step of a plan.
const (
	KindRemoveOrphans = Kind(scaling.StepRemoveOrphans)
	KindDelete        = Kind(scaling.StepDelete)
	KindRestore       = Kind(scaling.StepRestore)
	KindCreate        = Kind(scaling.StepCreate)
	KindJoin          = Kind(scaling.StepJoin)
	KindWaitOnline    = Kind(scaling.StepWaitOnline)
	KindRebootCheck   = Kind(scaling.StepRebootCheck)
	KindDrain         = Kind(scaling.StepDrain)
	KindDrainWait     = Kind(scaling.StepDrainWait)
	KindRemoveMembers = Kind(scaling.StepRemoveMembers)
	KindHealthGate    = Kind(scaling.StepHealthGate)
	KindReplicas      = Kind(scaling.StepReplicas)
)

// The kinds of the records around the scaling steps.
const (
	KindLoadTest     Kind = "load-test"     // LoadTest: a running test's counts, or its result
	KindCapacityPlan Kind = "capacity-plan" // CapacityPlan: inputs and the planned nodes
	KindPreflight    Kind = "preflight"     // Preflight: quotas against what the event needs
	KindBackup       Kind = "backup"        // Backup: an image or backup taken before the event
	KindLBStats      Kind = "lb-stats"      // LBStats: load balancer or listener statistics
	KindEvent        Kind = "event"         // Run: a scaling run started or ended; or a note
)

// NodeEvent is a moment in a web node's life.
type NodeEvent string

const (
	NodeCreated  NodeEvent = "created"  // Nova returned the server's id
	NodeActive   NodeEvent = "active"   // the server is ACTIVE
	NodeError    NodeEvent = "error"    // the server went to ERROR (Fault says why)
	NodeJoined   NodeEvent = "joined"   // the member was added to the pool
	NodeServing  NodeEvent = "serving"  // the member is healthy: it takes traffic
	NodeDrained  NodeEvent = "drained"  // weight 0 or admin_state_up=false applied
	NodeRestored NodeEvent = "restored" // a drained member put back in service
	NodeRemoved  NodeEvent = "removed"  // the member is gone from the pool
	NodeDeleted  NodeEvent = "deleted"  // the server is gone
)

// Entry is one line of the journal.
type Entry struct {
	Time     time.Time `json:"-"`
	Kind     Kind      `json:"kind"`
	Resource string    `json:"resource,omitempty"` // Terraform address, e.g. eventscale_web_pool.web
	Pool     string    `json:"pool,omitempty"`     // the web pool's name
	Node     string    `json:"node,omitempty"`     // the node the entry is about, when one
	Nodes    []string  `json:"nodes,omitempty"`    // the nodes, when the entry is about several
	ServerID string    `json:"server_id,omitempty"`

	// The step of the run in progress.
	StepIndex int      `json:"step_index,omitempty"` // 1-based
	StepTotal int      `json:"step_total,omitempty"`
	Step      string   `json:"step,omitempty"`       // the step in words
	Elapsed   Duration `json:"elapsed_ms,omitempty"` // since the step started
	// DrainLeft is the drain time still to wait, from Time on (drain-wait and lb-stats).
	DrainLeft Duration `json:"drain_left_ms,omitempty"`
	// ActiveConnections are the load balancer's or the listener's (ConnectionsScope):
	// Octavia counts no connections per member.
	ActiveConnections *int64 `json:"active_connections,omitempty"`
	ConnectionsScope  string `json:"connections_scope,omitempty"`
	Next              string `json:"next,omitempty"` // what comes after this step, e.g. "remove member web-05"

	NodeEvent NodeEvent `json:"node_event,omitempty"`
	Fault     string    `json:"fault,omitempty"` // Nova's fault message of a server in ERROR

	Message string `json:"message"`

	Run          *Run          `json:"run,omitempty"`
	LoadTest     *LoadTest     `json:"load_test,omitempty"`
	CapacityPlan *CapacityPlan `json:"capacity_plan,omitempty"`
	Preflight    *Preflight    `json:"preflight,omitempty"`
	Backup       *Backup       `json:"backup,omitempty"`
	LBStats      *LBStats      `json:"lb_stats,omitempty"`
}

// entryJSON puts the time first, in the journal's layout.
type entryJSON struct {
	Time string `json:"time"`
	entryFields
}

type entryFields Entry

// MarshalJSON writes the time as RFC 3339 with milliseconds, in UTC.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(entryJSON{Time: e.Time.UTC().Format(TimeLayout), entryFields: entryFields(e)})
}

// UnmarshalJSON reads any RFC 3339 time.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var v entryJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, v.Time)
	if err != nil {
		return fmt.Errorf("entry time %q: %w", v.Time, err)
	}
	*e = Entry(v.entryFields)
	e.Time = t
	return nil
}

// AllNodes returns the nodes the entry is about: Node, or else Nodes.
func (e Entry) AllNodes() []string {
	if e.Node != "" {
		return []string{e.Node}
	}
	return e.Nodes
}

// Connections returns the active connections and whether they are known.
func (e Entry) Connections() (int64, bool) {
	if e.ActiveConnections == nil {
		return 0, false
	}
	return *e.ActiveConnections, true
}

// Duration is a time.Duration written as a number of milliseconds, so that jq or a
// spreadsheet reads it as a number.
type Duration time.Duration

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes milliseconds with up to three decimals (microseconds).
func (d Duration) MarshalJSON() ([]byte, error) {
	ms := math.Round(float64(d)/1e3) / 1e3
	return []byte(strconv.FormatFloat(ms, 'f', -1, 64)), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration in milliseconds: %w", err)
	}
	*d = Duration(math.Round(ms * 1e6))
	return nil
}

// Ptr returns a pointer to v, for the optional counts of an Entry.
func Ptr[T any](v T) *T { return &v }
