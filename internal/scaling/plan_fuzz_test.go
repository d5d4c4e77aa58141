package scaling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// planModel is the cloud as the plan sees it; applying steps to it checks each step's
// preconditions, which are the scaling invariants.
type planModel struct {
	server, member, drained, waited, byPlan map[string]bool
	image                                   map[string]string
	status                                  map[string]string
	batch                                   int
}

func (m *planModel) apply(s scaling.Step, in scaling.PlanInput) error {
	known := func(n string) error {
		if !m.server[n] && !m.member[n] {
			return fmt.Errorf("%s: node %s does not exist", s, n)
		}
		return nil
	}
	for _, n := range s.Nodes {
		if s.Kind != scaling.StepCreate && s.Kind != scaling.StepHealthGate {
			if err := known(n); err != nil {
				return err
			}
		}
		switch s.Kind {
		case scaling.StepRemoveOrphans:
			if m.server[n] {
				return fmt.Errorf("%s: removes the member of %s without drain while its server exists", s, n)
			}
			m.member[n] = false
		case scaling.StepDelete:
			if m.member[n] {
				return fmt.Errorf("%s: deletes server %s while it is a member", s, n)
			}
			m.server[n] = false
		case scaling.StepRestore:
			m.drained[n], m.byPlan[n] = false, false
		case scaling.StepCreate:
			if m.server[n] || m.member[n] {
				return fmt.Errorf("%s: creates %s which exists", s, n)
			}
			m.server[n], m.image[n], m.status[n] = true, s.ImageID, "ACTIVE"
		case scaling.StepJoin:
			if !m.server[n] || m.member[n] {
				return fmt.Errorf("%s: joins %s (server %v, member %v)", s, n, m.server[n], m.member[n])
			}
			m.member[n] = true
		case scaling.StepWaitOnline, scaling.StepRebootCheck:
			if !m.server[n] || !m.member[n] {
				return fmt.Errorf("%s: %s is not in service", s, n)
			}
		case scaling.StepDrain:
			if !m.member[n] {
				return fmt.Errorf("%s: drains %s which is no member", s, n)
			}
			m.drained[n], m.waited[n], m.byPlan[n] = true, false, true
		case scaling.StepDrainWait:
			if !m.drained[n] {
				return fmt.Errorf("%s: waits for %s which is not drained", s, n)
			}
			if s.DrainTimeout != in.DrainTimeout {
				return fmt.Errorf("%s: waits %s, drain timeout is %s", s, s.DrainTimeout, in.DrainTimeout)
			}
			m.waited[n] = true
		case scaling.StepRemoveMembers:
			if !m.drained[n] || !m.waited[n] {
				return fmt.Errorf("%s: removes %s before its drain time", s, n)
			}
			m.member[n], m.drained[n], m.byPlan[n] = false, false, false
		case scaling.StepHealthGate:
		default:
			return fmt.Errorf("unknown step %s", s)
		}
	}
	draining := 0
	for n, d := range m.byPlan {
		if d && m.member[n] {
			draining++
		}
	}
	if draining > m.batch {
		return fmt.Errorf("%s: %d nodes drain at once, batch size %d", s, draining, m.batch)
	}
	return nil
}

// genInput decodes fuzz bytes into a plan input: up to 12 nodes in assorted states.
func genInput(data []byte, desired, batch uint8, oldest bool) scaling.PlanInput {
	in := scaling.PlanInput{Desired: int(desired % 16), NamePrefix: "web", ImageID: "img-1", BatchSize: int(batch%5) + 1,
		Order: scaling.NewestFirst, DrainMethod: scaling.DrainWeight, DrainTimeout: time.Minute, RebootCheck: desired%3 == 0}
	if oldest {
		in.Order = scaling.OldestFirst
	}
	for i := 0; i+1 < len(data) && len(in.Nodes) < 12; i += 2 {
		a, b := data[i], data[i+1]
		ord := len(in.Nodes)*2 + int(a%2) + 1
		n := scaling.Node{Ordinal: ord, Name: scaling.NodeName("web", ord), Status: "ACTIVE", ImageID: "img-1",
			Created: time.Date(2026, 1, 1, 0, int(b%30), 0, 0, time.UTC), Weight: 1}
		switch a % 8 {
		case 0:
			n.ServerID = "s" // not yet joined
		case 1:
			n.MemberID = "m" // orphan member
		case 2:
			n.ServerID, n.MemberID, n.Status = "s", "m", "ERROR"
		case 3:
			n.ServerID, n.Status = "s", "ERROR"
		case 4:
			n.ServerID, n.MemberID, n.Drained = "s", "m", true
		case 5:
			n.ServerID, n.Status = "s", "BUILD"
		default:
			n.ServerID, n.MemberID = "s", "m"
		}
		if b%3 == 0 {
			n.ImageID = "img-0"
		}
		in.Nodes = append(in.Nodes, n)
	}
	return in
}

