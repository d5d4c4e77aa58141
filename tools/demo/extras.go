package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/review"
)

// The customer's domain in the demo: a Designate zone of the demo project with www pointing at
// web01, as it does before anyone thinks of the event.
const (
	demoZone    = "launch.example."
	demoName    = "www.launch.example."
	demoOldTTL  = 3600
	demoTLSName = "www.launch.example"
)

// writeTLSFiles writes a self-signed certificate for the site's name and its key, as the
// operator's files would be, and returns the pool that trusts it.
func writeTLSFiles(dir string) (certFile, keyFile string, roots *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: demoTLSName},
		DNSNames: []string{demoTLSName}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "tls", "site.crt"), filepath.Join(dir, "tls", "site.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots, nil
}

// getServedBy GETs url and returns the status and the member that answered (X-Served-By).
func getServedBy(ctx context.Context, client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Served-By"), nil
}

// showPublicAddress follows the floating IP to the listener devcloud answers it on (a
// floating address cannot be bound on loopback) and the TLS listener, and GETs through each.
func (d *demo) showPublicAddress(ctx context.Context, lbID, public string) error {
	var plain string
	for _, f := range d.dc.FloatingIPTargets() {
		if f.LoadBalancerID == lbID && f.FloatingIPAddress == public && strings.HasPrefix(f.URL, "http://") {
			plain = f.URL
		}
	}
	if plain == "" {
		return fmt.Errorf("devcloud routes no HTTP listener for the floating IP %s of load balancer %s", public, lbID)
	}
	code, by, err := getServedBy(ctx, &http.Client{Timeout: 5 * time.Second}, plain+"/")
	if err != nil {
		return fmt.Errorf("GET through the floating IP %s: %w", public, err)
	}
	d.say("public address  %s (floating IP on \"public\"), answered on devcloud's loopback data plane at %s:", public, plain)
	d.say("  GET http://%s/ -> %d, served by %s", public, code, by)
	var tlsAddr string
	for _, v := range d.dc.VIPs() {
		if v.LoadBalancerID == lbID && v.Protocol == "TERMINATED_HTTPS" {
			tlsAddr = v.Address
		}
	}
	if tlsAddr == "" {
		return fmt.Errorf("devcloud lists no TERMINATED_HTTPS listener for load balancer %s", lbID)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: d.tlsRoots, ServerName: demoTLSName, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+tlsAddr+"/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET through the TERMINATED_HTTPS listener: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	d.say("  GET https://%s/ (TERMINATED_HTTPS on 443, devcloud %s) -> %d, served by %s over HTTP; certificate %s, verified",
		demoTLSName, tlsAddr, resp.StatusCode, resp.Header.Get("X-Served-By"), resp.TLS.PeerCertificates[0].Subject.CommonName)
	return nil
}

// createCustomerZone makes what the customer has before the event: the zone, and www pointing
// at web01 with an hour's TTL, through Designate's API as the demo project.
func (c control) createCustomerZone(ctx context.Context, web01 string) error {
	token, err := c.projectToken(ctx, "demo", "demo")
	if err != nil {
		return err
	}
	var zone struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, c.base+"/dns/v2/zones", token,
		map[string]any{"name": demoZone, "email": "hostmaster@launch.example", "ttl": demoOldTTL}, &zone); err != nil {
		return fmt.Errorf("creating the customer's zone %s: %w", demoZone, err)
	}
	if err := c.waitZoneActive(ctx, token, zone.ID); err != nil {
		return err
	}
	var rs map[string]any
	if err := c.do(ctx, http.MethodPost, c.base+"/dns/v2/zones/"+zone.ID+"/recordsets", token,
		map[string]any{"name": demoName, "type": "A", "records": []string{web01}, "ttl": demoOldTTL}, &rs); err != nil {
		return fmt.Errorf("creating %s in the customer's zone: %w", demoName, err)
	}
	return c.waitZoneActive(ctx, token, zone.ID)
}

