package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// Service types as they appear in the Keystone catalog.
const (
	ServiceCompute      = "compute"
	ServiceImage        = "image"
	ServiceNetwork      = "network"
	ServiceLoadBalancer = "load-balancer"
	ServiceDatabase     = "database"
	ServiceKeyManager   = "key-manager"
	ServiceDNS          = "dns"
)

// MissingServiceError says the catalog has no endpoint for a service type.
type MissingServiceError struct {
	Type, Region, Interface string
}

func (e *MissingServiceError) Error() string {
	return fmt.Sprintf("the cloud's catalog has no %q service (region %q, interface %s): "+
		"check region and endpoint_type, or set endpoint_overrides[%q]", e.Type, e.Region, e.Interface, e.Type)
}

// NovaMicroversion is the compute API microversion the adapters speak: 2.52 brings server
// tags at create time, 2.45 the image id in createImage's body.
const NovaMicroversion = "2.60"

// Client is an authenticated connection to one cloud and region. It authenticates once: at
// Authenticate (the provider's Configure) or, with delayed_auth, at the first call.
type Client struct {
	cfg       Config
	userAgent []string
	logf      func(string, ...any)

	once     sync.Once
	provider *gophercloud.ProviderClient
	authErr  error
	eo       gophercloud.EndpointOpts
}

// NewClient validates a resolved configuration. userAgent is prepended to gophercloud's.
func NewClient(cfg Config, logf func(string, ...any), userAgent ...string) (*Client, error) {
	if _, err := cfg.AuthOptions(); err != nil {
		return nil, err
	}
	if _, err := cfg.TLSConfig(); err != nil {
		return nil, err
	}
	avail, err := cfg.Availability()
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:       cfg,
		userAgent: userAgent,
		logf:      logf,
		eo:        gophercloud.EndpointOpts{Region: cfg.Region, Availability: avail},
	}, nil
}

// NewDeferredClient is NewClient for a configuration that is not known yet (a plan where the
// provider block depends on another resource): it checks nothing now, and reports any
// problem at the first call.
func NewDeferredClient(cfg Config, logf func(string, ...any), userAgent ...string) *Client {
	avail, err := cfg.Availability()
	c := &Client{cfg: cfg, userAgent: userAgent, logf: logf, eo: gophercloud.EndpointOpts{Region: cfg.Region, Availability: avail}}
	if err != nil {
		c.once.Do(func() { c.authErr = err })
	}
	return c
}

// Config returns the resolved configuration.
func (c *Client) Config() Config { return c.cfg }

// Authenticate authenticates now, so that wrong credentials or an unreachable auth_url are
// reported once, on the provider, rather than by whichever resource calls first. The error is
// a *SettingError naming the setting to fix.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.Provider(ctx)
	return err
}

// Provider authenticates once and returns the shared provider client.
func (c *Client) Provider(ctx context.Context) (*gophercloud.ProviderClient, error) {
	c.once.Do(func() { c.provider, c.authErr = c.authenticate(ctx) })
	return c.provider, c.authErr
}

func (c *Client) authenticate(ctx context.Context) (*gophercloud.ProviderClient, error) {
	ao, err := c.cfg.AuthOptions()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := c.cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, &SettingError{Setting: "auth_url", Summary: "Invalid auth_url",
			Err: fmt.Errorf("auth_url %q%s: %w", ao.IdentityEndpoint, c.cfg.Origin("auth_url"), err)}
	}
	var opts []HTTPOption
	if c.cfg.EnableLogging != nil && *c.cfg.EnableLogging {
		opts = append(opts, WithRequestLog(RequestLog{
			Secrets: []string{c.cfg.Password, c.cfg.ApplicationCredentialSecret, c.cfg.Token},
		}))
	}
	maxRetries := DefaultMaxRetries
	if c.cfg.MaxRetries != nil {
		maxRetries = *c.cfg.MaxRetries
	}
	pc.HTTPClient = NewHTTPClient(DefaultRetryPolicy(maxRetries), tlsConfig, c.logf, opts...)
	pc.UserAgent.Prepend(c.userAgent...)
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, c.cfg.describeAuthError(err)
	}
	if len(c.cfg.EndpointOverrides) > 0 {
		catalog := pc.EndpointLocator
		overrides := c.cfg.EndpointOverrides
		pc.EndpointLocator = func(eo gophercloud.EndpointOpts) (string, error) {
			if u, ok := overrides[eo.Type]; ok && u != "" {
				return gophercloud.NormalizeURL(u), nil
			}
			return catalog(eo)
		}
	}
	return pc, nil
}

