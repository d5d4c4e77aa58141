package review

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed review.html.tmpl
var htmlText string

var htmlTemplate = template.Must(template.New("review").Parse(htmlText))

// WriteHTML writes the review as one self-contained page: styles inline, the timeline an
// inline SVG, no script, no external asset; every value escaped by html/template.
func (r *Review) WriteHTML(w io.Writer) error {
	if err := htmlTemplate.Execute(w, r.view()); err != nil {
		return fmt.Errorf("writing the review as HTML: %w", err)
	}
	return nil
}

// WriteSVG writes the timeline alone, for the Markdown review to show (timeline.svg).
func (r *Review) WriteSVG(w io.Writer) error {
	if err := htmlTemplate.ExecuteTemplate(w, "chart", buildChart(r.Timeline)); err != nil {
		return fmt.Errorf("writing the timeline: %w", err)
	}
	return nil
}

// SVGName is the file WriteMarkdown's image refers to.
const SVGName = "timeline.svg"

// WriteMarkdown writes the review as Markdown; the list of what to fix is a checklist the
// operator edits. The timeline is an image link to SVGName.
func (r *Review) WriteMarkdown(w io.Writer) error {
	v := r.view()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdText(v.Title))
	if v.Period != "" {
		fmt.Fprintf(&b, "%s. ", v.Period)
	}
	b.WriteString("Times are UTC.")
	if v.Generated != "" {
		fmt.Fprintf(&b, " Written %s.", v.Generated)
	}
	fmt.Fprintf(&b, "\n\n> **Source:** %s\n\n", mdText(v.Source))

	b.WriteString("## Findings\n\n")
	if len(v.Findings) == 0 {
		b.WriteString("Nothing on the record to draw a finding from.\n")
	}
	for _, f := range v.Findings {
		mark := ""
		if f.Problem() {
			mark = "⚠ "
		}
		fmt.Fprintf(&b, "- %s%s\n", mark, mdText(f.Text))
	}

	b.WriteString("\n## To fix before next time\n\n")
	if len(v.ToFix) == 0 {
		b.WriteString("- [ ] Nothing found in the data; add what the team noticed.\n")
	}
	for _, f := range v.ToFix {
		fmt.Fprintf(&b, "- [ ] %s\n", mdText(f))
	}
	b.WriteString("- [ ] \n")

	b.WriteString("\n## Pool size over time\n\n")
	if v.Chart.Empty {
		b.WriteString("Not enough on the record for a timeline.\n")
	} else {
		fmt.Fprintf(&b, "![Managed web nodes over time, with the load tests and scale-backs](%s)\n", SVGName)
	}
	section := func(title string, t table, empty string) {
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		if len(t.Rows) == 0 {
			b.WriteString(empty + "\n")
			return
		}
		mdTable(&b, t)
	}
	if len(v.ScaleBacks.Rows) > 0 {
		section("Scale-backs", v.ScaleBacks, "")
	}
	section("Nodes", v.Nodes, "No node on the record.")
	section("Load tests", v.LoadTests, "No load test on the record.")
	for _, m := range v.PerMember {
		fmt.Fprintf(&b, "\nRequests by member, %s:\n\n", mdText(m.Test))
		mdTable(&b, m.Table)
	}
	section("Capacity plan and what was provisioned", v.Plan, "No capacity plan on the record.")
	if v.PlanNote != "" {
		fmt.Fprintf(&b, "\n%s\n", mdText(v.PlanNote))
	}
	section("Quota pre-flight", v.Quotas, "No quota pre-flight on the record.")
	section("Backups", v.Backups, "No backup on the record.")
	if len(v.Runs.Rows) > 0 {
		section("Scaling runs", v.Runs, "")
	}
	if len(v.Skipped) > 0 {
		b.WriteString("\n## Journal lines skipped\n\n")
		for _, s := range v.Skipped {
			fmt.Fprintf(&b, "- %s\n", mdText(s))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the review as Markdown: %w", err)
	}
	return nil
}

func mdTable(b *strings.Builder, t table) {
	cells := func(row []string) {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	cells(t.Head)
	b.WriteString("|")
	for range t.Head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		cells(r)
	}
}

// mdEscaper keeps text from the journal or the cloud (names, error messages) from being
// read as Markdown or HTML.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`, "&", "&amp;")

func mdText(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

func mdCell(s string) string {
	if s == "" {
		return " "
	}
	return mdText(s)
}
