// Package backup takes the backups an event wants before it starts — a Nova backup image of a
// server, a Trove backup of a database instance — and follows them until they can be restored
// from. It knows no Terraform and no gophercloud types: the cloud adapters implement Store.
//
// Every backup carries an adoption key derived from what was asked (kind, source, name, backup
// type). A create whose answer was lost, or whose apply was interrupted, is found by that key
// and adopted rather than taken twice.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Kind is what a backup is taken of.
type Kind string

const (
	// Server backups are Glance images made by Nova's createBackup.
	Server Kind = "server"
	// Database backups are Trove backups of a database instance.
	Database Kind = "database"
)

// Statuses this package records for a backup that has no status of the cloud's own.
const (
	// StatusNotTaken: the request was refused or never sent; there is no object.
	StatusNotTaken = "not_taken"
	// StatusGone: the object was recorded but the cloud no longer has it (deleted outside,
	// rotated out by a later backup, or deleted by Nova after a failed upload).
	StatusGone = "gone"
)

// Phase is where a backup is in its life, whatever the cloud calls the status.
type Phase int

const (
	// Pending backups are still being made.
	Pending Phase = iota
	// Usable backups can be restored from.
	Usable
	// Failed backups hold nothing to restore from; they are deleted before a new one is taken.
	Failed
	// Missing backups have no object in the cloud (StatusNotTaken, StatusGone).
	Missing
)

func (p Phase) String() string {
	switch p {
	case Pending:
		return "pending"
	case Usable:
		return "usable"
	case Failed:
		return "failed"
	}
	return "missing"
}

// Target is one backup to take.
type Target struct {
	Kind     Kind
	SourceID string // the server's or database instance's id
	Name     string // the backup's name
	Key      string // the adoption key (see Key)

	// BackupType and Rotation are Nova's createBackup parameters: once the new backup is
	// active, Nova deletes the server's oldest backups of the same type beyond Rotation.
	BackupType string
	Rotation   int

	// Labels are recorded on the backup so that an import can read the configuration back
	// (image properties for Nova; the description for Trove).
	Labels map[string]string

	// AdoptSince bounds adoption where the cloud cannot remove the key once the backup is
	// recorded (Trove backups cannot be changed): a finished backup made before it belongs to
	// an earlier run and is left alone. Zero adopts any.
	AdoptSince time.Time
}

func (t Target) String() string { return fmt.Sprintf("%s backup %q of %s", t.Kind, t.Name, t.SourceID) }

// Backup is one backup as the cloud reports it.
type Backup struct {
	Kind      Kind
	SourceID  string
	ID        string
	Name      string
	Status    string // the cloud's own status, or StatusNotTaken / StatusGone
	Created   time.Time
	SizeBytes int64
	// Fault says why a failed backup failed, when the cloud says.
	Fault string
	// Labels are what Target.Labels recorded on the backup (and, for Nova, its backup_type).
	Labels map[string]string
}

// Source is what a backup is taken of, as the plan-time checks and the restore commands need it.
type Source struct {
	ID     string
	Name   string
	Status string
	// Busy names a task in progress (Nova's task_state, or a Trove backup already running)
	// that makes the cloud refuse a backup until it is over.
	Busy string
	// Servers only.
	Flavor   string
	Networks []string
	// Database instances only.
	FlavorID  string
	VolumeGB  int
	Datastore string
	Version   string
}

// Store takes and follows the backups of one kind.
type Store interface {
	// Source reads what a backup would be taken of; a missing one wraps scaling.ErrNotFound.
	Source(ctx context.Context, id string) (Source, error)
	// CanBackUp says why the cloud would refuse to back up a source in this state, or "".
	CanBackUp(src Source) string
	// Find returns the backup an earlier attempt at t left behind, or nil.
	Find(ctx context.Context, t Target) (*Backup, error)
	// Create asks for the backup and returns its id. An outright refusal wraps
	// scaling.ErrRefused; any other error may hide a backup the cloud did make.
	Create(ctx context.Context, t Target) (string, error)
	// Get reads one backup; a missing one wraps scaling.ErrNotFound.
	Get(ctx context.Context, id string) (Backup, error)
	// Wait waits until the backup is usable or failed, returning the last reading.
	Wait(ctx context.Context, id string) (Backup, error)
	// Claim removes the adoption key from a usable backup that is recorded, so that a later
	// backup with the same key is never mistaken for it; a no-op where the cloud cannot.
	Claim(ctx context.Context, id string) error
	// Delete deletes the backup and waits until it is gone; a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// Phase classifies one of the cloud's statuses.
	Phase(status string) Phase
}

// Key is the adoption key of a backup: the same request always gives the same key.
func Key(kind Kind, sourceID, name, backupType string) string {
	sum := sha256.Sum256([]byte(string(kind) + "\x00" + sourceID + "\x00" + name + "\x00" + backupType))
	return hex.EncodeToString(sum[:12])
}

// PhaseOf classifies a recorded backup with its store.
func PhaseOf(s Store, b Backup) Phase {
	if b.ID == "" || b.Status == StatusNotTaken || b.Status == StatusGone {
		return Missing
	}
	return s.Phase(b.Status)
}

// Stores maps each kind to its store.
type Stores map[Kind]Store

