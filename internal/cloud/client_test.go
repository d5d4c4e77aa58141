package cloud_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func devcloudConfig(t *testing.T, dc *devcloud.Cloud) cloud.Config {
	t.Helper()
	env := dc.Env()
	retries := 0
	return cloud.Config{AuthURL: dc.AuthURL(), UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"],
		ProjectName: env["OS_PROJECT_NAME"], UserDomainName: "Default", ProjectDomainName: "Default", Region: "RegionOne",
		EndpointType: "public", MaxRetries: &retries}
}

func startDevcloud(t *testing.T) *devcloud.Cloud {
	t.Helper()
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	return dc
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClient_WrongPasswordSaysSoAndNamesTheAuthURL(t *testing.T) {
	dc := startDevcloud(t)
	cfg := devcloudConfig(t, dc)
	cfg.Password = "not-the-password"
	c, err := cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Provider(ctx(t))
	if err == nil || !strings.Contains(err.Error(), dc.AuthURL()) || !strings.Contains(err.Error(), "rejected the credentials") {
		t.Fatalf("err = %v, want a credentials error naming %s", err, dc.AuthURL())
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Fatal("the password leaked into the error")
	}
}

func TestClient_UnreachableIdentityNamesServiceAndURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/identity/v3"
	_ = ln.Close()
	retries := 0
	c, err := cloud.NewClient(cloud.Config{AuthURL: url, UserName: "u", Password: "p", ProjectName: "x", MaxRetries: &retries}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Provider(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "cannot reach the identity service") || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v, want the identity service and %s named", err, url)
	}
}

func TestClient_TLSFailureSuggestsCACert(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	retries := 0
	c, err := cloud.NewClient(cloud.Config{AuthURL: srv.URL + "/v3", UserName: "u", Password: "p", ProjectName: "x", MaxRetries: &retries}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Provider(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "TLS with the identity service") || !strings.Contains(err.Error(), "cacert_file") {
		t.Fatalf("err = %v, want a TLS diagnostic pointing at cacert_file", err)
	}
}

func TestClient_MissingCatalogServiceNamesTheType(t *testing.T) {
	dc := startDevcloud(t)
	cfg := devcloudConfig(t, dc)
	cfg.Region = "RegionNowhere"
	c, err := cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServiceClient(ctx(t), cloud.ServiceLoadBalancer)
	if err == nil || !strings.Contains(err.Error(), `"load-balancer"`) || !strings.Contains(err.Error(), "RegionNowhere") {
		t.Fatalf("err = %v, want the missing service type and region named", err)
	}
}

func TestClient_EndpointOverrideReplacesTheCatalogURL(t *testing.T) {
	dc := startDevcloud(t)
	var hits int
	override := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"flavors": []}`))
	}))
	t.Cleanup(override.Close)
	cfg := devcloudConfig(t, dc)
	cfg.EndpointOverrides = map[string]string{"compute": override.URL + "/v2.1/"}
	c, err := cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	compute, err := c.Compute(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(compute.Client.Endpoint, override.URL) {
		t.Fatalf("compute endpoint = %s, want the override %s", compute.Client.Endpoint, override.URL)
	}
	if _, err := compute.ResolveFlavor(ctx(t), "m1.tiny"); err == nil || hits == 0 {
		t.Fatalf("the override was not called (hits %d, err %v)", hits, err)
	}
}

func TestClient_UserAgentNamesTheProviderAndTerraform(t *testing.T) {
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents = append(agents, r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`))
	}))
	t.Cleanup(srv.Close)
	retries := 0
	c, err := cloud.NewClient(cloud.Config{AuthURL: srv.URL + "/v3", UserName: "u", Password: "p", ProjectName: "x", MaxRetries: &retries},
		nil, "terraform-provider-eventscale/1.2.3 Terraform/1.5.7")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Provider(ctx(t))
	if len(agents) == 0 || !strings.HasPrefix(agents[0], "terraform-provider-eventscale/1.2.3 Terraform/1.5.7 gophercloud/") {
		t.Fatalf("User-Agent = %q", agents)
	}
}
