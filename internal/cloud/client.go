package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
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

// Client is an authenticated connection to one cloud and region. It authenticates on first
// use, so a plan that touches no resource does not need a reachable cloud.
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

// Config returns the resolved configuration.
func (c *Client) Config() Config { return c.cfg }

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
		return nil, fmt.Errorf("auth_url %q: %w", ao.IdentityEndpoint, err)
	}
	pc.HTTPClient = NewHTTPClient(DefaultRetryPolicy(*c.cfg.MaxRetries), tlsConfig, c.logf)
	pc.UserAgent.Prepend(c.userAgent...)
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, describeAuthError(ao.IdentityEndpoint, err)
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

// describeAuthError turns a failed authentication into something a user can act on.
func describeAuthError(authURL string, err error) error {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		switch code.Actual {
		case 401:
			return fmt.Errorf("authentication to %s failed: the cloud rejected the credentials (HTTP 401: %s); "+
				"check user_name/user_id, password or the application credential, and the domains", authURL, CloudMessage(code.Body))
		case 403:
			return fmt.Errorf("authentication to %s refused (HTTP 403: %s): the user may lack a role on the project", authURL, CloudMessage(code.Body))
		}
		return fmt.Errorf("authentication to %s failed (HTTP %d): %s", authURL, code.Actual, CloudMessage(code.Body))
	}
	return describeTransportError("identity", authURL, err)
}

// describeTransportError names the service and URL of an unreachable or TLS-failing endpoint.
func describeTransportError(service, endpoint string, err error) error {
	var verifyErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &verifyErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) ||
		strings.Contains(err.Error(), "tls: ") {
		return fmt.Errorf("TLS with the %s service at %s failed: %w; set cacert_file to the cloud's CA, or insecure = true for a test cloud", service, endpoint, err)
	}
	var opErr *net.OpError
	var urlErr *url.Error
	if errors.As(err, &opErr) || errors.As(err, &urlErr) {
		return fmt.Errorf("cannot reach the %s service at %s: %w", service, endpoint, err)
	}
	return fmt.Errorf("%s service at %s: %w", service, endpoint, err)
}

// Poll returns the waiters' poll interval (see ConfiguredPoll).
func (c *Client) Poll() Poll { return ConfiguredPoll() }

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
