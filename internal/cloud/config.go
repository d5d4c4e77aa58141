// Package cloud connects to an OpenStack cloud: it resolves credentials the way
// terraform-provider-openstack users expect, builds the one retrying HTTP client that every
// service shares, and adapts gophercloud to the scaling library's interfaces.
package cloud

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// Config is the provider configuration in plain Go. Empty strings and nil pointers mean
// "not set here": Resolve fills them from OS_* variables, then from clouds.yaml.
type Config struct {
	Cloud                       string
	AuthURL                     string
	Region                      string
	UserName                    string
	UserID                      string
	Password                    string
	ProjectName                 string
	ProjectID                   string
	UserDomainName              string
	UserDomainID                string
	ProjectDomainName           string
	ProjectDomainID             string
	DomainName                  string
	DomainID                    string
	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string
	Token                       string
	Insecure                    *bool
	// CACertFile, ClientCertFile and ClientKeyFile are each a path to a PEM file or the PEM
	// text itself, as terraform-provider-openstack accepts them.
	CACertFile        string
	ClientCertFile    string
	ClientKeyFile     string
	EndpointType      string
	EndpointOverrides map[string]string
	MaxRetries        *int
	// EnableLogging turns on the request log (OS_DEBUG).
	EnableLogging *bool
	// DelayedAuth defers authentication to the first cloud call (OS_DELAYED_AUTH).
	DelayedAuth *bool
	// PollInterval is the longest wait between two looks of a waiter (poll_interval); 0 leaves it to Config.Poll's
	// default (wait.go).
	PollInterval time.Duration

	// tlsFromClouds is the TLS configuration clouds.yaml asked for (cacert, verify: false).
	tlsFromClouds *tls.Config
	// origins says where a setting that was not an attribute came from ("OS_PASSWORD",
	// `clouds.yaml cloud "lab"`), for error messages.
	origins map[string]string
}

// DefaultMaxRetries is how many times a retryable request is retried when max_retries is unset.
const DefaultMaxRetries = 5

// envLookup abstracts os.LookupEnv so tests can supply an environment.
type envLookup func(string) (string, bool)

// Resolve returns the configuration with every unset field taken from the OS_* environment
// variables and then from clouds.yaml (the cloud attribute or OS_CLOUD), in that order of
// precedence: explicit attribute > environment > clouds.yaml.
func (c Config) Resolve() (Config, error) {
	return c.resolve(os.LookupEnv, nil)
}

