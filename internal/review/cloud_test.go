package review

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// fakeCloud remembers an event as Nova, Glance and Octavia would: servers (deleted ones
// with status DELETED), their instance actions, images, and the members that still exist.
type fakeCloud struct {
	t               *testing.T
	mustNotBeCalled bool
	servers         []CloudServer
	actions         map[string][]InstanceAction
	backups         []journal.Backup
	objects         []LBObject
	since           time.Time
	fail            error
}

func (f *fakeCloud) called() {
	if f.mustNotBeCalled {
		f.t.Fatal("the cloud was asked although the journal exists")
	}
}

func (f *fakeCloud) Servers(_ context.Context, since time.Time) ([]CloudServer, error) {
	f.called()
	f.since = since
	return f.servers, f.fail
}

func (f *fakeCloud) InstanceActions(_ context.Context, id string) ([]InstanceAction, error) {
	f.called()
	return f.actions[id], nil
}

func (f *fakeCloud) Backups(context.Context, time.Time) ([]journal.Backup, error) {
	f.called()
	return f.backups, nil
}

func (f *fakeCloud) LoadBalancerObjects(context.Context) ([]LBObject, error) {
	f.called()
	return f.objects, nil
}

var t18 = time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t18.Add(time.Duration(n) * time.Minute) }

// cloudAfterEvent: web-03 built, served and was deleted in the scale-back; web-04's first
// server went to ERROR (the library deleted it) and its second still serves; web01 is a
// member the pool does not manage.
func cloudAfterEvent(t *testing.T) *fakeCloud {
	return &fakeCloud{t: t,
		servers: []CloudServer{
			{ID: "s-3", Name: "web-03", Pool: "web", Status: "DELETED", Created: minute(0)},
			{ID: "s-4a", Name: "web-04", Pool: "web", Status: "DELETED", Created: minute(0), Fault: "No valid host was found."},
			{ID: "s-4b", Name: "web-04", Pool: "web", Status: "ACTIVE", Created: minute(2)},
		},
		actions: map[string][]InstanceAction{
			"s-3": {{Action: "create", RequestID: "req-1", Start: minute(0), Finish: minute(1), Result: "Success"},
				{Action: "delete", RequestID: "req-9", Start: minute(90), Finish: minute(91), Result: "Success"}},
			"s-4a": {{Action: "create", RequestID: "req-2", Start: minute(0), Finish: minute(1), Result: "Error", Message: "Error"},
				{Action: "delete", RequestID: "req-3", Start: minute(1), Finish: minute(2), Result: "Success"}},
			"s-4b": {{Action: "create", RequestID: "req-4", Start: minute(2), Finish: minute(3), Result: "Success"}},
		},
		backups: []journal.Backup{{ID: "img-1", Name: "web01-spot", Type: "image", Source: "web01", Created: minute(-30), Status: "active"}},
		objects: []LBObject{
			{Kind: "loadbalancer", ID: "lb-1", Created: minute(-60)},
			{Kind: "member", ID: "m-web01", Name: "web01", Address: "10.0.0.5", Created: minute(-600)},
			{Kind: "member", ID: "m-4", Name: "web-04", Address: "10.0.0.14", Created: minute(4)},
		},
	}
}

func TestFromCloud_RebuildsNodeLivesFromInstanceActionsAndSaysSo(t *testing.T) {
	fc := cloudAfterEvent(t)
	missing := filepath.Join(t.TempDir(), ".eventscale", "journal.jsonl")
	r, err := Load(context.Background(), missing, fc, minute(-120))
	if err != nil {
		t.Fatal(err)
	}
	if !fc.since.Equal(minute(-120)) {
		t.Errorf("servers asked since %s", fc.since)
	}
	if r.Source.Kind != SourceCloud || !strings.Contains(r.Source.Detail, "the journal "+missing+" was not found") ||
		!strings.Contains(r.Source.Detail, "3 servers with 5 instance actions (Nova), 1 images and backups (Glance, Trove), 1 member of the pool") {
		t.Fatalf("source: %s", r.Source.Detail)
	}
	byName := map[string]NodeLife{}
	for _, n := range r.Nodes {
		byName[n.Name] = n
	}
	if len(r.Nodes) != 2 {
		t.Fatalf("nodes %+v", r.Nodes)
	}
	w3, w4 := byName["web-03"], byName["web-04"]
	if !w3.Created.Equal(minute(0)) || !w3.Active.Equal(minute(1)) || !w3.Deleted.Equal(minute(91)) || w3.Errors != 0 {
		t.Errorf("web-03: %+v", w3)
	}
	if w4.Errors != 1 || w4.Faults[0] != "No valid host was found." || !w4.Active.Equal(minute(3)) || !w4.Joined.Equal(minute(4)) ||
		!w4.Deleted.IsZero() || strings.Join(w4.ServerIDs, ",") != "s-4a,s-4b" {
		t.Errorf("web-04: %+v", w4)
	}
	if r.MaxServers != 2 {
		t.Errorf("max servers %d, want 2: the ERROR server went before its replacement came", r.MaxServers)
	}
	f := finding(t, r, "This review was rebuilt from the cloud's records because the journal was missing")
	if !strings.Contains(f.Fix, journal.DefaultPath) {
		t.Errorf("fix: %s", f.Fix)
	}
	finding(t, r, "Node web-04 went to ERROR once (last Nova fault: No valid host was found.).")
	finding(t, r, "1 backup taken; the last, image web01-spot, at 2026-11-26 17:30:00 UTC.")

	var html, md bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `class="source cloud"`) || !strings.Contains(html.String(), "the cloud&#39;s records, because the journal") {
		t.Error("the HTML review does not say it comes from the cloud's records")
	}
	if !strings.Contains(md.String(), "> **Source:** the cloud's records, because the journal") {
		t.Error("the Markdown review does not say it comes from the cloud's records")
	}
}

func TestFromCloud_ErrorsNameWhatCouldNotBeRead(t *testing.T) {
	fc := cloudAfterEvent(t)
	fc.fail = errors.New("HTTP 403: Policy doesn't allow os_compute_api:servers:detail")
	_, err := FromCloud(context.Background(), fc, minute(0), "test")
	if err == nil || !strings.Contains(err.Error(), "listing the pool's servers since 2026-11-26 18:00:00 UTC: HTTP 403") {
		t.Fatalf("err %v", err)
	}
}

// Nova's records are to the second: a server created and another deleted within the same
// second may have existed together, and the review counts them so.
func TestFromCloud_ACreationAndADeletionInOneSecondCountAsTogether(t *testing.T) {
	sec := func(n int) time.Time { return t18.Add(time.Duration(n) * time.Second) }
	fc := &fakeCloud{t: t,
		servers: []CloudServer{
			{ID: "s-1", Name: "web-01", Pool: "web", Status: "DELETED", Created: sec(0)},
			{ID: "s-2", Name: "web-02", Pool: "web", Status: "ACTIVE", Created: sec(1)},
		},
		actions: map[string][]InstanceAction{
			"s-1": {{Action: "create", RequestID: "req-1", Start: sec(0), Finish: sec(0), Result: "Success"},
				{Action: "delete", RequestID: "req-3", Start: sec(1), Finish: sec(1), Result: "Success"}},
			"s-2": {{Action: "create", RequestID: "req-2", Start: sec(1), Finish: sec(1), Result: "Success"}},
		},
	}
	r, err := FromCloud(context.Background(), fc, sec(-60), "test")
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxServers != 2 {
		t.Fatalf("max servers %d, want 2: web-02 was created in the second web-01 was deleted", r.MaxServers)
	}
}
