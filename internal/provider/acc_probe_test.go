package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// Capability probes ask the cloud under test what it can do, so that a test needing what a
// cloud lacks skips itself with the cloud's own answer rather than with a guess from its
// name. Each probe runs once per test process and is cached: all devclouds a process starts
// are built alike, and an external cloud is one cloud.

// accMemberHealth is what the cloud's health monitor reports for a member that serves.
type accMemberHealth struct {
	// ReportsOnline: members behind an HTTP health monitor reach operating_status ONLINE.
	ReportsOnline bool
	// Settled is the operating status a member settled on when it did not become ONLINE
	// (OFFLINE or NO_MONITOR on an Octavia without amphora heartbeats).
	Settled string
}

var (
	healthOnce   sync.Once
	healthResult accMemberHealth
	healthErr    error
)

// memberHealthProbeWindow bounds the wait for ONLINE: a monitor with delay 1 s and
// max_retries 1 turns a serving member ONLINE within a few seconds on a cloud that reports
// health at all.
const memberHealthProbeWindow = 20 * time.Second

// accProbeMemberHealth builds a throwaway load balancer (named with accPrefix, so the sweeper
// finds it after a crash) with an HTTP monitor and the seed server as its only member, and
// watches the member's operating_status.
func accProbeMemberHealth(t *testing.T, target accTarget) accMemberHealth {
	t.Helper()
	healthOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		healthResult, healthErr = probeMemberHealth(ctx, target)
		if healthErr == nil {
			t.Logf("capability probe: members ONLINE=%v (settled on %q)", healthResult.ReportsOnline, healthResult.Settled)
		}
	})
	if healthErr != nil {
		t.Fatalf("capability probe (member health): %v", healthErr)
	}
	return healthResult
}

