package backup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// fakeStore is an in-memory backup service: a backup is "making" until it is finished by the
// test (or at once when autoFinish is set), then "done" or "failed".
type fakeStore struct {
	mu      sync.Mutex
	next    int
	objects map[string]*fakeObject
	calls   []string

	autoFinish string // "done" or "failed": outcome of every new backup on its first Wait
	// loseAnswer makes the next Create act and then return an error, as a dropped connection does.
	loseAnswer bool
	refuse     bool
	// vanish makes Wait find the backup gone (Nova deleting a failed upload).
	vanish      bool
	claimErr    error
	claimed     []string
	waitBlocks  bool
	sourceState string
}

type fakeObject struct {
	b   backup.Backup
	key string
}

func newStore() *fakeStore { return &fakeStore{objects: map[string]*fakeObject{}, autoFinish: "done"} }

func (s *fakeStore) record(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *fakeStore) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (s *fakeStore) Source(_ context.Context, id string) (backup.Source, error) {
	return backup.Source{ID: id, Name: "name-of-" + id, Status: s.sourceState}, nil
}

func (s *fakeStore) CanBackUp(src backup.Source) string {
	if src.Status == "ERROR" {
		return "in error"
	}
	return ""
}

func (s *fakeStore) Find(_ context.Context, t backup.Target) (*backup.Backup, error) {
	s.record("find " + t.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.objects {
		if o.key == t.Key && o.b.Status != "failed" {
			b := o.b
			return &b, nil
		}
	}
	return nil, nil
}

func (s *fakeStore) Create(_ context.Context, t backup.Target) (string, error) {
	s.record("create " + t.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		return "", errors.Join(errors.New("HTTP 400: bad request"), scaling.ErrRefused)
	}
	s.next++
	id := fmt.Sprintf("b%d", s.next)
	s.objects[id] = &fakeObject{b: backup.Backup{Kind: t.Kind, SourceID: t.SourceID, ID: id, Name: t.Name, Status: "making",
		Created: time.Date(2026, 12, 1, 10, 0, s.next, 0, time.UTC)}, key: t.Key}
	if s.loseAnswer {
		s.loseAnswer = false
		return "", errors.New("connection reset by peer")
	}
	return id, nil
}

func (s *fakeStore) Get(_ context.Context, id string) (backup.Backup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[id]
	if !ok {
		return backup.Backup{}, fmt.Errorf("backup %s: %w", id, scaling.ErrNotFound)
	}
	return o.b, nil
}

func (s *fakeStore) Wait(ctx context.Context, id string) (backup.Backup, error) {
	s.record("wait " + id)
	s.mu.Lock()
	o, ok := s.objects[id]
	if ok && s.vanish {
		delete(s.objects, id)
		ok = false
	}
	if ok && o.b.Status == "making" && !s.waitBlocks {
		o.b.Status = s.autoFinish
		if s.autoFinish == "done" {
			o.b.SizeBytes = 1 << 20
		}
	}
	block := s.waitBlocks
	s.mu.Unlock()
	if !ok {
		return backup.Backup{}, fmt.Errorf("backup %s: %w", id, scaling.ErrNotFound)
	}
	if block {
		<-ctx.Done()
		b, _ := s.Get(context.Background(), id)
		return b, fmt.Errorf("waiting for backup %s: %w", id, ctx.Err())
	}
	b, _ := s.Get(ctx, id)
	if b.Status == "failed" {
		b.Fault = "the guest ran out of disk"
		return b, fmt.Errorf("backup %s went to failed", id)
	}
	return b, nil
}

func (s *fakeStore) Claim(_ context.Context, id string) error {
	s.record("claim " + id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimErr != nil {
		return s.claimErr
	}
	s.claimed = append(s.claimed, id)
	if o, ok := s.objects[id]; ok {
		o.key = ""
	}
	return nil
}

func (s *fakeStore) Delete(_ context.Context, id string) error {
	s.record("delete " + id)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, id)
	return nil
}

func (s *fakeStore) Phase(status string) backup.Phase {
	switch status {
	case "done":
		return backup.Usable
	case "failed":
		return backup.Failed
	case "making", "queued":
		return backup.Pending
	}
	return backup.Missing
}

func target(kind backup.Kind, source string) backup.Target {
	name := backup.BackupName("launch", source)
	return backup.Target{Kind: kind, SourceID: source, Name: name, Key: backup.Key(kind, source, name, "event"), BackupType: "event", Rotation: 2}
}

func TestRun_TakesEveryBackupAndWaitsUntilUsable(t *testing.T) {
	nova, trove := newStore(), newStore()
	stores := backup.Stores{backup.Server: nova, backup.Database: trove}
	targets := []backup.Target{target(backup.Server, "web01"), target(backup.Server, "web02"), target(backup.Database, "db01")}
	var reported []string
	got, err := backup.Run(context.Background(), stores, targets, nil, func(b backup.Backup) { reported = append(reported, b.Name) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want one per target", len(got))
	}
	for i, b := range got {
		if b.Status != "done" || b.ID == "" || b.SizeBytes == 0 || b.SourceID != targets[i].SourceID || b.Kind != targets[i].Kind {
			t.Errorf("result %d = %+v, want a usable backup of %s", i, b, targets[i].SourceID)
		}
	}
	if nova.count("create") != 2 || trove.count("create") != 1 {
		t.Fatalf("creates: nova %d, trove %d; want 2 and 1", nova.count("create"), trove.count("create"))
	}
	if len(nova.claimed) != 2 || len(trove.claimed) != 1 {
		t.Fatalf("claimed %v and %v: every usable backup is claimed once recorded", nova.claimed, trove.claimed)
	}
	if len(reported) != 3 {
		t.Fatalf("reported %v, want the three backups", reported)
	}
}

func TestRun_AdoptsTheBackupAnEarlierAttemptLeftInsteadOfTakingASecond(t *testing.T) {
	nova := newStore()
	tg := target(backup.Server, "web01")
	// An interrupted apply asked for it; the state never recorded it.
	if _, err := nova.Create(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	nova.calls = nil
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova}, []backup.Target{tg}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nova.count("create") != 0 {
		t.Fatalf("calls %v: the backup left by the earlier attempt must be adopted, not taken again", nova.calls)
	}
	if got[0].ID != "b1" || got[0].Status != "done" {
		t.Fatalf("got %+v, want b1 adopted and waited for", got[0])
	}
}

func TestRun_LostCreateAnswerIsFoundAgainNotTakenTwice(t *testing.T) {
	nova := newStore()
	nova.loseAnswer = true
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova}, []backup.Target{target(backup.Server, "web01")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(nova.objects) != 1 || got[0].ID != "b1" {
		t.Fatalf("objects %d, result %+v: the backup made behind the lost answer must be adopted", len(nova.objects), got[0])
	}
	if nova.count("create") != 1 {
		t.Fatalf("calls %v: a create is never sent twice", nova.calls)
	}
}

func TestRun_RefusedCreateIsRecordedNotTakenWithTheCloudsError(t *testing.T) {
	nova := newStore()
	nova.refuse = true
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova}, []backup.Target{target(backup.Server, "web01")}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("err = %v, want the cloud's refusal", err)
	}
	if got[0].Status != backup.StatusNotTaken || got[0].ID != "" {
		t.Fatalf("got %+v, want not_taken without an id", got[0])
	}
	if nova.count("find") != 1 {
		t.Fatalf("calls %v: a refused create made nothing, there is nothing to look for", nova.calls)
	}
}

