package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// watcher draws the journal: in place on a terminal, one line per entry otherwise.
type watcher struct {
	path  string
	out   io.Writer
	errs  io.Writer
	tty   bool
	loc   *time.Location
	now   func() time.Time
	st    *state
	lines int // lines of the frame on screen, to draw the next one over it
}

const (
	ansiUp        = "\x1b[%dF" // to the start of the line n lines up
	ansiClear     = "\x1b[J"   // clear to the end of the screen
	ansiNoWrap    = "\x1b[?7l" // a long line is cut, not wrapped: the frame keeps its height
	ansiWrap      = "\x1b[?7h"
	ansiHideCur   = "\x1b[?25l"
	ansiShowCur   = "\x1b[?25h"
	staleAfter    = 2 * time.Minute
	barWidth      = 30
	frameInterval = time.Second
)

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	fl := flag.NewFlagSet("watch", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("f", journal.PathFromEnv(), "the journal to follow (default $"+journal.EnvPath+", else "+journal.DefaultPath+")")
	once := fl.Bool("once", false, "print the current state and exit")
	plain := fl.Bool("plain", false, "one line per entry even on a terminal")
	utc := fl.Bool("utc", false, "times in UTC, as the journal and the cloud's logs have them (default: local time)")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: eventscale watch [-f journal] [-once] [-plain] [-utc]\n\n"+
			"Follows the journal the provider writes and draws the scale-back as it goes: the steps done,\n"+
			"the node draining now with its countdown, the nodes removed, the failed requests of a running\n"+
			"load test. On a terminal it redraws in place; otherwise it prints one line per entry.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	w := &watcher{path: *path, out: stdout, errs: stderr, tty: tty && !*plain, loc: time.Local, now: time.Now, st: newState()}
	if *utc {
		w.loc = time.UTC
	}
	if *once {
		return w.once()
	}
	if err := w.follow(ctx); err != nil {
		fmt.Fprintf(stderr, "eventscale watch: %v\n", err)
		return 1
	}
	return 0
}

// once prints the state the journal is in and returns the exit code.
func (w *watcher) once() int {
	entries, err := journal.ReadFile(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w.errs, "eventscale watch: no journal at %s: the provider writes it there once a pool, load test or event resource runs (set $%s or -f to look elsewhere)\n", w.path, journal.EnvPath)
		return 1
	}
	if err != nil && len(entries) == 0 {
		fmt.Fprintf(w.errs, "eventscale watch: %v\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(w.errs, "eventscale watch: skipped: %v\n", err)
	}
	for _, e := range entries {
		w.st.apply(e)
	}
	fmt.Fprint(w.out, w.frame(w.now()))
	return 0
}

type item struct {
	entry journal.Entry
	reset bool
	bad   *journal.LineError
}

// follow draws the journal until ctx ends.
func (w *watcher) follow(ctx context.Context) error {
	items := make(chan item, 1024)
	failed := make(chan error, 1)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	send := func(it item) {
		select {
		case items <- it:
		case <-fctx.Done():
		}
	}
	f := &journal.Follower{Path: w.path,
		OnReset:   func() { send(item{reset: true}) },
		OnBadLine: func(le *journal.LineError) { send(item{bad: le}) }}
	go func() { failed <- f.Run(fctx, func(e journal.Entry) { send(item{entry: e}) }) }()

	if w.tty {
		fmt.Fprint(w.out, ansiHideCur+ansiNoWrap)
		defer fmt.Fprint(w.out, ansiWrap+ansiShowCur)
		w.redraw()
	} else {
		fmt.Fprintf(w.out, "following %s (Ctrl-C to stop)\n", w.path)
	}
	tick := time.NewTicker(frameInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-failed:
			return err
		case it := <-items:
			w.handle(it)
			// Catch up on everything already there before drawing once.
			for more := true; more; {
				select {
				case it := <-items:
					w.handle(it)
				default:
					more = false
				}
			}
			if w.tty {
				w.redraw()
			}
		case <-tick.C:
			if w.tty {
				w.redraw()
			}
		}
	}
}

func (w *watcher) handle(it item) {
	switch {
	case it.reset:
		w.st = newState()
		if !w.tty {
			fmt.Fprintf(w.out, "--- %s was truncated or replaced: reading it again from the start\n", w.path)
		}
	case it.bad != nil:
		fmt.Fprintf(w.errs, "eventscale watch: skipped %v\n", it.bad)
	default:
		w.st.apply(it.entry)
		if !w.tty {
			fmt.Fprintln(w.out, w.plainLine(it.entry))
		}
	}
}

// redraw draws the frame over the previous one.
func (w *watcher) redraw() {
	f := w.frame(w.now())
	var b strings.Builder
	if w.lines > 0 {
		fmt.Fprintf(&b, ansiUp, w.lines)
	}
	b.WriteString(ansiClear)
	b.WriteString(f)
	fmt.Fprint(w.out, b.String())
	w.lines = strings.Count(f, "\n")
}

// plainLine is one entry as one line: time, pool, step, the sentence, and what comes next
// when a step starts.
func (w *watcher) plainLine(e journal.Entry) string {
	var b strings.Builder
	b.WriteString(e.Time.In(w.loc).Format("15:04:05"))
	if e.Kind != journal.KindLoadTest { // its sentence names it
		b.WriteString(" " + who(e))
	}
	if e.StepIndex > 0 && !strings.HasPrefix(e.Message, "step ") {
		fmt.Fprintf(&b, " [%d/%d]", e.StepIndex, e.StepTotal)
	}
	b.WriteString(" " + e.Message)
	if strings.HasPrefix(e.Message, "step ") && e.Next != "" {
		b.WriteString(" (next: " + e.Next + ")")
	}
	return b.String()
}

