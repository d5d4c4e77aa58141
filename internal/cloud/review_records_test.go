package cloud_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/review"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// recordsClient is a cloud.Client on the lab's devcloud, as the review would get one.
func recordsClient(t *testing.T, l *lab) *cloud.Client {
	t.Helper()
	env := l.dc.Env()
	cfg, err := cloud.Config{AuthURL: l.dc.AuthURL(), UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"],
		ProjectName: env["OS_PROJECT_NAME"], UserDomainName: "Default", ProjectDomainName: "Default", Region: "RegionOne"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(cfg, nil, "eventscale-test")
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestReviewRecords_AScaleOutAndBackAsNovaGlanceAndOctaviaRememberIt(t *testing.T) {
	l := newLab(t, 0.01)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	since := time.Now().UTC().Add(-time.Second)
	p := l.pool(t, 200*time.Millisecond)
	if _, err := p.Apply(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(ctx, 1); err != nil {
		t.Fatal(err)
	}
	client := recordsClient(t, l)
	imgs, err := client.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := imgs.SnapshotServer(ctx, l.seed.Web01ServerID, "web01-before-the-spot", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imgs.WaitSnapshotActive(ctx, l.seed.Web01ServerID, snap); err != nil {
		t.Fatal(err)
	}

	rec, err := client.ReviewRecords(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	servers, err := rec.Servers(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]review.CloudServer{}
	for _, s := range servers {
		byName[s.Name] = s
	}
	// web01 is not the pool's; the two removed nodes are known by name, their metadata gone.
	if len(servers) != 3 || byName["event-web-01"].Status != "ACTIVE" || byName["event-web-02"].Status != "DELETED" ||
		byName["event-web-03"].Status != "DELETED" || byName["event-web-03"].Pool != "event-web" {
		t.Fatalf("servers: %+v", servers)
	}
	acts, err := rec.InstanceActions(ctx, byName["event-web-03"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Action != "create" || acts[1].Action != "delete" || acts[0].Result != "Success" ||
		acts[0].Finish.Before(acts[0].Start) || acts[1].Finish.IsZero() || acts[0].RequestID == "" {
		t.Errorf("instance actions of a deleted node, oldest first: %+v", acts)
	}
	backups, err := rec.Backups(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 1 || backups[0].ID != snap || backups[0].Source != l.seed.Web01ServerID || backups[0].Type != "image" {
		t.Errorf("backups: %+v", backups)
	}
	objs, err := rec.LoadBalancerObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.Kind]++
		if o.Created.IsZero() {
			t.Errorf("%s %s has no created_at", o.Kind, o.ID)
		}
	}
	if kinds["loadbalancer"] != 1 || kinds["listener"] != 1 || kinds["pool"] != 1 || kinds["member"] != 2 {
		t.Errorf("Octavia objects by kind: %v", kinds)
	}

	// The review the records make: three node lives, two of them ended by the scale-back.
	r, err := review.FromCloud(ctx, rec, since, "the journal was removed")
	if err != nil {
		t.Fatal(err)
	}
	if r.Source.Kind != review.SourceCloud || len(r.Nodes) != 3 || r.MaxServers != 3 {
		t.Fatalf("review from the cloud: source %s, %d nodes, at most %d servers", r.Source.Kind, len(r.Nodes), r.MaxServers)
	}
	deleted := 0
	for _, n := range r.Nodes {
		if !n.Deleted.IsZero() {
			deleted++
		}
	}
	if deleted != 2 || len(r.Backups) != 1 || !strings.Contains(r.Source.Detail, "3 servers with 5 instance actions") {
		t.Errorf("%d nodes deleted, %d backups; source: %s", deleted, len(r.Backups), r.Source.Detail)
	}
}

func TestParseCloudTime_ReadsEveryServicesFormat(t *testing.T) {
	want := time.Date(2026, 12, 1, 18, 32, 55, 0, time.UTC)
	for _, s := range []string{"2026-12-01T18:32:55.000000", "2026-12-01T18:32:55Z", "2026-12-01T18:32:55", "2026-12-01T19:32:55+01:00", "2026-12-01 18:32:55"} {
		if got := cloud.ParseCloudTimeForTest(s); !got.Equal(want) {
			t.Errorf("%q -> %s", s, got)
		}
	}
	if !cloud.ParseCloudTimeForTest("").IsZero() || !cloud.ParseCloudTimeForTest("yesterday").IsZero() {
		t.Error("an empty or unreadable time is not zero")
	}
}

// TestReviewRecords_OnAnExternalCloud checks the records against a real Nova (the lab's):
// a deleted server keeps no metadata, and its instance actions stay readable.
func TestReviewRecords_OnAnExternalCloud(t *testing.T) {
	if os.Getenv("EVENTSCALE_ACC_CLOUD") != "external" {
		t.Skip("set EVENTSCALE_ACC_CLOUD=external with OS_CLOUD or OS_* to run against a real cloud")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := cloud.Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(cfg, nil, "eventscale-test")
	if err != nil {
		t.Fatal(err)
	}
	compute, err := client.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compute.Poll = cloud.Poll{Interval: time.Second}
	since := time.Now().UTC().Add(-2 * time.Second)
	name := "review-" + time.Now().Format("150405")
	list, err := compute.ListServers(ctx, map[string]string{})
	if err != nil || len(list) == 0 {
		t.Fatalf("no server to take the image and network from: %v", err)
	}
	seed := list[0]
	nets := os.Getenv("EVENTSCALE_ACC_NETWORK_ID")
	if nets == "" {
		t.Skip("set EVENTSCALE_ACC_NETWORK_ID to the network to create the probe servers on")
	}
	flavor := os.Getenv("EVENTSCALE_ACC_FLAVOR_ID")
	if flavor == "" {
		flavor = "1"
	}
	var ids []string
	for o := 1; o <= 2; o++ {
		s, err := compute.CreateServer(ctx, scaling.ServerSpec{Name: scaling.NodeName(name, o), ImageID: seed.ImageID, FlavorID: flavor,
			Networks: []string{nets}, Metadata: scaling.ServerMetadata(name, o), Tags: scaling.ServerTags(name, o)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
		if _, err := compute.WaitServerActive(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = compute.DeleteServer(context.Background(), ids[0]) })
	if err := compute.DeleteServer(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := compute.WaitServerGone(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	rec, err := client.ReviewRecords(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	servers, err := rec.Servers(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	var mine []review.CloudServer
	for _, s := range servers {
		if s.Pool == name {
			mine = append(mine, s)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("servers of pool %s: %+v", name, mine)
	}
	acts, err := rec.InstanceActions(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Action != "create" || acts[0].Result != "Success" || acts[1].Action != "delete" || acts[1].Finish.IsZero() {
		t.Errorf("instance actions of the deleted server: %+v", acts)
	}
	t.Logf("create %s → %s, delete %s → %s", acts[0].Start, acts[0].Finish, acts[1].Start, acts[1].Finish)
	if _, err := rec.Backups(ctx, since); err != nil {
		t.Error(err)
	}
	if _, err := rec.LoadBalancerObjects(ctx); err != nil {
		t.Error(err)
	}
}
