package devcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/secrets"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// testPKI is a CA made in the test, with server certificates it signs.
type testPKI struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   []byte
	pool  *x509.CertPool
	nextN int64
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "devcloud test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testPKI{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: pool, nextN: 1}
}

// issue signs a server certificate for cn (and names as DNS SANs; a cn of "" leaves the
// subject without a common name) and returns it with its PKCS#8 key, both PEM, and the key.
func (p *testPKI) issue(t *testing.T, cn string, names ...string) (certPEM, keyPEM []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.nextN++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.nextN), Subject: pkix.Name{CommonName: cn, Organization: []string{"devcloud test"}},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), key
}

// tlsFixture is a devcloud with the demo user's Barbican and Octavia clients and one ACTIVE
// load balancer on the seeded subnet.
type tlsFixture struct {
	c      *Cloud
	km, lb *gophercloud.ServiceClient
	seed   SeedInfo
	lbID   string
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	km, err := openstack.NewKeyManagerV1(pc, eo)
	if err != nil {
		t.Fatalf("NewKeyManagerV1: %v", err)
	}
	lc, err := openstack.NewLoadBalancerV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	f := &tlsFixture{c: c, km: km, lb: lc, seed: c.Seed()}
	lb, err := loadbalancers.Create(testCtx(t), lc, loadbalancers.CreateOpts{Name: "web", VipSubnetID: f.seed.SubnetID}).Extract()
	if err != nil {
		t.Fatalf("create lb: %v (%s)", err, errBody(err))
	}
	f.lbID = lb.ID
	waitLBActive(t, lc, lb.ID)
	return f
}

func (f *tlsFixture) secret(t *testing.T, name string, typ secrets.SecretType, payload string) string {
	t.Helper()
	s, err := secrets.Create(testCtx(t), f.km, secrets.CreateOpts{Name: name, SecretType: typ, Payload: payload, PayloadContentType: "text/plain"}).Extract()
	if err != nil {
		t.Fatalf("store secret %s: %v (%s)", name, err, errBody(err))
	}
	return s.SecretRef
}

func (f *tlsFixture) container(t *testing.T, name string, typ containers.ContainerType, refs map[string]string) string {
	t.Helper()
	opts := containers.CreateOpts{Name: name, Type: typ}
	for n, r := range refs {
		opts.SecretRefs = append(opts.SecretRefs, containers.SecretRef{Name: n, SecretRef: r})
	}
	ct, err := containers.Create(testCtx(t), f.km, opts).Extract()
	if err != nil {
		t.Fatalf("create container %s: %v (%s)", name, err, errBody(err))
	}
	return ct.ContainerRef
}

// certContainer stores certPEM and keyPEM as secrets and puts them into a certificate
// container; an empty keyPEM leaves the private_key out.
func (f *tlsFixture) certContainer(t *testing.T, name string, certPEM, keyPEM []byte) string {
	t.Helper()
	refs := map[string]string{"certificate": f.secret(t, name+"-cert", secrets.CertificateSecret, string(certPEM))}
	if len(keyPEM) > 0 {
		refs["private_key"] = f.secret(t, name+"-key", secrets.PrivateSecret, string(keyPEM))
	}
	return f.container(t, name, containers.CertificateContainer, refs)
}

// listenerFault creates a listener expecting Octavia's 400 and returns its faultstring.
func (f *tlsFixture) listenerFault(t *testing.T, opts listeners.CreateOpts) string {
	t.Helper()
	opts.LoadbalancerID = f.lbID
	_, err := listeners.Create(testCtx(t), f.lb, opts).Extract()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !asUnexpected(err, &unexpected) || unexpected.Actual != http.StatusBadRequest {
		t.Fatalf("listener create %+v: %v, want a 400", opts, err)
	}
	var body struct {
		Faultcode, Faultstring string
	}
	if err := json.Unmarshal(unexpected.Body, &body); err != nil || body.Faultcode != "Client" {
		t.Fatalf("400 body %s", unexpected.Body)
	}
	return body.Faultstring
}

func terminated(ref string, sni ...string) listeners.CreateOpts {
	return listeners.CreateOpts{Protocol: listeners.ProtocolTerminatedHTTPS, ProtocolPort: 443, DefaultTlsContainerRef: ref, SniContainerRefs: sni}
}

// readACL is the read ACL of a secret or container as its owner sees it.
func readACL(t *testing.T, f *tlsFixture, ref string) (users []string, projectAccess bool) {
	t.Helper()
	k := newKMClient(t, f.c, demoAuth(f.c))
	var acl struct {
		Read struct {
			Users         []string `json:"users"`
			ProjectAccess bool     `json:"project-access"`
		} `json:"read"`
	}
	_, _, text := k.do(http.MethodGet, ref+"/acl", "")
	if err := json.Unmarshal([]byte(text), &acl); err != nil {
		t.Fatalf("ACL of %s: %s", ref, text)
	}
	return acl.Read.Users, acl.Read.ProjectAccess
}

