package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// LineError is a line that is not a journal entry.
type LineError struct {
	Line int // 1-based
	Text string
	Err  error
}

func (e *LineError) Error() string {
	text := e.Text
	if len(text) > 80 {
		text = text[:80] + "..."
	}
	return fmt.Sprintf("line %d is not a journal entry (%v): %s", e.Line, e.Err, text)
}

func (e *LineError) Unwrap() error { return e.Err }

// entryStart is how every line the Writer writes begins.
var entryStart = []byte(`{"time":`)

// Decode parses one line. A line that starts with the torn remains of a write that never
// finished (a process killed mid-line) followed by a whole entry yields that entry.
func Decode(line []byte) (Entry, error) {
	line = bytes.TrimSpace(line)
	var e Entry
	err := json.Unmarshal(line, &e)
	if err != nil {
		if i := bytes.LastIndex(line, entryStart); i > 0 {
			if json.Unmarshal(line[i:], &e) == nil {
				return e, nil
			}
		}
		return Entry{}, err
	}
	if e.Kind == "" {
		return Entry{}, errors.New("no kind")
	}
	return e, nil
}

// Read reads every entry from r. Lines that are not entries are skipped; the error then
// joins a *LineError for each, and the entries hold all the others.
func Read(r io.Reader) ([]Entry, error) {
	br := bufio.NewReader(r)
	var out []Entry
	var bad []error
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			e, derr := Decode(line)
			if derr != nil {
				bad = append(bad, &LineError{Line: n, Text: strings.TrimSpace(string(line)), Err: derr})
			} else {
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, errors.Join(bad...)
		}
		if err != nil {
			return out, fmt.Errorf("reading the journal: %w", err)
		}
	}
}

// ReadFile reads the journal at path (see Read). A missing file gives an error that
// errors.Is(err, fs.ErrNotExist) recognises.
func ReadFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the journal: %w", err)
	}
	defer f.Close()
	entries, err := Read(f)
	if err != nil {
		return entries, fmt.Errorf("journal %s: %w", path, err)
	}
	return entries, nil
}

// Follower reads a journal like tail -F: every line from the beginning, then each new one as
// it is appended.
type Follower struct {
	Path string
	// Poll is how often the file is looked at when there is nothing new; default 200ms.
	Poll time.Duration
	// OnReset is called when the file was truncated, removed or replaced: reading starts
	// over at the new beginning, and whatever was built from the old lines is stale.
	OnReset func()
	// OnBadLine receives the lines that are not entries; by default they are skipped.
	OnBadLine func(*LineError)
}

// Follow calls fn with every entry of the journal at path, waiting for new ones until ctx
// ends. See Follower.
func Follow(ctx context.Context, path string, fn func(Entry)) error {
	return (&Follower{Path: path}).Run(ctx, fn)
}

// Run calls fn with every entry, in order, from the goroutine that called Run, until ctx
// ends (then it returns nil). A file that does not exist yet is waited for. It returns an
// error only when the file exists and cannot be read.
func (f *Follower) Run(ctx context.Context, fn func(Entry)) error {
	poll := f.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	t := &tail{f: f, fn: fn}
	defer t.close()
	for {
		progressed, err := t.step()
		if err != nil {
			return err
		}
		if progressed {
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// tail is the state of one Follower.Run.
type tail struct {
	f       *Follower
	fn      func(Entry)
	file    *os.File
	offset  int64
	pending []byte // the start of a line whose newline has not been written yet
	line    int
	read    bool // something was read from the current file: its replacement is a reset
	buf     [64 << 10]byte
}

func (t *tail) close() {
	if t.file != nil {
		_ = t.file.Close()
		t.file = nil
	}
}

// step reads what there is to read; progressed says whether anything happened.
func (t *tail) step() (progressed bool, err error) {
	if t.file == nil {
		file, err := os.Open(t.f.Path)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("opening the journal: %w", err)
		}
		t.file, t.offset, t.pending, t.line = file, 0, nil, 0
		if t.read {
			t.reset()
		}
	}
	st, err := t.file.Stat()
	if err != nil {
		return false, fmt.Errorf("reading the journal %s: %w", t.f.Path, err)
	}
	if st.Size() < t.offset {
		if _, err := t.file.Seek(0, io.SeekStart); err != nil {
			return false, fmt.Errorf("rewinding the truncated journal %s: %w", t.f.Path, err)
		}
		t.offset, t.pending, t.line = 0, nil, 0
		t.reset()
	}
	n, err := t.drain()
	if err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	// Nothing new: has the file at Path been removed or replaced? Either way the next step
	// opens whatever is at Path now, or waits for it.
	cur, serr := os.Stat(t.f.Path)
	gone := errors.Is(serr, os.ErrNotExist) || (serr == nil && !os.SameFile(st, cur))
	if gone {
		t.close()
	}
	return gone, nil
}

func (t *tail) reset() {
	t.read = false
	if t.f.OnReset != nil {
		t.f.OnReset()
	}
}

// drain reads to the end of the file and hands over every whole line.
func (t *tail) drain() (int, error) {
	total := 0
	for {
		n, err := t.file.Read(t.buf[:])
		if n > 0 {
			total += n
			t.offset += int64(n)
			t.read = true
			t.lines(t.buf[:n])
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("reading the journal %s: %w", t.f.Path, err)
		}
	}
}

func (t *tail) lines(b []byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.pending = append(t.pending, b...)
			return
		}
		line := b[:i]
		if len(t.pending) > 0 {
			line = append(t.pending, line...)
			t.pending = nil
		}
		b = b[i+1:]
		t.line++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := Decode(line)
		if err != nil {
			if t.f.OnBadLine != nil {
				t.f.OnBadLine(&LineError{Line: t.line, Text: string(line), Err: err})
			}
			continue
		}
		t.fn(e)
	}
}
