package cloud_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// createdAndDeletedImages returns, from devcloud's timeline, the ids of the images made and
// deleted under name.
func createdAndDeletedImages(dc *devcloud.Cloud, name string) (created, deleted []string) {
	for _, e := range dc.Events() {
		if e.Attrs["name"] != name {
			continue
		}
		id, _ := e.Attrs["image_id"].(string)
		switch e.Kind {
		case "image.created":
			created = append(created, id)
		case "image.deleted":
			deleted = append(deleted, id)
		}
	}
	return created, deleted
}

// imagesNamed lists every image named name, whatever its status.
func imagesNamed(ctx context.Context, t *testing.T, imgs *cloud.Images, name string) []images.Image {
	t.Helper()
	pages, err := images.List(imgs.Image, images.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// Two snapshots of web01 asked at once (a seed image and a backup in one apply) can both pass
// Nova's state check; the one whose save then finds the task state taken gets a 500 naming
// UnexpectedTaskStateError, and Glance keeps the queued image Nova made for it, which nothing
// will upload. The request is asked again, and that image is deleted, not left for an adoption
// that would wait for it until the timeout (as it did on the lab).
func TestSnapshotServer_LostRaceForTheServerIsAskedAgainAndNovasQueuedImageDeleted(t *testing.T) {
	l := newLab(t, 0.01)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.dc.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "server_snapshot", Outcome: "race", Next: 1}}})
	imgs, err := recordsClient(t, l).Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs.Poll = cloud.Poll{Interval: testPoll}
	const name = "web01-seed"
	key := cloud.SnapshotKey(l.seed.Web01ServerID, name)

	id, err := imgs.SnapshotServer(ctx, l.seed.Web01ServerID, name, map[string]string{cloud.SnapshotKeyProperty: key})
	if err != nil {
		t.Fatalf("a lost race is Nova not acting, so the snapshot is asked again: %v", err)
	}
	if _, err := imgs.WaitSnapshotActive(ctx, l.seed.Web01ServerID, id); err != nil {
		t.Fatal(err)
	}
	created, deleted := createdAndDeletedImages(l.dc, name)
	if len(created) != 2 || created[1] != id || len(deleted) != 1 || deleted[0] != created[0] {
		t.Fatalf("want Nova's abandoned image %v deleted and the second request's %s kept; created %v, deleted %v", created[:1], id, created, deleted)
	}
	if all := imagesNamed(ctx, t, imgs, name); len(all) != 1 || all[0].ID != id {
		t.Fatalf("Glance holds %d images named %s, want only the snapshot %s", len(all), name, id)
	}
	adopt, err := imgs.FindUnclaimedSnapshot(ctx, name, key)
	if err != nil || adopt == nil || adopt.ID != id {
		t.Fatalf("the next adoption must find the snapshot %s, found %+v (%v)", id, adopt, err)
	}
}

// createBackup loses the same race the same way; the image another request of someone else
// left queued under another name, or without the key, is not ours to delete.
func TestNovaBackups_LostRaceForTheServerIsAskedAgainAndOnlyOurQueuedImageDeleted(t *testing.T) {
	l := newLab(t, 0.01)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := recordsClient(t, l)
	nova, err := client.NovaBackups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nova.Poll = cloud.Poll{Interval: testPoll}
	const name = "web01-before-the-spot"
	target := backup.Target{Kind: backup.Server, SourceID: l.seed.Web01ServerID, Name: name, BackupType: "daily", Rotation: 2}
	// A request without a key (someone else's) lost the race under the same name: its error is
	// returned, and its image is not ours to delete.
	l.dc.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "server_backup", Outcome: "race", Next: 1}}})
	if _, err := nova.Create(ctx, target); err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), "UnexpectedTaskStateError") {
		t.Fatalf("without a key nothing tells our abandoned image from others: want Nova's 500, got %v", err)
	}
	l.dc.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "server_backup", Outcome: "race", Next: 1}}})
	target.Key = "event-key"
	id, err := nova.Create(ctx, target)
	if err != nil {
		t.Fatalf("a lost race is Nova not acting, so the backup is asked again: %v", err)
	}
	if _, err := nova.Wait(ctx, id); err != nil {
		t.Fatal(err)
	}
	created, deleted := createdAndDeletedImages(l.dc, name)
	if len(created) != 3 || created[2] != id || len(deleted) != 1 || deleted[0] != created[1] {
		t.Fatalf("want only our abandoned image deleted (the second made) and the backup %s kept; created %v, deleted %v", id, created, deleted)
	}
	statuses := map[string]string{}
	for _, img := range imagesNamed(ctx, t, &nova.Images, name) {
		statuses[img.ID] = string(img.Status)
	}
	if statuses[created[0]] != "queued" || statuses[id] != "active" || len(statuses) != 2 {
		t.Fatalf("want the stranger's image %s left queued and the backup %s active, Glance has %v", created[0], id, statuses)
	}
}

// A snapshot Nova runs keeps its server in a task until the upload ends, however long its image
// stays queued; the image Nova made for a request it then did not start stays queued on a
// server without a task, and the wait says so instead of waiting until the timeout.
func TestWaitSnapshotActive_TellsAQueuedImageNovaRunsFromOneItNeverStarted(t *testing.T) {
	l := newLab(t, 0.01)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	imgs, err := recordsClient(t, l).Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs.Poll = cloud.Poll{Interval: testPoll}
	web01 := l.seed.Web01ServerID

	// 50 s of model time: the image stays queued for 100 ms of wall time, ten times the grace.
	l.dc.InjectFaults(devcloud.FaultSpec{ExtraDelaySeconds: map[string]float64{"image_save": 50}})
	id, err := imgs.SnapshotServer(ctx, web01, "web01-slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := imgs.WaitSnapshotActive(ctx, web01, id); err != nil || img.Status != "active" {
		t.Fatalf("a running snapshot is waited for until it is active: %+v, %v", img, err)
	}

	l.dc.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "server_snapshot", Outcome: "race", Next: 1}}})
	if _, err := imgs.SnapshotServer(ctx, web01, "web01-lost", nil); err == nil {
		t.Fatal("without a key, the lost race is returned")
	}
	created, _ := createdAndDeletedImages(l.dc, "web01-lost")
	if len(created) != 1 {
		t.Fatalf("want the one image Nova made, got %v", created)
	}
	img, err := imgs.WaitSnapshotActive(ctx, web01, created[0])
	if !errors.Is(err, cloud.ErrSnapshotAbandoned) || img == nil || img.Status != "queued" {
		t.Fatalf("want ErrSnapshotAbandoned on the queued image, got %+v, %v", img, err)
	}
	if ctx.Err() != nil {
		t.Fatal("the wait ran until the timeout")
	}
}
