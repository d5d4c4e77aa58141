package cloud_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func startTLSDevcloud(t *testing.T, opts devcloud.TLSOptions) *devcloud.Cloud {
	t.Helper()
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: 1, TLS: &opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	if !strings.HasPrefix(dc.AuthURL(), "https://127.0.0.1:") {
		t.Fatalf("auth URL %s is not HTTPS on loopback", dc.AuthURL())
	}
	return dc
}

// settingError asserts err is a *cloud.SettingError on setting and returns its message.
func settingError(t *testing.T, err error, setting string) string {
	t.Helper()
	var se *cloud.SettingError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *cloud.SettingError on %s", err, err, setting)
	}
	if se.Setting != setting {
		t.Fatalf("error on %q, want %q: %v", se.Setting, setting, err)
	}
	return err.Error()
}

// listServers proves the client works beyond Keystone: the catalog's URLs are followed too.
func listServers(t *testing.T, c *cloud.Client) {
	t.Helper()
	compute, err := c.ServiceClient(ctx(t), cloud.ServiceCompute)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := servers.List(compute, servers.ListOpts{}).AllPages(ctx(t))
	if err != nil {
		t.Fatalf("listing servers: %v", err)
	}
	list, _ := servers.ExtractServers(pages)
	if len(list) == 0 {
		t.Fatal("no servers: the seed's web01 should be listed")
	}
}

