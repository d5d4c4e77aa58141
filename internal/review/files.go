package review

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files are the review's files as WriteFiles wrote them.
type Files struct {
	HTML     string // review.html: one self-contained page
	Markdown string // review.md, whose timeline image is SVG beside it
	SVG      string // the timeline, SVGName
}

// WriteFiles writes review.html, review.md and the timeline into dir (created when
// missing). Each file is rendered whole before it is written.
func (r *Review) WriteFiles(dir string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("creating the review's directory: %w", err)
	}
	f := Files{HTML: filepath.Join(dir, "review.html"), Markdown: filepath.Join(dir, "review.md"), SVG: filepath.Join(dir, SVGName)}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{f.HTML, r.WriteHTML}, {f.Markdown, r.WriteMarkdown}, {f.SVG, r.WriteSVG}} {
		var b bytes.Buffer
		if err := out.write(&b); err != nil {
			return Files{}, err
		}
		if err := os.WriteFile(out.path, b.Bytes(), 0o644); err != nil {
			return Files{}, fmt.Errorf("writing the review: %w", err)
		}
	}
	return f, nil
}

// Problems counts the findings that call for work.
func (r *Review) Problems() int {
	n := 0
	for _, f := range r.Findings {
		if f.Problem() {
			n++
		}
	}
	return n
}
