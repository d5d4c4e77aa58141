package cloud

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

const testCloudsYAML = `
clouds:
  lab:
    region_name: RegionFile
    interface: internal
    auth:
      auth_url: https://file.example:5000/v3
      username: file-user
      project_name: file-project
      user_domain_name: FileDomain
      project_domain_name: FileProjectDomain
`

const testSecureYAML = `
clouds:
  lab:
    auth:
      password: file-secret
`

func cloudsFiles(t *testing.T) []clouds.ParseOption {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(path, []byte(testCloudsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secure.yaml"), []byte(testSecureYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return []clouds.ParseOption{clouds.WithLocations(path)}
}

func envOf(m map[string]string) envLookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestResolve_CloudsYAMLFillsWhatNothingElseSets(t *testing.T) {
	cfg, err := Config{Cloud: "lab"}.resolve(envOf(nil), cloudsFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{AuthURL: "https://file.example:5000/v3", Region: "RegionFile", UserName: "file-user",
		Password: "file-secret", ProjectName: "file-project", UserDomainName: "FileDomain",
		ProjectDomainName: "FileProjectDomain", EndpointType: "internal"}
	got := Config{AuthURL: cfg.AuthURL, Region: cfg.Region, UserName: cfg.UserName, Password: cfg.Password,
		ProjectName: cfg.ProjectName, UserDomainName: cfg.UserDomainName, ProjectDomainName: cfg.ProjectDomainName,
		EndpointType: cfg.EndpointType}
	if got.AuthURL != want.AuthURL || got.Region != want.Region || got.UserName != want.UserName ||
		got.Password != want.Password || got.ProjectName != want.ProjectName || got.UserDomainName != want.UserDomainName ||
		got.ProjectDomainName != want.ProjectDomainName || got.EndpointType != want.EndpointType {
		t.Fatalf("resolved %+v, want %+v", got, want)
	}
	if *cfg.MaxRetries != DefaultMaxRetries {
		t.Errorf("max retries = %d, want default %d", *cfg.MaxRetries, DefaultMaxRetries)
	}
}

func TestResolve_EnvironmentBeatsCloudsYAML(t *testing.T) {
	env := envOf(map[string]string{
		"OS_CLOUD":       "lab",
		"OS_USERNAME":    "env-user",
		"OS_PASSWORD":    "env-secret",
		"OS_REGION_NAME": "RegionEnv",
		"OS_INTERFACE":   "admin",
	})
	cfg, err := Config{}.resolve(env, cloudsFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserName != "env-user" || cfg.Password != "env-secret" || cfg.Region != "RegionEnv" || cfg.EndpointType != "admin" {
		t.Fatalf("environment did not win: %+v", cfg)
	}
	if cfg.AuthURL != "https://file.example:5000/v3" || cfg.ProjectName != "file-project" {
		t.Fatalf("clouds.yaml did not fill the rest: auth_url=%q project=%q", cfg.AuthURL, cfg.ProjectName)
	}
}

func TestResolve_AttributeBeatsEnvironmentAndCloudsYAML(t *testing.T) {
	env := envOf(map[string]string{
		"OS_CLOUD":       "lab",
		"OS_USERNAME":    "env-user",
		"OS_REGION_NAME": "RegionEnv",
		"OS_MAX_RETRIES": "9",
	})
	retries := 2
	cfg, err := Config{UserName: "attr-user", Region: "RegionAttr", MaxRetries: &retries}.resolve(env, cloudsFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserName != "attr-user" || cfg.Region != "RegionAttr" || *cfg.MaxRetries != 2 {
		t.Fatalf("attribute did not win: user=%q region=%q retries=%d", cfg.UserName, cfg.Region, *cfg.MaxRetries)
	}
	if cfg.Password != "file-secret" {
		t.Fatalf("secure.yaml password not used: %q", cfg.Password)
	}
}

func TestResolve_UnknownCloudNamesTheCloud(t *testing.T) {
	_, err := Config{Cloud: "nope"}.resolve(envOf(nil), cloudsFiles(t))
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("want an error naming the cloud, got %v", err)
	}
}

func TestResolve_BadOSInsecureIsAnError(t *testing.T) {
	_, err := Config{}.resolve(envOf(map[string]string{"OS_INSECURE": "maybe"}), nil)
	if err == nil || !strings.Contains(err.Error(), "OS_INSECURE") {
		t.Fatalf("want OS_INSECURE error, got %v", err)
	}
}

func TestAuthOptions_ProjectScopeByNameUsesProjectDomain(t *testing.T) {
	ao, err := Config{AuthURL: "http://x/v3", UserName: "u", Password: "p", ProjectName: "demo",
		UserDomainName: "Users", ProjectDomainName: "Projects"}.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	if ao.DomainName != "Users" || ao.Scope == nil || ao.Scope.ProjectName != "demo" || ao.Scope.DomainName != "Projects" {
		t.Fatalf("auth options %+v scope %+v", ao, ao.Scope)
	}
}

func TestAuthOptions_ApplicationCredentialHasNoScope(t *testing.T) {
	ao, err := Config{AuthURL: "http://x/v3", ApplicationCredentialID: "id", ApplicationCredentialSecret: "s", ProjectName: "demo"}.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	if ao.Scope != nil {
		t.Fatalf("application credentials must not be scoped, got %+v", ao.Scope)
	}
	if _, err := (Config{AuthURL: "http://x/v3", ApplicationCredentialID: "id"}).AuthOptions(); err == nil {
		t.Fatal("want an error for a credential without its secret")
	}
}

func TestAuthOptions_MissingAuthURLSaysWhereToSetIt(t *testing.T) {
	_, err := Config{UserName: "u"}.AuthOptions()
	if err == nil || !strings.Contains(err.Error(), "OS_AUTH_URL") {
		t.Fatalf("got %v", err)
	}
}