func (c Config) resolve(env envLookup, cloudsOpts []clouds.ParseOption) (Config, error) {
	get := func(name string) string {
		if v, ok := env(name); ok {
			return v
		}
		return ""
	}
	c.origins = map[string]string{}
	fill := func(dst *string, setting string, names ...string) {
		if *dst != "" {
			return
		}
		for _, n := range names {
			if v, ok := env(n); ok && v != "" {
				*dst = v
				c.origins[setting] = n
				return
			}
		}
	}
	fill(&c.Cloud, "cloud", "OS_CLOUD")
	fill(&c.AuthURL, "auth_url", "OS_AUTH_URL")
	fill(&c.Region, "region", "OS_REGION_NAME")
	fill(&c.UserName, "user_name", "OS_USERNAME")
	fill(&c.UserID, "user_id", "OS_USER_ID")
	fill(&c.Password, "password", "OS_PASSWORD")
	fill(&c.ProjectName, "tenant_name", "OS_PROJECT_NAME", "OS_TENANT_NAME")
	fill(&c.ProjectID, "tenant_id", "OS_PROJECT_ID", "OS_TENANT_ID")
	fill(&c.UserDomainName, "user_domain_name", "OS_USER_DOMAIN_NAME")
	fill(&c.UserDomainID, "user_domain_id", "OS_USER_DOMAIN_ID")
	fill(&c.ProjectDomainName, "project_domain_name", "OS_PROJECT_DOMAIN_NAME")
	fill(&c.ProjectDomainID, "project_domain_id", "OS_PROJECT_DOMAIN_ID")
	fill(&c.DomainName, "domain_name", "OS_DOMAIN_NAME")
	fill(&c.DomainID, "domain_id", "OS_DOMAIN_ID")
	fill(&c.ApplicationCredentialID, "application_credential_id", "OS_APPLICATION_CREDENTIAL_ID")
	fill(&c.ApplicationCredentialName, "application_credential_name", "OS_APPLICATION_CREDENTIAL_NAME")
	fill(&c.ApplicationCredentialSecret, "application_credential_secret", "OS_APPLICATION_CREDENTIAL_SECRET")
	fill(&c.Token, "token", "OS_TOKEN", "OS_AUTH_TOKEN")
	fill(&c.CACertFile, "cacert_file", "OS_CACERT")
	fill(&c.ClientCertFile, "cert", "OS_CERT")
	fill(&c.ClientKeyFile, "key", "OS_KEY")
	fill(&c.EndpointType, "endpoint_type", "OS_INTERFACE", "OS_ENDPOINT_TYPE")
	if c.Insecure == nil {
		if v := get("OS_INSECURE"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("OS_INSECURE=%q is not a boolean", v)
			}
			c.Insecure = &b
			c.origins["insecure"] = "OS_INSECURE"
		}
	}
	if c.DelayedAuth == nil {
		if v := get("OS_DELAYED_AUTH"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("OS_DELAYED_AUTH=%q is not a boolean", v)
			}
			c.DelayedAuth = &b
		}
	}
	if c.EnableLogging == nil {
		// terraform-provider-openstack logs whenever OS_DEBUG is set at all; "0" and "false"
		// are read as off, which is what someone who writes them means.
		if v := get("OS_DEBUG"); v != "" {
			on := true
			if b, err := strconv.ParseBool(v); err == nil {
				on = b
			}
			c.EnableLogging = &on
		}
	}
	if c.MaxRetries == nil {
		if v := get("OS_MAX_RETRIES"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("OS_MAX_RETRIES=%q is not a non-negative integer", v)
			}
			c.MaxRetries = &n
		}
	}

	if c.Cloud != "" {
		if err := c.fillFromClouds(cloudsOpts); err != nil {
			return c, err
		}
	}
	if c.EndpointType == "" {
		c.EndpointType = "public"
	}
	if c.MaxRetries == nil {
		n := DefaultMaxRetries
		c.MaxRetries = &n
	}
	return c, nil
}

// fillFromClouds takes every still-unset field from the named clouds.yaml entry (and its
// secure.yaml), parsed by gophercloud exactly as python-openstackclient would.
func (c *Config) fillFromClouds(extra []clouds.ParseOption) error {
	opts := append([]clouds.ParseOption{clouds.WithCloudName(c.Cloud)}, extra...)
	// Parse reads OS_REGION_NAME / OS_INTERFACE itself; pass what we resolved so that an
	// attribute wins over both the environment and the file.
	if c.Region != "" {
		opts = append(opts, clouds.WithRegion(c.Region))
	}
	// Parse also reads OS_CACERT, OS_CERT and OS_KEY, as paths only: hand it what we resolved,
	// PEM text through a private file that is gone once it is parsed.
	tlsOpts, cleanup, err := c.cloudsTLSOptions()
	defer cleanup()
	if err != nil {
		return err
	}
	opts = append(opts, tlsOpts...)
	ao, eo, tlsConfig, err := clouds.Parse(opts...)
	if err != nil {
		return fmt.Errorf("reading cloud %q from clouds.yaml: %w", c.Cloud, err)
	}
	origin := fmt.Sprintf("clouds.yaml cloud %q", c.Cloud)
	fillStr := func(dst *string, setting, v string) {
		if *dst == "" && v != "" {
			*dst = v
			c.origins[setting] = origin
		}
	}
	fillStr(&c.AuthURL, "auth_url", ao.IdentityEndpoint)
	fillStr(&c.Region, "region", eo.Region)
	fillStr(&c.UserName, "user_name", ao.Username)
	fillStr(&c.UserID, "user_id", ao.UserID)
	fillStr(&c.Password, "password", ao.Password)
	fillStr(&c.ProjectName, "tenant_name", ao.TenantName)
	fillStr(&c.ProjectID, "tenant_id", ao.TenantID)
	fillStr(&c.UserDomainName, "user_domain_name", ao.DomainName)
	fillStr(&c.UserDomainID, "user_domain_id", ao.DomainID)
	if ao.Scope != nil {
		fillStr(&c.ProjectDomainName, "project_domain_name", ao.Scope.DomainName)
		fillStr(&c.ProjectDomainID, "project_domain_id", ao.Scope.DomainID)
	}
	fillStr(&c.ApplicationCredentialID, "application_credential_id", ao.ApplicationCredentialID)
	fillStr(&c.ApplicationCredentialName, "application_credential_name", ao.ApplicationCredentialName)
	fillStr(&c.ApplicationCredentialSecret, "application_credential_secret", ao.ApplicationCredentialSecret)
	fillStr(&c.Token, "token", ao.TokenID)
	if c.EndpointType == "" {
		switch eo.Availability {
		case gophercloud.AvailabilityInternal:
			c.EndpointType = "internal"
		case gophercloud.AvailabilityAdmin:
			c.EndpointType = "admin"
		}
	}
	c.tlsFromClouds = tlsConfig
	return nil
}

