package runbook

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// The runbook is built once as a small document (sections of paragraphs, lists, tables and
// command blocks) and rendered to Markdown and to HTML from it, so the two never say different
// things.

type document struct {
	title    string
	sections []section
}

type section struct {
	title  string
	blocks []block
}

func (s *section) add(b block) { s.blocks = append(s.blocks, b) }

type block interface{ isBlock() }

// span is a run of text: plain, a code span, or strong.
type span struct {
	text         string
	code, strong bool
}

func txt(s string) span    { return span{text: s} }
func code(s string) span   { return span{text: s, code: true} }
func strong(s string) span { return span{text: s, strong: true} }

// cell is a table cell's text, "-" when empty.
func cell(s string) span {
	if s = strings.TrimSpace(s); s == "" {
		return txt("-")
	}
	return txt(s)
}

// paragraph is one paragraph; raw keeps the operator's own line breaks (the notes).
type paragraph struct {
	spans []span
	raw   bool
}

func para(spans ...span) paragraph { return paragraph{spans: spans} }

type list struct {
	ordered bool
	items   [][]span
}

type table struct {
	head []string
	rows [][][]span
}

type codeBlock struct{ lines []string }

type subtitle string

func (paragraph) isBlock() {}
func (list) isBlock()      {}
func (table) isBlock()     {}
func (codeBlock) isBlock() {}
func (subtitle) isBlock()  {}

// Markdown renders the runbook as Markdown.
func (r Runbook) Markdown() string {
	d := r.document()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", mdText(d.title))
	for _, s := range d.sections {
		fmt.Fprintf(&b, "\n## %s\n", mdText(s.title))
		for _, bl := range s.blocks {
			b.WriteString("\n")
			switch bl := bl.(type) {
			case paragraph:
				if bl.raw {
					b.WriteString(strings.TrimSpace(bl.spans[0].text) + "\n")
					continue
				}
				b.WriteString(mdSpans(bl.spans) + "\n")
			case list:
				for i, item := range bl.items {
					mark := "-"
					if bl.ordered {
						mark = fmt.Sprintf("%d.", i+1)
					}
					fmt.Fprintf(&b, "%s %s\n", mark, mdSpans(item))
				}
			case table:
				head := make([]string, len(bl.head))
				rule := make([]string, len(bl.head))
				for i, h := range bl.head {
					head[i], rule[i] = mdText(h), "---"
				}
				fmt.Fprintf(&b, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(rule, "|"))
				for _, row := range bl.rows {
					cells := make([]string, len(row))
					for i, c := range row {
						cells[i] = mdSpans(c)
					}
					fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
				}
			case codeBlock:
				fmt.Fprintf(&b, "```sh\n%s\n```\n", strings.Join(bl.lines, "\n"))
			case subtitle:
				fmt.Fprintf(&b, "### %s\n", mdText(string(bl)))
			}
		}
	}
	return b.String()
}

// mdText keeps user text from breaking a table row, a list item or a heading.
func mdText(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func mdSpans(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		switch {
		case s.code:
			// A code span cannot escape a backtick: a longer fence does, padded when the text
			// touches it.
			fence := "`"
			for strings.Contains(s.text, fence) {
				fence += "`"
			}
			t := strings.ReplaceAll(strings.ReplaceAll(s.text, "\r", ""), "\n", " ")
			if strings.HasPrefix(t, "`") || strings.HasSuffix(t, "`") {
				t = " " + t + " "
			}
			b.WriteString(fence + t + fence)
		case s.strong:
			b.WriteString("**" + mdText(s.text) + "**")
		default:
			b.WriteString(mdText(s.text))
		}
	}
	return b.String()
}

const htmlStyle = `body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1em auto; padding: 0 1em; max-width: 920px; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; overflow-wrap: anywhere; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #f3f3f3; padding: .6em .8em; overflow-x: auto; border-radius: 4px; }
pre code { padding: 0; }
.notes { white-space: pre-wrap; }
@media print { pre, code, th { background: none; } }`

// WriteHTML writes the runbook as one self-contained page (styles inline, no script, nothing
// loaded from elsewhere) that reads on a phone and prints.
func (r Runbook) WriteHTML(w io.Writer) error {
	d := r.document()
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n<h1>%s</h1>\n",
		html.EscapeString(d.title), htmlStyle, html.EscapeString(d.title))
	for _, s := range d.sections {
		fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(s.title))
		for _, bl := range s.blocks {
			switch bl := bl.(type) {
			case paragraph:
				if bl.raw {
					fmt.Fprintf(&b, "<p class=\"notes\">%s</p>\n", html.EscapeString(strings.TrimSpace(bl.spans[0].text)))
					continue
				}
				fmt.Fprintf(&b, "<p>%s</p>\n", htmlSpans(bl.spans))
			case list:
				tag := "ul"
				if bl.ordered {
					tag = "ol"
				}
				fmt.Fprintf(&b, "<%s>\n", tag)
				for _, item := range bl.items {
					fmt.Fprintf(&b, "<li>%s</li>\n", htmlSpans(item))
				}
				fmt.Fprintf(&b, "</%s>\n", tag)
			case table:
				b.WriteString("<div class=\"scroll\"><table>\n<tr>")
				for _, h := range bl.head {
					fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
				}
				b.WriteString("</tr>\n")
				for _, row := range bl.rows {
					b.WriteString("<tr>")
					for _, c := range row {
						fmt.Fprintf(&b, "<td>%s</td>", htmlSpans(c))
					}
					b.WriteString("</tr>\n")
				}
				b.WriteString("</table></div>\n")
			case codeBlock:
				fmt.Fprintf(&b, "<pre><code>%s</code></pre>\n", html.EscapeString(strings.Join(bl.lines, "\n")))
			case subtitle:
				fmt.Fprintf(&b, "<h3>%s</h3>\n", html.EscapeString(string(bl)))
			}
		}
	}
	b.WriteString("</body>\n</html>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the runbook as HTML: %w", err)
	}
	return nil
}

func htmlSpans(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		t := html.EscapeString(s.text)
		switch {
		case s.code:
			b.WriteString("<code>" + t + "</code>")
		case s.strong:
			b.WriteString("<strong>" + t + "</strong>")
		default:
			b.WriteString(t)
		}
	}
	return b.String()
}
