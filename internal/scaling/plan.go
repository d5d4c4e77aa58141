package scaling

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// StepKind names one kind of step.
type StepKind string

const (
	StepRemoveOrphans StepKind = "remove-orphan-members" // members whose server is gone: nothing to drain
	StepDelete        StepKind = "delete-servers"        // delete servers that are not members; wait until gone
	StepRestore       StepKind = "restore"               // put a node left drained back in service
	StepCreate        StepKind = "create"                // create (or adopt) servers, in parallel
	StepJoin          StepKind = "join"                  // one batch member update adding the nodes
	StepWaitOnline    StepKind = "wait-online"           // wait until the members are healthy
	StepRebootCheck   StepKind = "reboot-check"          // reboot one node; it must come back healthy
	StepDrain         StepKind = "drain"                 // weight 0 or admin_state_up=false; wait ACTIVE
	StepDrainWait     StepKind = "drain-wait"            // drain timeout, then the pre-delete webhook
	StepRemoveMembers StepKind = "remove-members"        // remove the drained members; wait ACTIVE
	StepHealthGate    StepKind = "health-gate"           // remaining members healthy, health URL answers
	StepReplicas      StepKind = "replicas"              // Progress of a Replicas run
)

// Step is one step of a plan. Nodes are node names.
type Step struct {
	Kind     StepKind
	Nodes    []string
	Ordinals []int  // StepCreate: the ordinals of the nodes to create
	ImageID  string // StepCreate
	Reason   string // why nodes are removed: "scale in", "image replaced", "server in ERROR", ...

	DrainMethod    DrainMethod   // StepDrain
	DrainTimeout   time.Duration // StepDrainWait
	Webhook        bool          // StepDrainWait: the pre-delete webhook is called
	HealthCheckURL string        // StepHealthGate
	Wave           int           // StepCreate and StepJoin: a member update whenever this many new nodes are built, 0 for one update
}

func (s Step) String() string {
	names := strings.Join(s.Nodes, ", ")
	reason := ""
	if s.Reason != "" {
		reason = " (" + s.Reason + ")"
	}
	switch s.Kind {
	case StepRemoveOrphans:
		return fmt.Sprintf("remove member(s) %s: their server is gone", names)
	case StepDelete:
		return fmt.Sprintf("delete server(s) %s and wait until gone%s", names, reason)
	case StepRestore:
		return fmt.Sprintf("put %s back in service (left drained by an earlier run)", names)
	case StepCreate:
		return fmt.Sprintf("create %d server(s) %s from image %s", len(s.Nodes), names, s.ImageID)
	case StepJoin:
		if s.Wave > 0 {
			return fmt.Sprintf("join %s to the pool as they are built: one member update whenever %d are ready, the rest when the builds end", names, s.Wave)
		}
		return fmt.Sprintf("join %s to the pool in one member update", names)
	case StepWaitOnline:
		return fmt.Sprintf("wait until %s are healthy", names)
	case StepRebootCheck:
		return fmt.Sprintf("reboot %s and wait until it is healthy again", names)
	case StepDrain:
		how := "weight 0"
		if s.DrainMethod == DrainDisable {
			how = "admin_state_up=false"
		}
		return fmt.Sprintf("drain %s with %s%s", names, how, reason)
	case StepDrainWait:
		w := fmt.Sprintf("wait %s for open connections to %s to finish", s.DrainTimeout, names)
		if s.Webhook {
			w += ", then call the pre-delete webhook"
		}
		return w
	case StepRemoveMembers:
		return fmt.Sprintf("remove member(s) %s from the pool", names)
	case StepHealthGate:
		g := fmt.Sprintf("health gate after removing %s: remaining members healthy", names)
		if s.HealthCheckURL != "" {
			g += ", " + s.HealthCheckURL + " answers"
		}
		return g
	}
	return fmt.Sprintf("%s %s", s.Kind, names)
}

// PlanInput is everything Plan looks at.
type PlanInput struct {
	Nodes          []Node // the pool's managed nodes, as discovered
	Desired        int
	NamePrefix     string
	ImageID        string // nodes on another image are replaced, batch by batch
	FlavorName     string // and so are nodes on another flavor (by name: servers show no flavor id)
	BatchSize      int
	Order          Order
	DrainMethod    DrainMethod
	DrainTimeout   time.Duration
	Webhook        bool
	HealthCheckURL string
	RebootCheck    bool
	// Wave is how many servers build at once (MaxParallel): a scale-out of more nodes joins
	// them wave by wave as they are built.
	Wave int
}

