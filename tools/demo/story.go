package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

type demo struct {
	cfg   config
	out   io.Writer
	start time.Time

	dc      *devcloud.Cloud
	ctl     control
	tf      *terraform
	logFile *os.File
	logPath string

	// tlsRoots trusts the site's certificate (writeTLSFiles); eventscaleBin is the eventscale
	// command (watch, review) built for the demo.
	tlsRoots      *x509.CertPool
	eventscaleBin string
}

// figures are a load test's results as the configuration's outputs carry them.
type figures struct {
	NodesBehindVIP int              `json:"nodes_behind_vip"`
	Rate           float64          `json:"rate"`
	Requests       int64            `json:"requests"`
	AchievedRate   float64          `json:"achieved_rate"`
	Throughput     float64          `json:"throughput"`
	SuccessRatio   float64          `json:"success_ratio"`
	P50            float64          `json:"latency_p50_ms"`
	P95            float64          `json:"latency_p95_ms"`
	P99            float64          `json:"latency_p99_ms"`
	StatusCodes    map[string]int64 `json:"status_codes"`
	Passed         *bool            `json:"passed"`
	Backends       []backendShare   `json:"backends"`
}

type capacityPlan struct {
	NodeCapacityRPS float64 `json:"node_capacity_rps"`
	ExpectedPeakRPS float64 `json:"expected_peak_rps"`
	WebNodes        int     `json:"web_nodes"`
	Replicas        int     `json:"replicas"`
	HeadroomPercent float64 `json:"headroom_percent"`
	Formula         string  `json:"formula"`
}

