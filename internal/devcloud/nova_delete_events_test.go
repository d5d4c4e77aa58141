package devcloud

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// A harness matches a server's deletion with its load balancer member by address: the delete
// events carry the address the server had.
func TestServerDeleteEvents_CarryTheServersAddress(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	srv := createServer(t, c, cc, "addr", nil, nil)
	waitStatus(t, cc, srv.ID, "ACTIVE")
	shown, err := servers.Get(testCtx(t), cc, srv.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, addrs := range shown.Addresses {
		for _, a := range addrs.([]any) {
			want, _ = a.(map[string]any)["addr"].(string)
		}
	}
	if want == "" {
		t.Fatalf("server %s shows no address: %v", srv.ID, shown.Addresses)
	}
	if err := servers.Delete(testCtx(t), cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "server.deleted event", func() bool {
		return len(kindsOf(c.Events(), "server.deleted")) == 1
	})
	for _, e := range c.Events() {
		if (e.Kind == "server.deleting" || e.Kind == "server.deleted") && e.Attrs["address"] != want {
			t.Errorf("%s carries address %v, want %s", e.Kind, e.Attrs["address"], want)
		}
	}
}
