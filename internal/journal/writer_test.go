package journal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// appendChildEnv makes the test binary a second process appending to a journal.
const appendChildEnv = "JOURNAL_APPEND_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(appendChildEnv); spec != "" {
		os.Exit(appendAsChild(spec))
	}
	os.Exit(m.Run())
}

// appendAsChild writes n entries to path from 4 goroutines: "path|who|n".
func appendAsChild(spec string) int {
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[2])
	w, err := Open(parts[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer w.Close()
	writeMany(w, parts[1], n)
	if err := w.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// writeMany writes n long entries from 4 goroutines; each message names its writer and number.
func writeMany(w *Writer, who string, n int) {
	var wg sync.WaitGroup
	pad := strings.Repeat("x", 3000) // lines longer than a pipe buffer's atomic size
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				_ = w.Write(Entry{Kind: KindEvent, Resource: who, Message: fmt.Sprintf("%s %d %s", who, i, pad)})
			}
		}()
	}
	wg.Wait()
}

func TestWriter_TwoProcessesAndManyGoroutinesNeverInterleaveLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "journal.jsonl")
	const n = 200
	var children []*exec.Cmd
	for _, who := range []string{"p1", "p2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), appendChildEnv+"="+path+"|"+who+"|"+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		children = append(children, cmd)
	}
	w, err := Open(path) // creates sub/ before the children race to
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range children {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	writeMany(w, "p0", n)
	for _, c := range children {
		if err := c.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadFile(path)
	if err != nil {
		t.Fatalf("the journal has broken lines: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		f := strings.Fields(e.Message)
		if len(f) != 3 || f[0] != e.Resource || len(f[2]) != 3000 {
			t.Fatalf("mangled entry: %.80s", e.Message)
		}
		seen[f[0]+" "+f[1]] = true
	}
	if len(entries) != 3*n || len(seen) != 3*n {
		t.Fatalf("%d entries, %d distinct; want %d", len(entries), len(seen), 3*n)
	}
}

func TestWriter_NilWritesNothingAndClosedRefuses(t *testing.T) {
	var nilW *Writer
	if err := nilW.Write(Entry{Kind: KindEvent}); err != nil || nilW.Err() != nil || nilW.Close() != nil {
		t.Fatal("a nil Writer must accept and drop entries")
	}
	w, err := Open(filepath.Join(t.TempDir(), "j.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if err := w.Write(Entry{Kind: KindEvent}); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

func TestWriter_FillsTimeAndMessage(t *testing.T) {
	var buf strings.Builder
	w := NewWriter(&buf)
	w.now = func() time.Time { return t0 }
	if err := w.Write(Entry{Kind: KindBackup}); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-26T21:04:05.123Z","kind":"backup","message":"backup"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got %q", buf.String())
	}
}

func TestLazy_CreatesTheJournalOnlyAtTheFirstWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".eventscale", "journal.jsonl")
	w := Lazy(path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the journal exists before any write: %v", err)
	}
	if err := w.Write(Entry{Kind: KindEvent, Message: "first"}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	es, err := ReadFile(path)
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %v", es, err)
	}
	if err := w.Write(Entry{Kind: KindEvent}); err == nil {
		t.Fatal("a closed lazy journal opened again")
	}
	blocked := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(blocked, nil, 0o644)
	bad := Lazy(filepath.Join(blocked, "journal.jsonl")) // a directory that is a file
	if err := bad.Write(Entry{Kind: KindEvent}); err == nil || bad.Err() == nil {
		t.Fatal("no error from a journal that cannot be created")
	}
}
