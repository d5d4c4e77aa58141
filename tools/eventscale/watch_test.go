package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

var update = flag.Bool("update", false, "write the golden files of the tests again")

// syncBuffer is written by the command's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output holds sub.
func (s *syncBuffer) waitFor(t *testing.T, sub string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), sub) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", sub, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func recordedLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(scaleBackJournal))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	return lines[:len(lines)-1] // after the last newline: nothing
}

func recordedEntries(t *testing.T) []journal.Entry {
	t.Helper()
	es, err := journal.ReadFile(filepath.FromSlash(scaleBackJournal))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (run with -update after checking):\n%s", path, got)
	}
}

// startWatch runs `eventscale watch` on path until the test ends.
func startWatch(t *testing.T, tty bool, args ...string) (out, errs *syncBuffer, stop func() int) {
	t.Helper()
	out, errs = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"watch"}, args...), out, errs, tty) }()
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errs, stop
}

func TestWatch_PlainPrintsOneLinePerEntryOfARecordedScaleBackAsItIsWritten(t *testing.T) {
	lines := recordedLines(t)
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	// The provider is in the middle of the scale-back when the operator starts watching.
	const firstPart = 120
	if err := os.WriteFile(path, []byte(strings.Join(lines[:firstPart], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, stop := startWatch(t, false, "-utc", "-f", path)
	out.waitFor(t, "draining web-09: 0:40 left")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[firstPart:] {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.Close()
	out.waitFor(t, "load test steady at 40 req/s for 10m0s")
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errs.String())
	}
	got := out.String()
	if n := strings.Count(got, "\n"); n != len(lines)+1 {
		t.Fatalf("%d lines for %d entries and the header", n, len(lines))
	}
	if strings.Contains(got, "\x1b[") {
		t.Fatal("escape sequences in plain output")
	}
	for _, want := range []string{
		"01:01:45 web step 1/30: drain web-12 with weight 0 (scale in) (next: wait 1m0s for web-12 to drain)\n",
		"01:01:50 web [2/30] waiting 1m0s for open connections to web-12 to finish\n",
		"01:06:40 web [17/30] draining web-09: 0:10 left, listener 3f0c2a7e-listener: 29 active connections, 196400 in total, 0 request errors\n",
		"01:05:50 load test steady running: 5:05 of 10:00, 12200 requests, 2 failed\n",
		"01:09:45 web scale-back of web from 12 to 6 nodes done in 8m0s, 6 nodes in service\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing line %q", want)
		}
	}
	if header := "following " + path + " (Ctrl-C to stop)\n"; !strings.HasPrefix(got, header) {
		t.Fatalf("first line is not %q", header)
	}
	golden(t, "scaleback.plain", strings.SplitN(got, "\n", 2)[1])
}

func TestWatch_TTYFramesShowTheProgressAndTheDrainCountdown(t *testing.T) {
	var screen bytes.Buffer
	var now time.Time
	w := &watcher{path: "journal.jsonl", out: &screen, tty: true, loc: time.UTC, now: func() time.Time { return now }, st: newState()}
	frames := map[string]string{}
	for _, e := range recordedEntries(t) {
		w.st.apply(e)
		switch {
		case e.Message == "waiting 1m0s for open connections to web-09 to finish":
			now = e.Time.Add(18 * time.Second)
			frames["web-09 at 18s"] = w.frame(now)
		case e.LBStats != nil && e.Node == "web-09" && e.DrainLeft.Std() == 40*time.Second:
			now = e.Time.Add(time.Second)
			frames["web-09 stats"] = w.frame(now)
		case strings.HasPrefix(e.Message, "scale-back of web from 12 to 6 nodes done"):
			now = e.Time.Add(3 * time.Second)
			frames["done"] = w.frame(now)
		}
	}
	mid := frames["web-09 at 18s"]
	for _, want := range []string{
		"web · scale-back from 12 to 6 nodes · running 4:23\n",
		"  [████████████████░░░░░░░░░░░░░░]  step 17/30  53%  (this step 0:18)\n",
		"  draining web-09 · 0:42 left\n",
		"  next: remove member(s) web-09\n",
		"  removed 3 of 6: web-12, web-11, web-10\n",
		"load test steady · running 5:23 of 10:00 · 12200 requests · 2 failed\n",
	} {
		if !strings.Contains(mid, want) {
			t.Errorf("frame during the drain of web-09 lacks %q:\n%s", want, mid)
		}
	}
	if s := frames["web-09 stats"]; !strings.Contains(s, "draining web-09 · 0:39 left · listener active connections 36\n") {
		t.Errorf("frame after a statistics entry:\n%s", s)
	}
	done := frames["done"]
	for _, want := range []string{"· done in 8:00\n", "step 30/30  100%", "removed 6 of 6: web-12, web-11, web-10, web-09, web-08, web-07\n"} {
		if !strings.Contains(done, want) {
			t.Errorf("last frame lacks %q:\n%s", want, done)
		}
	}
	if strings.Contains(done, "draining") || strings.Contains(done, "next:") {
		t.Errorf("a finished run still shows a drain or a next step:\n%s", done)
	}
	golden(t, "scaleback.frame", mid)

	// Each frame is drawn over the previous one: up as many lines as it had, then cleared.
	w.redraw()
	first := screen.String()
	screen.Reset()
	w.redraw()
	lines := strings.Count(first, "\n")
	if want := "\x1b[" + strconv.Itoa(lines) + "F\x1b[J"; !strings.HasPrefix(screen.String(), want) {
		t.Fatalf("second frame starts %q, want %q", screen.String()[:12], want)
	}
}

