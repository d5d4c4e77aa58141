package bench

import (
	"fmt"
	"time"
)

// Row is one measured scenario: a line of the table.
type Row struct {
	Scenario string
	// Tool names what ran: the library with the real adapters, or a provider through the
	// Terraform CLI.
	Tool string
	// Floor is the model time the cloud itself needs (see Model); zero when the scenario waits
	// for no state transition (a refresh).
	Floor    time.Duration
	Measured time.Duration
	// FirstServing is the model time from the start until the first new member was ONLINE:
	// when added capacity begins to serve. Zero when the scenario adds none.
	FirstServing time.Duration
	Usage        Usage
	// RSSKB is the peak resident set of the process doing the work: the library's process, or
	// the provider plugin's (the largest of the plugin processes one Terraform command started).
	RSSKB int64
	// Wall is the wall-clock time the scenario took, set-up excluded.
	Wall time.Duration
	Err  string
}

// Ratio is Measured over Floor, 0 when there is no floor.
func (r Row) Ratio() float64 {
	if r.Floor <= 0 {
		return 0
	}
	return r.Measured.Seconds() / r.Floor.Seconds()
}

func (r Row) floorText() string {
	if r.Floor <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", r.Floor.Seconds())
}

func (r Row) ratioText() string {
	if r.Floor <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", r.Ratio())
}

func (r Row) firstServingText() string {
	if r.FirstServing <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", r.FirstServing.Seconds())
}

func (r Row) callsText() string {
	if r.Usage.Conflicts > 0 {
		return fmt.Sprintf("%d (%d×409)", r.Usage.Calls, r.Usage.Conflicts)
	}
	return fmt.Sprintf("%d", r.Usage.Calls)
}

func (r Row) rssText() string {
	if r.RSSKB <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(r.RSSKB)/1024)
}

// measuredEnd is when a scenario is over: the tool returned, and what it asked of the cloud is
// done (every new member ONLINE, every deleted server gone). A tool that returns before its
// members serve is not done for the operator.
func measuredEnd(toolEnd time.Time, u Usage) time.Time {
	end := toolEnd
	if u.LastOnline.After(end) {
		end = u.LastOnline
	}
	if u.LastDeleted.After(end) {
		end = u.LastDeleted
	}
	return end
}