func TestRun_FailedBackupIsRecordedAndTheOthersKept(t *testing.T) {
	nova, trove := newStore(), newStore()
	trove.autoFinish = "failed"
	targets := []backup.Target{target(backup.Server, "web01"), target(backup.Database, "db01")}
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova, backup.Database: trove}, targets, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "the guest ran out of disk") {
		t.Fatalf("err = %v, want the failure with its fault", err)
	}
	if got[0].Status != "done" || got[1].Status != "failed" || got[1].ID == "" {
		t.Fatalf("got %+v; want the server's backup usable and the database's recorded failed with its id", got)
	}
	if len(trove.claimed) != 0 {
		t.Fatal("a failed backup is never claimed")
	}
	if backup.TimedOut(err) {
		t.Fatal("a failure is not a timeout")
	}
}

func TestRun_ResumeKeepsUsableWaitsPendingAndRetakesFailedAndGone(t *testing.T) {
	nova := newStore()
	ctx := context.Background()
	targets := []backup.Target{target(backup.Server, "web01"), target(backup.Server, "web02"), target(backup.Server, "web03"), target(backup.Server, "web04")}
	ids := make([]string, 4)
	for i, tg := range targets {
		ids[i], _ = nova.Create(ctx, tg)
	}
	nova.objects[ids[0]].b.Status = "done"
	nova.objects[ids[2]].b.Status = "failed"
	delete(nova.objects, ids[3])
	known := []backup.Backup{
		{Kind: backup.Server, SourceID: "web01", ID: ids[0], Status: "done"},
		{Kind: backup.Server, SourceID: "web02", ID: ids[1], Status: "making"},
		{Kind: backup.Server, SourceID: "web03", ID: ids[2], Status: "failed"},
		{Kind: backup.Server, SourceID: "web04", ID: ids[3], Status: backup.StatusGone},
	}
	nova.calls = nil
	got, err := backup.Run(ctx, backup.Stores{backup.Server: nova}, targets, known, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("got %+v: the usable and the pending backup are kept in place", got)
	}
	if got[2].ID == ids[2] || got[3].ID == ids[3] || got[2].Status != "done" || got[3].Status != "done" {
		t.Fatalf("got %+v: the failed and the gone backup are taken again", got)
	}
	if _, still := nova.objects[ids[2]]; still {
		t.Fatal("the failed backup must be deleted before it is taken again")
	}
	if nova.count("create") != 2 || nova.count("delete") != 1 {
		t.Fatalf("calls %v: want 2 creates and 1 delete", nova.calls)
	}
}

