package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// view is the review as text, cell by cell: the HTML and the Markdown place the same
// strings, and both escape them their own way.
type view struct {
	Title     string
	Source    string
	FromCloud bool
	Period    string
	Generated string
	Findings  []Finding
	ToFix     []string
	Chart     chart
	Skipped   []string

	ScaleBacks table
	Nodes      table
	LoadTests  table
	PerMember  []memberTable
	Plan       table
	PlanNote   string
	Quotas     table
	Backups    table
	Runs       table
}

type table struct {
	Head []string
	Rows [][]string
}

type memberTable struct {
	Test  string
	Table table
}

func (r *Review) view() view {
	v := view{Title: r.Title, Source: r.Source.Detail, FromCloud: r.Source.Kind == SourceCloud,
		Findings: r.Findings, ToFix: r.ToFix, Chart: buildChart(r.Timeline), Skipped: r.Skipped}
	if !r.Start.IsZero() {
		v.Period = fmt.Sprintf("%s to %s (%s)", stamp(r.Start), stamp(r.End), minutes(r.End.Sub(r.Start)))
	}
	if !r.Generated.IsZero() {
		v.Generated = stamp(r.Generated)
	}
	t := r.timeOf

	v.ScaleBacks.Head = []string{"Pool", "Began", "Took", "Nodes", "Removed, in order", "Failed requests", "LB at start", "LB at end", "Outcome"}
	for _, sb := range r.ScaleBacks {
		failed := "not measured"
		if sb.Covered {
			failed = fmt.Sprintf("%d of %d", sb.Failed, sb.Requests)
		}
		outcome := sb.Outcome
		if sb.Error != "" {
			outcome += ": " + firstLine(sb.Error)
		}
		v.ScaleBacks.Rows = append(v.ScaleBacks.Rows, []string{sb.Pool, t(sb.Start), minutes(sb.End.Sub(sb.Start)),
			fmt.Sprintf("%d → %d", sb.From, sb.To), orDash(strings.Join(sb.Removed, ", ")), failed, statsCell(sb.StatsStart), statsCell(sb.StatsEnd), outcome})
	}

	v.Nodes.Head = []string{"Node", "Servers", "Created", "Active", "Serving", "Drained", "Removed", "Deleted", "ERROR"}
	multi := len(r.Pools) > 1
	if multi {
		v.Nodes.Head = append([]string{"Pool"}, v.Nodes.Head...)
	}
	for _, n := range r.Nodes {
		errs := ""
		if n.Errors > 0 {
			errs = times(n.Errors)
			if len(n.Faults) > 0 {
				errs += ": " + n.Faults[len(n.Faults)-1]
			}
		}
		serving := t(n.Serving)
		if n.Serving.IsZero() && !n.Joined.IsZero() {
			serving = "joined " + t(n.Joined)
		}
		row := []string{n.Name, orDash(strings.Join(n.ServerIDs, ", ")), t(n.Created), t(n.Active), serving, t(n.Drained), t(n.Removed), t(n.Deleted), orDash(errs)}
		if multi {
			row = append([]string{n.Pool}, row...)
		}
		v.Nodes.Rows = append(v.Nodes.Rows, row)
	}

	v.LoadTests.Head = []string{"Test", "Began", "Nodes", "Rate asked", "Achieved", "Per node", "Success", "p50", "p95", "p99", "Failed", "Status codes", "Verdict"}
	for _, lt := range r.LoadTests {
		x := lt.Test
		asked := num(x.Rate)
		if x.RampFrom > 0 {
			asked = num(x.RampFrom) + "→" + num(x.Rate)
		}
		per := "—"
		if lt.PerNode > 0 {
			per = num(lt.PerNode)
		}
		verdict := "held"
		if !lt.Passed {
			verdict = "did not hold"
			if len(x.Violations) > 0 {
				verdict += ": " + strings.Join(x.Violations, "; ")
			}
		}
		v.LoadTests.Rows = append(v.LoadTests.Rows, []string{x.Name(), t(lt.Start), nodesCell(lt.Nodes), asked, num(x.AchievedRate), per,
			pct(x.SuccessRatio), millis(x.P50), millis(x.P95), millis(x.P99),
			strconv.FormatUint(x.Failed(), 10), codes(x.StatusCodes), verdict})
		if len(x.PerMember) > 0 {
			mt := memberTable{Test: x.Name(), Table: table{Head: []string{"Member", "Requests", "Share"}}}
			var total uint64
			for _, n := range x.PerMember {
				total += n
			}
			for _, m := range sortedKeys(x.PerMember) {
				mt.Table.Rows = append(mt.Table.Rows, []string{m, strconv.FormatUint(x.PerMember[m], 10),
					num(float64(x.PerMember[m])*100/float64(total)) + "%"})
			}
			v.PerMember = append(v.PerMember, mt)
		}
	}

	if p := r.Plan; p != nil {
		v.Plan.Head = []string{"", "Planned", "Provisioned"}
		provisioned := "—"
		if r.MaxServing > 0 {
			provisioned = strconv.Itoa(r.MaxServing) + " in service at most"
		} else if r.MaxServers > 0 {
			provisioned = strconv.Itoa(r.MaxServers) + " servers at most"
		}
		v.Plan.Rows = [][]string{
			{"Web nodes", strconv.Itoa(p.WebNodes), provisioned},
			{"Read replicas", strconv.Itoa(p.Replicas), "—"},
			{"Node capacity (req/s)", num(p.NodeCapacityRPS), measuredCapacity(r)},
			{"Current peak (req/s)", num(p.CurrentPeakRPS), ""},
			{"Expected multiplier", num(p.ExpectedMultiplier), ""},
			{"Expected peak (req/s)", num(p.ExpectedPeakRPS), peakRate(r)},
			{"Target utilization", num(p.TargetUtilization*100) + "%", ""},
			{"Headroom", num(p.HeadroomPercent) + "%", ""},
		}
		v.PlanNote = fmt.Sprintf("Planned at %s. %s", t(r.PlanAt), p.Formula)
	}

	v.Quotas.Head = []string{"Service", "Quota", "Limit", "In use", "Needed", "Fits", "History"}
	for _, q := range r.Preflights {
		c := q.Check
		fits := "yes"
		if !c.Fits() {
			fits = "NO"
		}
		hist := ""
		if q.Raised {
			hist = "raised from " + limit(q.FirstLimit)
		}
		if q.WasShort {
			hist = strings.TrimPrefix(hist+"; was too small", "; ")
		}
		v.Quotas.Rows = append(v.Quotas.Rows, []string{c.Service, c.Resource, limit(c.Limit), strconv.FormatInt(c.InUse, 10),
			strconv.FormatInt(c.Needed, 10), fits, orDash(hist)})
	}

	v.Backups.Head = []string{"Name", "Type", "Id", "Of", "Created", "Status", "Size"}
	for _, b := range r.Backups {
		size := "—"
		if b.SizeBytes > 0 {
			size = num(float64(b.SizeBytes)/(1<<30)) + " GiB"
		}
		v.Backups.Rows = append(v.Backups.Rows, []string{orDash(b.Name), b.Type, b.ID, orDash(b.Source), stamp(b.Created), orDash(b.Status), size})
	}

	v.Runs.Head = []string{"Pool", "Began", "Took", "Nodes", "In service after", "Outcome"}
	for _, run := range r.Runs {
		outcome := run.Outcome
		if run.Error != "" {
			outcome += ": " + firstLine(run.Error)
		}
		took := "—"
		if !run.Start.IsZero() {
			took = minutes(run.End.Sub(run.Start))
		}
		v.Runs.Rows = append(v.Runs.Rows, []string{run.Pool, t(run.Start), took, fmt.Sprintf("%d → %d", run.From, run.To),
			strconv.Itoa(run.InService), outcome})
	}
	return v
}