func (c control) waitZoneActive(ctx context.Context, token, id string) error {
	for {
		var z struct {
			Status string `json:"status"`
		}
		if err := c.do(ctx, http.MethodGet, c.base+"/dns/v2/zones/"+id, token, nil, &z); err != nil {
			return fmt.Errorf("reading zone %s: %w", id, err)
		}
		if z.Status == "ACTIVE" {
			return nil
		}
		if z.Status == "ERROR" {
			return fmt.Errorf("zone %s is in ERROR", id)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("zone %s still %s: %w", id, z.Status, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// customerRecord reads what the customer's name answers now: its records and TTL.
func (c control) customerRecord(ctx context.Context) ([]string, int, error) {
	token, err := c.projectToken(ctx, "demo", "demo")
	if err != nil {
		return nil, 0, err
	}
	var doc struct {
		Recordsets []struct {
			Records []string `json:"records"`
			TTL     *int     `json:"ttl"`
		} `json:"recordsets"`
	}
	if err := c.do(ctx, http.MethodGet, c.base+"/dns/v2/recordsets?type=A&name="+demoName, token, nil, &doc); err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", demoName, err)
	}
	if len(doc.Recordsets) != 1 {
		return nil, 0, fmt.Errorf("%d A record sets named %s, want 1", len(doc.Recordsets), demoName)
	}
	ttl := 0
	if doc.Recordsets[0].TTL != nil {
		ttl = *doc.Recordsets[0].TTL
	}
	return doc.Recordsets[0].Records, ttl, nil
}

// backendShare is one member's part of a load test (output backends).
type backendShare struct {
	Name          string  `json:"name"`
	Responses     int64   `json:"responses"`
	Share         float64 `json:"share"`
	ExpectedShare float64 `json:"expected_share"`
	Overloaded    bool    `json:"overloaded"`
	Silent        bool    `json:"silent"`
}

// printShares prints the load per member, web01 first; a member that answered nothing is not
// in the load test's figures, so web01 is added with 0 when it is missing.
func (d *demo) printShares(shares []backendShare, web01 string) {
	found := false
	for _, s := range shares {
		found = found || s.Name == web01
	}
	if !found {
		shares = append(shares, backendShare{Name: web01})
	}
	sort.SliceStable(shares, func(i, j int) bool {
		if (shares[i].Name == web01) != (shares[j].Name == web01) {
			return shares[i].Name == web01
		}
		return shares[i].Name < shares[j].Name
	})
	d.say("load per member (X-Served-By):")
	d.say("  %-16s %9s %7s %9s", "member", "responses", "share", "expected")
	for _, s := range shares {
		flag := ""
		switch {
		case s.Overloaded:
			flag = "  OVERLOADED"
		case s.Name == web01 && s.Responses == 0:
			flag = "  web01: out of first-line rotation (Octavia backup member)"
		case s.Name == web01:
			flag = "  web01"
		}
		d.say("  %-16s %9d %6.1f%% %8.1f%%%s", s.Name, s.Responses, 100*s.Share, 100*s.ExpectedShare, flag)
	}
}

// watcher runs `eventscale watch` on the journal beside a Terraform command and copies its
// lines into the demo's output as they come.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	lines  int
}

// startWatch starts the watch; it prints the whole journal first, and the demo shows only
// what is journaled from `from` on (the lines are stamped hh:mm:ss UTC).
func (d *demo) startWatch(ctx context.Context, from time.Time) (*watcher, error) {
	since := from.UTC().Format("15:04:05")
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, d.eventscaleBin, "watch", "-plain", "-utc", "-f", d.journalPath())
	cmd.Dir = d.cfg.workDir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting eventscale watch: %w", err)
	}
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if stamp, _, ok := strings.Cut(line, " "); ok && len(stamp) == 8 && stamp < since {
				continue // the journal before the scale-back
			}
			w.lines++
			d.say("  watch │ %s", line)
		}
		_ = cmd.Wait()
	}()
	return w, nil
}

// stop ends the watch once its last lines are read: the journal is complete when Terraform exits.
func (w *watcher) stop() int {
	time.Sleep(300 * time.Millisecond)
	w.cancel()
	<-w.done
	return w.lines
}

func (d *demo) journalPath() string {
	return filepath.Join(d.cfg.workDir, ".eventscale", "journal.jsonl")
}

// outMu orders the story's lines and those of the goroutines beside it (the watch).
var outMu sync.Mutex

// buildEventscale builds the eventscale command (watch, review) into the work directory.
func (d *demo) buildEventscale(ctx context.Context) error {
	d.eventscaleBin = filepath.Join(d.cfg.workDir, "eventscale")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", d.eventscaleBin, "./tools/eventscale")
	cmd.Dir = d.cfg.repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building tools/eventscale: %w\n%s", err, out)
	}
	return nil
}

// 8. The review after the event, from the journal the provider kept.
func (d *demo) reviewEvent(ctx context.Context) error {
	d.section(8, "Review: what the journal says about the event")
	r, err := review.Load(ctx, d.journalPath(), nil, time.Time{})
	if err != nil {
		return fmt.Errorf("the review: %w", err)
	}
	r.Generated = time.Now().UTC()
	files, err := r.WriteFiles(filepath.Join(d.cfg.workDir, "review"))
	if err != nil {
		return fmt.Errorf("writing the review: %w", err)
	}
	d.say("review: %s (also %s)", files.HTML, filepath.Base(files.Markdown))
	d.say("%d findings, %d to fix before next time:", len(r.Findings), r.Problems())
	for _, f := range r.Findings {
		if f.Fix != "" {
			d.say("  - %s => %s", f.Text, f.Fix)
		} else {
			d.say("  - %s", f.Text)
		}
	}
	if len(r.Findings) == 0 {
		return errors.New("the review found nothing to say about the event")
	}
	return nil
}
