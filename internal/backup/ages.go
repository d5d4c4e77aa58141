package backup

import (
	"fmt"
	"strings"
	"time"
)

// Recorded is a backup an event requires, as the event is given it: a name, and the id and
// creation time of the backup taken (empty and zero when none is known).
type Recorded struct {
	Name      string
	ID        string
	CreatedAt time.Time
}

// Age is a required backup's age when the event starts, and what is wrong with it.
type Age struct {
	Recorded
	// Age is the time from the backup to the event's start; negative for a backup taken after
	// the start. Zero when Missing.
	Age time.Duration
	// Missing: no id or no creation time, so nothing says there is a backup to restore from.
	Missing bool
	// TooOld: older than the bound when the event starts.
	TooOld bool
	// TakeAfter is the earliest time a backup can be taken and still be young enough at the
	// start (starts_at minus the bound); zero without a bound.
	TakeAfter time.Time
	// Warning says what is wrong and what to do, in a sentence; "" when nothing is.
	Warning string
}

// Ages measures each required backup against the event's start. maxAge 0 sets no bound: only
// missing backups are warned about.
func Ages(required []Recorded, startsAt time.Time, maxAge time.Duration) []Age {
	out := make([]Age, 0, len(required))
	for _, r := range required {
		a := Age{Recorded: r}
		if maxAge > 0 {
			a.TakeAfter = startsAt.Add(-maxAge)
		}
		switch {
		case r.ID == "" || r.CreatedAt.IsZero():
			a.Missing = true
			what := "no id"
			if r.ID != "" {
				what = "no creation time"
			}
			a.Warning = fmt.Sprintf("Backup %q has %s: nothing says it was taken, so there is nothing to restore from if the event goes wrong. "+
				"Take it before the event starts at %s", r.Name, what, stamp(startsAt))
			if maxAge > 0 {
				a.Warning += fmt.Sprintf(", and not before %s (max_backup_age %s)", stamp(a.TakeAfter), HumanDuration(maxAge))
			}
			a.Warning += "."
		default:
			a.Age = startsAt.Sub(r.CreatedAt)
			if maxAge > 0 && a.Age > maxAge {
				a.TooOld = true
				a.Warning = fmt.Sprintf("Backup %q (%s) was taken at %s, %s before the event starts at %s: older than max_backup_age (%s). "+
					"Take a fresh one after %s (for an eventscale_backup: terraform apply -replace=<its address>).",
					r.Name, r.ID, stamp(r.CreatedAt), HumanDuration(a.Age), stamp(startsAt), HumanDuration(maxAge), stamp(a.TakeAfter))
			}
		}
		out = append(out, a)
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// HumanDuration writes a duration to the minute as a person would: 26h5m, 45m, 3d2h for long ones.
func HumanDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	hours := d / time.Hour
	d -= hours * time.Hour
	minutes := d / time.Minute
	var b strings.Builder
	if neg {
		b.WriteString("-")
	}
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%dh", hours)
	}
	if minutes > 0 || (days == 0 && hours == 0) {
		fmt.Fprintf(&b, "%dm", minutes)
	}
	return b.String()
}
