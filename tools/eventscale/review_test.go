package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReview_WritesHTMLMarkdownAndTheTimelineFromTheJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"review", "-f", filepath.FromSlash(scaleBackJournal), "-o", dir}, &out, &errs, false)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errs.String())
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	html, md, svg := read("review.html"), read("review.md"), read("timeline.svg")
	for _, want := range []string{`name="viewport"`, "viewBox=", "The scale-back of web from 12 to 6 nodes took 8 minutes with 2 failed requests", "Source:</strong> the journal testdata/scaleback.jsonl (215 entries)"} {
		if !strings.Contains(html, want) {
			t.Errorf("review.html lacks %q", want)
		}
	}
	if !strings.Contains(md, "\n- [ ] Find the cause of the 2 requests that failed during the scale-back") {
		t.Errorf("review.md has no checklist item for the failed requests:\n%s", md)
	}
	if !strings.HasPrefix(svg, "<svg") {
		t.Errorf("timeline.svg: %.60s", svg)
	}
	if !strings.Contains(out.String(), "source: journal\n") || !strings.Contains(out.String(), "to fix before next time") {
		t.Errorf("stdout: %s", out.String())
	}
}

func TestReview_WithoutAJournalSaysWhereItLooked(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_AUTH_URL", "")
	missing := filepath.Join(t.TempDir(), "journal.jsonl")
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"review", "-f", missing}, &out, &errs, false); code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errs.String(), "no journal at "+missing) || !strings.Contains(errs.String(), "set OS_CLOUD or OS_AUTH_URL") {
		t.Fatalf("stderr: %s", errs.String())
	}
}

func TestRun_UnknownCommandShowsUsage(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"wacht"}, &out, &errs, false); code != 2 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errs.String(), `unknown command "wacht"`) || !strings.Contains(errs.String(), "watch") {
		t.Fatalf("stderr: %s", errs.String())
	}
}