// Plan computes the ordered steps from the current nodes to the desired count, all on
// the desired image. It is pure: same input, same steps.
//
// Order: members whose server is gone are removed; servers in ERROR or on an old image
// that are not members are deleted; nodes left drained are restored; missing nodes are created, joined in one
// member update (one per wave of Wave nodes built, when more are created) and waited for; surplus nodes are removed batch by batch (servers not yet
// joined first, then nodes on an old image, then by Order), each batch drained, waited
// for, removed, deleted and health-gated; finally nodes on an old image are replaced
// batch by batch, the new batch healthy before the old one drains.
func Plan(in PlanInput) []Step {
	b := in.BatchSize
	if b < 1 {
		b = 1
	}
	desired := in.Desired
	if desired < 0 {
		desired = 0
	}
	staleImage := func(n Node) bool { return in.ImageID != "" && n.ImageID != "" && n.ImageID != in.ImageID }
	staleFlavor := func(n Node) bool { return in.FlavorName != "" && n.Flavor != "" && n.Flavor != in.FlavorName }
	stale := func(n Node) bool { return staleImage(n) || staleFlavor(n) }
	replaced := func(n Node) string {
		if staleImage(n) {
			return "image replaced"
		}
		return "flavor replaced"
	}
	var orphans, brokenLoose, staleLoose, brokenMember, live []Node
	used := map[int]bool{}
	for _, n := range in.Nodes {
		switch {
		case n.ServerID == "" && n.MemberID != "":
			orphans = append(orphans, n)
		case n.ServerID == "":
		case n.Status == "ERROR" && n.MemberID == "":
			brokenLoose = append(brokenLoose, n)
		case stale(n) && n.MemberID == "":
			// Never joined and on the old image: it serves nothing, so it goes at once.
			staleLoose = append(staleLoose, n)
		case n.Status == "ERROR":
			brokenMember = append(brokenMember, n)
			used[n.Ordinal] = true
		default:
			live = append(live, n)
			used[n.Ordinal] = true
		}
	}
	var steps []Step
	if len(orphans) > 0 {
		steps = append(steps, Step{Kind: StepRemoveOrphans, Nodes: names(orphans), Reason: "server gone"})
	}
	if len(brokenLoose) > 0 {
		steps = append(steps, Step{Kind: StepDelete, Nodes: names(brokenLoose), Reason: "server in ERROR"})
	}
	if len(staleLoose) > 0 {
		steps = append(steps, Step{Kind: StepDelete, Nodes: names(staleLoose), Reason: replaced(staleLoose[0]) + ", never joined"})
	}

	sortForRemoval(brokenMember, in.Order, stale)
	victims := brokenMember
	keep := live
	if len(live) > desired {
		ranked := append([]Node(nil), live...)
		sortForRemoval(ranked, in.Order, stale)
		surplus := len(live) - desired
		victims = append(victims, ranked[:surplus]...)
		keep = ranked[surplus:]
	}

	var restore, unjoined []Node
	for _, n := range keep {
		switch {
		case n.MemberID == "":
			unjoined = append(unjoined, n)
		case n.Drained:
			restore = append(restore, n)
		}
	}
	sortNodes(restore)
	sortNodes(unjoined)
	if len(restore) > 0 {
		steps = append(steps, Step{Kind: StepRestore, Nodes: names(restore)})
	}
	var newOrds []int
	if len(live) < desired {
		newOrds = nextOrdinals(used, desired-len(live))
	}
	steps = append(steps, scaleOutSteps(in, newOrds, names(unjoined))...)

	reasonFor := func(n Node) string {
		switch {
		case n.Status == "ERROR":
			return "server in ERROR"
		case stale(n):
			return replaced(n)
		}
		return "scale in"
	}
	steps = append(steps, scaleInSteps(in, victims, b, reasonFor)...)

	var old []Node
	for _, n := range keep {
		if stale(n) {
			old = append(old, n)
		}
	}
	sortForRemoval(old, in.Order, stale)
	for i := 0; i < len(old); i += b {
		chunk := old[i:min(i+b, len(old))]
		steps = append(steps, scaleOutSteps(in, nextOrdinals(used, len(chunk)), nil)...)
		steps = append(steps, scaleInSteps(in, chunk, b, replaced)...)
		// The replaced nodes are gone by now: their names are free for the next batch.
		for _, n := range chunk {
			delete(used, n.Ordinal)
		}
	}
	return steps
}

