package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/instances"
)

func TestReplicaErrors_NextReplicaBuildEndsInErrorWithTroveFaultAndCanBeDeleted(t *testing.T) {
	c := startCloud(t)
	dc := dbClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	c.InjectFaults(FaultSpec{ReplicaErrors: &ServerErrorFault{Next: 1, Message: "guest agent timed out"}})
	db01 := c.Seed().DB01ID
	create := func(name string) string {
		rep, err := instances.Create(ctx, dc, replicaOpts{CreateOpts: instances.CreateOpts{Name: name, FlavorRef: "2", Size: 10}, ReplicaOf: db01}).Extract()
		if err != nil {
			t.Fatalf("create replica %s: %v (%s)", name, err, errBody(err))
		}
		return rep.ID
	}
	failed := create("r-01")
	raw := waitDB(t, dc, failed, "ERROR")
	fault, _ := raw["fault"].(map[string]any)
	if fault["message"] != "guest agent timed out" || fault["created"] == nil {
		t.Fatalf("fault of the failed replica = %v, want Trove's fault object with the message", raw["fault"])
	}
	if ro, _ := raw["replica_of"].(map[string]any); ro["id"] != db01 {
		t.Fatalf("a failed replica stays attached: replica_of = %v", raw["replica_of"])
	}
	// Next: 1 means only one build fails.
	ok := create("r-02")
	if raw := waitDB(t, dc, ok, "ACTIVE"); raw["fault"] != nil {
		t.Fatalf("healthy replica shows a fault: %v", raw["fault"])
	}
	if err := instances.Delete(ctx, dc, failed).ExtractErr(); err != nil {
		t.Fatalf("deleting the failed replica: %v", err)
	}
	eventually(t, 5*time.Second, "failed replica gone", func() bool {
		_, err := instances.Get(ctx, dc, failed).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	if n := c.FaultsActed(); n != 1 {
		t.Fatalf("FaultsActed = %d, want the one failed build", n)
	}
	if kinds := strings.Join(kindsOf(c.Events(), "replica."), ","); kinds != "replica.created,replica.error,replica.created,replica.deleted" {
		t.Fatalf("replica events = %s", kinds)
	}
}

func TestFaults_RevokeTokensAnswers401UntilTheClientAuthenticatesAgain(t *testing.T) {
	c := startCloud(t)
	auth := demoAuth(c)
	auth.AllowReauth = true // as the provider and the openstack CLI do
	pc := provider(t, auth)
	old := pc.Token()
	cc := computeClient(t, pc, "2.79")
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", Method: "GET", RevokeTokens: true, Times: 1}}})
	// gophercloud re-authenticates once on a 401 (AllowReauth) and repeats the request.
	if _, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract(); err != nil {
		t.Fatalf("GET after the revocation, with re-authentication: %v", err)
	}
	if pc.Token() == old {
		t.Fatal("the client kept its revoked token: no 401 was seen")
	}
	if c.validToken(old) != nil {
		t.Fatal("the old token is still valid after the revocation")
	}
	// A client that cannot re-authenticate sees Keystone's 401.
	noReauth := provider(t, demoAuth(c))
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", RevokeTokens: true, Times: 1}}})
	_, err := servers.Get(testCtx(t), computeClient(t, noReauth, "2.79"), c.Seed().Web01ServerID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("err = %v, want 401", err)
	}
	if kinds := kindsOf(c.Events(), "identity."); len(kinds) != 2 {
		t.Fatalf("identity events = %v, want two revocations", kinds)
	}
}

func TestSuspendFaults_RequestRulesPauseAndKeepTheirCounts(t *testing.T) {
	c := startCloud(t)
	cc := computeClient(t, provider(t, demoAuth(c)), "2.79")
	c.InjectFaults(FaultSpec{Rules: []FaultRule{{Service: "compute", Method: "GET", Path: "/servers", Status: 500, Times: 1}}})
	get := func() error {
		_, err := servers.Get(testCtx(t), cc, c.Seed().Web01ServerID).Extract()
		return err
	}
	resume := c.SuspendFaults()
	if err := get(); err != nil {
		t.Fatalf("while suspended: %v", err)
	}
	resume()
	resume() // idempotent
	if err := get(); !gophercloud.ResponseCodeIs(err, http.StatusInternalServerError) {
		t.Fatalf("after resume: %v, want the one-shot 500 still armed", err)
	}
	if err := get(); err != nil {
		t.Fatalf("the one-shot 500 acted twice: %v", err)
	}
	if n := c.FaultsActed(); n != 1 {
		t.Fatalf("FaultsActed = %d, want 1", n)
	}
}