// ServiceClient returns a client for one catalog service type.
func (c *Client) ServiceClient(ctx context.Context, serviceType string) (*gophercloud.ServiceClient, error) {
	pc, err := c.Provider(ctx)
	if err != nil {
		return nil, err
	}
	var sc *gophercloud.ServiceClient
	switch serviceType {
	case ServiceCompute:
		sc, err = openstack.NewComputeV2(pc, c.eo)
		if err == nil {
			sc.Microversion = NovaMicroversion
		}
	case ServiceImage:
		sc, err = openstack.NewImageV2(pc, c.eo)
	case ServiceNetwork:
		sc, err = openstack.NewNetworkV2(pc, c.eo)
	case ServiceLoadBalancer:
		sc, err = openstack.NewLoadBalancerV2(pc, c.eo)
	case ServiceDatabase:
		sc, err = openstack.NewDBV1(pc, c.eo)
	case ServiceKeyManager:
		sc, err = openstack.NewKeyManagerV1(pc, c.eo)
	case ServiceDNS:
		sc, err = openstack.NewDNSV2(pc, c.eo)
	default:
		return nil, fmt.Errorf("unknown service type %q", serviceType)
	}
	if err != nil {
		var notFound *gophercloud.ErrEndpointNotFound
		if errors.As(err, &notFound) || errors.As(err, new(gophercloud.ErrEndpointNotFound)) {
			return nil, &MissingServiceError{Type: serviceType, Region: c.cfg.Region, Interface: string(c.eo.Availability)}
		}
		return nil, fmt.Errorf("%s service: %w", serviceType, err)
	}
	return sc, nil
}

// describeAuthError turns a failed authentication into something a user can act on, on the
// setting that explains it.
func (c Config) describeAuthError(err error) error {
	authURL := c.AuthURL
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		msg := CloudMessage(code.Body)
		switch code.Actual {
		case http.StatusUnauthorized:
			setting, what := c.credentialSetting()
			return &SettingError{Setting: setting, Summary: "OpenStack rejected the credentials", Err: fmt.Errorf(
				"authentication to %s failed: the cloud rejected the credentials (HTTP 401: %s); check %s%s",
				authURL, msg, what, c.scopeHint())}
		case http.StatusForbidden:
			setting, _ := c.credentialSetting()
			if c.AuthMethod() != "application_credential" {
				setting = c.scopeSetting()
			}
			return &SettingError{Setting: setting, Summary: "OpenStack refused the authentication", Err: fmt.Errorf(
				"authentication to %s refused (HTTP 403: %s): the user may lack a role on the project%s", authURL, msg, c.scopeHint())}
		case http.StatusNotFound:
			return &SettingError{Setting: "auth_url", Summary: "No Keystone at auth_url", Err: fmt.Errorf(
				"authentication to %s%s failed (HTTP 404: %s): auth_url must be the Keystone v3 endpoint, e.g. https://keystone.example.com:5000/v3",
				authURL, c.Origin("auth_url"), msg)}
		}
		return &SettingError{Setting: "auth_url", Summary: "Authentication failed", Err: fmt.Errorf(
			"authentication to %s%s failed (HTTP %d): %s", authURL, c.Origin("auth_url"), code.Actual, msg)}
	}
	var missing gophercloud.ErrMissingInput
	if errors.As(err, &missing) {
		setting, what := c.credentialSetting()
		return &SettingError{Setting: setting, Summary: "Incomplete OpenStack credentials", Err: fmt.Errorf(
			"authentication to %s: %w; check %s", authURL, err, what)}
	}
	return c.describeTransportError("identity", authURL, err)
}

// credentialSetting names the setting to point at when the cloud refuses the credentials,
// and the sentence that lists what to check, with where each value came from.
func (c Config) credentialSetting() (string, string) {
	switch c.AuthMethod() {
	case "application_credential":
		id := "application_credential_id" + c.Origin("application_credential_id")
		if c.ApplicationCredentialID == "" {
			id = "application_credential_name" + c.Origin("application_credential_name") + " with its user"
		}
		return "application_credential_secret", fmt.Sprintf("%s and application_credential_secret%s (the credential may also have expired or been deleted)",
			id, c.Origin("application_credential_secret"))
	case "token":
		return "token", "token" + c.Origin("token") + ": it may have expired or been revoked"
	}
	user := "user_name" + c.Origin("user_name")
	if c.UserName == "" {
		user = "user_id" + c.Origin("user_id")
	}
	domain := ""
	if c.UserID == "" {
		domain = ", user_domain_name" + c.Origin("user_domain_name")
	}
	return "password", fmt.Sprintf("%s, password%s%s", user, c.Origin("password"), domain)
}

func (c Config) scopeSetting() string {
	if c.ProjectID != "" {
		return "tenant_id"
	}
	return "tenant_name"
}

// scopeHint adds the project the token was asked for: Keystone answers 401 for a project the
// user has no role on, the same as for a wrong password.
func (c Config) scopeHint() string {
	switch {
	case c.AuthMethod() == "application_credential":
		return ""
	case c.ProjectID != "":
		return fmt.Sprintf(", and that the user has a role on tenant_id %q%s", c.ProjectID, c.Origin("tenant_id"))
	case c.ProjectName != "":
		return fmt.Sprintf(", and that the user has a role on tenant_name %q%s", c.ProjectName, c.Origin("tenant_name"))
	}
	return ""
}

