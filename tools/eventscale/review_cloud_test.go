package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func TestReview_WithoutAJournalAndWithACloudRebuildsItFromTheCloudsRecords(t *testing.T) {
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	for k, v := range dc.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("OS_CLOUD", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := cloud.Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(cfg, nil, "eventscale-review-test")
	if err != nil {
		t.Fatal(err)
	}
	compute, err := client.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compute.Poll = cloud.Poll{Interval: 10 * time.Millisecond}
	seed := dc.Seed()
	// Two nodes of pool "spot" built; the second deleted after the event.
	var ids []string
	for o := 1; o <= 2; o++ {
		s, err := compute.CreateServer(ctx, scaling.ServerSpec{Name: scaling.NodeName("spot", o), ImageID: seed.Web01ImageID,
			FlavorID: seed.FlavorIDs["m1.tiny"], Networks: []string{seed.NetworkID}, Metadata: scaling.ServerMetadata("spot", o)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compute.WaitServerActive(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if err := compute.DeleteServer(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := compute.WaitServerGone(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	var out, errs bytes.Buffer
	code := run(ctx, []string{"review", "-f", filepath.Join(dir, "gone.jsonl"), "-o", filepath.Join(dir, "out"), "-since", "1h"}, &out, &errs, false)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "source: cloud\n") {
		t.Errorf("stdout: %s", out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "out", "review.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gone.jsonl was not found", "2 servers with 3 instance actions", "spot-01", "spot-02"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("review.md lacks %q:\n%s", want, md)
		}
	}

	// -no-cloud: the same missing journal stops the command.
	out.Reset()
	errs.Reset()
	if code := run(ctx, []string{"review", "-f", filepath.Join(dir, "gone.jsonl"), "-no-cloud"}, &out, &errs, false); code != 1 ||
		!strings.Contains(errs.String(), "no journal at") {
		t.Errorf("-no-cloud: exit %d, stderr %s", code, errs.String())
	}
}

func TestParseSince_TakesATimeOrADurationBack(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     now.Add(-168 * time.Hour),
		"48h":                  now.Add(-48 * time.Hour),
		"2026-11-26T17:00:00Z": time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %s %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5h"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
