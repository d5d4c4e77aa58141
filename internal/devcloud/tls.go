package devcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// TLSOptions make devcloud serve HTTPS on its listener with a certificate for 127.0.0.1, ::1
// and localhost, signed by a CA it generates at Start (CACertPEM). Clients must then be
// given that CA, as they would a private cloud's.
type TLSOptions struct {
	// RequireClientCert makes the listener demand a client certificate signed by the same CA
	// (IssueClientCert), as a cloud behind mutual TLS does.
	RequireClientCert bool
}

// tlsAuthority is devcloud's CA and the server certificate it signed.
type tlsAuthority struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	pem    []byte
	server tls.Certificate
}

func newTLSAuthority(now time.Time) (*tlsAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: "devcloud test CA", Organization: []string{"devcloud"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &tlsAuthority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	certPEM, keyPEM, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(7 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	})
	if err != nil {
		return nil, err
	}
	if ca.server, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	return ca, nil
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// issue signs tmpl (with a fresh key) and returns both in PEM.
func (a *tlsAuthority) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = newSerial()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func (a *tlsAuthority) serverConfig(opts TLSOptions) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{a.server}}
	if opts.RequireClientCert {
		pool := x509.NewCertPool()
		pool.AddCert(a.cert)
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

// CACertPEM is the PEM certificate of the CA that signed devcloud's server certificate (and
// the client certificates it issues); nil when devcloud serves plain HTTP.
func (c *Cloud) CACertPEM() []byte {
	if c.ca == nil {
		return nil
	}
	return append([]byte(nil), c.ca.pem...)
}

// IssueClientCert returns a client certificate for commonName valid from notBefore to
// notAfter, signed by devcloud's CA, and its key, both in PEM: a past notAfter gives the
// expired certificate a test needs.
func (c *Cloud) IssueClientCert(commonName string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	if c.ca == nil {
		return nil, nil, fmt.Errorf("devcloud: IssueClientCert needs Options.TLS")
	}
	return c.ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}
