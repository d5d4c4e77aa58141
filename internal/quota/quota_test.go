package quota

import (
	"strings"
	"testing"
)

func TestCheck_FindsEachShortfallWithLimitInUseAndNeed(t *testing.T) {
	usages := []Usage{
		{Compute, "instances", 10, 2}, {Compute, "cores", 20, 4}, {Compute, "ram", 51200, 1024},
		{LoadBalancer, "member", Unlimited, 40},
	}
	needs := []Need{
		{Compute, "instances", 12, "12 web nodes"}, {Compute, "cores", 12, "12 web nodes of 1 vCPU"},
		{Compute, "ram", 12 * 512, "12 web nodes of 512 MiB"}, {LoadBalancer, "member", 12, "12 members"},
	}
	r := Check(usages, needs, nil)
	if len(r.Shortfalls) != 1 {
		t.Fatalf("shortfalls = %v, want instances only", r.Shortfalls)
	}
	s := r.Shortfalls[0]
	if s.Resource != "instances" || s.Limit != 10 || s.InUse != 2 || s.Needed != 12 || s.Ask() != 14 {
		t.Fatalf("shortfall = %+v (ask %d), want instances limit 10 in use 2 needed 12 ask 14", s, s.Ask())
	}
	if len(r.Checked) != 4 {
		t.Fatalf("checked %d quotas, want 4", len(r.Checked))
	}
}

func TestCheck_AddsNeedsForTheSameQuota(t *testing.T) {
	r := Check([]Usage{{Compute, "instances", 10, 0}}, []Need{{Compute, "instances", 6, "pool a"}, {Compute, "instances", 6, "pool b"}}, nil)
	if len(r.Shortfalls) != 1 || r.Shortfalls[0].Needed != 12 || !strings.Contains(r.Shortfalls[0].Why, "pool a; pool b") {
		t.Fatalf("shortfalls = %+v", r.Shortfalls)
	}
}

func TestCheck_ExactFitIsNoShortfall(t *testing.T) {
	if r := Check([]Usage{{Compute, "instances", 10, 4}}, []Need{{Compute, "instances", 6, "x"}}, nil); len(r.Shortfalls) != 0 {
		t.Fatalf("shortfalls = %v for an exact fit", r.Shortfalls)
	}
}

func TestRequest_IsASentenceAnOperatorCanPaste(t *testing.T) {
	got := Request([]Shortfall{
		{Usage: Usage{Compute, "instances", 10, 2}, Needed: 24},
		{Usage: Usage{Compute, "cores", 20, 4}, Needed: 48},
		{Usage: Usage{LoadBalancer, "member", 20, 5}, Needed: 25},
	})
	if want := "Ask for compute instances 26, cores 52; load-balancer member 30."; got != want {
		t.Fatalf("request = %q, want %q", got, want)
	}
}

func TestGroupsFor_SpreadsAPoolOverAsFewGroupsAsTheQuotaAllows(t *testing.T) {
	for _, c := range []struct{ n, per, want int }{{12, 10, 2}, {10, 10, 1}, {21, 10, 3}, {5, Unlimited, 1}, {0, 10, 0}} {
		if got := GroupsFor(c.n, c.per); got != c.want {
			t.Errorf("GroupsFor(%d, %d) = %d, want %d", c.n, c.per, got, c.want)
		}
	}
}
