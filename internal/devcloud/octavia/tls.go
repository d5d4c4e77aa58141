package octavia

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// KeyManager is implemented by an Env whose cloud has Barbican. Through it the service does
// what Octavia's barbican_cert_manager with barbican_acl_auth does: grant its own service
// user read access with the caller's token, then read the certificate as that user.
type KeyManager interface {
	// GrantServiceRead adds Octavia's service user to the read ACL of ref, a secret or a
	// container, using the token of r (BarbicanACLAuth.ensure_secret_access): it fails when
	// ref is unknown or the caller may not change its ACL.
	GrantServiceRead(r *http.Request, ref string) error
	// ServiceContainer reads a container as Octavia's service user.
	ServiceContainer(ref string) (CertContainer, error)
	// ServiceSecretPayload reads a secret's payload as Octavia's service user.
	ServiceSecretPayload(ref string) ([]byte, error)
}

// CertContainer is a Barbican container as Octavia reads it.
type CertContainer struct {
	Type string
	// SecretRefs are the container's secret references by name (certificate, private_key,
	// intermediates, private_key_passphrase for a certificate container).
	SecretRefs map[string]string
}

// Octavia's exceptions (octavia/common/exceptions.py) as the API answers them.
func certificateRetrieval(ref string) *apiError {
	return fault(http.StatusBadRequest, "Could not retrieve certificate: %s", ref)
}

func unreadablePKCS12(detail string) *apiError {
	return fault(http.StatusBadRequest, "The PKCS12 bundle is unreadable. Please check the PKCS12 bundle validity. "+
		"In addition, make sure it does not require a pass phrase. Error: %s", detail)
}