// frame draws the whole state as of now.
func (w *watcher) frame(now time.Time) string {
	var b strings.Builder
	st := w.st
	fmt.Fprintf(&b, "eventscale watch · %s", w.path)
	if st.entries == 0 {
		b.WriteString(" · waiting for the first entry\n")
		return b.String()
	}
	ago := now.Sub(st.last.Time)
	fmt.Fprintf(&b, " · %d entries, last at %s (%s ago)\n", st.entries, st.last.Time.In(w.loc).Format("15:04:05"), journal.Clock(ago))
	for _, p := range st.pools {
		b.WriteString("\n")
		w.poolFrame(&b, p, now)
	}
	if len(st.tests) > 0 {
		b.WriteString("\n")
	}
	for _, t := range st.tests {
		w.testLine(&b, t, now)
	}
	return b.String()
}

func (w *watcher) poolFrame(b *strings.Builder, p *poolView, now time.Time) {
	b.WriteString(p.name)
	if r := p.run; r != nil {
		what := "scaling"
		if r.ScaleBack() {
			what = "scale-back"
		}
		fmt.Fprintf(b, " · %s from %d to %d nodes", what, r.From, r.To)
		switch p.outcome {
		case "":
			fmt.Fprintf(b, " · running %s", journal.Clock(now.Sub(p.runStart)))
			if now.Sub(p.lastAt) > staleAfter {
				fmt.Fprintf(b, " · no news for %s", journal.Clock(now.Sub(p.lastAt)))
			}
		case journal.RunSucceeded:
			fmt.Fprintf(b, " · done in %s", journal.Clock(p.runEnd.Sub(p.runStart)))
		default:
			fmt.Fprintf(b, " · FAILED after %s", journal.Clock(p.runEnd.Sub(p.runStart)))
		}
	}
	b.WriteString("\n")
	if p.total > 0 {
		done := p.done()
		fmt.Fprintf(b, "  %s  step %d/%d  %d%%", w.bar(done, p.total), p.index, p.total, done*100/p.total)
		if p.outcome == "" && !p.stepStart.IsZero() {
			fmt.Fprintf(b, "  (this step %s)", journal.Clock(now.Sub(p.stepStart)))
		}
		b.WriteString("\n")
		if p.outcome == "" && p.step != "" {
			fmt.Fprintf(b, "  now:  %s\n", p.step)
		}
	}
	if len(p.draining) > 0 && p.outcome == "" {
		fmt.Fprintf(b, "  draining %s", strings.Join(p.draining, ", "))
		if !p.drainEnd.IsZero() {
			left := p.drainEnd.Sub(now)
			if left < 0 {
				left = 0
			}
			fmt.Fprintf(b, " · %s left", journal.Clock(left))
		}
		if p.conns != nil {
			fmt.Fprintf(b, " · %s active connections %d", p.connScope, *p.conns)
		}
		b.WriteString("\n")
	}
	if p.next != "" && p.outcome == "" {
		fmt.Fprintf(b, "  next: %s\n", p.next)
	}
	if r := p.run; r != nil && r.ScaleBack() {
		fmt.Fprintf(b, "  removed %d of %d: %s\n", len(p.removed), r.From-r.To, orNone(p.removed))
	} else if len(p.serving) > 0 {
		fmt.Fprintf(b, "  serving: %s\n", strings.Join(p.serving, ", "))
	}
	for _, n := range sortedKeys(p.errors) {
		fmt.Fprintf(b, "  %s went to ERROR %s\n", n, times(p.errors[n]))
	}
	if p.runError != "" {
		fmt.Fprintf(b, "  error: %s\n", p.runError)
	}
	fmt.Fprintf(b, "  %s %s\n", p.lastAt.In(w.loc).Format("15:04:05"), p.lastMessage)
}

func (w *watcher) testLine(b *strings.Builder, t *testView, now time.Time) {
	lt := t.lt
	if lt.Running {
		elapsed := lt.Elapsed.Std()
		if since := now.Sub(t.at); since > 0 && since < staleAfter {
			elapsed += since // between two entries the test goes on
		}
		if lt.Duration > 0 {
			elapsed = min(elapsed, lt.Duration.Std())
		}
		fmt.Fprintf(b, "load test %s · running %s", lt.Name(), journal.Clock(elapsed))
		if lt.Duration > 0 {
			fmt.Fprintf(b, " of %s", journal.Clock(lt.Duration.Std()))
		}
		fmt.Fprintf(b, " · %d requests · %d failed", lt.Requests, lt.Failed())
		if now.Sub(t.at) > staleAfter {
			fmt.Fprintf(b, " · no news for %s", journal.Clock(now.Sub(t.at)))
		}
		b.WriteString("\n")
		return
	}
	verdict := ""
	if lt.Passed != nil {
		verdict = " · passed"
		if !*lt.Passed {
			verdict = " · FAILED"
		}
	}
	fmt.Fprintf(b, "load test %s · done at %s · %d requests · %d failed · p95 %s%s\n",
		lt.Name(), t.at.In(w.loc).Format("15:04:05"), lt.Requests, lt.Failed(), journal.Millis(lt.P95), verdict)
}

// bar draws done of total; a terminal gets block characters, a log plain ASCII.
func (w *watcher) bar(done, total int) string {
	fill := done * barWidth / total
	full, empty := "#", "-"
	if w.tty {
		full, empty = "█", "░"
	}
	return "[" + strings.Repeat(full, fill) + strings.Repeat(empty, barWidth-fill) + "]"
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none yet"
	}
	return strings.Join(ss, ", ")
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
