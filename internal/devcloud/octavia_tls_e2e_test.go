package devcloud

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/keymanager/v1/secrets"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"software.sslmate.com/src/go-pkcs12"
)

// tlsVIP is the data-plane socket devcloud lists for a listener.
func tlsVIP(t *testing.T, c *Cloud, listenerID string) (url, protocol, address string) {
	t.Helper()
	var doc struct {
		VIPs []struct{ ListenerID, URL, Protocol, Address string } `json:"vips"`
	}
	control(t, c, http.MethodGet, "/vips", nil, &doc)
	for _, v := range doc.VIPs {
		if v.ListenerID == listenerID {
			return v.URL, v.Protocol, v.Address
		}
	}
	t.Fatalf("/_devcloud/vips lists no socket for listener %s: %+v", listenerID, doc)
	return "", "", ""
}

// getOverTLS GETs url trusting only pool's CA, presenting serverName, and returns the
// status, the body and the common name of the certificate the server showed.
func getOverTLS(t *testing.T, pki *testPKI, url, serverName string) (int, string, string, http.Header) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pki.pool, ServerName: serverName, MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, url+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s as %s: %v", url, serverName, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.TLS.PeerCertificates[0].Subject.CommonName, resp.Header
}

// poolWithWeb01 puts an HTTP pool with web01 behind listenerID and waits for each step.
func poolWithWeb01(t *testing.T, f *tlsFixture, listenerID string) {
	t.Helper()
	p, err := pools.Create(testCtx(t), f.lb, pools.CreateOpts{ListenerID: listenerID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatalf("create pool: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	if _, err := pools.CreateMember(testCtx(t), f.lb, p.ID, pools.CreateMemberOpts{Name: "web01", Address: f.seed.Web01Address,
		ProtocolPort: 80, SubnetID: f.seed.SubnetID}).Extract(); err != nil {
		t.Fatalf("create member: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
}

func TestOctaviaTLS_TerminatedHTTPSListenerServesTheMemberWithTheBarbicanCertificate(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	wwwCert, wwwKey, _ := pki.issue(t, "www.example.test", "www.example.test")
	apiCert, apiKey, _ := pki.issue(t, "api.example.test", "api.example.test")
	www := f.certContainer(t, "www", wwwCert, wwwKey)
	api := f.certContainer(t, "api", apiCert, apiKey)

	l, err := listeners.Create(testCtx(t), f.lb, listeners.CreateOpts{LoadbalancerID: f.lbID, Name: "tls", Protocol: listeners.ProtocolTerminatedHTTPS,
		ProtocolPort: 443, DefaultTlsContainerRef: www, SniContainerRefs: []string{api}}).Extract()
	if err != nil {
		t.Fatalf("create listener: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	poolWithWeb01(t, f, l.ID)

	url, protocol, address := tlsVIP(t, f.c, l.ID)
	if protocol != "TERMINATED_HTTPS" || url != "https://"+address || !strings.HasPrefix(address, "127.0.0.1:") {
		t.Fatalf("vips entry: %s %s %s", url, protocol, address)
	}
	status, body, cn, hdr := getOverTLS(t, pki, url, "www.example.test")
	if status != http.StatusOK || cn != "www.example.test" || hdr.Get("X-Devcloud-Member") == "" || body == "" {
		t.Fatalf("GET through the TLS listener: %d %q certificate %q header %v", status, body, cn, hdr)
	}
	// SNI picks the other container's certificate; an unknown name gets the default.
	if _, _, cn, _ := getOverTLS(t, pki, url, "api.example.test"); cn != "api.example.test" {
		t.Fatalf("SNI api.example.test got certificate %q", cn)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, ServerName: "nobody.example.test", MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, url+"/", nil)
	resp, err := client.Do(req)
	if resp != nil {
		_ = resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "www.example.test") {
		t.Fatalf("unknown server name should get the default certificate (for www.example.test): %v", err)
	}

	// Replacing the default container takes effect on the socket at the update's commit.
	newCert, newKey, _ := pki.issue(t, "www2.example.test", "www2.example.test")
	replacement := f.certContainer(t, "www2", newCert, newKey)
	if _, err := listeners.Update(testCtx(t), f.lb, l.ID, listeners.UpdateOpts{DefaultTlsContainerRef: &replacement}).Extract(); err != nil {
		t.Fatalf("update listener: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	if _, _, cn, _ := getOverTLS(t, pki, url, "www2.example.test"); cn != "www2.example.test" {
		t.Fatalf("after the update the socket shows %q", cn)
	}
	got, _ := listeners.Get(testCtx(t), f.lb, l.ID).Extract()
	if got.DefaultTlsContainerRef != replacement {
		t.Fatalf("default_tls_container_ref after update: %s", got.DefaultTlsContainerRef)
	}
}

func TestOctaviaTLS_PKCS12SecretServesLikeAContainer(t *testing.T) {
	f := newTLSFixture(t)
	pki := newTestPKI(t)
	certPEM, _, key := pki.issue(t, "p12.example.test", "p12.example.test")
	leaf, err := firstCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := pkcs12.Modern.Encode(key, leaf, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := secrets.Create(testCtx(t), f.km, secrets.CreateOpts{Name: "p12", Payload: base64.StdEncoding.EncodeToString(bundle),
		PayloadContentType: "application/octet-stream", PayloadContentEncoding: "base64"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	l, err := listeners.Create(testCtx(t), f.lb, listeners.CreateOpts{LoadbalancerID: f.lbID, Protocol: listeners.ProtocolTerminatedHTTPS,
		ProtocolPort: 8443, DefaultTlsContainerRef: s.SecretRef}).Extract()
	if err != nil {
		t.Fatalf("listener with a PKCS12 secret: %v (%s)", err, errBody(err))
	}
	waitLBActive(t, f.lb, f.lbID)
	poolWithWeb01(t, f, l.ID)
	url, _, _ := tlsVIP(t, f.c, l.ID)
	if status, _, cn, _ := getOverTLS(t, pki, url, "p12.example.test"); status != http.StatusOK || cn != "p12.example.test" {
		t.Fatalf("GET through the PKCS12 listener: %d %q", status, cn)
	}
	if users, _ := readACL(t, f, s.SecretRef); len(users) != 1 || users[0] != f.seed.OctaviaUserID {
		t.Fatalf("PKCS12 secret's read ACL: %v", users)
	}
}

// The openstack CLI, as the lab README's steps run it, against devcloud: secret store,
// container create, load balancer and TERMINATED_HTTPS listener create.
func TestOpenStackCLI_StoresACertificateAndCreatesATerminatedHTTPSListener(t *testing.T) {
	cli, err := exec.LookPath("openstack")
	if err != nil {
		t.Skip("the openstack CLI (python3-openstackclient) is not on PATH: " + err.Error())
	}
	c := startCloud(t)
	pki := newTestPKI(t)
	certPEM, keyPEM, _ := pki.issue(t, "www.example.test", "www.example.test")
	dir := t.TempDir()
	for name, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	for k, v := range c.Env() {
		env = append(env, k+"="+v)
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	certRef := run("secret", "store", "--name", "www-cert", "--secret-type", "certificate", "--payload-content-type", "text/plain",
		"--payload", string(certPEM), "-f", "value", "-c", "Secret href")
	keyRef := run("secret", "store", "--name", "www-key", "--secret-type", "private", "--payload-content-type", "text/plain",
		"--payload", string(keyPEM), "-f", "value", "-c", "Secret href")
	if got := run("secret", "get", "--payload", certRef, "-f", "value", "-c", "Payload"); got != strings.TrimSpace(string(certPEM)) {
		t.Fatalf("payload read back by the CLI:\n%s", got)
	}
	container := run("secret", "container", "create", "--name", "www-tls", "--type", "certificate",
		"--secret", "certificate="+certRef, "--secret", "private_key="+keyRef, "-f", "value", "-c", "Container href")
	if !strings.HasPrefix(container, c.URL()+"/key-manager/v1/containers/") {
		t.Fatalf("container href %q", container)
	}
	lbID := run("loadbalancer", "create", "--name", "web", "--vip-subnet-id", c.Seed().SubnetID, "--wait", "-f", "value", "-c", "id")
	var listener map[string]any
	out := run("loadbalancer", "listener", "create", "--name", "tls", "--protocol", "TERMINATED_HTTPS", "--protocol-port", "443",
		"--default-tls-container-ref", container, lbID, "--wait", "-f", "json")
	if err := json.Unmarshal([]byte(out), &listener); err != nil {
		t.Fatalf("listener create output: %s", out)
	}
	if listener["protocol"] != "TERMINATED_HTTPS" || listener["default_tls_container_ref"] != container || listener["provisioning_status"] != "ACTIVE" {
		t.Fatalf("listener: %v", listener)
	}
	acl := run("acl", "get", container, "-f", "value", "-c", "Users")
	if !strings.Contains(acl, c.Seed().OctaviaUserID) {
		t.Fatalf("container ACL users after the listener: %s", acl)
	}
}
