package octavia

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func selfSigned(t *testing.T, cn string, names ...string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

func TestValidateCert_FollowsOctaviasCertParser(t *testing.T) {
	_, _, certPEM, keyPEM := selfSigned(t, "www.example.test")
	_, _, _, otherKey := selfSigned(t, "other.example.test")
	if d, err := validateCert(append([]byte("leading text\n"), certPEM...), keyPEM, nil, nil); err != nil || d.key == nil {
		t.Fatalf("good pair: %v", err)
	}
	if _, err := validateCert([]byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"), keyPEM, nil, nil); !errors.Is(err, errUnreadableCert) {
		t.Errorf("bad PEM: %v, want %v", err, errUnreadableCert)
	}
	if _, err := validateCert(certPEM, otherKey, nil, nil); !errors.Is(err, errMisMatchedKey) {
		t.Errorf("other key: %v, want %v", err, errMisMatchedKey)
	}
	if _, err := validateCert(certPEM, []byte("not a key"), nil, nil); !errors.Is(err, errNeedsPassphrase) {
		t.Errorf("unreadable key: %v, want %v", err, errNeedsPassphrase)
	}
	// Without a key the certificate alone validates (the API then refuses it elsewhere).
	if d, err := validateCert(certPEM, nil, nil, nil); err != nil || d.key != nil {
		t.Errorf("certificate alone: %v", err)
	}
	if _, err := validateCert(certPEM, keyPEM, nil, []byte("PKCS7 bytes")); !errors.Is(err, errUnreadableCert) {
		t.Errorf("intermediates that are not PEM: %v", err)
	}
}

func TestMapCert_NeedsCommonNameAndKey(t *testing.T) {
	cert, key, _, _ := selfSigned(t, "", "nocn.example.test")
	if _, err := mapCert("ref", &certData{leaf: cert, key: key}); err == nil || err.msg != "Could not retrieve certificate: ref" {
		t.Fatalf("no CN: %v", err)
	}
	cert, _, _, _ = selfSigned(t, "www.example.test")
	if _, err := mapCert("ref", &certData{leaf: cert}); err == nil {
		t.Fatal("a certificate without key was mapped")
	}
}

func TestParsePKCS12_ReportsOpenSSLsReasonsForTextAndTruncatedData(t *testing.T) {
	for in, want := range map[string]string{
		"-----BEGIN CERTIFICATE-----\n" + string(make([]byte, 64)): "[('asn1 encoding routines', '', 'wrong tag'), ('asn1 encoding routines', '', 'nested asn1 error')]",
		"garbage":          "[('asn1 encoding routines', '', 'not enough data')]",
		"\x30\x82\x10\x00": "[('asn1 encoding routines', '', 'not enough data')]",
	} {
		_, err := parsePKCS12([]byte(in))
		var p12 *pkcs12Error
		if !errors.As(err, &p12) || p12.detail != want {
			t.Errorf("%q: %v, want %s", in, err, want)
		}
	}
}

// The lab answers a bundle exported with a pass phrase (openssl pkcs12 -export -passout) so.
func TestParsePKCS12_BundleWithPassPhraseIsMacVerifyFailure(t *testing.T) {
	cert, key, _, _ := selfSigned(t, "www.example.test")
	bundle, err := pkcs12.Modern.Encode(key, cert, nil, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	_, err = parsePKCS12(bundle)
	var p12 *pkcs12Error
	if !errors.As(err, &p12) || p12.detail != "[('PKCS12 routines', '', 'mac verify failure')]" {
		t.Fatalf("bundle with a pass phrase: %v", err)
	}
	open, err := pkcs12.Modern.Encode(key, cert, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := parsePKCS12(open); err != nil || d.leaf.Subject.CommonName != "www.example.test" || d.key == nil {
		t.Fatalf("bundle without a pass phrase: %v", err)
	}
}

func TestTLSCertSet_PicksBySNIThenWildcardThenDefault(t *testing.T) {
	mk := func(cn string, names ...string) *servedCert {
		cert, key, _, _ := selfSigned(t, cn, names...)
		sc, err := mapCert(cn, &certData{leaf: cert, key: key})
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	set := &tlsCertSet{def: mk("www.example.test"), sni: []*servedCert{mk("api.example.test"), mk("wild", "*.apps.example.test")}}
	for name, want := range map[string]string{"api.example.test": "api.example.test", "API.example.test.": "api.example.test",
		"x.apps.example.test": "wild", "unknown.test": "www.example.test", "": "www.example.test"} {
		if got := set.pick(name).Leaf.Subject.CommonName; got != want {
			t.Errorf("SNI %q got %s, want %s", name, got, want)
		}
	}
	if got := (&tlsCertSet{sni: []*servedCert{mk("api.example.test")}}).pick("x").Leaf.Subject.CommonName; got != "api.example.test" {
		t.Errorf("without default: %s", got)
	}
}

func TestPyList_RendersRefsAsPythonDoes(t *testing.T) {
	if got := pyList([]string{"http://a/1", "it's"}); got != `['http://a/1', "it's"]` {
		t.Fatalf("pyList = %s", got)
	}
}

// Without Barbican (an Env that is no KeyManager), every reference is one Octavia cannot
// retrieve, and a TERMINATED_HTTPS listener cannot be created.
func TestTerminatedHTTPS_WithoutKeyManagerEveryReferenceIsBad(t *testing.T) {
	s := New(newFakeEnv())
	defer s.Close()
	r := httptest.NewRequest(http.MethodPost, "/v2/lbaas/listeners", nil)
	err := s.checkTLSRefs(r, tlsRefs("http://km/v1/containers/c1", []string{"http://km/v1/containers/c2"}))
	if err == nil || err.msg != "Could not retrieve certificate: ['http://km/v1/containers/c2', 'http://km/v1/containers/c1']" {
		t.Fatalf("checkTLSRefs without Barbican: %v", err)
	}
}
