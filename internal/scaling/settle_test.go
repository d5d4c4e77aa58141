package scaling_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// errReauth is what a wait reads when the cloud revoked the token again between the
// re-authentication and the retried request (gophercloud's ErrErrorAfterReauthentication).
var errReauth = errors.New("reading load balancer lb-1: successfully re-authenticated, but got error executing request: expected HTTP response code [200] when accessing [GET /v2/lbaas/loadbalancers/lb-1], but got 401 instead")

// unreadableAfterRemoval is a load balancer whose status cannot be read once a member's
// removal has been sent: the first `times` waits that follow fail at once, as a wait does
// whose poll meets an error; times < 0 fails every one.
type unreadableAfterRemoval struct {
	*scalingtest.LB
	mu      sync.Mutex
	removed bool
	times   int
	failed  int
}

func (l *unreadableAfterRemoval) DeleteMember(ctx context.Context, poolID, memberID string) error {
	err := l.LB.DeleteMember(ctx, poolID, memberID)
	l.mu.Lock()
	l.removed = l.removed || err == nil
	l.mu.Unlock()
	return err
}

func (l *unreadableAfterRemoval) WaitActive(ctx context.Context, id string) error {
	l.mu.Lock()
	fail := l.removed && (l.times < 0 || l.failed < l.times)
	if fail {
		l.failed++
	}
	l.mu.Unlock()
	if fail {
		return errReauth
	}
	return l.LB.WaitActive(ctx, id)
}

// The wait after a member's removal fails: the removal was sent, but Octavia may not have
// applied it yet and the member may still carry connections. The clean-up waits for the load
// balancer before it deletes the server (the fake's audit fails a server deleted before the
// removal of its member took effect).
func TestScaleIn_WaitFailingAfterMemberRemovalDeletesTheServerOnlyOnceTheRemovalIsApplied(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	f.withAdapters(t, f.cloud.Compute, &unreadableAfterRemoval{LB: f.cloud.LB, times: 1})
	nodes, err := f.apply(t, context.Background(), 1)
	if !errors.Is(err, errReauth) || !strings.Contains(err.Error(), "after removing members web-03") {
		t.Fatalf("err = %v, want the failed wait after removing web-03", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("nodes = %v, want web-03 finished (its removal was applied) and the rest in service", got)
	}
	for _, n := range nodes {
		if n.MemberID == "" || n.Drained {
			t.Errorf("node %+v is not fully in service", n)
		}
	}
}

// The load balancer cannot be read at all after the removal: nothing says the removal took
// effect, so the server is kept, the error says so, and the next apply finishes the node.
func TestScaleIn_LoadBalancerUnreadableAfterMemberRemovalKeepsTheServerForTheNextApply(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	f.withAdapters(t, f.cloud.Compute, &unreadableAfterRemoval{LB: f.cloud.LB, times: -1})
	nodes, err := f.apply(t, context.Background(), 1)
	if !errors.Is(err, errReauth) || !strings.Contains(err.Error(), "web-03") || !strings.Contains(err.Error(), "kept") {
		t.Fatalf("err = %v, want the failed wait, naming web-03 and its server kept", err)
	}
	var web03 *scaling.Node
	for i, n := range nodes {
		if n.Name == "web-03" {
			web03 = &nodes[i]
		}
	}
	if web03 == nil || web03.ServerID == "" || web03.MemberID != "" {
		t.Fatalf("nodes = %+v, want web-03 kept with its server and no member", nodes)
	}
	if len(f.cloud.Compute.Servers()) != 3 {
		t.Fatalf("servers = %d, want 3: web-03's server kept", len(f.cloud.Compute.Servers()))
	}

	f.withAdapters(t, f.cloud.Compute, f.cloud.LB)
	nodes = f.mustApply(t, 2)
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) {
		t.Fatalf("next apply: nodes = %v, want web-03 finished", got)
	}
	if len(f.cloud.Compute.Servers()) != 2 {
		t.Fatalf("next apply: servers = %d, want 2", len(f.cloud.Compute.Servers()))
	}
}

// lostRemoval answers a member's removal as accepted without removing it (an answer from a
// proxy that never reached Octavia), and its next wait fails.
type lostRemoval struct{ unreadableAfterRemoval }

func (l *lostRemoval) DeleteMember(ctx context.Context, poolID, memberID string) error {
	l.mu.Lock()
	l.removed = true
	l.mu.Unlock()
	return nil
}

// A removal answered but never applied leaves the member drained in the pool once the load
// balancer is ACTIVE: the clean-up puts it back in service and keeps its server.
func TestScaleIn_RemovalThatDidNotTakeIsPutBackInServiceNotDeleted(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 3)
	f.withAdapters(t, f.cloud.Compute, &lostRemoval{unreadableAfterRemoval{LB: f.cloud.LB, times: 1}})
	nodes, err := f.apply(t, context.Background(), 1)
	if !errors.Is(err, errReauth) {
		t.Fatalf("err = %v, want the failed wait after removing web-03", err)
	}
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02", "web-03"}) {
		t.Fatalf("nodes = %v, want all three kept", got)
	}
	for _, n := range nodes {
		if n.ServerID == "" || n.MemberID == "" || n.Drained {
			t.Errorf("node %+v is not fully in service", n)
		}
	}
	for _, m := range f.cloud.ManagedMembers() {
		if m.Weight != 1 || !m.AdminStateUp {
			t.Errorf("member %s left with weight %d, admin_state_up %v", m.Name, m.Weight, m.AdminStateUp)
		}
	}
}

// stuckLB is a load balancer an Octavia worker left busy for good: every member shows
// PENDING_UPDATE and the wait for ACTIVE ends in an error.
type stuckLB struct{ *scalingtest.LB }

func (l stuckLB) ListMembers(ctx context.Context, poolID string) ([]scaling.Member, error) {
	ms, err := l.LB.ListMembers(ctx, poolID)
	for i := range ms {
		ms[i].ProvisioningStatus = "PENDING_UPDATE"
	}
	return ms, err
}

func (l stuckLB) WaitActive(ctx context.Context, id string) error {
	return errors.New("waiting for load balancer lb-1 to reach [ACTIVE]: context deadline exceeded (last status \"PENDING_UPDATE\")")
}

// A refresh of a pool whose load balancer never leaves PENDING_UPDATE ends, and counts every
// member it lists as a member still: no node is taken for memberless (whose server a
// scale-in would delete without a drain).
func TestDiscover_LoadBalancerStuckBusyCountsPendingMembersAsMembers(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	f.withAdapters(t, f.cloud.Compute, stuckLB{f.cloud.LB})
	if err := f.pool.Discover(context.Background()); err != nil {
		t.Fatalf("Discover: %v", err)
	}
	nodes := f.pool.Nodes()
	if len(nodes) != 2 {
		t.Fatalf("nodes = %v, want web-01 and web-02", nodeNames(nodes))
	}
	for _, n := range nodes {
		if n.MemberID == "" || n.ServerID == "" {
			t.Errorf("node %+v lost its member or its server", n)
		}
	}
	if !contains(f.rec.messages(), "counted as members still") {
		t.Errorf("no progress message says the pending members were counted as members: %v", f.rec.messages())
	}
}
