package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// syncBuffer lets the test read what run writes from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startCommand(t *testing.T, args ...string) (url string, out *syncBuffer) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	out = &syncBuffer{}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- run(append(args, "-ready-file", ready), out, stop) }()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(ready)
		if err == nil {
			return strings.TrimSpace(string(b)), out
		}
		if time.Now().After(deadline) {
			t.Fatalf("ready file never appeared; output: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRun_PrintsEnvAndCloudsYAMLThatAuthenticate(t *testing.T) {
	url, out := startCommand(t, "-time-scale", "0.01")
	text := out.String()
	for _, want := range []string{"devcloud listening on " + url, "export OS_AUTH_URL=" + url + "/identity/v3", "export OS_USERNAME=demo",
		"export OS_PROJECT_NAME=demo", "  devcloud:\n", "auth_url: " + url + "/identity/v3", "OS_APPLICATION_CREDENTIAL_ID=", "web01"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	env := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export OS_") {
			env[k] = v
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	opts, err := openstack.AuthOptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := openstack.AuthenticatedClient(ctx, opts)
	if err != nil {
		t.Fatalf("authenticating with the printed variables: %v", err)
	}
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: os.Getenv("OS_REGION_NAME")})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := servers.List(cc, servers.ListOpts{Name: "web01"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := servers.ExtractServers(pages); len(list) != 1 {
		t.Fatalf("web01 not found: %+v", list)
	}
}

func TestRun_PrintEnvPrintsOnlyExports(t *testing.T) {
	_, out := startCommand(t, "-print-env", "-seed=false")
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, "export OS_") {
			t.Fatalf("-print-env printed %q", line)
		}
	}
}

func TestRun_RefusesNonLoopbackListen(t *testing.T) {
	err := run([]string{"-listen", "0.0.0.0:0"}, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v, want a loopback refusal", err)
	}
}
