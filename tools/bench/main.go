// Command bench measures the web pool against devcloud with a realistic timing model and
// prints one table: for each scenario the floor (what the cloud itself needs), the measured
// model time, their ratio, the API calls, the load balancer's update cycles and the peak
// memory. See docs/benchmarks.md and internal/bench.
//
//	bench -suite bench   -terraform bin/terraform -provider bin/terraform-provider-eventscale -doc docs/benchmarks.md
//	bench -suite compare -terraform bin/terraform -provider bin/terraform-provider-eventscale \
//	      -peer bin/tpo/terraform-provider-openstack -doc docs/benchmarks.md
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/bench"
)

func main() {
	// Terraform starts this binary in place of a provider plugin to measure the plugin's memory.
	if code, wrapped := bench.RunPluginWrapper(); wrapped {
		os.Exit(code)
	}
	if len(os.Args) == 2 && os.Args[1] == bench.PoolRunFlag {
		if err := bench.ServePoolRun(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var o bench.Options
	suite := flag.String("suite", "bench", "bench (the library scenarios and a refresh at 500 nodes) or compare (this provider and terraform-provider-openstack through Terraform)")
	doc := flag.String("doc", "", "Markdown file whose section for this suite is rewritten with the results (docs/benchmarks.md)")
	logPath := flag.String("log", "", "file for progress and Terraform's output (default: progress on stderr, Terraform's output in <work>/<suite>.log)")
	flag.Float64Var(&o.Scale, "time-scale", 0.05, "devcloud time scale for the library scenarios (0.05: a 30 s build takes 1.5 s)")
	flag.StringVar(&o.Terraform, "terraform", "", "Terraform CLI (empty skips the Terraform scenarios of -suite bench)")
	flag.StringVar(&o.Provider, "provider", "bin/terraform-provider-eventscale", "this provider's plugin binary")
	flag.StringVar(&o.Peer, "peer", "bin/tpo/terraform-provider-openstack", "terraform-provider-openstack "+bench.PeerVersion+" plugin binary")
	flag.StringVar(&o.WorkDir, "work", "bin/bench-work", "working directory for Terraform")
	flag.IntVar(&o.CompareSmall, "compare-small", 10, "pool size of the comparison's first scale-out and its scale-back")
	flag.IntVar(&o.CompareLarge, "compare-large", 50, "pool size of the comparison's second scale-out and refresh")
	flag.Float64Var(&o.CompareScale, "compare-time-scale", 1, "devcloud time scale of the comparison: 1, since terraform-provider-openstack waits in wall-clock time")
	only := flag.String("only", "", "run only the scenarios of -suite bench whose name matches this regular expression")
	flag.Parse()
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		o.Only = re
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Self = self
	if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return err
	}
	o.Log = os.Stderr
	tfLogPath := *logPath
	if tfLogPath == "" {
		tfLogPath = filepath.Join(o.WorkDir, *suite+".log")
	}
	f, err := os.Create(tfLogPath)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	o.TerraformLog = f
	if *logPath != "" {
		o.Log = f
	}
	fmt.Fprintf(os.Stderr, "Terraform's output and the library runs' errors: %s\n", tfLogPath)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var rows []bench.Row
	switch *suite {
	case "bench":
		rows, err = bench.RunBench(ctx, o)
	case "compare":
		rows, err = bench.RunCompare(ctx, o)
	default:
		return fmt.Errorf("-suite must be bench or compare, not %q", *suite)
	}
	took := time.Since(start)
	fmt.Println()
	bench.WriteTable(os.Stdout, rows)
	if *suite == "compare" {
		fmt.Println()
		bench.WriteComparison(os.Stdout, bench.Compare(rows, "eventscale", bench.Peer("").Name))
	}
	fmt.Printf("\n%s suite: %s wall\n", *suite, took.Round(time.Second))
	if err != nil {
		return err
	}
	if *doc != "" && o.Only != nil {
		fmt.Printf("not writing %s: -only ran part of the suite\n", *doc)
	} else if *doc != "" {
		if werr := bench.WriteDoc(*doc, *suite, rows, o, took); werr != nil {
			return werr
		}
		fmt.Printf("written to %s\n", *doc)
	}
	for _, r := range rows {
		if r.Err != "" {
			return fmt.Errorf("%d scenario(s) failed", countFailed(rows))
		}
	}
	return nil
}

func countFailed(rows []bench.Row) int {
	n := 0
	for _, r := range rows {
		if r.Err != "" {
			n++
		}
	}
	return n
}
