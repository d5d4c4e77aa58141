package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The devcloud control API's shapes, as a user of /_devcloud/ sees them.

type cloudEvent struct {
	Time  time.Time      `json:"time"`
	Kind  string         `json:"kind"`
	Attrs map[string]any `json:"attrs"`
}

func (e cloudEvent) attr(k string) string {
	switch v := e.Attrs[k].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

type memberTraffic struct {
	LoadBalancerID, PoolID, MemberID, Address string
	Served, Broken, Errors, InFlight          int64
}

type vipInfo struct {
	LoadBalancerID, ListenerID, VIPAddress, URL string
}

type control struct {
	base   string
	client *http.Client
}

func (c control) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_devcloud"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("devcloud control API %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("devcloud control API %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("devcloud control API %s: decoding: %w", path, err)
	}
	return nil
}

func (c control) events(ctx context.Context) ([]cloudEvent, []memberTraffic, error) {
	var doc struct {
		Events  []cloudEvent    `json:"events"`
		Traffic []memberTraffic `json:"member_traffic"`
	}
	err := c.get(ctx, "/events", &doc)
	return doc.Events, doc.Traffic, err
}

// vipURL is the real 127.0.0.1 listener behind the load balancer's listener on port 80.
func (c control) vipURL(ctx context.Context, lbID string) (string, error) {
	var doc struct {
		VIPs []vipInfo `json:"vips"`
	}
	if err := c.get(ctx, "/vips", &doc); err != nil {
		return "", err
	}
	for _, v := range doc.VIPs {
		if v.LoadBalancerID == lbID && v.URL != "" {
			return v.URL + "/", nil
		}
	}
	return "", fmt.Errorf("devcloud lists no VIP listener for load balancer %s (vips: %+v)", lbID, doc.VIPs)
}

// trafficTotals sums the broken and failed counters of one load balancer's members.
func trafficTotals(traffic []memberTraffic, lbID string) (broken, errs int64) {
	for _, m := range traffic {
		if m.LoadBalancerID == lbID {
			broken += m.Broken
			errs += m.Errors
		}
	}
	return broken, errs
}

// grantQuotas does what the cloud's operator does with the ticket the pre-flight worded: it sets
// each short quota of the project to what was asked for, as devcloud's admin, through each
// service's own quota API (openstack quota set, openstack loadbalancer quota set, Trove's mgmt/quotas).
func (c control) grantQuotas(ctx context.Context, projectID, adminProjectID string, asks []quotaShortfall) error {
	token, err := c.adminToken(ctx)
	if err != nil {
		return err
	}
	byService := map[string]map[string]int{}
	for _, a := range asks {
		if byService[a.Service] == nil {
			byService[a.Service] = map[string]int{}
		}
		byService[a.Service][a.Resource] = a.Ask()
	}
	for service, limits := range byService {
		var url string
		var body map[string]any
		switch service {
		case "compute":
			url, body = c.base+"/compute/v2.1/os-quota-sets/"+projectID, map[string]any{"quota_set": limits}
		case "network":
			url, body = c.base+"/networking/v2.0/quotas/"+projectID, map[string]any{"quota": limits}
		case "load-balancer":
			url, body = c.base+"/load-balancer/v2/lbaas/quotas/"+projectID, map[string]any{"quota": limits}
		case "database":
			url, body = c.base+"/database/v1.0/"+adminProjectID+"/mgmt/quotas/"+projectID, map[string]any{"quotas": limits}
		default:
			return fmt.Errorf("no quota API known for service %q", service)
		}
		var answer map[string]any
		if err := c.do(ctx, http.MethodPut, url, token, body, &answer); err != nil {
			return fmt.Errorf("raising the %s quotas: %w", service, err)
		}
	}
	return nil
}

func (c control) adminToken(ctx context.Context) (string, error) {
	return c.projectToken(ctx, "admin", "admin")
}

// projectToken authenticates as one of devcloud's seeded users (password "secret"), scoped
// to a project of the Default domain.
func (c control) projectToken(ctx context.Context, user, project string) (string, error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "password": "secret", "domain": map[string]any{"name": "Default"}}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"name": "Default"}}},
	}}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/identity/v3/auth/tokens", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("devcloud admin token: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("devcloud admin token: %s", resp.Status)
	}
	return resp.Header.Get("X-Subject-Token"), nil
}

func (c control) do(ctx context.Context, method, url, token string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	// 202: Designate (and Octavia, Trove) accept asynchronous work with it.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s %s", method, url, resp.Status, msg)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
