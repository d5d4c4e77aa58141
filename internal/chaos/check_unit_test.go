package chaos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// The checks must flag what they are there to flag: these run without Terraform or devcloud.

func ev(at time.Duration, kind string, attrs map[string]any) devcloud.Event {
	return devcloud.Event{Time: time.Unix(1000, 0).Add(at), Kind: kind, Attrs: attrs}
}

func TestCheckStaggered_FlagsAServerDeletedWhileItsMemberServes(t *testing.T) {
	events := []devcloud.Event{
		ev(0, "member.added", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5", "weight": 1}),
		ev(time.Second, "server.deleting", map[string]any{"server_id": "s1", "name": "web-01", "address": "10.0.0.5"}),
	}
	got := checkStaggered(events, "10.0.0.2")
	if len(got) != 1 || !strings.Contains(got[0].Msg, "deleted while member m1 (in rotation) still held it") {
		t.Fatalf("got %v, want the deletion of a serving node flagged", got)
	}
}

func TestCheckStaggered_FlagsARemovalWithoutDrainOrBeforeTheDrainTimeout(t *testing.T) {
	events := []devcloud.Event{
		ev(0, "member.added", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5", "weight": 1}),
		ev(0, "member.added", map[string]any{"lb_id": "lb", "member_id": "m2", "address": "10.0.0.6", "weight": 1}),
		ev(time.Second, "member.removed", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5"}),
		ev(2*time.Second, "member.weight", map[string]any{"lb_id": "lb", "member_id": "m2", "address": "10.0.0.6", "weight": 0}),
		ev(2*time.Second+drainTimeout/2, "member.removed", map[string]any{"lb_id": "lb", "member_id": "m2", "address": "10.0.0.6"}),
	}
	got := checkStaggered(events, "10.0.0.2")
	if len(got) != 2 || !strings.Contains(got[0].Msg, "removed without a drain") || !strings.Contains(got[1].Msg, "before the drain timeout") {
		t.Fatalf("got %v, want a removal without drain and one before the drain timeout", got)
	}
}

func TestCheckStaggered_AcceptsTheStaggeredSequenceAndACascadeDelete(t *testing.T) {
	events := []devcloud.Event{
		ev(0, "member.added", map[string]any{"lb_id": "lb", "member_id": "static", "address": "10.0.0.2", "weight": 1}),
		ev(0, "member.added", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5", "weight": 1}),
		ev(time.Second, "member.weight", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5", "weight": 0}),
		ev(time.Second+drainTimeout, "member.removed", map[string]any{"lb_id": "lb", "member_id": "m1", "address": "10.0.0.5"}),
		ev(2*time.Second, "server.deleting", map[string]any{"server_id": "s1", "name": "web-01", "address": "10.0.0.5"}),
		ev(3*time.Second, "lb.status", map[string]any{"lb_id": "lb", "provisioning_status": "PENDING_DELETE"}),
		ev(3*time.Second, "member.removed", map[string]any{"lb_id": "lb", "member_id": "static", "address": "10.0.0.2"}),
	}
	if got := checkStaggered(events, "10.0.0.2"); len(got) != 0 {
		t.Fatalf("got %v, want nothing flagged", got)
	}
}

func TestCheckNoDuplicates_FlagsTwoLiveServersOfOneNameNotAReplacement(t *testing.T) {
	replaced := []devcloud.Event{
		ev(0, "server.created", map[string]any{"server_id": "a", "name": "web-01"}),
		ev(time.Second, "server.deleting", map[string]any{"server_id": "a", "name": "web-01"}),
		ev(2*time.Second, "server.created", map[string]any{"server_id": "b", "name": "web-01"}),
	}
	if got := checkNoDuplicates(replaced); len(got) != 0 {
		t.Fatalf("a server replaced after its deletion: %v, want nothing flagged", got)
	}
	twice := append(slices.Clone(replaced), ev(3*time.Second, "server.created", map[string]any{"server_id": "c", "name": "web-01"}),
		ev(3*time.Second, "lb.created", map[string]any{"lb_id": "x", "name": "front"}),
		ev(4*time.Second, "lb.created", map[string]any{"lb_id": "y", "name": "front"}))
	got := checkNoDuplicates(twice)
	if len(got) != 2 || !strings.Contains(got[0].Msg, `server "web-01" exists 2 times`) || !strings.Contains(got[1].Msg, `load balancer "front"`) {
		t.Fatalf("got %v, want the server and the load balancer flagged", got)
	}
}

func TestCheckStateEqualsCloud_FlagsBothWaysAndToleratesWhatTheNextRefreshAdopts(t *testing.T) {
	base := baseline{servers: set("web01"), images: set("base"), instances: set("db01"), groups: set()}
	cv := cloudView{
		servers: map[string]cloudServer{"web01": {ID: "web01"}, "s1": {ID: "s1", Name: "web-01", Status: "ACTIVE"},
			"s9": {ID: "s9", Name: "web-09", Status: "ACTIVE"}},
		lbs: map[string]cloudLB{"lb": {ID: "lb", Name: "front", Listeners: []string{"l1", "l2"}, Pools: []cloudPool{{ID: "p",
			Monitors: []string{"hm"}, Members: []pools.Member{{ID: "ms", Tags: []string{"eventscale:static"}}, {ID: "m1"}}}}}},
		images:    map[string]cloudImage{"base": {ID: "base"}, "img": {ID: "img", Status: "active"}},
		instances: map[string]cloudInstance{"db01": {ID: "db01"}},
		groups:    map[string]string{},
	}
	st := stateView{
		pool: &poolState{Nodes: []nodeState{{Name: "web-01", ID: "s1", MemberID: "m1"}, {Name: "web-02", ID: "s2", MemberID: "m2"}}},
		lb: &lbState{ID: "lb", PoolID: "p", ListenerIDs: []string{"l1"}, HealthMonitorID: "hm",
			MemberIDs: map[string]string{}},
		image:    &imageState{ID: "img"},
		replicas: &replicasState{},
	}

	var msgs []string
	for _, p := range checkStateEqualsCloud(st, cv, base, nil, true) {
		msgs = append(msgs, p.Msg)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"server web-09 (s9, ACTIVE) exists but is not in state",
		"state lists server s2, which does not exist",
		"listener l2 of front exists but is not in state",
		"member  (ms, , weight 0) exists but is not in state",
		"state lists member m2, which does not exist",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if len(msgs) != 5 {
		t.Errorf("got %d problems, want 5:\n%s", len(msgs), all)
	}

	// Before the step is done: the listener and the static member are adopted by the next
	// refresh, and s2's deletion was accepted before the run ended.
	msgs = nil
	for _, p := range checkStateEqualsCloud(st, cv, base, set("s2"), false) {
		msgs = append(msgs, p.Msg)
	}
	if len(msgs) != 2 || !strings.Contains(strings.Join(msgs, "\n"), "web-09") {
		t.Errorf("not final: got %v, want only the stray server and member m2", msgs)
	}
}

func TestCheckNoDrainedMember_FlagsADrainedMemberWhoseServerIsAlive(t *testing.T) {
	cv := cloudView{
		servers: map[string]cloudServer{"s1": {ID: "s1", Name: "web-01", Status: "ACTIVE", Address: "10.0.0.5"}},
		lbs: map[string]cloudLB{"lb": {ID: "lb", Pools: []cloudPool{{ID: "p", Members: []pools.Member{
			{ID: "m1", Address: "10.0.0.5", Weight: 0, AdminStateUp: true},
			{ID: "m2", Address: "10.0.0.6", Weight: 0, AdminStateUp: true}, // its server is gone: an orphan, not a drained node
		}}}}},
	}
	got := checkNoDrainedMember(cv)
	if len(got) != 1 || !strings.Contains(got[0].Msg, "web-01") {
		t.Fatalf("got %v, want web-01's member flagged", got)
	}
}

func TestSchedules_AreReproducibleFromTheirSeedAndCoverTheCatalog(t *testing.T) {
	a, b := newFaultSchedule(7), newFaultSchedule(7)
	if a.describe() != b.describe() {
		t.Fatalf("one seed, two schedules:\n%s\n%s", a.describe(), b.describe())
	}
	covered := map[string]bool{}
	services := map[string]bool{}
	for seed := int64(1); seed <= coverEvery; seed++ {
		for _, f := range newFaultSchedule(seed).Faults {
			covered[f.Kind] = true
			if f.Rule != nil && (f.Kind == "5xx" || f.Kind == "429") {
				services[f.Kind+" "+f.Rule.Service] = true
			}
		}
	}
	for _, g := range catalog() {
		if !covered[g.kind] {
			t.Errorf("%d consecutive seeds never inject %s", coverEvery, g.kind)
		}
	}
	for _, svc := range []string{"compute", "load-balancer", "image", "network", "database", "identity"} {
		for _, kind := range []string{"5xx", "429"} {
			if !services[kind+" "+svc] {
				t.Errorf("%d consecutive seeds never inject %s on %s", coverEvery, kind, svc)
			}
		}
	}
	k := newKillSchedule(killSeedOffset + 1)
	if len(k.Kills) != 3 || k.Kills[0].Step != stepScaleOut || k.Kills[1].Step != stepScaleIn || k.Kills[2].Step < stepDestroyPool {
		t.Fatalf("kill points %v, want one in scale-out, one in scale-in, one in a destroy", k.Kills)
	}
}