func probeMemberHealth(ctx context.Context, target accTarget) (res accMemberHealth, err error) {
	lb, err := target.Client.LoadBalancer(ctx, "")
	if err != nil {
		return res, err
	}
	created, err := lb.CreateLoadBalancer(ctx, cloud.LoadBalancerSpec{Name: accPrefix + "probe-" + randSuffix(), VIPSubnetID: target.SubnetID})
	if err != nil {
		return res, err
	}
	lb.LoadBalancerID = created.ID
	defer func() {
		delCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if derr := lb.DeleteLoadBalancerCascade(delCtx, created.ID); derr != nil && err == nil {
			err = fmt.Errorf("deleting the probe load balancer: %w", derr)
		}
	}()
	if err := lb.WaitActive(ctx, created.ID); err != nil {
		return res, err
	}
	pool, err := lb.CreatePool(ctx, cloud.PoolSpec{LoadBalancerID: created.ID, Protocol: "HTTP", LBMethod: "ROUND_ROBIN"})
	if err != nil {
		return res, err
	}
	if _, err := lb.CreateMonitor(ctx, cloud.MonitorSpec{PoolID: pool.ID, Type: "HTTP", Delay: 1, Timeout: 1, MaxRetries: 1, URLPath: "/"}); err != nil {
		return res, err
	}
	member, err := lb.CreateMember(ctx, pool.ID, cloud.MemberSpec{Address: target.ServerAddress, ProtocolPort: 80, SubnetID: target.SubnetID})
	if err != nil {
		return res, err
	}
	if err := lb.WaitActive(ctx, created.ID); err != nil {
		return res, err
	}
	deadline := time.Now().Add(memberHealthProbeWindow)
	for {
		statuses, err := lb.MemberOperatingStatuses(ctx, created.ID, pool.ID)
		if err != nil {
			return res, err
		}
		res.Settled = statuses[member.ID]
		if res.Settled == "ONLINE" {
			res.ReportsOnline = true
			return res, nil
		}
		if time.Now().After(deadline) {
			return res, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// accHealthyStatusesHCL is the scale_out attribute a test adds so that health gating works on
// this cloud: nothing where members become ONLINE; where the cloud reports no health, the
// status a serving member settles on (the lab README: "let health gating accept a setting that
// waits for ACTIVE instead of ONLINE" — provisioning ACTIVE is still awaited).
func accHealthyStatusesHCL(t *testing.T, target accTarget) string {
	h := accProbeMemberHealth(t, target)
	if h.ReportsOnline {
		return ""
	}
	switch h.Settled {
	case "OFFLINE", "NO_MONITOR":
		// Without heartbeats a member shows NO_MONITOR first and may turn OFFLINE later
		// (both seen on the lab): neither carries health, so both count.
		return "    healthy_statuses = [\"ONLINE\", \"NO_MONITOR\", \"OFFLINE\"]\n"
	}
	t.Fatalf("capability probe: a member behind an HTTP monitor settled on %q, neither ONLINE nor a no-health status", h.Settled)
	return ""
}

var (
	vipOnce    sync.Once
	vipCarries bool
	vipReason  string
)

// accVIPURL is a URL on which this machine reaches the load balancer's HTTP listener, or ""
// with the reason when the cloud's VIPs carry no traffic from here. devcloud's VIP addresses
// are not routable either; its data plane listens on 127.0.0.1 and devcloud says where.
func accVIPURL(t *testing.T, target accTarget, loadBalancerID string) (string, string) {
	t.Helper()
	if target.Dev != nil {
		for _, v := range target.Dev.VIPs() {
			if v.LoadBalancerID == loadBalancerID {
				return v.URL + "/", ""
			}
		}
		return "", "devcloud lists no data-plane listener for load balancer " + loadBalancerID
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lbc, err := target.Client.LoadBalancer(ctx, loadBalancerID)
	if err != nil {
		t.Fatalf("VIP probe: %v", err)
	}
	got, err := lbc.GetLoadBalancer(ctx, loadBalancerID)
	if err != nil {
		t.Fatalf("VIP probe: %v", err)
	}
	url := "http://" + got.VIPAddress + "/"
	if strings.Contains(got.VIPAddress, ":") {
		url = "http://[" + got.VIPAddress + "]/"
	}
	vipOnce.Do(func() {
		client := &http.Client{Timeout: 3 * time.Second}
		resp, err := client.Get(url)
		if err != nil {
			vipReason = fmt.Sprintf("the VIP %s carries no traffic from this machine (%v)", got.VIPAddress, err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		// Only a success says the pool answered: a gateway on the path may answer for any
		// address (here one answers 404 for the lab's made-up 198.51.100.1).
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			vipReason = fmt.Sprintf("the VIP %s answered %d from this machine, not the pool's success: no data plane behind it", got.VIPAddress, resp.StatusCode)
			return
		}
		vipCarries = true
	})
	if !vipCarries {
		return "", vipReason
	}
	return url, ""
}

var (
	replicaOnce   sync.Once
	replicaReason string
)

// accReplicaSupport returns "" when the cloud can create Trove replicas, else why not. A
// replica's data travels through a Cinder volume snapshot: without a volume service in the
// catalog Trove answers replica_of with HTTP 500 (as on the lab), so the catalog answers the
// question without creating anything.
func accReplicaSupport(t *testing.T, target accTarget) string {
	t.Helper()
	replicaOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if target.Dev != nil {
			// devcloud's Trove keeps replicas in memory and has no volume service to ask.
			return
		}
		if !accCatalogHas(ctx, target, "database") {
			replicaReason = "the cloud's catalog has no database (Trove) service"
			return
		}
		if !accCatalogHas(ctx, target, "volumev3", "block-storage", "volumev2", "volume") {
			replicaReason = "the cloud's catalog has no volume (Cinder) service, which Trove's replica_of path needs (HTTP 500 without it)"
		}
	})
	return replicaReason
}

// accCatalogHas reports whether the token's catalog lists one of the service types with an
// endpoint in the configured region.
func accCatalogHas(ctx context.Context, target accTarget, types ...string) bool {
	pc, err := target.Client.Provider(ctx)
	if err != nil {
		return false
	}
	region := target.Client.Config().Region
	for _, typ := range types {
		eo := gophercloud.EndpointOpts{Type: typ, Region: region, Availability: gophercloud.AvailabilityPublic}
		if pc.EndpointLocator != nil {
			if _, err := pc.EndpointLocator(eo); err == nil {
				return true
			}
		}
	}
	return false
}

func randSuffix() string {
	return fmt.Sprintf("%x", time.Now().UnixNano()%0xffffffff)
}
