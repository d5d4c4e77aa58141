package devcloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
)

func TestTLS_ServesHTTPSWithItsOwnCAAndCatalogURLsFollow(t *testing.T) {
	c, err := Start(Options{Seed: true, TLS: &TLSOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CACertPEM()) {
		t.Fatal("CACertPEM holds no certificate")
	}
	pc, err := openstack.NewClient(c.AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	pc.HTTPClient = http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = openstack.Authenticate(ctx, pc, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "demo", Password: "secret",
		DomainName: "Default", Scope: &gophercloud.AuthScope{ProjectName: "demo", DomainName: "Default"}})
	if err != nil {
		t.Fatal(err)
	}
	compute, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(compute.Endpoint, "https://") {
		t.Fatalf("the catalog gives %s over HTTPS", compute.Endpoint)
	}
	if ids := c.IssuedTokenIDs(); len(ids) != 1 || ids[0] != pc.Token() {
		t.Fatalf("issued tokens %d, want the one just issued", len(ids))
	}
}

func TestTLS_RequiredClientCertificateMustBeSignedByTheCA(t *testing.T) {
	c, err := Start(Options{TLS: &TLSOptions{RequireClientCert: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CACertPEM())
	get := func(certs []tls.Certificate) error {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12}}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, c.AuthURL(), nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	if err := get(nil); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	certPEM, keyPEM, err := c.IssueClientCert("operator", time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := get([]tls.Certificate{pair}); err != nil {
		t.Fatalf("a client certificate signed by the CA: %v", err)
	}
}

func TestChangePassword_NeedsTheOriginalAndRevokesTheUsersTokens(t *testing.T) {
	c := startCloud(t)
	ctx := context.Background()
	pc := provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "demo", Password: "secret", DomainName: "Default",
		Scope: &gophercloud.AuthScope{ProjectName: "demo", DomainName: "Default"}})
	identity, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	userID := c.Seed().DemoUserID
	err = users.ChangePassword(ctx, identity, userID, users.ChangePasswordOpts{OriginalPassword: "wrong", Password: "new-pw"}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("a wrong original password: %v, want 401", err)
	}
	if err := users.ChangePassword(ctx, identity, userID, users.ChangePasswordOpts{OriginalPassword: "secret", Password: "new-pw"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if c.validToken(pc.Token()) != nil {
		t.Fatal("the user's token survived the password change")
	}
	provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "demo", Password: "new-pw", DomainName: "Default"})
	if _, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), Username: "demo", Password: "secret", DomainName: "Default"}); err == nil {
		t.Fatal("the old password still works")
	}
}
