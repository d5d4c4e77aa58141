package provider

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// authFailureDiag matches a diagnostic Terraform shows on the provider block, for the given
// summary and attribute line.
func authFailureDiag(summary, attribute string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)Error: ` + regexp.QuoteMeta(summary) + `.*with provider\["registry\.terraform\.io/eventscale/eventscale"\].*in provider "eventscale".*` +
		regexp.QuoteMeta(attribute))
}

func requestCounts(dc *devcloud.Cloud) (tokenPosts, others int64) {
	for _, r := range dc.Metrics().Requests {
		switch {
		case r.Service == "identity" && r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/auth/tokens"):
			tokenPosts += r.Count
		case r.Service != "identity":
			others += r.Count
		}
	}
	return tokenPosts, others
}

func TestDiagnosticAttribute_NeverPointsAtASecret(t *testing.T) {
	attrs := map[string]bool{} // name -> sensitive
	for _, a := range protocolSchemas(t).Provider.Block.Attributes {
		attrs[a.Name] = a.Sensitive
	}
	configs := []cloud.Config{{}, {UserID: "u"}, {ApplicationCredentialName: "n"}, {UserName: "u", ApplicationCredentialID: "i"}}
	for setting := range attrs {
		for _, cfg := range configs {
			attr := diagnosticAttribute(setting, cfg)
			if attr == "" {
				continue
			}
			sensitive, ok := attrs[attr]
			switch {
			case !ok:
				t.Errorf("a failure on %s points at %q, which is no attribute", setting, attr)
			case sensitive:
				t.Errorf("a failure on %s points at %s, whose source line Terraform would print", setting, attr)
			}
		}
	}
	if got := diagnosticAttribute("auth_url", cloud.Config{}); got != "auth_url" {
		t.Errorf("auth_url failures point at %q", got)
	}
}

// TestAccProvider_WrongPasswordIsReportedOnceOnTheProviderBlock: one diagnostic, on the
// provider block's user_name line (the password line would print the password), before any
// resource calls the cloud.
func TestAccProvider_WrongPasswordIsReportedOnceOnTheProviderBlock(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud: counts the cloud's requests")
	}
	dc := target.Dev
	providerHCL := strings.Replace(target.ProviderHCL, fmt.Sprintf("password            = %q", dc.Env()["OS_PASSWORD"]),
		`password            = "not-the-password"`, 1)
	if providerHCL == target.ProviderHCL {
		t.Fatal("the test's provider block did not change")
	}
	wrong := target
	wrong.ProviderHCL = providerHCL
	var before int64
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:   func() { before, _ = requestCounts(dc) },
			Config:      webPoolConfig{Name: accName(t, "accbadpw"), Size: 2}.hcl(wrong),
			ExpectError: authFailureDiag("OpenStack rejected the credentials", `user_name           = "demo"`),
		}},
	})
	posts, others := requestCounts(dc)
	// One Configure, one authentication: no resource called the cloud to fail on its own.
	if posts-before != 1 {
		t.Errorf("%d authentication requests during the plan, want 1", posts-before)
	}
	if others != 0 {
		t.Errorf("%d requests reached services other than Keystone: resources ran with bad credentials", others)
	}
}

// unusedLoopbackURL is a Keystone URL on which nothing listens.
func unusedLoopbackURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/identity/v3"
	_ = ln.Close()
	return url
}

func TestAccProvider_UnreachableAuthURLIsReportedOnTheProviderUnlessDelayed(t *testing.T) {
	if accExternal() {
		t.Skip("the cloud under test is not used: this test needs an auth_url on which nothing listens")
	}
	accCloudSkip(t)
	event := `
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "2030-01-10T22:00:00Z"
}
`
	provider := func(delayed string) string {
		return fmt.Sprintf(`
provider "eventscale" {
  auth_url    = %q
  user_name   = "nobody"
  password    = "unused"
  tenant_name = "none"
  max_retries = 0
%s}
`, unusedLoopbackURL(t), delayed)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: provider("") + event, ExpectError: authFailureDiag("Cannot reach OpenStack", "auth_url")},
			// A configuration whose resources make no cloud call plans and applies with
			// delayed_auth, as an operator without a reachable cloud would run it.
			{Config: provider("  delayed_auth = true\n") + event,
				Check: resource.TestCheckResourceAttr("eventscale_event.launch", "id", "launch@2030-01-10T18:00:00Z/2030-01-10T22:00:00Z")},
		},
	})
}

// accCloudSkip applies accCloud's TF_ACC rule to a test that starts its own cloud.
func accCloudSkip(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test or make testacc)")
	}
}

func TestAccProvider_CredentialsKnownOnlyAtApplyAuthenticateThen(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud: counts the cloud's requests")
	}
	dc := target.Dev
	env := dc.Env()
	// The password comes from another resource: unknown at plan, known at apply.
	cfg := fmt.Sprintf(`
