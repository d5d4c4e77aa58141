package review

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// findings draws the conclusions the data supports, each with its figures.
func findings(r *Review) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }

	if r.Source.Kind == SourceCloud {
		add(Finding{Text: "This review was rebuilt from the cloud's records because the journal was missing: drains, load tests, the capacity plan, the quota pre-flight and the load balancer's statistics are not in those records.",
			Fix: "Keep the journal (" + journal.DefaultPath + ") with the event's records: copy it off the machine that ran Terraform after each event."})
	}
	saturation(r, add)
	planAgainstPeak(r, add)
	for _, l := range r.Nodes {
		if l.Errors == 0 {
			continue
		}
		fault := ""
		if len(l.Faults) > 0 {
			fault = fmt.Sprintf(" (last Nova fault: %s)", l.Faults[len(l.Faults)-1])
		}
		add(Finding{Text: fmt.Sprintf("Node %s went to ERROR %s%s.", l.Name, times(l.Errors), fault),
			Fix: fmt.Sprintf("Find out why %s's server went to ERROR%s: hypervisor capacity, the flavor or the image; ask the cloud's operators with the server ids %s.",
				l.Name, fault, strings.Join(l.ServerIDs, ", "))})
	}
	for _, sb := range r.ScaleBacks {
		scaleBackFindings(sb, add)
	}
	quotaFindings(r, add)
	if len(r.Backups) == 0 && r.Source.Kind == SourceJournal && scaledOut(r) {
		add(Finding{Text: "No backup is on the record: the journal holds no image or backup taken before the event.",
			Fix: "Snapshot web01 (eventscale_seed_image) and back up the database before the next event, and let the provider journal them."})
	} else if len(r.Backups) > 0 {
		last := r.Backups[0]
		for _, b := range r.Backups {
			if b.Created.After(last.Created) {
				last = b
			}
		}
		add(Finding{Text: fmt.Sprintf("%s taken; the last, %s %s, at %s.", count(len(r.Backups), "backup"), last.Type, last.Name, stamp(last.Created))})
	}
	if len(r.LoadTests) == 0 && r.Source.Kind == SourceJournal && scaledOut(r) {
		add(Finding{Text: "No load test is on the record: the capacity of a node was not measured during this event.",
			Fix: "Run a baseline load test (and a peak one at the planned size) before the next event."})
	}
	return out
}

// saturation compares what the tier held per node with where it broke, and with the plan.
func saturation(r *Review, add func(Finding)) {
	var held, broke *LoadTestRow
	for i := range r.LoadTests {
		lt := &r.LoadTests[i]
		if lt.PerNode == 0 || background(lt.Test) {
			continue
		}
		if lt.Passed && (held == nil || lt.PerNode > held.PerNode) {
			held = lt
		}
		if !lt.Passed && (broke == nil || lt.PerNode < broke.PerNode) {
			broke = lt
		}
	}
	if broke != nil {
		add(Finding{Text: fmt.Sprintf("The tier saturated at %s req/s per node: the %s test at %s req/s on %s missed its thresholds (p95 %s, %s success).",
			num(broke.PerNode), broke.Test.Name(), num(rate(broke.Test)), count(broke.Nodes, "node"), journal.Millis(broke.Test.P95), pct(broke.Test.SuccessRatio))})
	}
	if held != nil {
		add(Finding{Text: fmt.Sprintf("The tier held %s req/s per node in the %s test (%s req/s on %s, p95 %s, %s success).",
			num(held.PerNode), held.Test.Name(), num(rate(held.Test)), count(held.Nodes, "node"), journal.Millis(held.Test.P95), pct(held.Test.SuccessRatio))})
	}
	if r.Plan == nil {
		return
	}
	assumed := r.Plan.NodeCapacityRPS
	switch {
	case broke != nil && assumed >= broke.PerNode:
		add(Finding{Text: fmt.Sprintf("The capacity plan assumed %s req/s per node, at or above the %s req/s at which the tier saturated.", num(assumed), num(broke.PerNode)),
			Fix: fmt.Sprintf("Lower node_capacity_rps in the capacity plan below the measured saturation (%s req/s per node), or tune the tier and measure again.", num(broke.PerNode))})
	case held != nil && broke == nil && held.PerNode > assumed*1.2:
		add(Finding{Text: fmt.Sprintf("The tier held %s req/s per node, %s%% above the %s the capacity plan assumed: the plan was generous.",
			num(held.PerNode), num((held.PerNode/assumed-1)*100), num(assumed)),
			Fix: fmt.Sprintf("Consider node_capacity_rps = %s (measured) next time; find where the tier saturates with a ramp test first.", num(held.PerNode))})
	}
}

