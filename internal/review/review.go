// Package review writes the review after an event from the journal the provider kept
// (internal/journal), or, when the journal is gone, from the cloud's own records
// (CloudRecords): a timeline of the pool's size with the load tests on it, every node's
// life, the load tests, the capacity plan against what was provisioned, the quota
// pre-flight, the backups, the load balancer's statistics around the scale-back, the
// failed requests, findings computed from all of it, and a checklist of what to fix
// before the next event. Build computes the Review; WriteHTML and WriteMarkdown render it.
package review

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// Source says where the review's facts come from.
type Source struct {
	Kind   string // SourceJournal or SourceCloud
	Detail string // a sentence for the reader
}

// Kinds of Source.
const (
	SourceJournal = "journal"
	SourceCloud   = "cloud"
)

// Review is everything the review shows, computed.
type Review struct {
	Title     string
	Source    Source
	Start     time.Time // first entry
	End       time.Time // last entry
	Generated time.Time
	Skipped   []string // journal lines that could not be read

	Pools      []string
	Nodes      []NodeLife
	Timeline   Timeline
	LoadTests  []LoadTestRow
	Plan       *journal.CapacityPlan
	PlanAt     time.Time
	MaxServing int // most managed nodes in service at once
	MaxServers int // most managed servers at once
	Preflights []PreflightRow
	Backups    []journal.Backup
	ScaleBacks []ScaleBack
	Runs       []RunRow

	Findings []Finding
	ToFix    []string
}

// NodeLife is one web node from its creation to its deletion. A node whose server went to
// ERROR and was built again is one life with Errors counted.
type NodeLife struct {
	Pool      string
	Name      string
	ServerIDs []string // every server the node had, ERROR ones included
	Created   time.Time
	Active    time.Time
	Joined    time.Time
	Serving   time.Time
	Drained   time.Time
	Removed   time.Time
	Deleted   time.Time
	Errors    int
	Faults    []string
	Restored  int
}

// LoadTestRow is one finished load test.
type LoadTestRow struct {
	Resource string
	At       time.Time // when its result was written
	Start    time.Time
	Test     journal.LoadTest
	Nodes    int     // nodes serving: as the test recorded, else from the timeline
	PerNode  float64 // achieved req/s per node; 0 when Nodes is 0
	Passed   bool    // thresholds met (or none) and at least 99% success
}

// PreflightRow is one quota as the last pre-flight saw it, with what earlier ones said.
type PreflightRow struct {
	Check      journal.QuotaCheck
	At         time.Time
	FirstLimit int64 // the limit in the first pre-flight that checked it
	WasShort   bool  // an earlier pre-flight found it too small
	Raised     bool  // the limit went up between pre-flights
}

// ScaleBack is one scaling run that shrank a pool.
type ScaleBack struct {
	Pool        string
	Start, End  time.Time
	From, To    int
	InService   int // at the end
	Outcome     string
	Error       string
	Removed     []string
	Failed      uint64 // failed requests of the load tests running during it
	Requests    uint64 // their requests during it
	Covered     bool   // a load test ran during it: Failed is a measurement
	FirstFail   time.Time
	FailStep    string // what the pool was doing when the first request failed
	StatsStart  *journal.LBStats
	StatsEnd    *journal.LBStats
	HealthWaits int // times the health gate had to wait
}

// RunRow is one scaling run of a pool.
type RunRow struct {
	Pool      string
	Start     time.Time
	End       time.Time
	From, To  int
	InService int
	Outcome   string
	Error     string
}

// Finding is one conclusion drawn from the data. Fix is set when it calls for work
// before the next event.
type Finding struct {
	Text string
	Fix  string
}

// Problem reports whether the finding calls for work.
func (f Finding) Problem() bool { return f.Fix != "" }

// Load reads the journal at path and builds the review. When the journal does not exist
// and records is not nil, the review is built from the cloud's records since since.
func Load(ctx context.Context, path string, records CloudRecords, since time.Time) (*Review, error) {
	entries, err := journal.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && records != nil:
		return FromCloud(ctx, records, since, fmt.Sprintf("the journal %s was not found", path))
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no journal at %s, and no cloud to fall back on: %w", path, err)
	case err != nil && len(entries) == 0:
		return nil, err
	}
	r := Build(entries, Source{Kind: SourceJournal,
		Detail: fmt.Sprintf("the journal %s (%d entries), written by the provider as the event happened", path, len(entries))})
	if err != nil {
		r.Skipped = append(r.Skipped, err.Error())
	}
	return r, nil
}