// cloudsTLSOptions passes the resolved cacert_file, cert and key to clouds.Parse as paths.
func (c *Config) cloudsTLSOptions() ([]clouds.ParseOption, func(), error) {
	var opts []clouds.ParseOption
	var dir string
	cleanup := func() {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
	asPath := func(setting, value string) (string, error) {
		if !isPEMText(value) {
			return value, nil
		}
		if dir == "" {
			d, err := os.MkdirTemp("", "eventscale-tls-")
			if err != nil {
				return "", &SettingError{Setting: setting, Err: fmt.Errorf("%s: %w", setting, err)}
			}
			dir = d
		}
		p := filepath.Join(dir, setting+".pem")
		if err := os.WriteFile(p, []byte(value), 0o600); err != nil {
			return "", &SettingError{Setting: setting, Err: fmt.Errorf("%s: %w", setting, err)}
		}
		return p, nil
	}
	for _, s := range []struct {
		setting, value string
		with           func(string) clouds.ParseOption
	}{
		{"cacert_file", c.CACertFile, clouds.WithCACertPath},
		{"cert", c.ClientCertFile, clouds.WithClientCertPath},
		{"key", c.ClientKeyFile, clouds.WithClientKeyPath},
	} {
		if s.value == "" {
			continue
		}
		p, err := asPath(s.setting, s.value)
		if err != nil {
			return nil, cleanup, err
		}
		opts = append(opts, s.with(p))
	}
	return opts, cleanup, nil
}

// Origin says where a setting's value came from when it was not a provider attribute, as
// " (from OS_PASSWORD)", or "" for an attribute.
func (c Config) Origin(setting string) string {
	if o := c.origins[setting]; o != "" {
		return " (from " + o + ")"
	}
	return ""
}

// AuthMethod is the Keystone method the configuration authenticates with: an application
// credential when one is named, else a token when one is given (as the openstack CLI picks the
// token plugin), else the password.
func (c Config) AuthMethod() string {
	switch {
	case c.ApplicationCredentialID != "" || c.ApplicationCredentialName != "":
		return "application_credential"
	case c.Token != "":
		return "token"
	}
	return "password"
}

// AuthOptions turns the resolved configuration into gophercloud's, for the one method
// AuthMethod chose: the other methods' values (an OS_PASSWORD left in the environment next
// to a token, say) are not sent.
func (c Config) AuthOptions() (gophercloud.AuthOptions, error) {
	if c.AuthURL == "" {
		return gophercloud.AuthOptions{}, &SettingError{Setting: "auth_url", Summary: "Missing auth_url",
			Err: fmt.Errorf("no auth_url: set the provider's auth_url, OS_AUTH_URL, or a cloud (OS_CLOUD) from clouds.yaml")}
	}
	ao := gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL}
	projectScope := func() *gophercloud.AuthScope {
		switch {
		case c.ProjectID != "":
			return &gophercloud.AuthScope{ProjectID: c.ProjectID}
		case c.ProjectName != "":
			scope := &gophercloud.AuthScope{
				ProjectName: c.ProjectName,
				DomainName:  first(c.ProjectDomainName, c.DomainName),
				DomainID:    first(c.ProjectDomainID, c.DomainID),
			}
			if scope.DomainName == "" && scope.DomainID == "" {
				scope.DomainName = first(c.UserDomainName, "Default")
			}
			return scope
		}
		return nil
	}
	switch c.AuthMethod() {
	case "application_credential":
		// An application credential is bound to its project: Keystone refuses a scope. By
		// name, it needs its user (and the user's domain).
		if c.ApplicationCredentialSecret == "" {
			return ao, &SettingError{Setting: "application_credential_secret", Summary: "Missing application_credential_secret",
				Err: fmt.Errorf("application_credential_secret (OS_APPLICATION_CREDENTIAL_SECRET) is required with an application credential")}
		}
		ao.ApplicationCredentialID = c.ApplicationCredentialID
		ao.ApplicationCredentialName = c.ApplicationCredentialName
		ao.ApplicationCredentialSecret = c.ApplicationCredentialSecret
		if c.ApplicationCredentialID == "" {
			ao.Username, ao.UserID = c.UserName, c.UserID
			ao.DomainName, ao.DomainID = first(c.UserDomainName, c.DomainName), first(c.UserDomainID, c.DomainID)
			if ao.UserID == "" && ao.Username == "" {
				return ao, &SettingError{Setting: "application_credential_name", Summary: "Incomplete application credential",
					Err: fmt.Errorf("application_credential_name needs user_name (with its domain) or user_id; or use application_credential_id")}
			}
		}
		ao.AllowReauth = true
	case "token":
		// Keystone's token method takes the token alone: the user and its domain are the
		// token's. The OS_*_DOMAIN_* variables an openrc exports name the project's domain
		// for the scope, as the openstack CLI reads them.
		ao.TokenID = c.Token
		ao.Scope = projectScope()
	default:
		if c.Password == "" {
			return ao, &SettingError{Setting: "password", Summary: "No OpenStack credentials",
				Err: fmt.Errorf("no credentials: set user_name and password (OS_USERNAME, OS_PASSWORD), an application credential " +
					"(application_credential_id and application_credential_secret), or a token")}
		}
		if c.UserName == "" && c.UserID == "" {
			return ao, &SettingError{Setting: "user_name", Summary: "Missing user_name",
				Err: fmt.Errorf("a password needs its user: set user_name (OS_USERNAME) or user_id (OS_USER_ID)")}
		}
		ao.Username, ao.UserID, ao.Password = c.UserName, c.UserID, c.Password
		ao.DomainName, ao.DomainID = first(c.UserDomainName, c.DomainName), first(c.UserDomainID, c.DomainID)
		if ao.Username != "" && ao.DomainName == "" && ao.DomainID == "" {
			ao.DomainName = "Default"
		}
		ao.Scope = projectScope()
		ao.AllowReauth = true
	}
	return ao, nil
}