func TestWatch_OnATerminalRedrawsInPlaceUntilInterrupted(t *testing.T) {
	out, errs, stop := startWatch(t, true, "-utc", "-f", filepath.FromSlash(scaleBackJournal))
	out.waitFor(t, "done in 8:00")
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, errs.String())
	}
	got := out.String()
	if !strings.HasPrefix(got, ansiHideCur+ansiNoWrap) || !strings.HasSuffix(got, ansiWrap+ansiShowCur) {
		t.Fatalf("the terminal is not set up and restored: %q ... %q", got[:16], got[len(got)-16:])
	}
	if !regexp.MustCompile(`\x1b\[\d+F\x1b\[J`).MatchString(got) {
		t.Fatal("no frame drawn over the previous one")
	}
}

func TestWatch_OncePrintsTheStateAndExits(t *testing.T) {
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"watch", "-once", "-utc", "-f", filepath.FromSlash(scaleBackJournal)}, &out, &errs, false)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"· 215 entries, last at 01:10:45",
		"web · scale-back from 12 to 6 nodes · done in 8:00\n",
		"  [##############################]  step 30/30  100%\n",
		"  removed 6 of 6: web-12, web-11, web-10, web-09, web-08, web-07\n",
		"load test steady · done at 01:10:45 · 24000 requests · 2 failed · p95 61 ms · passed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("-once output lacks %q:\n%s", want, got)
		}
	}

	// In the middle of the scale-back: what is draining, what comes next.
	half := filepath.Join(t.TempDir(), "half.jsonl")
	if err := os.WriteFile(half, []byte(strings.Join(recordedLines(t)[:120], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"watch", "-once", "-utc", "-f", half}, &out, &errs, false); code != 0 {
		t.Fatalf("exit code %d: %s", code, errs.String())
	}
	for _, want := range []string{"step 17/30  53%", "draining web-09 · ", "next: remove member(s) web-09\n", "removed 3 of 6: web-12, web-11, web-10\n", "no news for"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-once in the middle lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWatch_OnceWithoutAJournalSaysWhereItLooked(t *testing.T) {
	var out, errs bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nothing.jsonl")
	if code := run(context.Background(), []string{"watch", "-once", "-f", missing}, &out, &errs, false); code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errs.String(), "no journal at "+missing) || !strings.Contains(errs.String(), journal.EnvPath) {
		t.Fatalf("stderr: %s", errs.String())
	}
}

func TestWatch_WaitsForAJournalThatDoesNotExistYet(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".eventscale", "journal.jsonl")
	out, _, stop := startWatch(t, false, "-utc", "-f", path)
	out.waitFor(t, "following "+path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(journal.NoteEntry("eventscale_event.spot", "TV spot at 21:00"))
	_ = w.Close()
	out.waitFor(t, " spot TV spot at 21:00\n")
	stop()
}