func TestOctaviaTLS_ListenerTakesCertificateContainerAndGrantsOctaviaRead(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, keyPEM, _ := pki.issue(t, "www.example.test", "www.example.test")
	ref := f.certContainer(t, "www", certPEM, keyPEM)
	l, err := listeners.Create(testCtx(t), f.lb, listeners.CreateOpts{LoadbalancerID: f.lbID, Name: "tls", Protocol: listeners.ProtocolTerminatedHTTPS,
		ProtocolPort: 443, DefaultTlsContainerRef: ref, SniContainerRefs: []string{ref}}).Extract()
	if err != nil {
		t.Fatalf("create TERMINATED_HTTPS listener: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	got, err := listeners.Get(testCtx(t), f.lb, l.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.DefaultTlsContainerRef != ref || len(got.SniContainerRefs) != 1 || got.SniContainerRefs[0] != ref ||
		got.ProvisioningStatus != "ACTIVE" || len(got.TLSVersions) != 2 || got.TLSCiphers == "" {
		t.Fatalf("listener read back: %+v", got)
	}
	// Octavia put its service user on the read ACL of the container and both secrets, with
	// the project's access left on, as on the lab.
	cont := newKMClient(t, f.c, demoAuth(f.c)).json(http.MethodGet, ref, "", http.StatusOK)
	refs := []string{ref}
	for _, r := range cont["secret_refs"].([]any) {
		refs = append(refs, r.(map[string]any)["secret_ref"].(string))
	}
	for _, r := range refs {
		users, projectAccess := readACL(t, f, r)
		if len(users) != 1 || users[0] != f.seed.OctaviaUserID || !projectAccess {
			t.Errorf("read ACL of %s: users %v project-access %v, want [%s] true", r, users, projectAccess, f.seed.OctaviaUserID)
		}
	}
}

func TestOctaviaTLS_UnusableCertificatesAreCouldNotRetrieveCertificate(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, keyPEM, _ := pki.issue(t, "www.example.test", "www.example.test")
	_, otherKey, _ := pki.issue(t, "other.example.test")
	noCN, noCNKey, _ := pki.issue(t, "", "nocn.example.test")
	badPEM := []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
	missing := f.c.URL() + "/key-manager/v1/containers/6f1e7d3c-5b4a-4c2d-9e8f-0a1b2c3d4e5f"
	generic := f.container(t, "generic", containers.GenericContainer, map[string]string{
		"certificate": f.secret(t, "g-cert", secrets.CertificateSecret, string(certPEM)),
		"private_key": f.secret(t, "g-key", secrets.PrivateSecret, string(keyPEM))})
	badPEMRef := f.certContainer(t, "badpem", badPEM, keyPEM)
	mismatch := f.certContainer(t, "mismatch", certPEM, otherKey)
	noKey := f.certContainer(t, "nokey", certPEM, nil)
	noCNRef := f.certContainer(t, "nocn", noCN, noCNKey)
	for _, tc := range []struct {
		what string
		opts listeners.CreateOpts
		want string
	}{
		// _validate_tls_refs names every bad reference as a Python list; these are the lab's
		// answers for the same cases.
		{"bad PEM", terminated(badPEMRef), "Could not retrieve certificate: ['" + badPEMRef + "']"},
		{"key of another certificate", terminated(mismatch), "Could not retrieve certificate: ['" + mismatch + "']"},
		{"missing container", terminated(missing), "Could not retrieve certificate: ['" + missing + "']"},
		{"container without private_key", terminated(noKey), "Could not retrieve certificate: ['" + noKey + "']"},
		{"generic container", terminated(generic), "Could not retrieve certificate: ['" + generic + "']"},
		{"not a reference", terminated("foo"), "Could not retrieve certificate: ['foo']"},
		{"two bad SNI containers", terminated("", mismatch, badPEMRef), "Could not retrieve certificate: ['" + mismatch + "', '" + badPEMRef + "']"},
		// A certificate without a CN passes the check but not the provider hand-over, which
		// names the reference alone.
		{"certificate without CN", terminated(noCNRef), "Could not retrieve certificate: " + noCNRef},
		{"no reference", terminated(""), "Validation failure: An SNI or default certificate container reference must be provided for TERMINATED_HTTPS protocol listeners."},
		{"reference on HTTP", listeners.CreateOpts{Protocol: listeners.ProtocolHTTP, ProtocolPort: 80, DefaultTlsContainerRef: mismatch},
			"Validation failure: Certificate container references are not allowed on HTTP protocol listeners."},
		{"reference on HTTPS", listeners.CreateOpts{Protocol: listeners.ProtocolHTTPS, ProtocolPort: 8443, DefaultTlsContainerRef: mismatch},
			"Validation failure: Certificate container references are not allowed on HTTPS protocol listeners."},
	} {
		if got := f.listenerFault(t, tc.opts); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.what, got, tc.want)
		}
	}
	if ls, err := listeners.List(f.lb, listeners.ListOpts{}).AllPages(testCtx(t)); err != nil {
		t.Fatal(err)
	} else if all, _ := listeners.ExtractListeners(ls); len(all) != 0 {
		t.Fatalf("refused creates left listeners: %+v", all)
	}
}