type outputs struct {
	LoadBalancer struct {
		ID            string `json:"id"`
		PoolID        string `json:"pool_id"`
		VIPAddress    string `json:"vip_address"`
		PublicAddress string `json:"public_address"`
		VIPURL        string `json:"vip_url"`
	} `json:"load_balancer"`
	Backups struct {
		Server []struct {
			ID             string `json:"id"`
			Name           string `json:"name"`
			Status         string `json:"status"`
			RestoreCommand string `json:"restore_command"`
		} `json:"server"`
		Database *struct {
			ID             string `json:"id"`
			Name           string `json:"name"`
			Status         string `json:"status"`
			RestoreCommand string `json:"restore_command"`
		} `json:"database"`
	} `json:"backups"`
	Web01Member []struct {
		Address        string `json:"address"`
		BackupInEffect bool   `json:"backup_in_effect"`
		WeightInEffect int    `json:"weight_in_effect"`
	} `json:"web01_member"`
	DNS *struct {
		Name            string   `json:"name"`
		Records         []string `json:"records"`
		TTL             int      `json:"ttl"`
		PreviousRecords []string `json:"previous_records"`
		PreviousTTL     int      `json:"previous_ttl"`
		LowerTTLBy      string   `json:"lower_ttl_by"`
		SwitchBy        string   `json:"switch_by"`
	} `json:"dns"`
	SeedImageID string     `json:"seed_image_id"`
	WebNodes    []poolNode `json:"web_nodes"`
	Replicas    []struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"replicas"`
	Runbook      string       `json:"runbook"`
	Baseline     figures      `json:"baseline"`
	CapacityPlan capacityPlan `json:"capacity_plan"`
	Peak         *figures     `json:"peak"`
}

// close stops devcloud and closes the log; it runs once, on every way out.
func (d *demo) close() {
	if d.dc != nil {
		_ = d.dc.Close()
		d.dc = nil
		fmt.Fprintf(d.out, "\n   devcloud stopped.\n")
	}
	if d.logFile != nil {
		_ = d.logFile.Close()
		d.logFile = nil
	}
}

func (d *demo) story(ctx context.Context) error {
	if err := d.startCloud(); err != nil {
		return err
	}
	if err := d.prepareTerraform(ctx); err != nil {
		return err
	}
	o, err := d.applyNormalTier(ctx)
	if err != nil {
		return err
	}
	plan, err := d.baseline(o)
	if err != nil {
		return err
	}
	o, err = d.scaleForEvent(ctx, o, plan)
	if err != nil {
		return err
	}
	res, problems, err := d.scaleBack(ctx, o)
	if err == nil {
		err = d.cleanUp(ctx)
	}
	if err == nil {
		err = d.reviewEvent(ctx)
	}
	if res.Sent == 0 {
		return err // the scale-back never started: nothing to count
	}
	// devcloud goes before the verdict, so that the verdict is the last line.
	d.close()
	fmt.Fprintf(d.out, "\n   total time: %s; Terraform log: %s\n", d.since(), d.logPath)
	failed := err != nil || len(problems) > 0 || res.Failed > 0
	if err != nil {
		fmt.Fprintf(d.out, "\nDEMO FAILED: %v\n", err)
	}
	if len(problems) > 0 {
		fmt.Fprintf(d.out, "\nDEMO FAILED: the scale-back broke its promise:\n  - %s\n", strings.Join(problems, "\n  - "))
	}
	if res.Failed > 0 {
		fmt.Fprintf(d.out, "\nDEMO FAILED: requests failed during the scale-back: %s\n", strings.Join(res.Reasons, "; "))
	}
	fmt.Fprintf(d.out, "failed requests during scale-back: %d (of %d)\n", res.Failed, res.Sent)
	if failed {
		return reportedError{errors.Join(fmt.Errorf("scale-back: %d of %d requests failed, %d broken promise(s)", res.Failed, res.Sent, len(problems)), err)}
	}
	return nil
}

// reportedError is a failure the output already explains; main only sets the exit code.
type reportedError struct{ error }

// 1. devcloud, in this process, on a loopback port.
func (d *demo) startCloud() error {
	d.section(1, "devcloud: a local OpenStack (Keystone, Nova, Glance, Neutron, Octavia, Trove)")
	dc, err := devcloud.Start(devcloud.Options{TimeScale: d.cfg.timeScale, Seed: true, RandSeed: 1})
	if err != nil {
		return fmt.Errorf("starting devcloud: %w", err)
	}
	d.dc = dc
	d.ctl = control{base: dc.URL(), client: &http.Client{Timeout: 10 * time.Second}}
	s := dc.Seed()
	d.say("listening on %s (time scale %g: a 30 s server build takes %s)", dc.URL(), d.cfg.timeScale,
		time.Duration(float64(30*time.Second)*d.cfg.timeScale))
	d.say("seeded: web01 %s at %s (m1.small: %d req/s), db01 %s, network private %s",
		short(s.Web01ServerID), s.Web01Address, int(dc.Capacity().RPSPerVCPU), short(s.DB01ID), short(s.NetworkID))
	return nil
}

// 2. Terraform with the locally built provider, in a working copy of examples/event.
func (d *demo) prepareTerraform(ctx context.Context) error {
	d.section(2, "Terraform: examples/event with the provider from bin/")
	if err := os.RemoveAll(d.cfg.workDir); err != nil {
		return fmt.Errorf("emptying %s: %w", d.cfg.workDir, err)
	}
	if err := copyConfig(filepath.Join(d.cfg.repo, "examples", "event"), d.cfg.workDir); err != nil {
		return err
	}
	cliPath := filepath.Join(d.cfg.workDir, "terraform.rc")
	if err := os.WriteFile(cliPath, []byte(cliConfig(d.cfg.providerDir)), 0o644); err != nil {
		return err
	}
	d.logPath = filepath.Join(d.cfg.workDir, "terraform.log")
	f, err := os.Create(d.logPath)
	if err != nil {
		return err
	}
	d.logFile = f
	extra := d.dc.Env()
	extra["TF_CLI_CONFIG_FILE"] = cliPath
	extra["TF_IN_AUTOMATION"] = "1"
	extra["TF_INPUT"] = "0"
	extra["CHECKPOINT_DISABLE"] = "1"
	// devcloud runs fifty times faster than a cloud: the provider's waiters poll it often.
	extra["EVENTSCALE_POLL_INTERVAL"] = "50ms"
	s := d.dc.Seed()
	certFile, keyFile, roots, err := writeTLSFiles(d.cfg.workDir)
	if err != nil {
		return fmt.Errorf("writing the site's certificate: %w", err)
	}
	d.tlsRoots = roots
	if err := d.ctl.createCustomerZone(ctx, s.Web01Address); err != nil {
		return err
	}
	if err := d.buildEventscale(ctx); err != nil {
		return err
	}
	// The window opens tomorrow: the freeze must not stop tonight's scale-back.
	starts := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	d.tf = &terraform{bin: d.cfg.terraform, dir: d.cfg.workDir, env: terraformEnv(os.Environ(), extra), log: f,
		vars: map[string]any{
			"web01_server_id":      s.Web01ServerID,
			"web01_address":        s.Web01Address,
			"network_id":           s.NetworkID,
			"subnet_id":            s.SubnetID,
			"db01_id":              s.DB01ID,
			"web_flavor":           "m1.small",
			"db_flavor_id":         s.Web01FlavorID,
			"event_starts_at":      starts.Format(time.RFC3339),
			"event_ends_at":        starts.Add(4 * time.Hour).Format(time.RFC3339),
			"load_test_duration":   d.cfg.duration.String(),
			"drain_timeout":        d.cfg.drain.String(),
			"public_network":       "public",
			"tls_certificate_file": certFile,
			"tls_private_key_file": keyFile,
			"dns_zone":             demoZone,
			"dns_name":             demoName,
			// The demo leaves nothing behind on devcloud; a real event keeps its backups.
			"delete_backups_on_destroy": true,
		}}
	v, err := d.tf.version(ctx)
	if err != nil {
		return err
	}
	d.say("terraform %s: %s", v, d.cfg.terraform)
	d.say("provider:  %s/terraform-provider-eventscale (dev_overrides, no terraform init)", d.cfg.providerDir)
	d.say("work dir:  %s (variables from devcloud's seed in terraform.tfvars.json)", d.cfg.workDir)
	d.say("log:       %s", d.logPath)
	d.say("the customer's domain before the event: %s A %s, TTL %d s (zone %s in Designate)", demoName, s.Web01Address, demoOldTTL, demoZone)
	d.say("the site's certificate for %s: %s (self-signed; the load test trusts it)", demoTLSName, certFile)
	if err := d.tf.run(ctx, nil, "fmt", "-check", "-no-color"); err != nil {
		return fmt.Errorf("examples/event is not formatted (terraform fmt): %w", err)
	}
	if err := d.tf.run(ctx, nil, "validate", "-no-color"); err != nil {
		return fmt.Errorf("examples/event does not validate: %w", err)
	}
	d.say("terraform fmt -check and terraform validate: ok")
	return nil
}

func copyConfig(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(from, "*.tf"))
	if err != nil {
		return fmt.Errorf("listing .tf files in %s: %w", from, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("no .tf files in %s", from)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// 3. The tier at its normal size, the event, the baseline load test and the capacity plan.
func (d *demo) applyNormalTier(ctx context.Context) (outputs, error) {
	var o outputs
	d.section(3, "terraform apply: backups, seed image, load balancer (public IP, HTTP and HTTPS), 4 web nodes, a DB replica, the event, the DNS TTL lowered")
	t := time.Now()
	// The load tests need the VIP's URL. On devcloud it is a 127.0.0.1 listener known once the
	// load balancer exists; on a real cloud the configuration uses http://<vip_address>/.
	if err := d.tf.apply(ctx, "-target=eventscale_load_balancer.front"); err != nil {
		return o, err
	}
	lbID, err := d.tf.resourceAttr(ctx, "eventscale_load_balancer.front", "id")
	if err != nil {
		return o, err
	}
	vip, err := d.ctl.vipURL(ctx, lbID)
	if err != nil {
		return o, err
	}
	d.say("load balancer %s is ACTIVE; its HTTP listener on devcloud: %s (%.1fs)", short(lbID), vip, time.Since(t).Seconds())
	d.tf.vars["vip_url"] = vip
	d.say("applying the rest, then a %s baseline load test at the expected peak ...", d.cfg.duration)
	t = time.Now()
	if err := d.tf.apply(ctx); err != nil {
		return o, err
	}
	if err := d.tf.outputs(ctx, &o); err != nil {
		return o, err
	}
	d.say("applied in %.1fs", time.Since(t).Seconds())
	for _, b := range o.Backups.Server {
		d.say("backup          %s %s %s (Nova backup of web01, rotation 2); restore: %s", b.Name, short(b.ID), b.Status, b.RestoreCommand)
	}
	if b := o.Backups.Database; b != nil {
		d.say("backup          %s %s %s (Trove backup of db01); restore: %s", b.Name, short(b.ID), b.Status, b.RestoreCommand)
	}
	d.say("seed image      %s (snapshot of web01)", short(o.SeedImageID))
	d.say("load balancer   %s, VIP %s, round robin, HTTP health monitor, web01 static member", short(o.LoadBalancer.ID), o.LoadBalancer.VIPAddress)
	if err := d.showPublicAddress(ctx, o.LoadBalancer.ID, o.LoadBalancer.PublicAddress); err != nil {
		return o, err
	}
	if o.DNS != nil {
		d.say("DNS             %s still points at %s; TTL lowered %d s -> %d s (first moment; lower by %s, switch by %s)",
			o.DNS.Name, strings.Join(o.DNS.Records, ", "), o.DNS.PreviousTTL, o.DNS.TTL, o.DNS.LowerTTLBy, o.DNS.SwitchBy)
	}
	d.printNodes(o.WebNodes)
	for _, r := range o.Replicas {
		d.say("db replica      %s %s %s (of db01)", r.Name, short(r.ID), r.Status)
	}
	d.say("the event's runbook (output runbook):")
	d.indent(o.Runbook)
	return o, nil
}

func (d *demo) printNodes(nodes []poolNode) {
	var names []string
	for _, n := range nodes {
		names = append(names, fmt.Sprintf("%-38s", fmt.Sprintf("%s %s %s/%s", n.Name, n.Address, n.Status, n.OpStatus)))
	}
	d.say("web pool        %d nodes:", len(nodes))
	for i := 0; i < len(names); i += 3 {
		d.say("  %s", strings.TrimRight(strings.Join(names[i:min(i+3, len(names))], " "), " "))
	}
}

// 4. The baseline's figures and what the capacity plan makes of them.
func (d *demo) baseline(o outputs) (capacityPlan, error) {
	b, p := o.Baseline, o.CapacityPlan
	d.section(4, fmt.Sprintf("Baseline load test through the VIP: %g req/s for %s at %d nodes (4 + web01)", b.Rate, d.cfg.duration, b.NodesBehindVIP))
	d.printFigures(b)
	if b.Throughput < 0.9*b.Rate {
		d.say("=> the tier is saturated: it answered %.0f req/s of the %g asked, the rest queued and got 503", b.Throughput, b.Rate)
	} else {
		d.say("=> the tier held %g req/s: the baseline only bounds a node's capacity from below", b.Rate)
	}
	d.say("capacity plan (data.eventscale_capacity_plan):")
	d.say("  node capacity %g req/s (%.1f req/s throughput / %d nodes), expected peak %g req/s",
		p.NodeCapacityRPS, b.Throughput, b.NodesBehindVIP, p.ExpectedPeakRPS)
	for _, part := range strings.Split(p.Formula, "; ") {
		d.say("  %s", part)
	}
	if p.WebNodes < 1 {
		return p, fmt.Errorf("the capacity plan asks for %d web nodes", p.WebNodes)
	}
	return p, nil
}

func (d *demo) printFigures(f figures) {
	d.say("requests %d, achieved %.1f req/s, successful %.1f req/s, success ratio %.4f", f.Requests, f.AchievedRate, f.Throughput, f.SuccessRatio)
	d.say("latency p50 %.0f ms, p95 %.0f ms, p99 %.0f ms; status codes %s", f.P50, f.P95, f.P99, codes(f.StatusCodes))
}

func codes(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// 5. The pool at the plan's size, and the same load again, now with thresholds.
func (d *demo) scaleForEvent(ctx context.Context, before outputs, plan capacityPlan) (outputs, error) {
	var o outputs
	d.section(5, fmt.Sprintf("Scale for the event: web_pool_size = %d, db_replicas = %d (the plan), then the peak test", plan.WebNodes, plan.Replicas))
	d.tf.vars["web_pool_size"] = plan.WebNodes
	d.tf.vars["db_replicas"] = max(plan.Replicas, 1)
	d.tf.vars["verify_peak"] = true
	// web01 out of first-line rotation, and the customer's name switched to the tier.
	d.tf.vars["protect_web01"] = true
	d.tf.vars["dns_switch"] = true
	if err := d.preflight(ctx); err != nil {
		return o, err
	}
	t := time.Now()
	if err := d.tf.apply(ctx); err != nil {
		return o, err
	}
	if err := d.tf.outputs(ctx, &o); err != nil {
		return o, err
	}
	d.say("applied in %.1fs (%d new nodes in one member update, then the load test)", time.Since(t).Seconds(), len(o.WebNodes)-len(before.WebNodes))
	d.printNodes(o.WebNodes)
	d.say("db replicas     %d", len(o.Replicas))
	for _, m := range o.Web01Member {
		d.say("web01           member %s: backup %t, weight %d (out of first-line rotation while the pool carries the load)", m.Address, m.BackupInEffect, m.WeightInEffect)
	}
	if o.DNS != nil {
		records, ttl, err := d.ctl.customerRecord(ctx)
		if err != nil {
			return o, err
		}
		d.say("DNS             %s now points at %s (the public address), TTL %d s; Designate answers %s",
			o.DNS.Name, strings.Join(o.DNS.Records, ", "), o.DNS.TTL, strings.Join(records, ", ")+fmt.Sprintf(" TTL %d", ttl))
	}
	if o.Peak == nil {
		return o, errors.New("the peak load test did not run (output peak is null)")
	}
	p := *o.Peak
	d.say("peak load test: %g req/s for %s at %d nodes, thresholds p95 <= 250 ms, no errors, >= 95%% of the rate", p.Rate, d.cfg.duration, p.NodesBehindVIP)
	d.printFigures(p)
	d.printShares(p.Backends, d.dc.Seed().Web01Address)
	if p.Passed == nil || !*p.Passed {
		return o, errors.New("the peak load test did not pass its thresholds")
	}
	d.say("=> the tier now holds the expected peak: p95 %.0f ms (baseline %.0f ms), success ratio %.4f (baseline %.4f)",
		p.P95, before.Baseline.P95, p.SuccessRatio, before.Baseline.SuccessRatio)
	return o, nil
}

// preflight shows what an operator meets on a real cloud: terraform plan refuses the event
// because the project's quotas cannot hold it, and words the ticket to the cloud's operator.
// devcloud's admin then grants exactly that, as the cloud's operator would, weeks ahead of the
// event; the plan is run again until it passes.
func (d *demo) preflight(ctx context.Context) error {
	for round := 0; round < 3; round++ {
		shortfalls, err := d.tf.planShortfalls(ctx)
		if err != nil {
			return err
		}
		if len(shortfalls) == 0 {
			if round == 0 {
				d.say("pre-flight (terraform plan): the project's quotas hold the event")
			} else {
				d.say("pre-flight again: the plan passes")
			}
			return nil
		}
		d.say("pre-flight (terraform plan) refuses the event: the project's quotas cannot hold it, nothing was created")
		var asks []string
		for _, s := range shortfalls {
			d.say("  - %s", s.Line)
			asks = append(asks, fmt.Sprintf("%s %s %d", s.Service, s.Resource, s.Ask()))
		}
		d.say("the ticket to the cloud's operator: ask for %s", strings.Join(asks, ", "))
		seed := d.dc.Seed()
		if err := d.ctl.grantQuotas(ctx, seed.ProjectID, seed.AdminProjectID, shortfalls); err != nil {
			return err
		}
		d.say("granted by devcloud's admin, as the cloud's operator would (openstack quota set ...)")
	}
	return errors.New("the pre-flight still finds quota shortfalls after three grants")
}

// 6. terraform destroy of the web pool under steady traffic, and devcloud's account of it.
// It returns the background traffic's count, the ways the timeline broke the
// scale-back's promise, and an error when a step could not run.
func (d *demo) scaleBack(ctx context.Context, o outputs) (loadResult, []string, error) {
	d.section(6, fmt.Sprintf("Scale back: terraform destroy of the web pool while %d req/s keep hitting the VIP", d.cfg.steadyRate))
	_, before, err := d.ctl.events(ctx)
	if err != nil {
		return loadResult{}, nil, err
	}
	preview, err := d.tf.planDestroyPreview(ctx, "-target=eventscale_web_pool.web")
	if err != nil {
		return loadResult{}, nil, err
	}
	d.say("terraform plan -destroy lists the scale-back first: drain, wait %s, remove, delete, health gate, for", d.cfg.drain)
	d.say("  %s", strings.Join(preview, ", "))
	// web01 back in first-line rotation before the first node drains: it serves alone at the end.
	d.tf.vars["protect_web01"] = false
	if err := d.tf.apply(ctx, "-target=eventscale_load_balancer.front"); err != nil {
		return loadResult{}, nil, err
	}
	var lbOut outputs
	if err := d.tf.outputs(ctx, &lbOut); err != nil {
		return loadResult{}, nil, err
	}
	for _, m := range lbOut.Web01Member {
		d.say("web01 restored: member %s backup %t, weight %d", m.Address, m.BackupInEffect, m.WeightInEffect)
	}
	d.say("eventscale watch -plain -utc -f %s, beside the destroy (its lines from the destroy on):", d.journalPath())
	watch, err := d.startWatch(ctx, time.Now())
	if err != nil {
		return loadResult{}, nil, err
	}
	load := startSteadyLoad(o.LoadBalancer.VIPURL, d.cfg.steadyRate)
	t0 := time.Now()
	applyErr := d.tf.destroy(ctx, "-target=eventscale_web_pool.web")
	took := time.Since(t0)
	if n := watch.stop(); n == 0 {
		applyErr = errors.Join(applyErr, errors.New("eventscale watch printed nothing during the scale-back"))
	}
	// A moment more of traffic on web01 alone, after the last node left.
	time.Sleep(500 * time.Millisecond)
	res := load.stop()
	// The timeline is read even when the destroy failed: it shows how far the scale-back got.
	events, after, err := d.ctl.events(context.WithoutCancel(ctx))
	if err != nil {
		return res, nil, errors.Join(applyErr, err)
	}
	if applyErr != nil {
		d.say("the destroy FAILED after %.1fs; devcloud's timeline, seconds since the destroy began:", took.Seconds())
	} else {
		d.say("destroyed in %.1fs, one node at a time (drain timeout %s); devcloud's timeline, seconds since the destroy began:", took.Seconds(), d.cfg.drain)
	}
	steps := scaleBackTimeline(events, o.WebNodes)
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "     -"
		}
		return fmt.Sprintf("%6.2f", t.Sub(t0).Seconds())
	}
	d.say("%-14s %8s %8s %8s %8s %10s", "node", "drained", "removed", "deleting", "deleted", "drain held")
	for _, s := range steps {
		held := "-"
		if !s.Drained.IsZero() && !s.Removed.IsZero() {
			held = fmt.Sprintf("%.2fs", s.Removed.Sub(s.Drained).Seconds())
		}
		d.say("%-14s %8s %8s %8s %8s %10s", s.Name, rel(s.Drained), rel(s.Removed), rel(s.Deleting), rel(s.Deleted), held)
	}
	var executed []string
	for _, s := range steps {
		executed = append(executed, s.Name)
	}
	orderMismatch := ""
	if strings.Join(preview, ",") != strings.Join(executed, ",") {
		// The plan is what the operator approved: draining in another order breaks that promise.
		orderMismatch = fmt.Sprintf("the plan listed %s first, the destroy drained %s first: the preview's order is not the executed one",
			first(preview), first(executed))
	} else {
		d.say("the drain order is the one terraform plan showed")
	}
	brokenBefore, errsBefore := trafficTotals(before, o.LoadBalancer.ID)
	brokenAfter, errsAfter := trafficTotals(after, o.LoadBalancer.ID)
	d.say("background traffic: %s", res)
	d.say("devcloud: %d requests broken mid-flight by the load balancer, %d member errors, during the scale-back",
		brokenAfter-brokenBefore, errsAfter-errsBefore)
	if applyErr != nil {
		return res, nil, applyErr
	}
	var problems []string
	problems = append(problems, checkScaleBack(steps, d.cfg.drain)...)
	if orderMismatch != "" {
		problems = append(problems, orderMismatch)
	}
	if n := brokenAfter - brokenBefore; n > 0 {
		problems = append(problems, fmt.Sprintf("devcloud broke %d requests in flight during the scale-back", n))
	}
	return res, problems, nil
}

// 7. Everything else, once traffic is back on web01 alone (in real life: DNS moved back).
func (d *demo) cleanUp(ctx context.Context) error {
	d.section(7, "Clean up: terraform destroy of the rest (DNS record restored, load balancer, replicas, image, backups, event)")
	if err := d.tf.destroy(ctx); err != nil {
		return err
	}
	events, _, err := d.ctl.events(ctx)
	if err != nil {
		return err
	}
	left := leftovers(events)
	if len(left) > 0 {
		return fmt.Errorf("objects left on devcloud after terraform destroy: %s", strings.Join(left, ", "))
	}
	d.say("nothing left on devcloud but its seed (web01, db01) and the customer's zone")
	records, ttl, err := d.ctl.customerRecord(ctx)
	if err != nil {
		return err
	}
	d.say("DNS restored: %s points at %s again, TTL %d s", demoName, strings.Join(records, ", "), ttl)
	if ttl != demoOldTTL || len(records) != 1 || records[0] != d.dc.Seed().Web01Address {
		return fmt.Errorf("the destroy did not restore %s: %v TTL %d, want %s TTL %d", demoName, records, ttl, d.dc.Seed().Web01Address, demoOldTTL)
	}
	return nil
}

// leftovers lists what the demo created on devcloud and did not delete, from the timeline.
func leftovers(events []cloudEvent) []string {
	live := map[string]string{}
	var order []string
	add := func(key, what string) {
		if _, ok := live[key]; !ok {
			order = append(order, key)
		}
		live[key] = what
	}
	for _, e := range events {
		switch e.Kind {
		case "server.created":
			add("server/"+e.attr("server_id"), "server "+e.attr("name"))
		case "server.deleted":
			delete(live, "server/"+e.attr("server_id"))
		case "lb.created":
			add("lb/"+e.attr("lb_id"), "load balancer "+e.attr("name"))
		case "lb.deleted":
			delete(live, "lb/"+e.attr("lb_id"))
		case "replica.created", "db.created":
			add("db/"+e.attr("instance_id"), "database "+e.attr("name"))
		case "replica.deleted", "db.deleted":
			delete(live, "db/"+e.attr("instance_id"))
		case "image.created":
			add("image/"+e.attr("image_id"), "image "+e.attr("name"))
		case "image.deleted":
			delete(live, "image/"+e.attr("image_id"))
		}
	}
	var out []string
	for _, k := range order {
		if what, ok := live[k]; ok {
			out = append(out, what)
		}
	}
	return out
}

func first(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return names[0]
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
