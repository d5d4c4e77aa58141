package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// followed runs a Follower in the background and collects what it hands over.
type followed struct {
	mu      sync.Mutex
	msgs    []string
	resets  int
	bad     int
	stop    context.CancelFunc
	done    chan error
	changed chan struct{}
}

func follow(t *testing.T, path string) *followed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &followed{stop: cancel, done: make(chan error, 1), changed: make(chan struct{}, 100)}
	fl := &Follower{Path: path, Poll: 5 * time.Millisecond,
		OnReset:   func() { f.mu.Lock(); f.resets++; f.mu.Unlock() },
		OnBadLine: func(*LineError) { f.mu.Lock(); f.bad++; f.mu.Unlock() }}
	go func() {
		f.done <- fl.Run(ctx, func(e Entry) {
			f.mu.Lock()
			f.msgs = append(f.msgs, e.Message)
			f.mu.Unlock()
			f.changed <- struct{}{}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; err != nil {
			t.Errorf("Follow returned %v after cancellation", err)
		}
	})
	return f
}

// waitFor waits until the follower holds want messages.
func (f *followed) waitFor(t *testing.T, want int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.msgs)
		out := append([]string(nil), f.msgs...)
		f.mu.Unlock()
		if n >= want {
			return out
		}
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("got %d messages %q, want %d", n, out, want)
		}
	}
}

func (f *followed) counts() (resets, bad int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resets, f.bad
}

func line(msg string) string {
	return fmt.Sprintf(`{"time":"2026-11-26T21:04:05.000Z","kind":"event","message":%q}`+"\n", msg)
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFollow_WaitsForAFileThatDoesNotExistYet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	f := follow(t, path)
	time.Sleep(20 * time.Millisecond)
	appendTo(t, path, line("first"))
	if got := f.waitFor(t, 1); got[0] != "first" {
		t.Fatalf("got %q", got)
	}
}

func TestFollow_HandsOverOldThenNewLinesAndWaitsForTheEndOfAHalfWrittenOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	appendTo(t, path, line("one")+line("two"))
	f := follow(t, path)
	f.waitFor(t, 2)
	whole := line("three")
	appendTo(t, path, whole[:20])
	time.Sleep(30 * time.Millisecond)
	if got := f.waitFor(t, 2); len(got) != 2 {
		t.Fatalf("a half-written line was handed over: %q", got)
	}
	appendTo(t, path, whole[20:]+line("four"))
	got := f.waitFor(t, 4)
	if got[2] != "three" || got[3] != "four" {
		t.Fatalf("got %q", got)
	}
	if _, bad := f.counts(); bad != 0 {
		t.Fatalf("%d bad lines", bad)
	}
}

func TestFollow_StartsOverWhenTheFileIsTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	appendTo(t, path, line("old event, a long line to be longer than the new one")+line("old two"))
	f := follow(t, path)
	f.waitFor(t, 2)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	appendTo(t, path, line("new"))
	got := f.waitFor(t, 3)
	if got[2] != "new" {
		t.Fatalf("got %q", got)
	}
	if resets, _ := f.counts(); resets != 1 {
		t.Fatalf("%d resets, want 1", resets)
	}
}

func TestFollow_StartsOverWhenTheFileIsReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.jsonl")
	appendTo(t, path, line("old"))
	f := follow(t, path)
	f.waitFor(t, 1)
	next := filepath.Join(dir, "next.jsonl")
	appendTo(t, next, line("replacement"))
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	got := f.waitFor(t, 2)
	if got[1] != "replacement" {
		t.Fatalf("got %q", got)
	}
	if resets, _ := f.counts(); resets != 1 {
		t.Fatalf("%d resets, want 1", resets)
	}
}

func TestFollow_ReportsBadLinesAndGoesOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	appendTo(t, path, "garbage\n"+line("good"))
	f := follow(t, path)
	if got := f.waitFor(t, 1); got[0] != "good" {
		t.Fatalf("got %q", got)
	}
	if _, bad := f.counts(); bad != 1 {
		t.Fatalf("%d bad lines, want 1", bad)
	}
}