func TestOctaviaTLS_PKCS12SecretIsReadAsABundle(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, _, _ := pki.issue(t, "www.example.test", "www.example.test")
	pemSecret := f.secret(t, "pem", secrets.CertificateSecret, string(certPEM))
	garbage, err := secrets.Create(testCtx(t), f.km, secrets.CreateOpts{Payload: "Z2FyYmFnZQ==", PayloadContentType: "application/octet-stream",
		PayloadContentEncoding: "base64"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// The lab's texts: OpenSSL's error stack for a PEM and for "garbage" given as PKCS12.
	const prefix = "The PKCS12 bundle is unreadable. Please check the PKCS12 bundle validity. In addition, make sure it does not require a pass phrase. Error: "
	if got, want := f.listenerFault(t, terminated(pemSecret)), prefix+"[('asn1 encoding routines', '', 'wrong tag'), ('asn1 encoding routines', '', 'nested asn1 error')]"; got != want {
		t.Errorf("PEM secret:\n got %q\nwant %q", got, want)
	}
	if got, want := f.listenerFault(t, terminated(garbage.SecretRef)), prefix+"[('asn1 encoding routines', '', 'not enough data')]"; got != want {
		t.Errorf("garbage secret:\n got %q\nwant %q", got, want)
	}
}

func TestOctaviaTLS_CallerWhoMayNotChangeTheACLCannotUseTheContainer(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, keyPEM, _ := pki.issue(t, "www.example.test")
	ref := f.certContainer(t, "www", certPEM, keyPEM)
	// A user of the project with Octavia's role but no Barbican role: Octavia's ACL call
	// with this token is refused, so the reference is bad.
	pc := provider(t, addUser(t, f.c, "lb-only", f.seed.ProjectID, "member", "load-balancer_member"))
	lc, err := openstack.NewLoadBalancerV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	_, err = listeners.Create(testCtx(t), lc, listeners.CreateOpts{LoadbalancerID: f.lbID, Protocol: listeners.ProtocolTerminatedHTTPS,
		ProtocolPort: 443, DefaultTlsContainerRef: ref}).Extract()
	want := `"faultstring": "Could not retrieve certificate: ['` + ref + `']"`
	if err == nil || !containsJSON(errBody(err), want) {
		t.Fatalf("listener with another user's container: %v %s, want %s", err, errBody(err), want)
	}
	if users, _ := readACL(t, f, ref); len(users) != 0 {
		t.Fatalf("the refused call changed the ACL: %v", users)
	}
}

// containsJSON reports whether a JSON body, re-encoded with ", " and ": " separators as
// Octavia's are, contains want.
func containsJSON(body, want string) bool {
	var v map[string]any
	if json.Unmarshal([]byte(body), &v) != nil {
		return false
	}
	for k, val := range v {
		if s, ok := val.(string); ok {
			b, _ := json.Marshal(s)
			if `"`+k+`": `+string(b) == want {
				return true
			}
		}
	}
	return false
}

func TestOctaviaTLS_PoolBehindTerminatedHTTPSMustSpeakHTTP(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, keyPEM, _ := pki.issue(t, "www.example.test")
	l, err := listeners.Create(testCtx(t), f.lb, listeners.CreateOpts{LoadbalancerID: f.lbID, Protocol: listeners.ProtocolTerminatedHTTPS,
		ProtocolPort: 443, DefaultTlsContainerRef: f.certContainer(t, "www", certPEM, keyPEM)}).Extract()
	if err != nil {
		t.Fatalf("%v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	for _, proto := range []pools.Protocol{pools.ProtocolHTTPS, pools.ProtocolTCP} {
		_, err := pools.Create(testCtx(t), f.lb, pools.CreateOpts{ListenerID: l.ID, Protocol: proto, LBMethod: pools.LBMethodRoundRobin}).Extract()
		want := "Validation failure: The pool protocol '" + string(proto) + "' is invalid while the listener protocol is 'TERMINATED_HTTPS'."
		if err == nil || !containsJSON(errBody(err), `"faultstring": "`+want+`"`) {
			t.Errorf("%s pool: %v %s", proto, err, errBody(err))
		}
	}
	if _, err := pools.Create(testCtx(t), f.lb, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract(); err != nil {
		t.Fatalf("HTTP pool: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)

	// The same rule for a pool named as default_pool_id, checked (as _validate_pool is)
	// before the certificate references: the bad reference here is not what is reported.
	https, err := pools.Create(testCtx(t), f.lb, pools.CreateOpts{LoadbalancerID: f.lbID, Protocol: pools.ProtocolHTTPS, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatalf("HTTPS pool: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	opts := terminated("foo")
	opts.ProtocolPort, opts.DefaultPoolID = 8443, https.ID
	if got, want := f.listenerFault(t, opts), "Validation failure: The pool protocol 'HTTPS' is invalid while the listener protocol is 'TERMINATED_HTTPS'."; got != want {
		t.Errorf("default_pool_id of an HTTPS pool:\n got %q\nwant %q", got, want)
	}
}

func firstCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}
