package scaling_test

import (
	"slices"
	"testing"
)

func TestApply_ScalesOutInAndDestroysKeepingUnmanagedMember(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 3)
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02", "web-03"}) {
		t.Fatalf("nodes after scale-out = %v", got)
	}
	for _, n := range nodes {
		if n.MemberID == "" || n.ServerID == "" || n.OperatingStatus != "ONLINE" {
			t.Errorf("node %+v not fully in service", n)
		}
	}
	nodes = f.mustApply(t, 1)
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01"}) {
		t.Fatalf("nodes after scale-in = %v (newest first removes 03 then 02)", got)
	}
	nodes = f.mustApply(t, 0)
	if len(nodes) != 0 {
		t.Fatalf("nodes after destroy = %v", nodes)
	}
	ms := f.cloud.LB.Members()
	if len(ms) != 1 || ms[0].Name != "web01" {
		t.Fatalf("members after destroy = %+v, want only web01", ms)
	}
	for _, m := range f.rec.messages() {
		t.Log(m)
	}
}