// pyList renders refs as Python's repr of a list of strings, which is how
// CertificateRetrievalException shows the bad references of _validate_tls_refs.
func pyList(refs []string) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		if strings.Contains(r, "'") && !strings.Contains(r, `"`) {
			parts[i] = `"` + r + `"`
		} else {
			parts[i] = "'" + strings.ReplaceAll(r, "'", `\'`) + "'"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Errors of octavia.common.tls_utils.cert_parser; the API never shows them (they turn into
// "Could not retrieve certificate"), but they say why in tests and logs.
var (
	errUnreadableCert  = errors.New("Could not read X509 from PEM")                                     //nolint:staticcheck // Octavia's own text
	errMisMatchedKey   = errors.New("Key and x509 certificate do not match")                            //nolint:staticcheck // Octavia's own text
	errNeedsPassphrase = errors.New("Passphrase needed to decrypt key but client did not provide one.") //nolint:staticcheck // Octavia's own text
)

// pkcs12Error is UnreadablePKCS12: the one certificate error that reaches the client as is.
type pkcs12Error struct{ detail string }

func (e *pkcs12Error) Error() string { return "unreadable PKCS12 bundle: " + e.detail }

// certData is a certificate as the cert manager returns it (octavia.certificates.common.Cert).
type certData struct {
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
	key           crypto.PrivateKey // nil when the container has no private_key
}

// tlsRefs are the references a listener body names, in the order _validate_tls_refs checks
// them: the SNI containers, then the default one.
func tlsRefs(defaultRef string, sni []string) []string {
	refs := append([]string{}, sni...)
	if defaultRef != "" {
		refs = append(refs, defaultRef)
	}
	return refs
}

// checkTLSRefs is ListenersController._validate_tls_refs: for each reference, grant the
// service user read access (set_acls) and read the certificate (get_cert with check_only).
// A PKCS12 bundle that does not parse fails at once with its own message; any other failure
// marks the reference bad, and all bad references are named together. It calls the Env and
// must run without s.mu.
func (s *Service) checkTLSRefs(r *http.Request, refs []string) *apiError {
	km, _ := s.env.(KeyManager)
	var bad []string
	for _, ref := range refs {
		if km == nil {
			bad = append(bad, ref)
			continue
		}
		if err := setACLs(km, r, ref); err != nil {
			bad = append(bad, ref)
			continue
		}
		if _, err := getCert(km, ref); err != nil {
			var p12 *pkcs12Error
			if errors.As(err, &p12) {
				return unreadablePKCS12(p12.detail)
			}
			bad = append(bad, ref)
		}
	}
	if len(bad) > 0 {
		return certificateRetrieval(pyList(bad))
	}
	return nil
}

// setACLs is BarbicanCertManager.set_acls: the reference itself, then, when it reads as a
// container (the legacy path), its certificate and private key secrets, and its passphrase
// and intermediates when present. A container without a private_key fails here, as
// Octavia's cert_container.private_key.secret_ref does.
func setACLs(km KeyManager, r *http.Request, ref string) error {
	if err := km.GrantServiceRead(r, ref); err != nil {
		return err
	}
	c, err := km.ServiceContainer(ref)
	if isContainer := err == nil; !isContainer {
		return nil // a secret (a PKCS12 bundle): nothing more to grant
	}
	if c.Type != "certificate" {
		return fmt.Errorf("container %s is of type %s, not certificate", ref, c.Type)
	}
	for _, name := range []string{"certificate", "private_key"} {
		secret, ok := c.SecretRefs[name]
		if !ok {
			return fmt.Errorf("container %s has no %s", ref, name)
		}
		if err := km.GrantServiceRead(r, secret); err != nil {
			return err
		}
	}
	for _, name := range []string{"private_key_passphrase", "intermediates"} {
		if secret, ok := c.SecretRefs[name]; ok {
			if err := km.GrantServiceRead(r, secret); err != nil {
				return err
			}
		}
	}
	return nil
}

// getCert is BarbicanCertManager.get_cert: the reference as a PKCS12 secret first; when it
// cannot be read as a secret, as a certificate container whose PEMs must parse and whose key
// must match (the legacy manager with cert_parser.validate_cert).
func getCert(km KeyManager, ref string) (*certData, error) {
	if payload, err := km.ServiceSecretPayload(ref); err == nil {
		return parsePKCS12(payload)
	}
	c, err := km.ServiceContainer(ref)
	if err != nil {
		return nil, err
	}
	if c.Type != "certificate" {
		return nil, errors.New("Retrieved Barbican Container is not of the correct type (certificate).") //nolint:staticcheck // Octavia's own text
	}
	read := func(name string) ([]byte, error) {
		secret, ok := c.SecretRefs[name]
		if !ok {
			return nil, nil
		}
		return km.ServiceSecretPayload(secret)
	}
	var parts [4][]byte
	for i, name := range []string{"certificate", "private_key", "private_key_passphrase", "intermediates"} {
		if parts[i], err = read(name); err != nil {
			return nil, fmt.Errorf("reading %s of %s: %w", name, ref, err)
		}
	}
	return validateCert(parts[0], parts[1], parts[2], parts[3])
}

// validateCert is cert_parser.validate_cert: the certificate must be PEM X509, the
// intermediates PEM X509 too, and the key (when given) must decrypt and match.
func validateCert(certPEM, keyPEM, passphrase, intermediatesPEM []byte) (*certData, error) {
	leaf, err := firstPEMCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	out := &certData{leaf: leaf}
	if len(intermediatesPEM) > 0 {
		if out.intermediates, err = pemCertificates(intermediatesPEM); err != nil {
			return nil, err
		}
	}
	if len(keyPEM) > 0 {
		key, err := readPrivateKey(keyPEM, passphrase)
		if err != nil {
			return nil, err
		}
		if !publicKeysEqual(leaf.PublicKey, key) {
			return nil, errMisMatchedKey
		}
		out.key = key
	}
	return out, nil
}

// firstPEMCertificate is cryptography's load_pem_x509_certificate: the first CERTIFICATE
// block, text around it allowed.
func firstPEMCertificate(data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errUnreadableCert
		}
		if block.Type != "CERTIFICATE" && block.Type != "X509 CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUnreadableCert, err)
		}
		return cert, nil
	}
}

// pemCertificates is get_intermediates_pems for PEM input: every BEGIN/END CERTIFICATE
// block must parse. Intermediates given as a PKCS7 bundle are not read here and count as
// unreadable.
func pemCertificates(data []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(data, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("%w: intermediates are not PEM X509 (PKCS7 bundles are not simulated)", errUnreadableCert)
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUnreadableCert, err)
		}
		out = append(out, cert)
	}
}

// readPrivateKey is cert_parser._read_private_key: PKCS#1, PKCS#8 and SEC 1 keys, and keys
// encrypted with a legacy PEM header when the passphrase is given. Any failure (encrypted
// PKCS#8 included, which this simulation does not decrypt) is NeedsPassphrase, as in Octavia.
func readPrivateKey(data, passphrase []byte) (crypto.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errNeedsPassphrase
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		der := block.Bytes
		//nolint:staticcheck // Octavia reads legacy encrypted PEM keys, so the simulation must too.
		if x509.IsEncryptedPEMBlock(block) {
			if len(passphrase) == 0 {
				return nil, errNeedsPassphrase
			}
			var err error
			//nolint:staticcheck // see above
			if der, err = x509.DecryptPEMBlock(block, passphrase); err != nil {
				return nil, errNeedsPassphrase
			}
		}
		if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
			return k, nil
		}
		if k, err := x509.ParseECPrivateKey(der); err == nil {
			return k, nil
		}
		return nil, errNeedsPassphrase
	}
}

func publicKeysEqual(certKey crypto.PublicKey, key crypto.PrivateKey) bool {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return false
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(certKey)
}

