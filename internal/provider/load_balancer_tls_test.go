package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// testCA signs server certificates for the TLS listener tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eventscale test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a server certificate and key for name into dir and returns their paths.
func (ca *testCA) issue(t *testing.T, dir, name string, serial int64, validFor time.Duration) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validFor), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, fmt.Sprintf("%s-%d.crt", name, serial))
	keyFile = filepath.Join(dir, fmt.Sprintf("%s-%d.key", name, serial))
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func tlsLoadBalancerHCL(target accTarget, name, certFile, keyFile string) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name          = %q
  vip_subnet_id = %q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  listener {
    protocol         = "TERMINATED_HTTPS"
    protocol_port    = 443
    certificate_file = %q
    private_key_file = %q
  }
  pool {
    protocol = "HTTP"
  }
  members = [{ address = %q, protocol_port = 80 }]
}
`, name, target.SubnetID, certFile, keyFile, target.ServerAddress)
}

// servedSerial GETs through the load balancer's TLS listener with the test CA and returns the
// serial number of the certificate it presented, and the status of the member's answer.
func servedSerial(target accTarget, lbID, serverName string, ca *testCA) (int64, int, error) {
	var addr string
	for _, v := range target.Dev.VIPs() {
		if v.LoadBalancerID == lbID && v.Protocol == "TERMINATED_HTTPS" {
			addr = v.Address
		}
	}
	if addr == "" {
		return 0, 0, fmt.Errorf("devcloud lists no TLS listener for load balancer %s", lbID)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), resp.StatusCode, nil
}

func TestAccLoadBalancer_TerminatedHTTPSServesTheCertificateAndRotatesItInPlace(t *testing.T) {
	target := accCloud(t)
	if !accCatalogHas(context.Background(), target, "key-manager") {
		t.Skip("the cloud's catalog has no key-manager (Barbican) service: TERMINATED_HTTPS listeners need one")
	}
	const addr = "eventscale_load_balancer.event"
	const host = "shop.example.test"
	ca := newTestCA(t)
	dir := t.TempDir()
	cert1, key1 := ca.issue(t, dir, host, 101, 90*24*time.Hour)
	cert2, key2 := ca.issue(t, dir, host, 102, 90*24*time.Hour)
	name := accName(t, "acc-lb-tls")
	var firstRef, lbID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				Config: tlsLoadBalancerHCL(target, name, cert1, key1),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrSet(addr, "listener.1.tls_container_ref"),
					resource.TestCheckResourceAttrSet(addr, "listener.1.certificate_sha256"),
					resource.TestCheckNoResourceAttr(addr, "listener.0.tls_container_ref"),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources[addr].Primary
						firstRef, lbID = rs.Attributes["listener.1.tls_container_ref"], rs.ID
						if target.Dev == nil {
							return nil // the lab has no data plane: Octavia accepting the listener is what it can show
						}
						serial, status, err := servedSerial(target, lbID, host, ca)
						if err != nil || serial != 101 || status != http.StatusOK {
							return fmt.Errorf("through the TLS listener: serial %d, status %d, %v; want the first certificate (101) and 200", serial, status, err)
						}
						return nil
					},
				),
			},
			{
				// New files: the same listener takes a new certificate in place.
				Config: tlsLoadBalancerHCL(target, name, cert2, key2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources[addr].Primary
					if rs.ID != lbID || rs.Attributes["listener.1.tls_container_ref"] == firstRef {
						return fmt.Errorf("load balancer %s (was %s) serves container %s (was %s): want the same load balancer, a new container",
							rs.ID, lbID, rs.Attributes["listener.1.tls_container_ref"], firstRef)
					}
					km, err := target.Client.KeyManager(context.Background())
					if err != nil {
						return err
					}
					if exists, err := km.CertificateExists(context.Background(), firstRef); err != nil || exists {
						return fmt.Errorf("the replaced certificate container %s is still in Barbican (%v)", firstRef, err)
					}
					if target.Dev == nil {
						return nil
					}
					serial, status, err := servedSerial(target, lbID, host, ca)
					if err != nil || serial != 102 || status != http.StatusOK {
						return fmt.Errorf("through the TLS listener after the rotation: serial %d, status %d, %v; want 102 and 200", serial, status, err)
					}
					return nil
				},
			},
		},
	})
}
