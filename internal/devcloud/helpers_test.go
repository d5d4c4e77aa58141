package devcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// testScale makes a 30 s build take 0.15 s.
const testScale = 0.005

func startCloud(t *testing.T) *Cloud {
	t.Helper()
	c, err := Start(Options{TimeScale: testScale, Seed: true, RandSeed: 42})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func demoAuth(c *Cloud) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "demo", Password: "secret",
		DomainName: "Default", TenantName: "demo"}
}

func adminAuth(c *Cloud) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "admin", Password: "secret",
		DomainName: "Default", TenantName: "admin"}
}

func provider(t *testing.T, opts gophercloud.AuthOptions) *gophercloud.ProviderClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(testCtx(t), opts)
	if err != nil {
		t.Fatalf("AuthenticatedClient: %v", err)
	}
	return pc
}

var eo = gophercloud.EndpointOpts{Region: "RegionOne"}

func computeClient(t *testing.T, pc *gophercloud.ProviderClient, microversion string) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewComputeV2(pc, eo)
	if err != nil {
		t.Fatalf("NewComputeV2: %v", err)
	}
	sc.Microversion = microversion
	return sc
}

func imageClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatalf("NewImageV2: %v", err)
	}
	return sc
}

func networkClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewNetworkV2(pc, eo)
	if err != nil {
		t.Fatalf("NewNetworkV2: %v", err)
	}
	return sc
}

func dbClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewDBV1(pc, eo)
	if err != nil {
		t.Fatalf("NewDBV1: %v", err)
	}
	return sc
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// control calls the devcloud control API (not an OpenStack API, so plain HTTP).
func control(t *testing.T, c *Cloud, method, path string, body any, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequestWithContext(testCtx(t), method, c.URL()+"/_devcloud"+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decoding: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func errBody(err error) string {
	var e gophercloud.ErrUnexpectedResponseCode
	if ok := asUnexpected(err, &e); ok {
		return string(e.Body)
	}
	return ""
}