// Run brings every target to a usable backup, resuming from what is known (state): a pending
// backup is waited for in place, a usable one is kept, a failed one is deleted and taken
// again, a missing one is taken again. It returns one Backup per target, in order, whatever
// happened: every object the cloud has is in the result, so that nothing is lost track of.
// report, when set, is told each backup that reached its end (usable or failed).
func Run(ctx context.Context, stores Stores, targets []Target, known []Backup, report func(Backup)) ([]Backup, error) {
	out := make([]Backup, len(targets))
	errs := make([]error, len(targets))
	for i, t := range targets {
		store := stores[t.Kind]
		if store == nil {
			out[i] = Backup{Kind: t.Kind, SourceID: t.SourceID, Name: t.Name, Status: StatusNotTaken}
			errs[i] = fmt.Errorf("%s: no store for %s backups", t, t.Kind)
			continue
		}
		out[i], errs[i] = start(ctx, store, t, find(known, t))
	}

	// Waits run together: a backup of a large database need not hold up the servers'.
	done := make(chan int, len(targets))
	for i, t := range targets {
		store := stores[t.Kind]
		if store == nil || errs[i] != nil || PhaseOf(store, out[i]) != Pending {
			done <- -1
			continue
		}
		go func() {
			b, err := store.Wait(ctx, out[i].ID)
			out[i], errs[i] = merge(out[i], b, err), describeWait(t, out[i].ID, b, err)
			done <- i
		}()
	}
	for range targets {
		<-done
	}

	for i, t := range targets {
		store := stores[t.Kind]
		if store == nil {
			continue
		}
		phase := PhaseOf(store, out[i])
		if phase == Usable {
			// Claimed only now, when the caller is about to record it: until then a lost
			// answer must still find it by its key.
			if err := store.Claim(context.WithoutCancel(ctx), out[i].ID); err != nil && errs[i] == nil {
				errs[i] = &ClaimError{Target: t, ID: out[i].ID, Err: err}
			}
		}
		if report != nil && (phase == Usable || phase == Failed) {
			report(out[i])
		}
	}
	return out, errors.Join(errs...)
}

// ClaimError reports a usable backup whose adoption key could not be removed: the backup is
// fine, but a later backup with the same key could adopt it.
type ClaimError struct {
	Target Target
	ID     string
	Err    error
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("%s (%s) is usable, but removing its adoption key failed: %v", e.Target, e.ID, e.Err)
}

func (e *ClaimError) Unwrap() error { return e.Err }

func find(known []Backup, t Target) Backup {
	for _, b := range known {
		if b.Kind == t.Kind && b.SourceID == t.SourceID {
			return b
		}
	}
	return Backup{Kind: t.Kind, SourceID: t.SourceID, Name: t.Name, Status: StatusNotTaken}
}

// start resumes the known backup or takes a new one, returning what exists.
func start(ctx context.Context, store Store, t Target, known Backup) (Backup, error) {
	switch PhaseOf(store, known) {
	case Pending, Usable:
		return known, nil
	case Failed:
		// A failed backup holds nothing to restore from and may count against a quota.
		if err := store.Delete(ctx, known.ID); err != nil {
			return known, fmt.Errorf("%s: deleting the failed backup %s before taking it again: %w", t, known.ID, err)
		}
	}
	id, err := take(ctx, store, t)
	if err != nil {
		return Backup{Kind: t.Kind, SourceID: t.SourceID, Name: t.Name, Status: StatusNotTaken}, fmt.Errorf("%s: %w", t, err)
	}
	b, err := store.Get(ctx, id)
	if err != nil {
		// The backup exists (the cloud gave its id), the read after it failed: record it as
		// pending and let the wait read it again. The wait reports what keeps failing.
		return Backup{Kind: t.Kind, SourceID: t.SourceID, ID: id, Name: t.Name, Status: pendingStatus(store)}, nil //nolint:nilerr // see above
	}
	b.Kind, b.SourceID = t.Kind, t.SourceID
	return b, nil
}

// take adopts the backup an earlier attempt left, or asks for a new one. A request whose answer
// was lost is looked for again before it is reported: the cloud may have acted on it.
func take(ctx context.Context, store Store, t Target) (string, error) {
	if b, err := store.Find(ctx, t); err != nil {
		return "", err
	} else if b != nil {
		return b.ID, nil
	}
	id, err := store.Create(ctx, t)
	if err == nil || errors.Is(err, scaling.ErrRefused) || ctx.Err() != nil {
		return id, err
	}
	if b, ferr := store.Find(ctx, t); ferr == nil && b != nil {
		return b.ID, nil
	}
	return "", err
}

// pendingStatus is a status the store classifies as pending, for a backup read before its
// first reading.
func pendingStatus(store Store) string {
	for _, s := range []string{"queued", "NEW"} {
		if store.Phase(s) == Pending {
			return s
		}
	}
	return "queued"
}

// merge keeps the last reading of a wait, or marks the backup gone when the cloud lost it.
func merge(before, after Backup, err error) Backup {
	if errors.Is(err, scaling.ErrNotFound) {
		before.Status = StatusGone
		return before
	}
	if after.ID == "" {
		return before
	}
	after.Kind, after.SourceID = before.Kind, before.SourceID
	return after
}

func describeWait(t Target, id string, b Backup, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, scaling.ErrNotFound):
		return fmt.Errorf("%s: backup %s disappeared while it was being made (Nova deletes a backup image whose upload failed): %w", t, id, err)
	case b.Fault != "":
		return fmt.Errorf("%s: %w: %s", t, err, b.Fault)
	}
	return fmt.Errorf("%s: %w", t, err)
}

// TimedOut reports whether err (from Run) includes a wait that ran out of time, as opposed to
// a backup that failed.
func TimedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}
