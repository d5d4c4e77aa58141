package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// protocolSchemas is the provider's schema as Terraform receives it.
func protocolSchemas(t *testing.T) *tfprotov6.GetProviderSchemaResponse {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Fatalf("schema: %s: %s", d.Summary, d.Detail)
	}
	return resp
}

// secretAttributeName says whether an attribute, by its name, holds a credential or data that
// carries passwords.
func secretAttributeName(name string) bool {
	// A path names where a secret is kept (private_key_file): the secret itself never enters state.
	if strings.HasSuffix(name, "_file") {
		return false
	}
	for _, s := range []string{"password", "secret", "token", "private_key", "passphrase", "payload", "user_data"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// walkSchemaAttributes calls f with the dotted path of every attribute, nested ones included.
func walkSchemaAttributes(prefix string, block *tfprotov6.SchemaBlock, f func(path string, a *tfprotov6.SchemaAttribute)) {
	if block == nil {
		return
	}
	var walkObject func(prefix string, obj *tfprotov6.SchemaObject)
	visit := func(prefix string, a *tfprotov6.SchemaAttribute) {
		f(prefix+a.Name, a)
		if a.NestedType != nil {
			walkObject(prefix+a.Name+".", a.NestedType)
		}
	}
	walkObject = func(prefix string, obj *tfprotov6.SchemaObject) {
		for _, a := range obj.Attributes {
			visit(prefix, a)
		}
	}
	for _, a := range block.Attributes {
		visit(prefix, a)
	}
	for _, b := range block.BlockTypes {
		walkSchemaAttributes(prefix+b.TypeName+".", b.Block, f)
	}
}

func TestSchema_EveryAttributeThatHoldsASecretIsSensitive(t *testing.T) {
	schemas := protocolSchemas(t)
	all := map[string]*tfprotov6.Schema{"provider": schemas.Provider}
	for name, s := range schemas.ResourceSchemas {
		all[name] = s
	}
	for name, s := range schemas.DataSourceSchemas {
		all["data."+name] = s
	}
	checked := 0
	for owner, s := range all {
		walkSchemaAttributes("", s.Block, func(path string, a *tfprotov6.SchemaAttribute) {
			secret := secretAttributeName(a.Name) || (owner == "provider" && a.Name == "key")
			if !secret {
				return
			}
			checked++
			if !a.Sensitive {
				t.Errorf("%s: attribute %s holds a secret but is not Sensitive", owner, path)
			}
		})
	}
	// The provider's password, application_credential_secret, token and key at least.
	if checked < 4 {
		t.Fatalf("only %d secret attributes found: the walk is broken", checked)
	}
}

// secretRun is one authentication method of TestAccSecrets_NoCredentialReachesLogsStateOrOutputs.
type secretRun struct {
	name     string
	provider string            // the provider block, which takes the credential from var.credential
	secret   string            // the credential, given as a sensitive variable as an operator would
	env      map[string]string // set for the run (OS_DEBUG, the openrc's domain variables)
}

// secretsVariables declares the sensitive variables the runs pass their secrets through, as
// an operator would (a secret written literally in a configuration is the operator's to keep).
const secretsVariables = `
variable "credential" {
  type      = string
  sensitive = true
}
variable "user_data" {
  type      = string
  sensitive = true
}
`

// TestAccSecrets_NoCredentialReachesLogsStateOrOutputs applies and destroys a load balancer and
// a web pool with the request log on and TF_LOG=TRACE, for password, application credential
// and token authentication, and looks for every credential, and every token devcloud issued,
// in the provider's and Terraform's logs, in the state and in the outputs. The web pool's
// user_data carries a password too: it may be in state only as a Sensitive attribute.
func TestAccSecrets_NoCredentialReachesLogsStateOrOutputs(t *testing.T) {
	target := accWebCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud: it changes the demo user's password and lists the tokens Keystone issued")
	}
	dc := target.Dev
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)

	// A password, an application credential secret and a token found nowhere else, so that
	// finding one in a log is a leak and not a coincidence.
	env := dc.Env()
	password := "pw-" + stamp + "-Xq9"
	identity := demoIdentityClient(ctx, t, dc, env["OS_PASSWORD"])
	if err := users.ChangePassword(ctx, identity, dc.Seed().DemoUserID,
		users.ChangePasswordOpts{OriginalPassword: env["OS_PASSWORD"], Password: password}).ExtractErr(); err != nil {
		t.Fatalf("changing the demo password: %v", err)
	}
	// Keystone revoked the demo user's tokens: the checks' client logs in again.
	target.Client = accClient(t, cloud.Config{AuthURL: dc.AuthURL(), UserName: env["OS_USERNAME"], Password: password,
		ProjectName: env["OS_PROJECT_NAME"], UserDomainName: "Default", ProjectDomainName: "Default", Region: env["OS_REGION_NAME"]})
	identity = demoIdentityClient(ctx, t, dc, password)
	appSecret := "ac-" + stamp + "-Zr7"
	appCred, err := applicationcredentials.Create(ctx, identity, dc.Seed().DemoUserID, applicationcredentials.CreateOpts{
		Name: "tfacc-secrets-" + stamp, Secret: appSecret}).Extract()
	if err != nil {
		t.Fatalf("creating an application credential: %v", err)
	}
	token := identity.Token()
	userDataPassword := "ud-" + stamp + "-Pw3"

	common := fmt.Sprintf("  auth_url = %q\n  region   = %q\n", dc.AuthURL(), env["OS_REGION_NAME"])
	runs := []secretRun{
		{
			name: "password",
			provider: "provider \"eventscale\" {\n" + common + "  user_name = \"demo\"\n  password = var.credential\n  tenant_name = \"demo\"\n" +
				"  user_domain_name = \"Default\"\n  project_domain_name = \"Default\"\n  enable_logging = true\n}\n",
			secret: password,
		},
		{
			name: "application_credential",
			provider: "provider \"eventscale\" {\n" + common + fmt.Sprintf("  application_credential_id = %q\n", appCred.ID) +
				"  application_credential_secret = var.credential\n}\n",
			secret: appSecret,
			env:    map[string]string{"OS_DEBUG": "1"},
		},
		{
			// The openrc's user and domain variables are set, as they are for the openstack CLI.
			name:     "token",
			provider: "provider \"eventscale\" {\n" + common + "  token = var.credential\n  tenant_name = \"demo\"\n  enable_logging = true\n}\n",
			secret:   token,
			env: map[string]string{"OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_DOMAIN_NAME": "Default",
				"OS_USERNAME": "demo"},
		},
	}
	schemas := protocolSchemas(t)
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			logDir := t.TempDir()
			t.Setenv("TF_LOG", "TRACE")
			t.Setenv("TF_ACC_LOG", "TRACE")
			t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
			for k, v := range run.env {
				t.Setenv(k, v)
			}
			name := accName(t, "accsecret")
			runTarget := target
			runTarget.ProviderHCL = secretsVariables + run.provider
			cfg := webPoolConfig{Name: name, Size: 1, Extra: "  user_data = var.user_data\n",
				Outside: "output \"nodes\" { value = eventscale_web_pool.web.nodes }\noutput \"vip\" { value = eventscale_load_balancer.front.vip_address }\n",
			}.hcl(runTarget)
			vars := config.Variables{
				"credential": config.StringVariable(run.secret),
				"user_data":  config.StringVariable("#cloud-config\nchpasswd: { list: \"root:" + userDataPassword + "\" }\n"),
			}
			forbidden := []string{password, appSecret, token, devcloud.DemoAppCredentialSecret}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             testAccCheckPoolGone(target, name),
				Steps: []resource.TestStep{{
					Config:          cfg,
					ConfigVariables: vars,
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "1"),
						func(s *terraform.State) error {
							return checkStateHoldsNoSecret(s, schemas, append(forbidden, dc.IssuedTokenIDs()...), []string{userDataPassword})
						},
					),
				}},
			})
			checkLogsHoldNoSecret(t, logDir, append(forbidden, userDataPassword), dc.IssuedTokenIDs())
		})
	}
}

