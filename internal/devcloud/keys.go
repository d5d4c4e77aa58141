package devcloud

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"strings"
)

// generateKeypair makes an ed25519 key in OpenSSH public form and PKCS#8 PEM private form,
// as Nova does when a keypair is created without a public key (before 2.92).
func generateKeypair(comment string) (public, private string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	blob := sshString([]byte("ssh-ed25519"))
	blob = append(blob, sshString(pub)...)
	public = "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " " + comment
	private = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return public, private, nil
}

func sshString(b []byte) []byte {
	out := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	return append(out, b...)
}

// fingerprint is the legacy MD5 fingerprint Nova shows (aa:bb:...).
func fingerprint(public string) string {
	f := strings.Fields(public)
	if len(f) < 2 {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return ""
	}
	sum := md5.Sum(raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}