func checkPlan(t *testing.T, in scaling.PlanInput) {
	steps := scaling.Plan(in)
	m := &planModel{server: map[string]bool{}, member: map[string]bool{}, drained: map[string]bool{},
		waited: map[string]bool{}, byPlan: map[string]bool{}, image: map[string]string{}, status: map[string]string{}, batch: in.BatchSize}
	for _, n := range in.Nodes {
		m.server[n.Name], m.member[n.Name], m.drained[n.Name] = n.ServerID != "", n.MemberID != "", n.Drained
		m.image[n.Name], m.status[n.Name] = n.ImageID, n.Status
	}
	for _, s := range steps {
		if err := m.apply(s, in); err != nil {
			t.Fatalf("input %+v:\n%v\nplan: %q", in, err, stepStrings(steps))
		}
	}
	inService := 0
	for n := range m.server {
		switch {
		case m.server[n] && !m.member[n]:
			t.Fatalf("plan %q leaves server %s outside the pool", stepStrings(steps), n)
		case m.server[n] && m.status[n] == "ERROR":
			t.Fatalf("plan %q leaves %s in ERROR", stepStrings(steps), n)
		case m.server[n] && m.drained[n]:
			t.Fatalf("plan %q leaves %s drained", stepStrings(steps), n)
		case m.server[n] && m.image[n] != in.ImageID:
			t.Fatalf("plan %q leaves %s on image %s", stepStrings(steps), n, m.image[n])
		case m.server[n]:
			inService++
		}
	}
	for n := range m.member {
		if m.member[n] && !m.server[n] {
			t.Fatalf("plan %q leaves orphan member %s", stepStrings(steps), n)
		}
	}
	if inService != in.Desired {
		t.Fatalf("plan %q ends with %d nodes in service, want %d", stepStrings(steps), inService, in.Desired)
	}
}

// FuzzPlan checks, for random current states, counts, batch sizes and orders, that the
// plan never deletes a server that is a member, never removes a member before its drain
// wait, drains at most batch size at once, touches only the pool's nodes and ends at the
// desired count on the desired image. The seed corpus runs in every `go test`.
func FuzzPlan(f *testing.F) {
	f.Add([]byte{}, uint8(3), uint8(0), false)
	f.Add([]byte{6, 1, 6, 2, 6, 3}, uint8(0), uint8(1), false)
	f.Add([]byte{6, 3, 7, 6, 6, 9, 7, 12}, uint8(2), uint8(0), true)
	f.Add([]byte{0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 7}, uint8(4), uint8(2), false)
	f.Add([]byte{2, 0, 2, 0, 4, 0, 4, 1}, uint8(1), uint8(3), true)
	f.Add([]byte{6, 0, 6, 3, 6, 6, 6, 9, 6, 12}, uint8(5), uint8(1), false)
	f.Add([]byte{5, 1, 5, 2, 0, 0, 1, 1}, uint8(9), uint8(4), true)
	f.Fuzz(func(t *testing.T, data []byte, desired, batch uint8, oldest bool) {
		checkPlan(t, genInput(data, desired, batch, oldest))
	})
}

// TestPlan_InvariantsHoldOnGeneratedStates runs the fuzz property over a deterministic
// sweep, so the invariants are checked broadly in every plain `go test`.
func TestPlan_InvariantsHoldOnGeneratedStates(t *testing.T) {
	for seed := 0; seed < 3000; seed++ {
		x := uint32(seed*2654435761 + 12345)
		next := func() byte { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return byte(x) }
		data := make([]byte, int(next()%25))
		for i := range data {
			data[i] = next()
		}
		checkPlan(t, genInput(data, next(), next(), next()%2 == 0))
	}
}
