package scaling

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

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
		return 0, err
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