func TestRun_BackupStillPendingAtTheTimeoutIsRecordedPending(t *testing.T) {
	nova := newStore()
	nova.waitBlocks = true
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := backup.Run(ctx, backup.Stores{backup.Server: nova}, []backup.Target{target(backup.Server, "web01")}, nil, nil)
	if !backup.TimedOut(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if got[0].ID == "" || got[0].Status != "making" {
		t.Fatalf("got %+v: a backup still being made is recorded as it is, never forgotten", got[0])
	}
}

func TestRun_BackupDeletedByTheCloudWhileWaitingIsRecordedGone(t *testing.T) {
	nova := newStore()
	nova.vanish = true
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova}, []backup.Target{target(backup.Server, "web01")}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "disappeared") {
		t.Fatalf("err = %v, want the disappearance explained", err)
	}
	if got[0].Status != backup.StatusGone || got[0].ID == "" {
		t.Fatalf("got %+v, want gone with the id it had", got[0])
	}
}

func TestRun_UnremovedKeyIsAClaimErrorOnAUsableBackup(t *testing.T) {
	nova := newStore()
	nova.claimErr = errors.New("HTTP 403")
	got, err := backup.Run(context.Background(), backup.Stores{backup.Server: nova}, []backup.Target{target(backup.Server, "web01")}, nil, nil)
	var ce *backup.ClaimError
	if !errors.As(err, &ce) || got[0].Status != "done" {
		t.Fatalf("err = %v, got %+v: want a ClaimError on a usable backup", err, got[0])
	}
}

func TestKey_DependsOnEveryPartOfTheRequest(t *testing.T) {
	base := backup.Key(backup.Server, "s1", "n", "daily")
	for _, other := range []string{
		backup.Key(backup.Database, "s1", "n", "daily"), backup.Key(backup.Server, "s2", "n", "daily"),
		backup.Key(backup.Server, "s1", "m", "daily"), backup.Key(backup.Server, "s1", "n", "weekly"),
	} {
		if other == base {
			t.Fatal("two different requests share a key")
		}
	}
	if base != backup.Key(backup.Server, "s1", "n", "daily") {
		t.Fatal("the same request must always give the same key")
	}
}
