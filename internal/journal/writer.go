package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Writer appends entries to a journal, one line per entry. It is safe for concurrent use:
// the resources of one provider process share one Writer.
type Writer struct {
	mu     sync.Mutex
	out    io.Writer
	closer io.Closer
	lazy   string // the path to open at the first Write (Lazy)
	closed bool
	now    func() time.Time
	err    error // the first write error, kept for Err
}

// Open opens (creating it and its directory when missing) the journal at path for
// appending. The file is opened with O_APPEND and every entry goes out in one write, so
// that two processes appending to it never interleave within a line (on a local file
// system; not on NFS).
func Open(path string) (*Writer, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the journal's directory %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the journal %s: %w", path, err)
	}
	return &Writer{out: f, closer: f, now: time.Now}, nil
}

// Lazy returns a Writer that opens path (as Open does) at its first Write, so that a
// provider process that writes nothing (a plan, a refresh) leaves no file behind. An error
// opening it is returned by that Write and kept for Err.
func Lazy(path string) *Writer { return &Writer{lazy: path, now: time.Now} }

// NewWriter writes entries to out (for tests, or another sink). Close does not close out.
func NewWriter(out io.Writer) *Writer { return &Writer{out: out, now: time.Now} }

// Write appends one entry; an entry without a time gets the current time. A nil Writer
// writes nothing, so a provider without a journal needs no special case.
func (w *Writer) Write(e Entry) error {
	if w == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	if e.Message == "" {
		e.Message = string(e.Kind)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding a journal entry of kind %s: %w", e.Kind, err)
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.out == nil && w.lazy != "" && !w.closed {
		opened, err := Open(w.lazy)
		if err != nil {
			if w.err == nil {
				w.err = err
			}
			return err
		}
		w.out, w.closer, w.lazy = opened.out, opened.closer, ""
	}
	if w.out == nil {
		return errors.New("writing to a closed journal")
	}
	// One Write call per line: with O_APPEND the kernel places the whole line at the end of
	// the file, after any line another process appended meanwhile.
	if _, err := w.out.Write(b); err != nil {
		err = fmt.Errorf("writing to the journal: %w", err)
		if w.err == nil {
			w.err = err
		}
		return err
	}
	return nil
}

// Err returns the first write error, if any: the provider goes on when the journal cannot
// be written (the cloud is what matters), and says so once at the end.
func (w *Writer) Err() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close closes the file opened by Open; later writes fail.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out, w.closed = nil, true
	if w.closer != nil {
		c := w.closer
		w.closer = nil
		return c.Close()
	}
	return nil
}