func scaleOutSteps(in PlanInput, ords []int, unjoined []string) []Step {
	var steps []Step
	var created []string
	for _, o := range ords {
		created = append(created, NodeName(in.NamePrefix, o))
	}
	wave := 0
	if in.Wave > 0 && len(created) > in.Wave {
		wave = in.Wave
	}
	if len(ords) > 0 {
		steps = append(steps, Step{Kind: StepCreate, Nodes: created, Ordinals: ords, ImageID: in.ImageID, Wave: wave})
	}
	join := append(append([]string(nil), unjoined...), created...)
	if len(join) == 0 {
		return steps
	}
	steps = append(steps,
		Step{Kind: StepJoin, Nodes: join, Wave: wave},
		Step{Kind: StepWaitOnline, Nodes: join})
	if in.RebootCheck {
		for _, n := range created {
			steps = append(steps, Step{Kind: StepRebootCheck, Nodes: []string{n}})
		}
	}
	return steps
}

func scaleInSteps(in PlanInput, victims []Node, b int, reasonFor func(Node) string) []Step {
	var steps []Step
	for i := 0; i < len(victims); i += b {
		chunk := victims[i:min(i+b, len(victims))]
		var members []string
		reason := reasonFor(chunk[0])
		for _, n := range chunk {
			if n.MemberID != "" {
				members = append(members, n.Name)
			}
		}
		if len(members) > 0 {
			steps = append(steps,
				Step{Kind: StepDrain, Nodes: members, DrainMethod: in.DrainMethod, Reason: reason},
				Step{Kind: StepDrainWait, Nodes: members, DrainTimeout: in.DrainTimeout, Webhook: in.Webhook},
				Step{Kind: StepRemoveMembers, Nodes: members})
		}
		steps = append(steps, Step{Kind: StepDelete, Nodes: names(chunk), Reason: reason})
		if len(members) > 0 {
			steps = append(steps, Step{Kind: StepHealthGate, Nodes: members, HealthCheckURL: in.HealthCheckURL})
		}
	}
	return steps
}

// sortForRemoval ranks nodes for removal: servers not serving yet first (they carry no
// traffic), then nodes on an old image, then by order (Created, then ordinal).
func sortForRemoval(ns []Node, order Order, stale func(Node) bool) {
	// What serves least goes first: a server that is no member, then a member left drained
	// (weight 0 or disabled, as a stopped scale-in leaves it: it carries no traffic, and
	// keeping it would mean putting it back in service while another node is drained).
	rank := func(n Node) int {
		switch {
		case n.MemberID == "":
			return 0
		case n.Drained:
			return 1
		case stale(n):
			return 2
		}
		return 3
	}
	sort.SliceStable(ns, func(i, j int) bool {
		a, b := ns[i], ns[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if !a.Created.Equal(b.Created) {
			if order == OldestFirst {
				return a.Created.Before(b.Created)
			}
			return a.Created.After(b.Created)
		}
		if a.Ordinal != b.Ordinal {
			if order == OldestFirst {
				return a.Ordinal < b.Ordinal
			}
			return a.Ordinal > b.Ordinal
		}
		return a.Name < b.Name
	})
}

func nextOrdinals(used map[int]bool, k int) []int {
	var out []int
	for o := 1; len(out) < k; o++ {
		if !used[o] {
			used[o] = true
			out = append(out, o)
		}
	}
	return out
}

func names(ns []Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

// PlannedNode is a node as a plan leaves it: Existing is the node as it is now when the plan
// keeps it, nil when the plan creates it (or replaces it under the same name).
type PlannedNode struct {
	Name     string
	Ordinal  int
	Existing *Node
}

// Outcome returns the nodes that exist once the steps have run, sorted by ordinal: so that
// `terraform plan` can show a scale-out as the nodes kept plus the nodes added, by name.
func Outcome(nodes []Node, steps []Step) []PlannedNode {
	gone := map[string]bool{}
	created := map[string]int{}
	for _, st := range steps {
		switch st.Kind {
		case StepDelete, StepRemoveOrphans:
			for _, n := range st.Nodes {
				gone[n] = true
			}
		case StepCreate:
			for i, n := range st.Nodes {
				created[n] = st.Ordinals[i]
			}
		}
	}
	var out []PlannedNode
	for _, n := range nodes {
		if n.ServerID == "" || gone[n.Name] {
			continue
		}
		if _, again := created[n.Name]; again {
			continue
		}
		existing := n
		out = append(out, PlannedNode{Name: n.Name, Ordinal: n.Ordinal, Existing: &existing})
	}
	for name, ord := range created {
		out = append(out, PlannedNode{Name: name, Ordinal: ord})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ordinal != out[j].Ordinal {
			return out[i].Ordinal < out[j].Ordinal
		}
		return out[i].Name < out[j].Name
	})
	return out
}