// demoIdentityClient is a Keystone client for the demo user, project-scoped.
func demoIdentityClient(ctx context.Context, t *testing.T, dc *devcloud.Cloud, password string) *gophercloud.ServiceClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: dc.AuthURL(), Username: "demo", Password: password,
		DomainName: "Default", Scope: &gophercloud.AuthScope{ProjectName: "demo", DomainName: "Default"}})
	if err != nil {
		t.Fatalf("authenticating as demo: %v", err)
	}
	identity, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	return identity
}

// checkStateHoldsNoSecret fails when a forbidden value is anywhere in the state (outputs
// included), and when a value allowed by design (user_data) is in an output or in an
// attribute that is not Sensitive.
func checkStateHoldsNoSecret(s *terraform.State, schemas *tfprotov6.GetProviderSchemaResponse, forbidden, sensitiveOnly []string) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	for _, secret := range forbidden {
		if secret != "" && strings.Contains(string(raw), secret) {
			return fmt.Errorf("a credential (%.6s…) is in the state or the outputs", secret)
		}
	}
	for name, out := range s.RootModule().Outputs {
		b, _ := json.Marshal(out.Value)
		for _, secret := range sensitiveOnly {
			if strings.Contains(string(b), secret) {
				return fmt.Errorf("output %s shows a secret", name)
			}
		}
	}
	found := 0
	for addr, rs := range s.RootModule().Resources {
		schema := schemas.ResourceSchemas[rs.Type]
		for key, value := range rs.Primary.Attributes {
			for _, secret := range sensitiveOnly {
				if !strings.Contains(value, secret) {
					continue
				}
				found++
				top, _, _ := strings.Cut(key, ".")
				if !topLevelSensitive(schema, top) {
					return fmt.Errorf("%s.%s holds a secret but is not Sensitive", addr, key)
				}
			}
		}
	}
	if found == 0 {
		return fmt.Errorf("user_data is not in state: the check of Sensitive attributes checked nothing")
	}
	return nil
}

