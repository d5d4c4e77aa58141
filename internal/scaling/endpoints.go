package scaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// EndpointError reports a scale-in endpoint that cannot be used: Option is the option's name
// (health_check_url or pre_delete_webhook), so the caller can point at its own attribute.
type EndpointError struct {
	Option string
	URL    string
	Err    error
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Option, e.URL, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// ValidateEndpointURL checks what can be checked without a network: an absolute http or https
// URL with a host.
func ValidateEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: only http and https are supported", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("no host in the URL")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("port %q is not a TCP port", p)
		}
	}
	return nil
}

// checkEndpoints runs once before the first drain of a run: a health URL that does not answer
// 2xx/3xx, or a webhook whose host cannot be connected to, would otherwise only show after a
// node had been drained.
func (r *run) checkEndpoints(ctx context.Context) error {
	if r.endpointsChecked {
		return nil
	}
	p := r.p
	if u := p.opts.HealthCheckURL; u != "" {
		if err := r.probeHealthURL(ctx); err != nil {
			return &EndpointError{Option: "health_check_url", URL: u, Err: fmt.Errorf("does not answer before the scale-back starts, so no node was drained: %w", err)}
		}
	}
	if u := p.opts.PreDeleteWebhook; u != "" {
		if err := dialEndpoint(ctx, u); err != nil {
			return &EndpointError{Option: "pre_delete_webhook", URL: u, Err: fmt.Errorf("cannot be reached before the scale-back starts, so no node was drained: %w", err)}
		}
	}
	r.endpointsChecked = true
	return nil
}

// probeHealthURL wants one 2xx/3xx answer within HealthCheckTimeout; a failure to connect at all
// (no such host, connection refused) ends it at once, since waiting will not mend it.
func (r *run) probeHealthURL(ctx context.Context) error {
	p := r.p
	deadline := p.clock.Now().Add(p.opts.HealthCheckTimeout)
	for {
		code, err := p.send(ctx, http.MethodGet, p.opts.HealthCheckURL, nil)
		if err == nil && code >= 200 && code < 400 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && unreachable(err) {
			return err
		}
		if !p.clock.Now().Before(deadline) {
			return fmt.Errorf("no 2xx/3xx answer within %s (last: %s)", p.opts.HealthCheckTimeout, describe(code, err))
		}
		if err := p.clock.Sleep(ctx, p.opts.PollInterval); err != nil {
			return err
		}
	}
}

// dialEndpoint opens (and closes) a TCP connection to the URL's host and port: the webhook must
// not be called before a node has drained, but whether it can be reached is known now.
func dialEndpoint(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	return conn.Close()
}

// errUnusableURL marks a request that could not even be built from the configured URL.
var errUnusableURL = errors.New("unusable URL")

// unreachable reports an error that retrying will not mend: no such host, a refused
// connection, or a request that cannot be built.
func unreachable(err error) bool {
	if errors.Is(err, errUnusableURL) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial" && !opErr.Timeout()
}

// WebhookPayload is the JSON body POSTed to the pre-delete webhook once a node has
// drained and before its member is removed.
type WebhookPayload struct {
	Pool     string `json:"pool"`
	Node     string `json:"node"`
	ServerID string `json:"server_id"`
	Address  string `json:"address"`
	MemberID string `json:"member_id"`
}

// callWebhook POSTs the node's details until the webhook answers 2xx, retrying every
// PollInterval, bounded by WebhookTimeout.
func (r *run) callWebhook(ctx context.Context, n Node) error {
	p := r.p
	body, err := json.Marshal(WebhookPayload{Pool: p.spec.Key, Node: n.Name, ServerID: n.ServerID, Address: n.Address, MemberID: n.MemberID})
	if err != nil {
		return err
	}
	deadline := p.clock.Now().Add(p.opts.WebhookTimeout)
	for attempt := 1; ; attempt++ {
		code, err := p.send(ctx, http.MethodPost, p.opts.PreDeleteWebhook, body)
		if err == nil && code >= 200 && code < 300 {
			p.progress(StepDrainWait, []string{n.Name}, "pre-delete webhook accepted %s (HTTP %d)", n.Name, code)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errUnusableURL) {
			return &EndpointError{Option: "pre_delete_webhook", URL: p.opts.PreDeleteWebhook, Err: err}
		}
		last := describe(code, err)
		remaining := deadline.Sub(p.clock.Now())
		if remaining <= 0 {
			return fmt.Errorf("pre-delete webhook %s gave no 2xx answer for node %s within %s (%d attempt(s), last: %s)",
				p.opts.PreDeleteWebhook, n.Name, p.opts.WebhookTimeout, attempt, last)
		}
		p.progress(StepDrainWait, []string{n.Name}, "pre-delete webhook for %s: %s; retrying", n.Name, last)
		if err := p.clock.Sleep(ctx, min(p.opts.PollInterval, remaining)); err != nil {
			return err
		}
	}
}

// checkURL requires HealthCheckSuccesses consecutive 2xx/3xx answers from the health URL
// within HealthCheckTimeout.
func (r *run) checkURL(ctx context.Context) error {
	p := r.p
	deadline := p.clock.Now().Add(p.opts.HealthCheckTimeout)
	streak := 0
	last := "no answer yet"
	for {
		code, err := p.send(ctx, http.MethodGet, p.opts.HealthCheckURL, nil)
		if err == nil && code >= 200 && code < 400 {
			streak++
			if streak >= p.opts.HealthCheckSuccesses {
				return nil
			}
		} else {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, errUnusableURL) {
				return &EndpointError{Option: "health_check_url", URL: p.opts.HealthCheckURL, Err: err}
			}
			streak = 0
			last = describe(code, err)
		}
		if !p.clock.Now().Before(deadline) {
			return fmt.Errorf("%s did not answer 2xx/3xx %d times in a row within %s (last failure: %s)",
				p.opts.HealthCheckURL, p.opts.HealthCheckSuccesses, p.opts.HealthCheckTimeout, last)
		}
		if err := p.clock.Sleep(ctx, p.opts.PollInterval); err != nil {
			return err
		}
	}
}

func (p *Pool) send(ctx context.Context, method, url string, body []byte) (int, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, url, rd)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errUnusableURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	// The status is all the health check needs; a failed close cannot change it.
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func describe(code int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("HTTP %d", code)
}
