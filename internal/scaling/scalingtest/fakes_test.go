package scalingtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func TestClock_ParallelSleepersOverlapInModelTime(t *testing.T) {
	c := NewClock()
	c.Quiet = 50 * time.Millisecond // generous: a sleeper scheduled late must not miss the start
	start := c.Now()
	var wg sync.WaitGroup
	for i := 1; i <= 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Sleep(context.Background(), time.Duration(i)*10*time.Second); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := c.Now().Sub(start); got != 50*time.Second {
		t.Fatalf("model time after parallel sleeps of 10..50s = %s, want 50s", got)
	}
}

func TestClock_SleepReturnsContextErrorWhenCancelled(t *testing.T) {
	c := NewClock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestLB_MutationWhilePendingWaitsForActiveAndCountsConflict(t *testing.T) {
	c := NewCloud()
	web01 := c.LB.Members()[0]
	spec := []scaling.MemberSpec{{Name: "web01", Address: "10.0.9.1", ProtocolPort: 80, Weight: 1, AdminStateUp: true}}
	ctx := context.Background()
	if err := c.LB.BatchUpdateMembers(ctx, "pool-1", spec); err != nil {
		t.Fatal(err)
	}
	if st := c.LB.Members()[0].ProvisioningStatus; st != "PENDING_UPDATE" {
		t.Fatalf("provisioning status right after an update = %s, want PENDING_UPDATE", st)
	}
	start := c.Clock.Now()
	one := 1
	if err := c.LB.UpdateMember(ctx, "pool-1", web01.ID, &one, nil); err != nil {
		t.Fatal(err)
	}
	if c.LB.Conflicts() != 1 || c.LB.Cycles() != 2 || c.Clock.Now().Sub(start) != 5*time.Second {
		t.Fatalf("conflicts %d cycles %d waited %s; want 1, 2, 5s", c.LB.Conflicts(), c.LB.Cycles(), c.Clock.Now().Sub(start))
	}
}

// A batch member update refused while busy is not sent again (its list may be stale): the
// fake waits for the cycle to end and answers ErrStale, as the adapters do.
func TestLB_BatchUpdateWhilePendingWaitsAndAnswersStaleWithoutApplying(t *testing.T) {
	c := NewCloud()
	spec := []scaling.MemberSpec{{Name: "web01", Address: "10.0.9.1", ProtocolPort: 80, Weight: 1, AdminStateUp: true}}
	ctx := context.Background()
	if err := c.LB.BatchUpdateMembers(ctx, "pool-1", spec); err != nil {
		t.Fatal(err)
	}
	start := c.Clock.Now()
	if err := c.LB.BatchUpdateMembers(ctx, "pool-1", nil); !errors.Is(err, scaling.ErrStale) {
		t.Fatalf("batch update while busy: err = %v, want ErrStale", err)
	}
	if c.LB.Conflicts() != 1 || c.LB.Cycles() != 1 || c.Clock.Now().Sub(start) != 5*time.Second || len(c.LB.Members()) != 1 {
		t.Fatalf("conflicts %d cycles %d waited %s members %d; want 1, 1, 5s and web01 kept",
			c.LB.Conflicts(), c.LB.Cycles(), c.Clock.Now().Sub(start), len(c.LB.Members()))
	}
}

func TestLB_AuditFlagsUnmanagedChangeEarlyRemovalAndDeletingAMember(t *testing.T) {
	c := NewCloud()
	ctx := context.Background()
	web01 := c.LB.Members()[0]
	zero := 0
	if err := c.LB.UpdateMember(ctx, "pool-1", web01.ID, &zero, nil); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Compute.CreateServer(ctx, scaling.ServerSpec{Name: "web-01", Metadata: scaling.ServerMetadata(PoolKey, 1)})
	s, _ = c.Compute.WaitServerActive(ctx, s.ID)
	if err := c.LB.BatchUpdateMembers(ctx, "pool-1", []scaling.MemberSpec{
		{Name: "web01", Address: "10.0.9.1", ProtocolPort: 80, Weight: 0, AdminStateUp: true},
		{Name: "web-01", Address: s.Address, ProtocolPort: 80, Weight: 1, AdminStateUp: true, Tags: scaling.MemberTags(PoolKey)},
	}); err != nil {
		t.Fatal(err)
	}
	_ = c.Compute.DeleteServer(ctx, s.ID)
	var ours string
	for _, m := range c.LB.Members() {
		if m.Name == "web-01" {
			ours = m.ID
		}
	}
	_ = c.LB.DeleteMember(ctx, "pool-1", ours)
	// The member goes too early as well: its server still exists (deleting) and it never drained.
	if v := c.LB.Violations(); len(v) != 3 {
		t.Fatalf("violations = %q, want unmanaged update, server deleted while member, removal without drain", v)
	}
	c2 := NewCloud()
	s2, _ := c2.Compute.CreateServer(ctx, scaling.ServerSpec{Name: "web-01"})
	s2, _ = c2.Compute.WaitServerActive(ctx, s2.ID)
	m := c2.LB.AddMember(scaling.Member{Name: "web-01", Address: s2.Address, ProtocolPort: 80, Weight: 1, AdminStateUp: true, Tags: scaling.MemberTags(PoolKey)})
	_ = c2.LB.UpdateMember(ctx, "pool-1", m.ID, &zero, nil)
	_ = c2.LB.DeleteMember(ctx, "pool-1", m.ID)
	if v := c2.LB.Violations(); len(v) != 1 {
		t.Fatalf("violations = %q, want removal before drain time", v)
	}
}

func TestCompute_BuildErrorAndLostResponse(t *testing.T) {
	c := NewCloud()
	ctx := context.Background()
	c.Compute.FailBuild("a", "No valid host")
	s, err := c.Compute.CreateServer(ctx, scaling.ServerSpec{Name: "a"})
	if err != nil || s.Status != "BUILD" {
		t.Fatalf("create = %+v, %v", s, err)
	}
	_, err = c.Compute.WaitServerActive(ctx, s.ID)
	var fe *scaling.ServerFaultError
	if !errors.As(err, &fe) || fe.Message != "No valid host" {
		t.Fatalf("wait err = %v, want a fault", err)
	}
	c.Compute.LoseCreateResponse("b", 1)
	if _, err := c.Compute.CreateServer(ctx, scaling.ServerSpec{Name: "b", Metadata: map[string]string{"k": "v"}}); err == nil {
		t.Fatal("lost create answered without error")
	}
	if l, _ := c.Compute.ListServers(ctx, map[string]string{"k": "v"}); len(l) != 1 || l[0].Name != "b" {
		t.Fatalf("list = %+v, want the lost server", l)
	}
}