// parsePKCS12 is pkcs12.PKCS12Cert: a bundle without a pass phrase. Octavia shows
// OpenSSL's error stack; the texts below are OpenSSL's for the failures a client meets most
// (a PEM or other text stored instead of the bundle, a truncated bundle, a pass phrase), and
// for anything else the reason is this simulation's own.
func parsePKCS12(data []byte) (*certData, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, "")
	if err == nil {
		return &certData{leaf: leaf, intermediates: cas, key: key}, nil
	}
	const asn1 = "'asn1 encoding routines', ''"
	switch {
	case derTruncated(data):
		return nil, &pkcs12Error{detail: "[(" + asn1 + ", 'not enough data')]"}
	case data[0] != 0x30:
		return nil, &pkcs12Error{detail: "[(" + asn1 + ", 'wrong tag'), (" + asn1 + ", 'nested asn1 error')]"}
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return nil, &pkcs12Error{detail: "[('PKCS12 routines', '', 'mac verify failure')]"}
	}
	return nil, &pkcs12Error{detail: fmt.Sprintf("[('PKCS12 routines', '', %q)]", err.Error())}
}

// derTruncated reports whether data is shorter than its outer DER header says, which
// OpenSSL reports before it looks at the tag.
func derTruncated(data []byte) bool {
	if len(data) < 2 {
		return true
	}
	n := int(data[1])
	header := 2
	if n&0x80 != 0 {
		size := n & 0x7f
		if size == 0 || size > 4 || len(data) < 2+size {
			return size != 0
		}
		n = 0
		for _, b := range data[2 : 2+size] {
			n = n<<8 | int(b)
		}
		header += size
	}
	return len(data)-header < n
}

// servedCert is one certificate the data plane presents, with the names it answers for.
type servedCert struct {
	ref   string
	cert  tls.Certificate
	names []string
}

// mapCert is cert_parser._map_cert_tls_container, which the API runs when it hands the
// listener to the provider: the certificate needs a CN and a private key. It fails with
// "Could not retrieve certificate: <ref>" (the reference alone, not a list).
func mapCert(ref string, d *certData) (*servedCert, *apiError) {
	if d.leaf.Subject.CommonName == "" || d.key == nil {
		return nil, certificateRetrieval(ref)
	}
	chain := [][]byte{d.leaf.Raw}
	for _, c := range d.intermediates {
		chain = append(chain, c.Raw)
	}
	names := []string{strings.ToLower(d.leaf.Subject.CommonName)}
	for _, n := range d.leaf.DNSNames {
		names = append(names, strings.ToLower(n))
	}
	return &servedCert{ref: ref, cert: tls.Certificate{Certificate: chain, PrivateKey: d.key, Leaf: d.leaf}, names: names}, nil
}

// loadCert reads and maps one reference that checkTLSRefs accepted (load_certificates_data).
// It calls the Env and must run without s.mu.
func (s *Service) loadCert(ref string) (*servedCert, *apiError) {
	km, ok := s.env.(KeyManager)
	if !ok {
		return nil, certificateRetrieval(ref)
	}
	d, err := getCert(km, ref)
	if err != nil {
		return nil, certificateRetrieval(ref)
	}
	return mapCert(ref, d)
}

// loadCerts loads a listener body's default and SNI certificates, default first as Octavia
// does; a nil default or sni means the body left that setting alone.
func (s *Service) loadCerts(defaultRef *string, sni *[]string) (def *servedCert, snis []*servedCert, err *apiError) {
	if defaultRef != nil && *defaultRef != "" {
		if def, err = s.loadCert(*defaultRef); err != nil {
			return nil, nil, err
		}
	}
	if sni != nil {
		snis = []*servedCert{}
		for _, ref := range *sni {
			c, err := s.loadCert(ref)
			if err != nil {
				return nil, nil, err
			}
			snis = append(snis, c)
		}
	}
	return def, snis, nil
}

// tlsCertSet is what a TERMINATED_HTTPS socket presents.
type tlsCertSet struct {
	def *servedCert
	sni []*servedCert
}

// pick chooses the certificate for a client hello as HAProxy does with Octavia's crt-list:
// an exact name among all certificates, then a wildcard match, then the default (the first
// SNI certificate when there is no default).
func (c *tlsCertSet) pick(serverName string) *tls.Certificate {
	all := c.sni
	if c.def != nil {
		all = append([]*servedCert{c.def}, c.sni...)
	}
	if len(all) == 0 {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if name != "" {
		for _, sc := range all {
			if contains(sc.names, name) {
				return &sc.cert
			}
		}
		if i := strings.IndexByte(name, '.'); i > 0 {
			wildcard := "*" + name[i:]
			for _, sc := range all {
				if contains(sc.names, wildcard) {
					return &sc.cert
				}
			}
		}
	}
	return &all[0].cert
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