// Availability maps endpoint_type to gophercloud's catalog interface.
func (c Config) Availability() (gophercloud.Availability, error) {
	switch strings.TrimSuffix(strings.ToLower(c.EndpointType), "url") {
	case "", "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", &SettingError{Setting: "endpoint_type", Summary: "Invalid endpoint_type",
		Err: fmt.Errorf("endpoint_type %q%s: expected public, internal or admin", c.EndpointType, c.Origin("endpoint_type"))}
}

// TLSConfig builds the client TLS configuration from cacert_file, cert/key and insecure,
// falling back to what clouds.yaml asked for. Certificates are verified unless insecure is
// true in the provider block, OS_INSECURE or clouds.yaml (verify: false): nothing else, not
// a CA or a client certificate, turns verification off.
func (c Config) TLSConfig() (*tls.Config, error) {
	if c.CACertFile == "" && c.ClientCertFile == "" && c.ClientKeyFile == "" && c.Insecure == nil {
		return c.tlsFromClouds, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsFromClouds != nil {
		cfg = c.tlsFromClouds.Clone()
	}
	if c.Insecure != nil {
		cfg.InsecureSkipVerify = *c.Insecure //nolint:gosec // the user asked for it explicitly
	}
	if c.CACertFile != "" {
		pem, err := c.readPEMSetting("cacert_file", c.CACertFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &SettingError{Setting: "cacert_file", Summary: "Invalid cacert_file",
				Err: fmt.Errorf("cacert_file%s: no PEM certificate found in %s", c.Origin("cacert_file"), describePEMSetting(c.CACertFile))}
		}
		cfg.RootCAs = pool
	}
	if c.ClientCertFile != "" || c.ClientKeyFile != "" {
		pair, err := c.clientCertificate()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// clientCertificate loads cert and key and refuses, naming the setting, a pair that does
// not match or a certificate outside its validity: the cloud would refuse it with a bare
// TLS alert.
func (c Config) clientCertificate() (tls.Certificate, error) {
	if c.ClientCertFile == "" {
		return tls.Certificate{}, &SettingError{Setting: "cert", Summary: "Missing cert",
			Err: fmt.Errorf("key%s is set without cert: set both for a client certificate", c.Origin("key"))}
	}
	if c.ClientKeyFile == "" {
		return tls.Certificate{}, &SettingError{Setting: "key", Summary: "Missing key",
			Err: fmt.Errorf("cert%s is set without key: set both for a client certificate", c.Origin("cert"))}
	}
	certPEM, err := c.readPEMSetting("cert", c.ClientCertFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := c.readPEMSetting("key", c.ClientKeyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		setting := "cert"
		if msg := err.Error(); strings.Contains(msg, "private key") || strings.Contains(msg, "key input") {
			setting = "key"
		}
		return tls.Certificate{}, &SettingError{Setting: setting, Summary: "Invalid client certificate",
			Err: fmt.Errorf("cert%s and key%s: %w", c.Origin("cert"), c.Origin("key"), err)}
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return tls.Certificate{}, &SettingError{Setting: "cert", Summary: "Invalid client certificate",
			Err: fmt.Errorf("cert%s: %w", c.Origin("cert"), err)}
	}
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		return tls.Certificate{}, &SettingError{Setting: "cert", Summary: "Client certificate expired",
			Err: fmt.Errorf("cert%s: the client certificate %q expired at %s; renew it (and key)", c.Origin("cert"),
				leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))}
	case now.Before(leaf.NotBefore):
		return tls.Certificate{}, &SettingError{Setting: "cert", Summary: "Client certificate not yet valid",
			Err: fmt.Errorf("cert%s: the client certificate %q is valid only from %s", c.Origin("cert"),
				leaf.Subject.CommonName, leaf.NotBefore.UTC().Format(time.RFC3339))}
	}
	return pair, nil
}

// readPEMSetting reads a setting that holds either PEM text or the path of a PEM file (with
// ~ for the home directory), as terraform-provider-openstack does.
func (c Config) readPEMSetting(setting, value string) ([]byte, error) {
	if isPEMText(value) {
		return []byte(value), nil
	}
	p := value
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, &SettingError{Setting: setting, Summary: "Cannot read " + setting, Err: fmt.Errorf("%s%s: %w", setting, c.Origin(setting), err)}
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	b, err := os.ReadFile(p) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, &SettingError{Setting: setting, Summary: "Cannot read " + setting,
			Err: fmt.Errorf("%s%s is neither PEM text nor a readable file: %w", setting, c.Origin(setting), err)}
	}
	return b, nil
}

// isPEMText tells PEM contents from a path: a path never holds a PEM armour line or a line
// break. Text without armour is still text, never printed as if it were a file name.
func isPEMText(v string) bool {
	return strings.Contains(v, "-----BEGIN ") || strings.ContainsAny(v, "\r\n")
}

// describePEMSetting names a PEM setting's value without printing key material.
func describePEMSetting(v string) string {
	if isPEMText(v) {
		return "the PEM text given"
	}
	return v
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
