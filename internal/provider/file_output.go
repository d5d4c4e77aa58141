package provider

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomically replaces the file at p in one rename, so that a reader never sees half a
// report or runbook; missing directories are created. tmpPattern names the temporary file
// (os.CreateTemp pattern) in p's directory.
func writeFileAtomically(p string, data []byte, tmpPattern string) error {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", p, err)
	}
	f, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o644)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