resource "terraform_data" "password" {
  input = %q
}
provider "eventscale" {
  auth_url            = %q
  user_name           = "demo"
  password            = terraform_data.password.output
  tenant_name         = "demo"
  user_domain_name    = "Default"
  project_domain_name = "Default"
  region              = "RegionOne"
}
`, env["OS_PASSWORD"], dc.AuthURL()) + strings.TrimPrefix(webPoolConfig{Name: accName(t, "accunknown"), Size: -1}.hcl(target), target.ProviderHCL)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check:  resource.TestCheckResourceAttrSet("eventscale_load_balancer.front", "vip_address"),
		}},
	})
}

// tlsTarget is a devcloud serving HTTPS, and a provider block for it whose TLS settings come
// from variables.
func tlsTarget(t *testing.T, opts devcloud.TLSOptions) (*devcloud.Cloud, accTarget) {
	t.Helper()
	accCloudSkip(t)
	if accExternal() {
		t.Skip("needs devcloud serving HTTPS with its own CA")
	}
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: time.Now().UnixNano(), TLS: &opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	seed := dc.Seed()
	target := accTarget{
		ProviderHCL: fmt.Sprintf(`
variable "cacert" {
  type = string
}
variable "cert" {
  type = string
}
variable "key" {
  type      = string
  sensitive = true
}
provider "eventscale" {
  auth_url            = %q
  user_name           = "demo"
  password            = %q
  tenant_name         = "demo"
  user_domain_name    = "Default"
  project_domain_name = "Default"
  region              = "RegionOne"
  max_retries         = 0
  cacert_file         = var.cacert
  cert                = var.cert != "" ? var.cert : null
  key                 = var.key != "" ? var.key : null
}
`, dc.AuthURL(), dc.Env()["OS_PASSWORD"]),
		ServerID: seed.Web01ServerID, ServerAddress: seed.Web01Address, ImageID: seed.Web01ImageID,
		FlavorID: seed.FlavorIDs["m1.tiny"], NetworkID: seed.NetworkID, SubnetID: seed.SubnetID, Dev: dc,
	}
	return dc, target
}

func tlsVars(cacert, cert, key []byte) config.Variables {
	return config.Variables{"cacert": config.StringVariable(string(cacert)), "cert": config.StringVariable(string(cert)), "key": config.StringVariable(string(key))}
}

func TestAccProvider_TLSWithTheCloudsCAAndAClientCertificateGivenAsPEMText(t *testing.T) {
	dc, target := tlsTarget(t, devcloud.TLSOptions{RequireClientCert: true})
	other, err := devcloud.Start(devcloud.Options{TLS: &devcloud.TLSOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	now := time.Now()
	cert, key, err := dc.IssueClientCert("operator", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expiredCert, expiredKey, err := dc.IssueClientCert("operator", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cfg := webPoolConfig{Name: accName(t, "acctls"), Size: -1}.hcl(target)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, ConfigVariables: tlsVars(other.CACertPEM(), cert, key),
				ExpectError: authFailureDiag("Cannot verify the cloud's TLS certificate", "cacert_file")},
			{Config: cfg, ConfigVariables: tlsVars(dc.CACertPEM(), nil, nil),
				ExpectError: authFailureDiag("The cloud refused the client certificate", "cert")},
			{Config: cfg, ConfigVariables: tlsVars(dc.CACertPEM(), expiredCert, expiredKey),
				ExpectError: authFailureDiag("Client certificate expired", "cert")},
			{Config: cfg, ConfigVariables: tlsVars(dc.CACertPEM(), cert, key),
				Check: resource.TestCheckResourceAttrSet("eventscale_load_balancer.front", "vip_address")},
		},
	})
}

func TestAccProvider_PollIntervalOutsideItsRangeIsRefusedBeforeAnyCall(t *testing.T) {
	accCloudSkip(t)
	config := func(interval string) string {
		return fmt.Sprintf(`
provider "eventscale" {
  auth_url      = %q
  user_name     = "nobody"
  password      = "unused"
  tenant_name   = "none"
  delayed_auth  = true
  poll_interval = %q
}

resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "2030-01-10T22:00:00Z"
}
`, unusedLoopbackURL(t), interval)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config("5ms"), ExpectError: regexp.MustCompile(`5ms is outside 10ms to 1m`)},
			{Config: config("soon"), ExpectError: regexp.MustCompile(`must be a duration`)},
			{Config: config("500ms"),
				Check: resource.TestCheckResourceAttr("eventscale_event.launch", "id", "launch@2030-01-10T18:00:00Z/2030-01-10T22:00:00Z")},
		},
	})
}