// planAgainstPeak compares the planned nodes with those provisioned and the peak test.
func planAgainstPeak(r *Review, add func(Finding)) {
	peak := peakTest(r.LoadTests)
	if r.Plan == nil {
		if peak != nil && scaledOut(r) {
			add(Finding{Text: "No capacity plan is on the record: the pool's size was not derived from a measured node capacity.",
				Fix: "Size the pool with eventscale_capacity_plan from a baseline load test."})
		}
		return
	}
	text := fmt.Sprintf("The plan asked for %s for %s req/s expected; at most %s served at once.",
		count(r.Plan.WebNodes, "web node"), num(r.Plan.ExpectedPeakRPS), count(r.MaxServing, "managed node"))
	provisioned := r.MaxServing
	if r.MaxServing == 0 && r.MaxServers > 0 {
		// The cloud's records say when servers existed, not when they served.
		text = fmt.Sprintf("The plan asked for %s for %s req/s expected; at most %s existed at once.",
			count(r.Plan.WebNodes, "web node"), num(r.Plan.ExpectedPeakRPS), count(r.MaxServers, "managed server"))
		provisioned = r.MaxServers
	}
	var fix string
	if provisioned > 0 && provisioned < r.Plan.WebNodes {
		fix = fmt.Sprintf("Find out why only %d of the %d planned nodes served (quota, build failures, the pool's size setting).", provisioned, r.Plan.WebNodes)
	}
	if peak != nil {
		verdict := "held"
		if !peak.Passed {
			verdict = "did not hold"
		}
		text += fmt.Sprintf(" The %s test at %s req/s on %s %s: p95 %s, %s success.",
			peak.Test.Name(), num(rate(peak.Test)), count(peak.Nodes, "node"), verdict, journal.Millis(peak.Test.P95), pct(peak.Test.SuccessRatio))
		if !peak.Passed && fix == "" {
			fix = fmt.Sprintf("The peak test failed at the planned size: plan more nodes (lower target_utilization or node_capacity_rps) or tune the tier; %s.", strings.Join(peak.Test.Violations, "; "))
		}
		if peak.Test.Rate < r.Plan.ExpectedPeakRPS {
			text += fmt.Sprintf(" It ran below the expected peak (%s of %s req/s).", num(peak.Test.Rate), num(r.Plan.ExpectedPeakRPS))
			if fix == "" {
				fix = fmt.Sprintf("Run the peak test at the expected peak of %s req/s next time.", num(r.Plan.ExpectedPeakRPS))
			}
		}
	}
	add(Finding{Text: text, Fix: fix})
}

// background reports a test labelled "steady": traffic kept up during a scale-back to
// count failed requests, not a measure of capacity.
func background(lt journal.LoadTest) bool { return strings.EqualFold(lt.Label, journal.LabelSteady) }

// scaledOut reports whether the record covers a scale-out: then the preparations (plan,
// backups) belong on it too.
func scaledOut(r *Review) bool {
	for _, run := range r.Runs {
		if run.To > run.From {
			return true
		}
	}
	return false
}

// peakTest is the test labelled "peak", else the one at the highest rate.
func peakTest(rows []LoadTestRow) *LoadTestRow {
	var best *LoadTestRow
	for i := range rows {
		lt := &rows[i]
		if strings.EqualFold(lt.Test.Label, "peak") {
			return lt
		}
		if background(lt.Test) {
			continue
		}
		if best == nil || rate(lt.Test) > rate(best.Test) {
			best = lt
		}
	}
	return best
}