func topLevelSensitive(s *tfprotov6.Schema, name string) bool {
	if s == nil || s.Block == nil {
		return false
	}
	for _, a := range s.Block.Attributes {
		if a.Name == name {
			return a.Sensitive
		}
	}
	return false
}

// checkLogsHoldNoSecret reads every log the run wrote (the provider's through tflog and
// Terraform's own, TF_LOG=TRACE) and fails on any secret. It also proves the request log was
// on and redacting, so that a silent log cannot pass. EVENTSCALE_KEEP_TEST_LOGS=dir keeps a
// copy of the logs for reading.
func checkLogsHoldNoSecret(t *testing.T, dir string, secrets, issuedTokens []string) {
	t.Helper()
	if keep := os.Getenv("EVENTSCALE_KEEP_TEST_LOGS"); keep != "" {
		defer func() { _ = os.CopyFS(filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "__")), os.DirFS(dir)) }()
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no log written under %s (%v): TF_LOG_PATH_MASK was not honoured", dir, err)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // the test's own temporary directory
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	logs := all.String()
	for _, want := range []string{"OpenStack request: POST", "/auth/tokens -> 201", "X-Auth-Token: ***", "[DEBUG]", "[TRACE]"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs (%d bytes) lack %q: the request log or TF_LOG capture is not working", len(logs), want)
		}
	}
	var leaks []string
	// where shows a leak's surroundings, the secret itself replaced, to find its source.
	where := func(secret string) string {
		i := strings.Index(logs, secret)
		from, to := max(0, i-160), min(len(logs), i+len(secret)+80)
		return strings.ReplaceAll(logs[from:to], secret, "<SECRET>")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			leaks = append(leaks, fmt.Sprintf("secret %.6s… (%d times), first in: %q", s, strings.Count(logs, s), where(s)))
		}
	}
	for _, tok := range issuedTokens {
		if strings.Contains(logs, tok) {
			leaks = append(leaks, fmt.Sprintf("token %.12s…, first in: %q", tok, where(tok)))
		}
	}
	sort.Strings(leaks)
	if len(leaks) > 0 {
		t.Fatalf("%d secrets in %d bytes of logs:\n%s", len(leaks), len(logs), strings.Join(leaks, "\n"))
	}
	t.Logf("%d bytes of TRACE logs from %d file(s), %d request-log entries, no secret among %d credentials and %d issued tokens",
		len(logs), len(files), strings.Count(logs, "OpenStack request: "), len(secrets), len(issuedTokens))
}