// describeTransportError names the service and URL of an unreachable or TLS-failing endpoint,
// on the setting that fixes it: cacert_file when the cloud's certificate is not trusted,
// cert/key when the cloud refuses ours, auth_url when nothing answers.
func (c Config) describeTransportError(service, endpoint string, err error) error {
	if msg := err.Error(); strings.Contains(msg, "does not look like a TLS handshake") || strings.Contains(msg, "HTTP response to HTTPS client") {
		return &SettingError{Setting: "auth_url", Summary: "TLS mismatch at auth_url", Err: fmt.Errorf(
			"the %s service at %s%s and this client disagree on TLS (%w): check the URL's scheme, http:// or https://",
			service, endpoint, c.Origin("auth_url"), err)}
	}
	if alert, ok := clientCertRefused(err); ok {
		return &SettingError{Setting: "cert", Summary: "The cloud refused the client certificate", Err: fmt.Errorf(
			"TLS with the %s service at %s failed: the cloud refused the client certificate (%s); check cert%s and key%s: "+
				"expired, not signed by a CA the cloud trusts, or missing", service, endpoint, alert, c.Origin("cert"), c.Origin("key"))}
	}
	if serverCertUntrusted(err) {
		hint := "set cacert_file to the CA that signed the cloud's certificate (PEM text or a file)"
		if c.CACertFile != "" {
			hint = "cacert_file" + c.Origin("cacert_file") + " is set but does not hold the CA that signed the cloud's certificate"
		}
		return &SettingError{Setting: "cacert_file", Summary: "Cannot verify the cloud's TLS certificate", Err: fmt.Errorf(
			"TLS with the %s service at %s failed: %w; %s, or insecure = true for a test cloud", service, endpoint, err, hint)}
	}
	var opErr *net.OpError
	var urlErr *url.Error
	if errors.As(err, &opErr) || errors.As(err, &urlErr) {
		return &SettingError{Setting: "auth_url", Summary: "Cannot reach OpenStack", Err: fmt.Errorf(
			"cannot reach the %s service at %s%s: %w", service, endpoint, c.Origin("auth_url"), err)}
	}
	return &SettingError{Setting: "auth_url", Summary: "Authentication failed",
		Err: fmt.Errorf("%s service at %s: %w", service, endpoint, err)}
}

// clientCertRefused reports a TLS alert by which the server refused our certificate.
func clientCertRefused(err error) (string, bool) {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" && opErr.Err != nil {
		switch a := opErr.Err.Error(); a {
		case "tls: bad certificate", "tls: certificate required", "tls: expired certificate", "tls: certificate revoked",
			"tls: unknown certificate authority", "tls: unsupported certificate", "tls: unknown certificate", "tls: access denied":
			return a, true
		}
	}
	return "", false
}

// serverCertUntrusted reports that we could not verify the cloud's certificate.
func serverCertUntrusted(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &verifyErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
		return true
	}
	return strings.Contains(err.Error(), "tls: ") && !strings.Contains(err.Error(), "remote error")
}

// Poll returns the waiters' poll interval, the configuration's (see Config.Poll).
func (c *Client) Poll() Poll { return c.cfg.Poll() }

// Compute returns the Nova adapter.
func (c *Client) Compute(ctx context.Context) (*Compute, error) {
	sc, err := c.ServiceClient(ctx, ServiceCompute)
	if err != nil {
		return nil, err
	}
	return &Compute{Client: sc, Poll: c.Poll()}, nil
}

// LoadBalancer returns the Octavia adapter for one load balancer.
func (c *Client) LoadBalancer(ctx context.Context, loadBalancerID string) (*LoadBalancer, error) {
	sc, err := c.ServiceClient(ctx, ServiceLoadBalancer)
	if err != nil {
		return nil, err
	}
	return &LoadBalancer{Client: sc, Poll: c.Poll(), LoadBalancerID: loadBalancerID}, nil
}

// Images returns the adapter that snapshots servers (Nova) and follows images (Glance).
func (c *Client) Images(ctx context.Context) (*Images, error) {
	compute, err := c.ServiceClient(ctx, ServiceCompute)
	if err != nil {
		return nil, err
	}
	img, err := c.ServiceClient(ctx, ServiceImage)
	if err != nil {
		return nil, err
	}
	return &Images{Compute: compute, Image: img, Poll: c.Poll()}, nil
}

// Network returns the Neutron adapter.
func (c *Client) Network(ctx context.Context) (*Network, error) {
	sc, err := c.ServiceClient(ctx, ServiceNetwork)
	if err != nil {
		return nil, err
	}
	return &Network{Client: sc}, nil
}

// KeyManager returns the Barbican adapter.
func (c *Client) KeyManager(ctx context.Context) (*KeyManager, error) {
	sc, err := c.ServiceClient(ctx, ServiceKeyManager)
	if err != nil {
		return nil, err
	}
	return &KeyManager{Client: sc}, nil
}

// Database returns the Trove adapter.
func (c *Client) Database(ctx context.Context) (*Database, error) {
	sc, err := c.ServiceClient(ctx, ServiceDatabase)
	if err != nil {
		return nil, err
	}
	return &Database{Client: sc, Poll: c.Poll()}, nil
}