func scaleBackFindings(sb ScaleBack, add func(Finding)) {
	took := sb.End.Sub(sb.Start)
	switch sb.Outcome {
	case journal.RunSucceeded:
	case "unfinished":
		add(Finding{Text: fmt.Sprintf("The scale-back of %s from %d to %d nodes has no end in the journal (last entry %s, %s after it began).", sb.Pool, sb.From, sb.To, stamp(sb.End), minutes(took)),
			Fix: fmt.Sprintf("Check that pool %s holds %d nodes and that no server was left drained (terraform plan shows it).", sb.Pool, sb.To)})
		return
	default:
		add(Finding{Text: fmt.Sprintf("The scale-back of %s from %d to %d nodes failed after %s with %s in service: %s", sb.Pool, sb.From, sb.To, minutes(took), count(sb.InService, "node"), sb.Error),
			Fix: fmt.Sprintf("Fix the cause of the failed scale-back of %s (%s) and finish it.", sb.Pool, firstLine(sb.Error))})
	}
	if sb.Outcome == journal.RunSucceeded {
		text := fmt.Sprintf("The scale-back of %s from %d to %d nodes took %s", sb.Pool, sb.From, sb.To, minutes(took))
		if sb.Covered {
			text += fmt.Sprintf(" with %s (of %d sent by the load tests running meanwhile).", count64(sb.Failed, "failed request"), sb.Requests)
		} else {
			text += "; no load test ran meanwhile, so failed requests were not measured."
		}
		f := Finding{Text: text}
		if !sb.Covered {
			f.Fix = "Keep a steady load test running through the next scale-back, so that failed requests are measured."
		}
		add(f)
	}
	if sb.Failed > 0 {
		where := ""
		if sb.FailStep != "" {
			where = ", during " + sb.FailStep
		}
		add(Finding{Text: fmt.Sprintf("%s failed during the scale-back of %s; the first by %s%s.", capital(count64(sb.Failed, "request")), sb.Pool, stamp(sb.FirstFail), where),
			Fix: fmt.Sprintf("Find the cause of the %s that failed during the scale-back (first by %s%s): the application's logs at that time; a longer drain_timeout if connections were cut.",
				count64(sb.Failed, "request"), stamp(sb.FirstFail), where)})
	}
	if sb.StatsStart != nil && sb.StatsEnd != nil {
		errs := sb.StatsEnd.RequestErrors - sb.StatsStart.RequestErrors
		f := Finding{Text: fmt.Sprintf("The %s counted %d new connections and %d request errors during the scale-back; active connections went from %d to %d.",
			scopeName(*sb.StatsEnd), sb.StatsEnd.TotalConnections-sb.StatsStart.TotalConnections, errs, sb.StatsStart.ActiveConnections, sb.StatsEnd.ActiveConnections)}
		if errs > 0 {
			f.Fix = fmt.Sprintf("Look into the %d request errors the load balancer counted during the scale-back.", errs)
		}
		add(f)
	}
	if sb.HealthWaits > 0 {
		add(Finding{Text: fmt.Sprintf("The health gate had to wait %s during the scale-back of %s: the remaining members were not all healthy after a removal.", times(sb.HealthWaits), sb.Pool),
			Fix: "Check the health monitor's settings and the remaining nodes' load when a node leaves."})
	}
}

func quotaFindings(r *Review, add func(Finding)) {
	for _, q := range r.Preflights {
		c := q.Check
		switch {
		case !c.Fits():
			add(Finding{Text: fmt.Sprintf("The %s quota is too small: limit %d, %d in use, %d needed.", c.Key(), c.Limit, c.InUse, c.Needed),
				Fix: fmt.Sprintf("Ask for the %s quota to be raised to at least %d before the next event.", c.Key(), c.InUse+c.Needed)})
		case q.WasShort && q.Raised:
			add(Finding{Text: fmt.Sprintf("The %s quota had to be raised from %d to %s before the event.", c.Key(), q.FirstLimit, limit(c.Limit)),
				Fix: fmt.Sprintf("Keep the %s quota at %s or request the increase earlier: the first pre-flight found it too small.", c.Key(), limit(c.Limit))})
		}
	}
}

// toFix is the checklist: every finding's fix, in order.
func toFix(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Fix != "" {
			out = append(out, f.Fix)
		}
	}
	return out
}

func rate(lt journal.LoadTest) float64 {
	if lt.AchievedRate > 0 {
		return lt.AchievedRate
	}
	return lt.Rate
}

func scopeName(s journal.LBStats) string {
	if s.ListenerID != "" {
		return "listener " + s.ListenerID
	}
	return "load balancer " + s.LoadBalancerID
}

func limit(l int64) string {
	if l < 0 {
		return "unlimited"
	}
	return strconv.FormatInt(l, 10)
}

// num writes a number without trailing zeros, to one decimal.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// pct writes a ratio as a percentage to two decimals: 0.99992 is "99.99%", not "100%".
func pct(ratio float64) string {
	return strconv.FormatFloat(math.Floor(ratio*10000)/100, 'f', -1, 64) + "%"
}

func itoa(n int) string { return strconv.Itoa(n) }

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func count64(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// minutes writes a duration for a sentence: "8 minutes", "1 minute 30 seconds", "45 seconds",
// "2 hours 52 minutes".
func minutes(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		h, m := int(d/time.Hour), int(d.Round(time.Minute)%time.Hour/time.Minute)
		if m == 0 {
			return count(h, "hour")
		}
		return count(h, "hour") + " " + count(m, "minute")
	}
	m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case m == 0:
		return count(s, "second")
	case s == 0:
		return count(m, "minute")
	}
	return count(m, "minute") + " " + count(s, "second")
}

// stamp writes a moment for the review: UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
