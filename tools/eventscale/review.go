package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/review"
)

func runReview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("review", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("f", journal.PathFromEnv(), "the journal (default $"+journal.EnvPath+", else "+journal.DefaultPath+")")
	out := fl.String("o", "", "directory to write review.html, review.md and "+review.SVGName+" into (default: review/ beside the journal)")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: eventscale review [-f journal] [-o dir]\n\n"+
			"Writes the review after the event from the journal: a timeline of the pool's size with the load tests,\n"+
			"every node's life, the load tests, the capacity plan against what was provisioned, the quota pre-flight,\n"+
			"the backups, the load balancer's statistics, findings, and a checklist of what to fix before next time.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(filepath.Dir(*path), "review")
	}
	// The command reaches no cloud: without the journal it stops, saying where it looked.
	r, err := review.Load(ctx, *path, nil, time.Time{})
	if err != nil {
		fmt.Fprintf(stderr, "eventscale review: %v\n", err)
		return 1
	}
	r.Generated = time.Now().UTC()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "eventscale review: %v\n", err)
		return 1
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{{"review.html", r.WriteHTML}, {"review.md", r.WriteMarkdown}, {review.SVGName, r.WriteSVG}}
	for _, f := range files {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			fmt.Fprintf(stderr, "eventscale review: %v\n", err)
			return 1
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "eventscale review: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	problems := 0
	for _, f := range r.Findings {
		if f.Problem() {
			problems++
		}
	}
	fmt.Fprintf(stdout, "source: %s\n%d findings, %d to fix before next time", r.Source.Kind, len(r.Findings), problems)
	for _, s := range r.Skipped {
		fmt.Fprintf(stderr, "eventscale review: skipped %s\n", s)
	}
	fmt.Fprintln(stdout)
	return 0
}
