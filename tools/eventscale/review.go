package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/review"
)

func runReview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("review", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("f", journal.PathFromEnv(), "the journal (default $"+journal.EnvPath+", else "+journal.DefaultPath+")")
	out := fl.String("o", "", "directory to write review.html, review.md and "+review.SVGName+" into (default: review/ beside the journal)")
	cloudName := fl.String("cloud", "", "clouds.yaml entry to read the cloud's records from when the journal is missing (default $OS_CLOUD)")
	sinceFlag := fl.String("since", "", "start of the period the cloud's records are read for: RFC 3339 (2026-11-26T17:00:00Z) or a duration back from now (48h); default 168h")
	poolsFlag := fl.String("pools", "", "comma-separated web pools whose deleted nodes to find in the cloud's records (Nova forgets deleted servers' metadata)")
	noCloud := fl.Bool("no-cloud", false, "never read the cloud: without the journal, stop")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: eventscale review [-f journal] [-o dir] [-cloud name] [-since time] [-pools a,b] [-no-cloud]\n\n"+
			"Writes the review after the event from the journal: a timeline of the pool's size with the load tests,\n"+
			"every node's life, the load tests, the capacity plan against what was provisioned, the quota pre-flight,\n"+
			"the backups, the load balancer's statistics, findings, and a checklist of what to fix before next time.\n\n"+
			"When the journal does not exist and a cloud is configured (-cloud, $OS_CLOUD with clouds.yaml, or\n"+
			"$OS_AUTH_URL and the other OS_* variables, as the openstack CLI reads them), the review is rebuilt from\n"+
			"the cloud's own records instead: Nova's servers and instance actions, Glance's images, Trove's backups,\n"+
			"Octavia's objects. Nothing in the cloud is changed.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "eventscale review: %v\n", err)
		return 1
	}
	since, err := parseSince(*sinceFlag, time.Now())
	if err != nil {
		return fail(err)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(filepath.Dir(*path), "review")
	}
	var records review.CloudRecords
	if !*noCloud {
		records = cloudRecords(*cloudName, splitList(*poolsFlag))
	}
	r, err := review.Load(ctx, *path, records, since)
	if err != nil {
		if records == nil && !*noCloud {
			err = fmt.Errorf("%w (no cloud is configured to rebuild the review from: set OS_CLOUD or OS_AUTH_URL, or pass -cloud)", err)
		}
		return fail(err)
	}
	r.Generated = time.Now().UTC()
	files, err := r.WriteFiles(dir)
	if err != nil {
		return fail(err)
	}
	for _, p := range []string{files.HTML, files.Markdown, files.SVG} {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(stdout, "source: %s\n%d findings, %d to fix before next time", r.Source.Kind, len(r.Findings), r.Problems())
	for _, s := range r.Skipped {
		fmt.Fprintf(stderr, "eventscale review: skipped %s\n", s)
	}
	fmt.Fprintln(stdout)
	return 0
}

// parseSince reads -since: empty for a week back, RFC 3339, or a duration back from now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return now.Add(-168 * time.Hour).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("-since %q: use an RFC 3339 time such as 2026-11-26T17:00:00Z or a duration such as 48h", v)
	}
	return now.Add(-d).UTC(), nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cloudRecords returns the cloud's records when a cloud is configured (-cloud, OS_CLOUD or
// OS_AUTH_URL), nil otherwise. It authenticates only when the review asks for them, that
// is when the journal is missing.
func cloudRecords(name string, pools []string) review.CloudRecords {
	if name == "" && os.Getenv("OS_CLOUD") == "" && os.Getenv("OS_AUTH_URL") == "" {
		return nil
	}
	return &lazyCloud{cfg: cloud.Config{Cloud: name}, pools: pools}
}

type lazyCloud struct {
	cfg   cloud.Config
	pools []string

	once sync.Once
	rec  *cloud.ReviewRecords
	err  error
}

func (l *lazyCloud) get(ctx context.Context) (*cloud.ReviewRecords, error) {
	l.once.Do(func() {
		resolved, err := l.cfg.Resolve()
		if err != nil {
			l.err = err
			return
		}
		client, err := cloud.NewClient(resolved, nil, "eventscale-review")
		if err != nil {
			l.err = err
			return
		}
		l.rec, l.err = client.ReviewRecords(ctx, l.pools)
	})
	if l.err != nil {
		return nil, fmt.Errorf("the cloud's records: %w", l.err)
	}
	return l.rec, nil
}

func (l *lazyCloud) Servers(ctx context.Context, since time.Time) ([]review.CloudServer, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.Servers(ctx, since)
}

func (l *lazyCloud) InstanceActions(ctx context.Context, id string) ([]review.InstanceAction, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.InstanceActions(ctx, id)
}

func (l *lazyCloud) Backups(ctx context.Context, since time.Time) ([]journal.Backup, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.Backups(ctx, since)
}

func (l *lazyCloud) LoadBalancerObjects(ctx context.Context) ([]review.LBObject, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.LoadBalancerObjects(ctx)
}
