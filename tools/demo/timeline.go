package main

import (
	"fmt"
	"sort"
	"time"
)

// poolNode is one web node as the configuration's web_nodes output lists it.
type poolNode struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Address  string `json:"address"`
	MemberID string `json:"member_id"`
	Status   string `json:"status"`
	OpStatus string `json:"operating_status"`
}

// nodeSteps is one node's scale-back as devcloud recorded it: when Octavia applied weight 0,
// when it applied the member's removal, when Nova started and finished deleting the server.
type nodeSteps struct {
	Name                                string
	Drained, Removed, Deleting, Deleted time.Time
}

// scaleBackTimeline picks the scale-back of nodes out of devcloud's events, in the order the
// nodes were drained. Nodes missing a step keep a zero time there; checkScaleBack says so.
func scaleBackTimeline(events []cloudEvent, nodes []poolNode) []nodeSteps {
	byMember := map[string]*nodeSteps{}
	byServer := map[string]*nodeSteps{}
	out := make([]*nodeSteps, 0, len(nodes))
	for _, n := range nodes {
		s := &nodeSteps{Name: n.Name}
		out = append(out, s)
		if n.MemberID != "" {
			byMember[n.MemberID] = s
		}
		byServer[n.ID] = s
	}
	first := func(t *time.Time, at time.Time) {
		if t.IsZero() {
			*t = at
		}
	}
	for _, e := range events {
		switch e.Kind {
		case "member.weight":
			if s := byMember[e.attr("member_id")]; s != nil && e.attr("weight") == "0" {
				first(&s.Drained, e.Time)
			}
		case "member.admin_state":
			if s := byMember[e.attr("member_id")]; s != nil && e.attr("admin_state_up") == "false" {
				first(&s.Drained, e.Time)
			}
		case "member.removed":
			if s := byMember[e.attr("member_id")]; s != nil {
				first(&s.Removed, e.Time)
			}
		case "server.deleting":
			if s := byServer[e.attr("server_id")]; s != nil {
				first(&s.Deleting, e.Time)
			}
		case "server.deleted":
			if s := byServer[e.attr("server_id")]; s != nil {
				first(&s.Deleted, e.Time)
			}
		}
	}
	res := make([]nodeSteps, len(out))
	for i, s := range out {
		res[i] = *s
	}
	sort.SliceStable(res, func(i, j int) bool {
		a, b := res[i].Drained, res[j].Drained
		if a.IsZero() != b.IsZero() {
			return !a.IsZero()
		}
		return a.Before(b)
	})
	return res
}

// checkScaleBack states every way the recorded scale-back broke the product's promise: each
// node drained for the full drain timeout, removed from the pool before its server is
// deleted, the next node drained only once the previous one left the pool (its server, which
// serves nothing then, may still be deleted meanwhile), and removed only once that server is
// gone.
func checkScaleBack(steps []nodeSteps, drainTimeout time.Duration) []string {
	var problems []string
	for i, s := range steps {
		switch {
		case s.Drained.IsZero():
			problems = append(problems, fmt.Sprintf("%s was never drained (no weight 0 reached the load balancer)", s.Name))
			continue
		case s.Removed.IsZero():
			problems = append(problems, fmt.Sprintf("%s was never removed from the pool", s.Name))
			continue
		case s.Deleting.IsZero() || s.Deleted.IsZero():
			problems = append(problems, fmt.Sprintf("%s: its server was never deleted", s.Name))
			continue
		}
		if held := s.Removed.Sub(s.Drained); held < drainTimeout {
			problems = append(problems, fmt.Sprintf("%s was removed %.2fs after its drain, before the drain timeout of %s", s.Name, held.Seconds(), drainTimeout))
		}
		if s.Deleting.Before(s.Removed) {
			problems = append(problems, fmt.Sprintf("%s: its server was deleted while still a member of the pool", s.Name))
		}
		if i > 0 {
			prev := steps[i-1]
			if !prev.Removed.IsZero() && s.Drained.Before(prev.Removed) {
				problems = append(problems, fmt.Sprintf("%s was drained before %s left the pool: two nodes drained at once", s.Name, prev.Name))
			}
			if !prev.Deleted.IsZero() && s.Removed.Before(prev.Deleted) {
				problems = append(problems, fmt.Sprintf("%s left the pool before the server of %s was deleted", s.Name, prev.Name))
			}
		}
	}
	return problems
}
