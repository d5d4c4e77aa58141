package cloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// openrcEnv is what `. demo-openrc` exports, with a token added.
func openrcEnv(extra map[string]string) envLookup {
	m := map[string]string{
		"OS_AUTH_URL": "http://keystone.example/v3", "OS_USERNAME": "demo", "OS_PROJECT_NAME": "demo",
		"OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_DOMAIN_NAME": "Default",
		"OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3",
	}
	for k, v := range extra {
		m[k] = v
	}
	return envOf(m)
}

func TestAuthOptions_TokenWithOpenrcDomainsSendsTheTokenAloneScopedToTheProject(t *testing.T) {
	cfg, err := Config{}.resolve(openrcEnv(map[string]string{"OS_TOKEN": "tok-123"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	ao, err := cfg.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	if ao.TokenID != "tok-123" || ao.Username != "" || ao.UserID != "" || ao.DomainName != "" || ao.DomainID != "" || ao.AllowReauth {
		t.Fatalf("token auth must send the token alone: %+v", ao)
	}
	if ao.Scope == nil || ao.Scope.ProjectName != "demo" || ao.Scope.DomainName != "Default" {
		t.Fatalf("scope = %+v, want project demo in domain Default", ao.Scope)
	}
	// gophercloud's own check, which refused this configuration before.
	scope, err := ao.ToTokenV3ScopeMap()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ao.ToTokenV3CreateMap(scope); err != nil {
		t.Fatalf("gophercloud refuses the token request: %v", err)
	}
}

func TestAuthOptions_ApplicationCredentialIsNotMixedWithAnOpenrcPassword(t *testing.T) {
	cfg, err := Config{ApplicationCredentialID: "ac", ApplicationCredentialSecret: "s"}.resolve(openrcEnv(map[string]string{"OS_PASSWORD": "pw"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	ao, err := cfg.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	if ao.Password != "" || ao.Scope != nil || ao.ApplicationCredentialID != "ac" {
		t.Fatalf("want the application credential alone: %+v scope %+v", ao, ao.Scope)
	}
	if cfg.AuthMethod() != "application_credential" {
		t.Fatalf("method %s", cfg.AuthMethod())
	}
}

func TestAuthOptions_MissingCredentialsNameTheSetting(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg     Config
		setting string
	}{
		"no auth_url":         {Config{UserName: "u", Password: "p"}, "auth_url"},
		"no password":         {Config{AuthURL: "http://k/v3", UserName: "u"}, "password"},
		"password, no user":   {Config{AuthURL: "http://k/v3", Password: "p"}, "user_name"},
		"app cred, no secret": {Config{AuthURL: "http://k/v3", ApplicationCredentialID: "id"}, "application_credential_secret"},
		"app cred by name":    {Config{AuthURL: "http://k/v3", ApplicationCredentialName: "n", ApplicationCredentialSecret: "s"}, "application_credential_name"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.cfg.AuthOptions()
			var se *SettingError
			if !errors.As(err, &se) || se.Setting != tc.setting {
				t.Fatalf("err = %v, want a SettingError on %s", err, tc.setting)
			}
		})
	}
}

func TestResolve_OSDebugTurnsTheRequestLogOnAndTheAttributeWins(t *testing.T) {
	on, off := true, false
	for name, tc := range map[string]struct {
		attr *bool
		env  map[string]string
		want *bool
	}{
		"unset":                   {nil, nil, nil},
		"OS_DEBUG=1":              {nil, map[string]string{"OS_DEBUG": "1"}, &on},
		"OS_DEBUG=yes":            {nil, map[string]string{"OS_DEBUG": "yes"}, &on},
		"OS_DEBUG=0":              {nil, map[string]string{"OS_DEBUG": "0"}, &off},
		"attribute false wins":    {&off, map[string]string{"OS_DEBUG": "1"}, &off},
		"attribute true, no env":  {&on, nil, &on},
		"OS_DELAYED_AUTH ignored": {nil, map[string]string{"OS_DELAYED_AUTH": "true"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Config{EnableLogging: tc.attr}.resolve(envOf(tc.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.EnableLogging == nil) != (tc.want == nil) || (tc.want != nil && *cfg.EnableLogging != *tc.want) {
				t.Fatalf("EnableLogging = %v, want %v", cfg.EnableLogging, tc.want)
			}
		})
	}
	cfg, err := Config{}.resolve(envOf(map[string]string{"OS_DELAYED_AUTH": "true"}), nil)
	if err != nil || cfg.DelayedAuth == nil || !*cfg.DelayedAuth {
		t.Fatalf("OS_DELAYED_AUTH=true: %v %v", cfg.DelayedAuth, err)
	}
}

func TestOrigin_SaysWhichVariableOrFileGaveTheValue(t *testing.T) {
	env := envOf(map[string]string{"OS_CLOUD": "lab", "OS_PASSWORD": "env-pw"})
	cfg, err := Config{UserName: "attr-user"}.resolve(env, cloudsFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Origin("password"); got != " (from OS_PASSWORD)" {
		t.Errorf("password origin %q", got)
	}
	if got := cfg.Origin("auth_url"); got != ` (from clouds.yaml cloud "lab")` {
		t.Errorf("auth_url origin %q", got)
	}
	if got := cfg.Origin("user_name"); got != "" {
		t.Errorf("an attribute has no origin, got %q", got)
	}
}

// testCA writes nothing: it returns a CA and a leaf it signed, in PEM.
func testCA(t *testing.T, notAfter time.Time) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func TestTLSConfig_VerifiesUnlessInsecureIsExplicit(t *testing.T) {
	caPEM, certPEM, keyPEM := testCA(t, time.Now().Add(time.Hour))
	on, off := true, false
	verifyFalse := `
clouds:
  lab:
    auth: {auth_url: "https://k/v3", username: u, password: p}
    verify: false
`
	dir := t.TempDir()
	cloudsPath := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(cloudsPath, []byte(verifyFalse), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg      Config
		env      map[string]string
		insecure bool
	}{
		"nothing set":                    {Config{}, nil, false},
		"a CA":                           {Config{CACertFile: string(caPEM)}, nil, false},
		"a client certificate":           {Config{ClientCertFile: string(certPEM), ClientKeyFile: string(keyPEM)}, nil, false},
		"insecure = false":               {Config{Insecure: &off}, nil, false},
		"OS_INSECURE=false":              {Config{}, map[string]string{"OS_INSECURE": "false"}, false},
		"insecure = true":                {Config{Insecure: &on}, nil, true},
		"OS_INSECURE=true":               {Config{}, map[string]string{"OS_INSECURE": "true"}, true},
		"clouds.yaml verify: false":      {Config{Cloud: "lab"}, nil, true},
		"verify: false, insecure=false":  {Config{Cloud: "lab", Insecure: &off}, nil, false},
		"verify: false, a CA given here": {Config{Cloud: "lab", CACertFile: string(caPEM)}, nil, true},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := tc.cfg.resolve(envOf(tc.env), []clouds.ParseOption{clouds.WithLocations(cloudsPath)})
			if err != nil {
				t.Fatal(err)
			}
			tlsConfig, err := cfg.TLSConfig()
			if err != nil {
				t.Fatal(err)
			}
			if got := tlsConfig != nil && tlsConfig.InsecureSkipVerify; got != tc.insecure {
				t.Fatalf("InsecureSkipVerify = %v, want %v", got, tc.insecure)
			}
		})
	}
}

func TestTLSConfig_TakesPEMTextOrAPath(t *testing.T) {
	caPEM, certPEM, keyPEM := testCA(t, time.Now().Add(time.Hour))
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, cfg := range map[string]Config{
		"PEM text": {CACertFile: string(caPEM), ClientCertFile: string(certPEM), ClientKeyFile: string(keyPEM)},
		"paths":    {CACertFile: write("ca.pem", caPEM), ClientCertFile: write("c.pem", certPEM), ClientKeyFile: write("k.pem", keyPEM)},
	} {
		t.Run(name, func(t *testing.T) {
			tc, err := cfg.TLSConfig()
			if err != nil {
				t.Fatal(err)
			}
			if tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.InsecureSkipVerify {
				t.Fatalf("tls config %+v", tc)
			}
		})
	}
}

func TestTLSConfig_ErrorsNameTheSettingAndNeverPrintKeyMaterial(t *testing.T) {
	caPEM, certPEM, keyPEM := testCA(t, time.Now().Add(time.Hour))
	_, expiredPEM, expiredKey := testCA(t, time.Now().Add(-time.Hour))
	_, _, otherKey := testCA(t, time.Now().Add(time.Hour))
	for name, tc := range map[string]struct {
		cfg     Config
		setting string
		says    string
	}{
		"missing CA file":    {Config{CACertFile: "/nonexistent/ca.pem"}, "cacert_file", "neither PEM text nor a readable file"},
		"CA text not a cert": {Config{CACertFile: "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n"}, "cacert_file", "no PEM certificate"},
		"cert without key":   {Config{ClientCertFile: string(certPEM)}, "key", "without key"},
		"key without cert":   {Config{ClientKeyFile: string(keyPEM)}, "cert", "without cert"},
		"mismatched key":     {Config{ClientCertFile: string(certPEM), ClientKeyFile: string(otherKey)}, "key", "does not match"},
		"expired cert":       {Config{ClientCertFile: string(expiredPEM), ClientKeyFile: string(expiredKey)}, "cert", "expired at"},
		"key is garbage":     {Config{ClientCertFile: string(certPEM), ClientKeyFile: "not\na key"}, "key", "cert and key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.cfg.TLSConfig()
			var se *SettingError
			if !errors.As(err, &se) || se.Setting != tc.setting || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want a SettingError on %s saying %q", err, tc.setting, tc.says)
			}
			for _, material := range [][]byte{caPEM, certPEM, keyPEM, otherKey, expiredKey} {
				if strings.Contains(err.Error(), strings.TrimSpace(string(material))) || strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Fatalf("the error prints key or certificate material: %v", err)
				}
			}
		})
	}
}

func TestResolve_PEMTextInOSCACERTWorksWithCloudsYAML(t *testing.T) {
	caPEM, _, _ := testCA(t, time.Now().Add(time.Hour))
	// clouds.Parse reads OS_CACERT from the process, as a path.
	t.Setenv("OS_CACERT", string(caPEM))
	env := envOf(map[string]string{"OS_CLOUD": "lab", "OS_CACERT": string(caPEM)})
	cfg, err := Config{}.resolve(env, cloudsFiles(t))
	if err != nil {
		t.Fatalf("clouds.yaml with PEM text in OS_CACERT: %v", err)
	}
	tc, err := cfg.TLSConfig()
	if err != nil || tc.RootCAs == nil {
		t.Fatalf("tls %+v, %v", tc, err)
	}
}
