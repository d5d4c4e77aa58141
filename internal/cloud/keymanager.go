package cloud

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/secrets"
)

// KeyManager stores a TLS listener's certificate in Barbican, where Octavia reads it.
type KeyManager struct {
	Client *gophercloud.ServiceClient
}

// CertificateBundle is what a TERMINATED_HTTPS listener presents: PEM certificate, private key
// and optional intermediates.
type CertificateBundle struct {
	Certificate   string
	PrivateKey    string
	Intermediates string
}

// Digest identifies the bundle's content: the names of its Barbican objects carry it, so that a
// store whose answer was lost is found again instead of stored twice.
func (b CertificateBundle) Digest() string {
	sum := sha256.Sum256([]byte(b.Certificate + "\x00" + b.PrivateKey + "\x00" + b.Intermediates))
	return hex.EncodeToString(sum[:])
}

// Check parses the bundle as Octavia will: the certificate and key must be PEM and belong
// together, the intermediates (if any) PEM certificates. It returns the leaf certificate.
func (b CertificateBundle) Check() (*x509.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(b.Certificate), []byte(b.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("the certificate and private key do not form a pair Octavia can use: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("the certificate does not parse: %w", err)
	}
	if strings.TrimSpace(b.Intermediates) != "" {
		rest := []byte(b.Intermediates)
		n := 0
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if _, err := x509.ParseCertificate(block.Bytes); block.Type != "CERTIFICATE" || err != nil {
				return nil, fmt.Errorf("intermediate %d is not a PEM certificate", n+1)
			}
			n++
		}
		if n == 0 {
			return nil, errors.New("the intermediates hold no PEM certificate")
		}
	}
	return leaf, nil
}

// StoreCertificate stores the bundle as Barbican secrets in a certificate container named name
// (its digest appended) and returns the container's reference. Objects of that name from an
// earlier attempt whose answer was lost are found and reused.
func (k *KeyManager) StoreCertificate(ctx context.Context, name string, b CertificateBundle) (string, error) {
	base := name + "-" + b.Digest()[:12]
	if ref, err := k.findContainer(ctx, base); err != nil || ref != "" {
		return ref, err
	}
	parts := []struct {
		role, suffix, payload string
		kind                  secrets.SecretType
	}{
		{"certificate", "certificate", b.Certificate, secrets.CertificateSecret},
		{"private_key", "private-key", b.PrivateKey, secrets.PrivateSecret},
		{"intermediates", "intermediates", b.Intermediates, secrets.CertificateSecret},
	}
	var refs []containers.SecretRef
	for _, p := range parts {
		if strings.TrimSpace(p.payload) == "" {
			continue
		}
		ref, err := k.ensureSecret(ctx, base+"-"+p.suffix, p.payload, p.kind)
		if err != nil {
			return "", err
		}
		refs = append(refs, containers.SecretRef{Name: p.role, SecretRef: ref})
	}
	c, err := containers.Create(ctx, k.Client, containers.CreateOpts{Type: containers.CertificateContainer, Name: base, SecretRefs: refs}).Extract()
	if err != nil {
		if found, ferr := k.findContainer(ctx, base); ferr == nil && found != "" && StatusCode(err) != 400 {
			return found, nil
		}
		return "", createError("storing certificate container "+base+" in Barbican", err)
	}
	return c.ContainerRef, nil
}

func (k *KeyManager) ensureSecret(ctx context.Context, name, payload string, kind secrets.SecretType) (string, error) {
	if ref, err := k.findSecret(ctx, name); err != nil || ref != "" {
		return ref, err
	}
	s, err := secrets.Create(ctx, k.Client, secrets.CreateOpts{Name: name, Payload: payload, PayloadContentType: "text/plain", SecretType: kind}).Extract()
	if err != nil {
		if found, ferr := k.findSecret(ctx, name); ferr == nil && found != "" && StatusCode(err) != 400 {
			return found, nil
		}
		return "", createError("storing secret "+name+" in Barbican", err)
	}
	return s.SecretRef, nil
}

func (k *KeyManager) findSecret(ctx context.Context, name string) (string, error) {
	pages, err := secrets.List(k.Client, secrets.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing Barbican secrets named "+name, err)
	}
	all, err := secrets.ExtractSecrets(pages)
	if err != nil {
		return "", apiError("reading Barbican secrets named "+name, err)
	}
	for _, s := range all {
		if s.Name == name && s.Status != "ERROR" {
			return s.SecretRef, nil
		}
	}
	return "", nil
}

func (k *KeyManager) findContainer(ctx context.Context, name string) (string, error) {
	pages, err := containers.List(k.Client, containers.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", apiError("listing Barbican containers named "+name, err)
	}
	all, err := containers.ExtractContainers(pages)
	if err != nil {
		return "", apiError("reading Barbican containers named "+name, err)
	}
	for _, c := range all {
		if c.Name == name && c.Status != "ERROR" {
			return c.ContainerRef, nil
		}
	}
	return "", nil
}

// DeleteCertificate deletes a certificate container and the secrets in it; objects already
// gone are not an error.
func (k *KeyManager) DeleteCertificate(ctx context.Context, containerRef string) error {
	id := refID(containerRef)
	c, err := containers.Get(ctx, k.Client, id).Extract()
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return apiError("reading Barbican container "+id, err)
	}
	if err := containers.Delete(ctx, k.Client, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return apiError("deleting Barbican container "+id, err)
	}
	for _, s := range c.SecretRefs {
		sid := refID(s.SecretRef)
		if err := secrets.Delete(ctx, k.Client, sid).ExtractErr(); err != nil && !IsNotFound(err) {
			return apiError("deleting Barbican secret "+sid, err)
		}
	}
	return nil
}

// refID is the last path segment of a Barbican reference (a full URL).
func refID(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// ExpiresWithin reports a certificate that expires before the given time.
func ExpiresWithin(cert *x509.Certificate, t time.Time) bool { return cert.NotAfter.Before(t) }

// CertificateExists says whether the certificate container is still in Barbican.
func (k *KeyManager) CertificateExists(ctx context.Context, containerRef string) (bool, error) {
	_, err := containers.Get(ctx, k.Client, refID(containerRef)).Extract()
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, apiError("reading Barbican container "+refID(containerRef), err)
}