// timeOf writes a moment in the review's tables: the time of day when the event fits in
// one UTC day, else with the date.
func (r *Review) timeOf(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if r.Start.UTC().YearDay() == r.End.UTC().YearDay() && r.Start.Year() == r.End.Year() {
		return t.UTC().Format("15:04:05")
	}
	return t.UTC().Format("Jan 2 15:04:05")
}

func measuredCapacity(r *Review) string {
	best := 0.0
	for _, lt := range r.LoadTests {
		if lt.Passed && lt.PerNode > best {
			best = lt.PerNode
		}
	}
	if best == 0 {
		return "—"
	}
	return num(best) + " held (load tests)"
}

func peakRate(r *Review) string {
	if p := peakTest(r.LoadTests); p != nil {
		return num(rate(p.Test)) + " in the " + p.Test.Name() + " test"
	}
	return "—"
}

// millis is a latency, or a dash when the test did not report it.
func millis(d journal.Duration) string {
	if d == 0 {
		return "—"
	}
	return journal.Millis(d)
}

func statsCell(s *journal.LBStats) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%d active, %d total, %d errors", s.ActiveConnections, s.TotalConnections, s.RequestErrors)
}

func nodesCell(n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(n)
}

func codes(m map[string]int) string {
	var parts []string
	for _, c := range sortedKeys(m) {
		parts = append(parts, c+": "+strconv.Itoa(m[c]))
	}
	return orDash(strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
