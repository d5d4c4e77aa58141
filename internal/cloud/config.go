// Package cloud connects to an OpenStack cloud: it resolves credentials the way
// terraform-provider-openstack users expect, builds the one retrying HTTP client that every
// service shares, and adapts gophercloud to the scaling library's interfaces.
package cloud

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"

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
	CACertFile                  string
	ClientCertFile              string
	ClientKeyFile               string
	EndpointType                string
	EndpointOverrides           map[string]string
	MaxRetries                  *int

	// tlsFromClouds is the TLS configuration clouds.yaml asked for (cacert, verify: false).
	tlsFromClouds *tls.Config
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
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := env(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	fill := func(dst *string, names ...string) {
		if *dst == "" {
			*dst = get(names...)
		}
	}
	fill(&c.Cloud, "OS_CLOUD")
	fill(&c.AuthURL, "OS_AUTH_URL")
	fill(&c.Region, "OS_REGION_NAME")
	fill(&c.UserName, "OS_USERNAME")
	fill(&c.UserID, "OS_USER_ID")
	fill(&c.Password, "OS_PASSWORD")
	fill(&c.ProjectName, "OS_PROJECT_NAME", "OS_TENANT_NAME")
	fill(&c.ProjectID, "OS_PROJECT_ID", "OS_TENANT_ID")
	fill(&c.UserDomainName, "OS_USER_DOMAIN_NAME")
	fill(&c.UserDomainID, "OS_USER_DOMAIN_ID")
	fill(&c.ProjectDomainName, "OS_PROJECT_DOMAIN_NAME")
	fill(&c.ProjectDomainID, "OS_PROJECT_DOMAIN_ID")
	fill(&c.DomainName, "OS_DOMAIN_NAME")
	fill(&c.DomainID, "OS_DOMAIN_ID")
	fill(&c.ApplicationCredentialID, "OS_APPLICATION_CREDENTIAL_ID")
	fill(&c.ApplicationCredentialName, "OS_APPLICATION_CREDENTIAL_NAME")
	fill(&c.ApplicationCredentialSecret, "OS_APPLICATION_CREDENTIAL_SECRET")
	fill(&c.Token, "OS_TOKEN", "OS_AUTH_TOKEN")
	fill(&c.CACertFile, "OS_CACERT")
	fill(&c.ClientCertFile, "OS_CERT")
	fill(&c.ClientKeyFile, "OS_KEY")
	fill(&c.EndpointType, "OS_INTERFACE", "OS_ENDPOINT_TYPE")
	if c.Insecure == nil {
		if v := get("OS_INSECURE"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("OS_INSECURE=%q is not a boolean", v)
			}
			c.Insecure = &b
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
	ao, eo, tlsConfig, err := clouds.Parse(opts...)
	if err != nil {
		return fmt.Errorf("reading cloud %q from clouds.yaml: %w", c.Cloud, err)
	}
	fillStr := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fillStr(&c.AuthURL, ao.IdentityEndpoint)
	fillStr(&c.Region, eo.Region)
	fillStr(&c.UserName, ao.Username)
	fillStr(&c.UserID, ao.UserID)
	fillStr(&c.Password, ao.Password)
	fillStr(&c.ProjectName, ao.TenantName)
	fillStr(&c.ProjectID, ao.TenantID)
	fillStr(&c.UserDomainName, ao.DomainName)
	fillStr(&c.UserDomainID, ao.DomainID)
	if ao.Scope != nil {
		fillStr(&c.ProjectDomainName, ao.Scope.DomainName)
		fillStr(&c.ProjectDomainID, ao.Scope.DomainID)
	}
	fillStr(&c.ApplicationCredentialID, ao.ApplicationCredentialID)
	fillStr(&c.ApplicationCredentialName, ao.ApplicationCredentialName)
	fillStr(&c.ApplicationCredentialSecret, ao.ApplicationCredentialSecret)
	fillStr(&c.Token, ao.TokenID)
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

// AuthOptions turns the resolved configuration into gophercloud's.
func (c Config) AuthOptions() (gophercloud.AuthOptions, error) {
	if c.AuthURL == "" {
		return gophercloud.AuthOptions{}, fmt.Errorf("no auth_url: set the provider's auth_url, OS_AUTH_URL, or a cloud (OS_CLOUD) from clouds.yaml")
	}
	ao := gophercloud.AuthOptions{
		IdentityEndpoint:            c.AuthURL,
		Username:                    c.UserName,
		UserID:                      c.UserID,
		Password:                    c.Password,
		DomainName:                  first(c.UserDomainName, c.DomainName),
		DomainID:                    first(c.UserDomainID, c.DomainID),
		TokenID:                     c.Token,
		ApplicationCredentialID:     c.ApplicationCredentialID,
		ApplicationCredentialName:   c.ApplicationCredentialName,
		ApplicationCredentialSecret: c.ApplicationCredentialSecret,
		AllowReauth:                 c.Token == "",
	}
	switch {
	case c.ApplicationCredentialID != "" || c.ApplicationCredentialName != "":
		// An application credential is bound to its project: Keystone refuses a scope.
		if c.ApplicationCredentialSecret == "" {
			return ao, fmt.Errorf("application_credential_secret is required with an application credential")
		}
	case c.ProjectID != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: c.ProjectID}
	case c.ProjectName != "":
		ao.Scope = &gophercloud.AuthScope{
			ProjectName: c.ProjectName,
			DomainName:  first(c.ProjectDomainName, c.DomainName),
			DomainID:    first(c.ProjectDomainID, c.DomainID),
		}
		if ao.Scope.DomainName == "" && ao.Scope.DomainID == "" {
			ao.Scope.DomainName = first(c.UserDomainName, "Default")
		}
	}
	if ao.Username != "" && ao.DomainName == "" && ao.DomainID == "" {
		ao.DomainName = "Default"
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
	return "", fmt.Errorf("endpoint_type %q: expected public, internal or admin", c.EndpointType)
}

// TLSConfig builds the client TLS configuration from cacert_file, cert/key and insecure,
// falling back to what clouds.yaml asked for.
func (c Config) TLSConfig() (*tls.Config, error) {
	if c.CACertFile == "" && c.ClientCertFile == "" && c.Insecure == nil {
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
		pem, err := os.ReadFile(c.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("cacert_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cacert_file %s: no PEM certificate found", c.CACertFile)
		}
		cfg.RootCAs = pool
	}
	if c.ClientCertFile != "" || c.ClientKeyFile != "" {
		if c.ClientCertFile == "" || c.ClientKeyFile == "" {
			return nil, fmt.Errorf("cert and key must be set together")
		}
		pair, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert/key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
