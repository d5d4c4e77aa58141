package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// serviceNames shortens devcloud's service types for the table.
var serviceNames = map[string]string{
	"compute": "nova", "load-balancer": "octavia", "identity": "keystone", "network": "neutron", "image": "glance",
	"database": "trove", "key-manager": "barbican", "dns": "designate",
}

// serviceMethods renders the calls by service and method on one line:
// "nova GET 880 POST 50 · octavia GET 12 PUT 1 · keystone POST 1".
func (u Usage) serviceMethods() string {
	type svc struct {
		name    string
		total   int
		methods []Count
	}
	bySvc := map[string]*svc{}
	var order []*svc
	for _, c := range u.ByServiceMethod() {
		name, method, _ := strings.Cut(c.Key, " ")
		if short, ok := serviceNames[name]; ok {
			name = short
		}
		s := bySvc[name]
		if s == nil {
			s = &svc{name: name}
			bySvc[name] = s
			order = append(order, s)
		}
		s.total += c.N
		s.methods = append(s.methods, Count{method, c.N})
	}
	parts := make([]string, 0, len(order))
	for _, s := range order {
		var m []string
		for _, c := range s.methods {
			m = append(m, fmt.Sprintf("%s %d", c.Key, c.N))
		}
		parts = append(parts, s.name+" "+strings.Join(m, " "))
	}
	return strings.Join(parts, " · ")
}

func (r Row) summary() string {
	s := fmt.Sprintf("    %s, %s: floor %s, measured %.1f s (ratio %s, %.1f s wall), first serving %s s, %s calls, %d LB cycles, peak %d calls/10 s, RSS %s",
		r.Scenario, r.Tool, r.floorText(), r.Measured.Seconds(), r.ratioText(), r.Wall.Seconds(), r.firstServingText(), r.callsText(), r.Usage.Cycles,
		r.Usage.Peak, r.rssText())
	if r.Err != "" {
		s += "\n    FAILED: " + r.Err
	}
	return s
}

var tableHeader = []string{"scenario", "tool", "floor (s)", "measured (s)", "ratio", "first serving (s)", "calls", "cycles", "peak/10 s", "RSS", "calls by service and method"}

func (r Row) cells() []string {
	measured := fmt.Sprintf("%.1f", r.Measured.Seconds())
	if r.Err != "" {
		measured += " FAILED"
	}
	return []string{r.Scenario, r.Tool, r.floorText(), measured, r.ratioText(), r.firstServingText(), r.callsText(), fmt.Sprint(r.Usage.Cycles),
		fmt.Sprint(r.Usage.Peak), r.rssText(), r.Usage.serviceMethods()}
}

// WriteTable prints the rows as one aligned table.
func WriteTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	_ = tw.Flush()
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(w, "\n%s (%s) FAILED: %s\n", r.Scenario, r.Tool, r.Err)
		}
	}
}

// markdownTable renders the rows as a Markdown table.
func markdownTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(tableHeader, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(tableHeader)) + "\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r.cells(), " | ") + " |\n")
	}
	return b.String()
}

// Comparison pairs each scenario's rows of the two providers: the peer's figures over ours.
type Comparison struct {
	Scenario     string
	Ours, Theirs Row
}

// Compare pairs the rows of the two tools by scenario, in the order of ours.
func Compare(rows []Row, ours, theirs string) []Comparison {
	byScenario := map[string]Row{}
	for _, r := range rows {
		if r.Tool == theirs {
			byScenario[r.Scenario] = r
		}
	}
	var out []Comparison
	for _, r := range rows {
		if t, ok := byScenario[r.Scenario]; ok && r.Tool == ours {
			out = append(out, Comparison{Scenario: r.Scenario, Ours: r, Theirs: t})
		}
	}
	return out
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

var comparisonHeader = []string{"scenario", "time: peer ÷ eventscale", "first serving: peer ÷ eventscale", "calls: peer ÷ eventscale", "cycles: peer ÷ eventscale", "RSS: peer ÷ eventscale"}

func (c Comparison) cells() []string {
	return []string{c.Scenario,
		ratio(c.Theirs.Measured.Seconds(), c.Ours.Measured.Seconds()),
		ratio(c.Theirs.FirstServing.Seconds(), c.Ours.FirstServing.Seconds()),
		ratio(float64(c.Theirs.Usage.Calls), float64(c.Ours.Usage.Calls)),
		ratio(float64(c.Theirs.Usage.Cycles), float64(c.Ours.Usage.Cycles)),
		ratio(float64(c.Theirs.RSSKB), float64(c.Ours.RSSKB))}
}

// WriteComparison prints the peer's figures over ours, scenario by scenario.
func WriteComparison(w io.Writer, cs []Comparison) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(comparisonHeader, "\t"))
	for _, c := range cs {
		fmt.Fprintln(tw, strings.Join(c.cells(), "\t"))
	}
	_ = tw.Flush()
}

func markdownComparison(cs []Comparison) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(comparisonHeader, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(comparisonHeader)) + "\n")
	for _, c := range cs {
		b.WriteString("| " + strings.Join(c.cells(), " | ") + " |\n")
	}
	return b.String()
}

// routeDetails lists each row's calls by route, for the documentation.
func routeDetails(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n**%s** (%s): %d calls\n\n", r.Scenario, r.Tool, r.Usage.Calls)
		for _, c := range r.Usage.ByRoute() {
			fmt.Fprintf(&b, "- %d × %s\n", c.N, c.Key)
		}
	}
	return b.String()
}