func TestTLS_VerificationIsOnByDefaultAndATrustedCAIsNamedCacertFile(t *testing.T) {
	dc := startTLSDevcloud(t, devcloud.TLSOptions{})
	c, err := cloud.NewClient(devcloudConfig(t, dc), nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	msg := settingError(t, c.Authenticate(ctx(t)), "cacert_file")
	if !strings.Contains(msg, "set cacert_file") || !strings.Contains(msg, dc.AuthURL()) {
		t.Fatalf("the diagnostic must say to set cacert_file: %s", msg)
	}

	// A CA that is not the cloud's is reported as such.
	other := startTLSDevcloud(t, devcloud.TLSOptions{})
	cfg := devcloudConfig(t, dc)
	cfg.CACertFile = string(other.CACertPEM())
	c, err = cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	msg = settingError(t, c.Authenticate(ctx(t)), "cacert_file")
	if !strings.Contains(msg, "does not hold the CA") {
		t.Fatalf("a wrong CA must be named: %s", msg)
	}
}

func TestTLS_CACertAsPEMTextOrPathAuthenticatesAndReachesTheServices(t *testing.T) {
	dc := startTLSDevcloud(t, devcloud.TLSOptions{})
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, dc.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"PEM text": string(dc.CACertPEM()), "path": path} {
		t.Run(name, func(t *testing.T) {
			cfg := devcloudConfig(t, dc)
			cfg.CACertFile = value
			c, err := cloud.NewClient(cfg, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Authenticate(ctx(t)); err != nil {
				t.Fatal(err)
			}
			listServers(t, c)
		})
	}
}

func TestTLS_InsecureTrueSkipsVerificationOnlyWhenSet(t *testing.T) {
	dc := startTLSDevcloud(t, devcloud.TLSOptions{})
	insecure := true
	cfg := devcloudConfig(t, dc)
	cfg.Insecure = &insecure
	c, err := cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authenticate(ctx(t)); err != nil {
		t.Fatalf("insecure = true: %v", err)
	}
	secure := false
	cfg.Insecure = &secure
	c, err = cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	settingError(t, c.Authenticate(ctx(t)), "cacert_file")
}

func TestTLS_ClientCertificateIsRequiredAndChecked(t *testing.T) {
	dc := startTLSDevcloud(t, devcloud.TLSOptions{RequireClientCert: true})
	now := time.Now()
	validCert, validKey, err := dc.IssueClientCert("operator", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expiredCert, expiredKey, err := dc.IssueClientCert("operator", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stranger := startTLSDevcloud(t, devcloud.TLSOptions{})
	foreignCert, foreignKey, err := stranger.IssueClientCert("operator", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certPath, validCert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, validKey, 0o600); err != nil {
		t.Fatal(err)
	}

	config := func(cert, key string) cloud.Config {
		cfg := devcloudConfig(t, dc)
		cfg.CACertFile = string(dc.CACertPEM())
		cfg.ClientCertFile, cfg.ClientKeyFile = cert, key
		return cfg
	}
	for name, tc := range map[string]struct {
		cert, key string
		setting   string // "" for success
		says      string
	}{
		"PEM text":                 {string(validCert), string(validKey), "", ""},
		"paths":                    {certPath, keyPath, "", ""},
		"no client certificate":    {"", "", "cert", "refused the client certificate"},
		"expired":                  {string(expiredCert), string(expiredKey), "cert", "expired at"},
		"signed by another CA":     {string(foreignCert), string(foreignKey), "cert", "refused the client certificate"},
		"key of another cert":      {string(validCert), string(foreignKey), "key", "does not match"},
		"cert file does not exist": {filepath.Join(dir, "missing.pem"), keyPath, "cert", "neither PEM text nor a readable file"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := cloud.NewClient(config(tc.cert, tc.key), nil, "test")
			if err == nil {
				err = c.Authenticate(ctx(t))
			}
			if tc.setting == "" {
				if err != nil {
					t.Fatal(err)
				}
				listServers(t, c)
				return
			}
			if msg := settingError(t, err, tc.setting); !strings.Contains(msg, tc.says) {
				t.Fatalf("error %q does not say %q", msg, tc.says)
			}
		})
	}
}

func TestAuth_FailuresNameTheSettingToFix(t *testing.T) {
	dc := startDevcloud(t)
	wrongPassword := devcloudConfig(t, dc)
	wrongPassword.Password = "wrong-password"
	wrongSecret := devcloudConfig(t, dc)
	wrongSecret.Password, wrongSecret.UserName = "", ""
	wrongSecret.ApplicationCredentialID, wrongSecret.ApplicationCredentialSecret = devcloud.DemoAppCredentialID, "wrong-secret"
	badToken := devcloudConfig(t, dc)
	badToken.Password, badToken.Token = "", "gAAAAABnot-a-token"
	noProjectRole := devcloudConfig(t, dc)
	noProjectRole.ProjectName = "admin"
	notKeystone := devcloudConfig(t, dc)
	notKeystone.AuthURL = dc.URL() + "/keystone/v3"
	for name, tc := range map[string]struct {
		cfg     cloud.Config
		setting string
		says    string
	}{
		"wrong password":         {wrongPassword, "password", "check user_name, password, user_domain_name"},
		"wrong app cred secret":  {wrongSecret, "application_credential_secret", "application_credential_id and application_credential_secret"},
		"unknown token":          {badToken, "token", "may have expired"},
		"no role on the project": {noProjectRole, "password", `role on tenant_name "admin"`},
		"not Keystone":           {notKeystone, "auth_url", "auth_url must be the Keystone v3 endpoint"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := cloud.NewClient(tc.cfg, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			msg := settingError(t, c.Authenticate(ctx(t)), tc.setting)
			if !strings.Contains(msg, tc.says) {
				t.Fatalf("%q does not say %q", msg, tc.says)
			}
			for _, secret := range []string{"wrong-password", "wrong-secret", "gAAAAABnot-a-token"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("the error shows a secret: %s", msg)
				}
			}
		})
	}
}

// demoToken gets a project-scoped token for the demo user, as `openstack token issue` would.
func demoToken(t *testing.T, dc *devcloud.Cloud) string {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(ctx(t), gophercloud.AuthOptions{IdentityEndpoint: dc.AuthURL(), Username: "demo",
		Password: dc.Env()["OS_PASSWORD"], DomainName: "Default", Scope: &gophercloud.AuthScope{ProjectName: "demo", DomainName: "Default"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := pc.Token()
	if tok == "" {
		t.Fatal("no token")
	}
	return tok
}

func TestAuth_TokenWithTheOpenrcDomainVariablesWorksAsWithTheCLI(t *testing.T) {
	dc := startDevcloud(t)
	tok := demoToken(t, dc)
	for k, v := range dc.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("OS_PASSWORD", "")
	t.Setenv("OS_TOKEN", tok)
	cfg, err := cloud.Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserDomainName == "" || cfg.ProjectDomainName == "" || cfg.UserName == "" {
		t.Fatalf("the test must carry the openrc's domains and user: %+v", cfg)
	}
	c, err := cloud.NewClient(cfg, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authenticate(ctx(t)); err != nil {
		t.Fatalf("token auth with OS_*_DOMAIN_NAME set: %v", err)
	}
	listServers(t, c)
}

func TestAuth_ApplicationCredentialByIDAndByName(t *testing.T) {
	dc := startDevcloud(t)
	byID := devcloudConfig(t, dc)
	byID.UserName, byID.Password, byID.ProjectName = "", "", ""
	byID.ApplicationCredentialID, byID.ApplicationCredentialSecret = devcloud.DemoAppCredentialID, devcloud.DemoAppCredentialSecret
	byName := devcloudConfig(t, dc)
	byName.Password = ""
	byName.ApplicationCredentialName, byName.ApplicationCredentialSecret = devcloud.DemoAppCredentialName, devcloud.DemoAppCredentialSecret
	for name, cfg := range map[string]cloud.Config{"id": byID, "name": byName} {
		t.Run(name, func(t *testing.T) {
			c, err := cloud.NewClient(cfg, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Authenticate(ctx(t)); err != nil {
				t.Fatal(err)
			}
			listServers(t, c)
		})
	}
}

// changeDemoPassword gives the demo user a password found nowhere else, through Keystone's
// self-service password change, so that a search for it in a log means a leak.
func changeDemoPassword(t *testing.T, dc *devcloud.Cloud) string {
	t.Helper()
	pc, err := openstack.NewClient(dc.AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	identity, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	identity.Endpoint = dc.AuthURL() + "/"
	pw := fmt.Sprintf("pw-%d-never-logged", time.Now().UnixNano())
	if err := users.ChangePassword(ctx(t), identity, dc.Seed().DemoUserID,
		users.ChangePasswordOpts{OriginalPassword: dc.Env()["OS_PASSWORD"], Password: pw}).ExtractErr(); err != nil {
		t.Fatalf("changing the demo password: %v", err)
	}
	return pw
}

func TestRequestLog_GoesToTflogAtDebugOnlyWhenEnabled(t *testing.T) {
	dc := startDevcloud(t)
	password := changeDemoPassword(t, dc)
	for _, enabled := range []bool{false, true} {
		var out bytes.Buffer
		logCtx := tflogtest.RootLogger(ctx(t), &out)
		cfg := devcloudConfig(t, dc)
		cfg.Password = password
		cfg.EnableLogging = &enabled
		c, err := cloud.NewClient(cfg, nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Authenticate(logCtx); err != nil {
			t.Fatal(err)
		}
		entries, err := tflogtest.MultilineJSONDecode(&out)
		if err != nil {
			t.Fatal(err)
		}
		if !enabled {
			if len(entries) != 0 {
				t.Fatalf("logging off, yet %d entries: %v", len(entries), entries)
			}
			continue
		}
		if len(entries) == 0 {
			t.Fatal("logging on, no entry")
		}
		e := entries[0]
		if e["@level"] != "debug" || !strings.Contains(e["@message"].(string), "POST "+dc.AuthURL()+"/auth/tokens -> 201") {
			t.Fatalf("first entry %v", e)
		}
		if !strings.Contains(e["request_body"].(string), `"password":"***"`) || !strings.Contains(e["response_headers"].(string), "X-Subject-Token: ***") {
			t.Fatalf("entry not redacted as expected: %v", e)
		}
		if strings.Contains(out.String(), password) {
			t.Fatal("the password is in the log")
		}
		for _, tok := range dc.IssuedTokenIDs() {
			if strings.Contains(out.String(), tok) {
				t.Fatalf("token %s… is in the log", tok[:12])
			}
		}
	}
}
