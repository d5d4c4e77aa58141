package chaos

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// step is one operator action of a schedule.
type step int

const (
	stepCreate      step = iota // terraform apply of the whole event
	stepScaleOut                // more web nodes and replicas
	stepScaleIn                 // fewer, under traffic
	stepDestroyPool             // terraform destroy -target of the web pool, under traffic
	stepDestroy                 // terraform destroy of the rest
	numSteps
)

func (s step) String() string {
	return [...]string{"create", "scale-out", "scale-in", "destroy-pool", "destroy"}[s]
}

// underTraffic says whether background traffic runs through the VIP during the step: from
// scale-out to the web pool's destroy the VIP serves, and no request may be lost.
func (s step) underTraffic() bool { return s >= stepScaleOut && s <= stepDestroyPool }

// drains says whether the step takes nodes out of the pool.
func (s step) drains() bool { return s == stepScaleIn || s == stepDestroyPool }

// schedule is everything one run of the suite does, derived from its seed alone.
type schedule struct {
	Name string // "faults-17" or "kills-1000017": what -chaos.only takes
	Seed int64
	Kill bool

	// Nodes and Replicas are the sizes after create, scale-out and scale-in.
	Nodes    [3]int
	Replicas [3]int

	Faults []fault
	Kills  []killPoint
}

// fault is one injected fault: a devcloud request rule, build failures, an extra delay, or a
// health URL that stops answering.
type fault struct {
	Kind string
	Step step

	Rule          *devcloud.FaultRule
	ServerErrors  *devcloud.ServerErrorFault
	ReplicaErrors *devcloud.ServerErrorFault
	ExtraDelay    map[string]float64
	// Gate makes the health URL fail during the step's first run, from the moment the first
	// member has been removed: the scale-in's health gate stops it.
	Gate bool
}

func (f fault) String() string {
	var what string
	switch {
	case f.Rule != nil:
		r := f.Rule
		var parts []string
		svc := r.Service
		if svc == "" {
			svc = "any service"
		}
		target := strings.TrimSpace(r.Method + " " + r.Path)
		if target == "" {
			target = "any request"
		}
		parts = append(parts, svc+" "+target)
		switch {
		case r.RevokeTokens:
			parts = append(parts, "revoke tokens")
		case r.Drop && r.After:
			parts = append(parts, "connection dropped after the cloud acted")
		case r.Drop:
			parts = append(parts, "connection dropped before the cloud acted")
		case r.Status != 0 && r.After:
			parts = append(parts, fmt.Sprintf("%d after the cloud acted", r.Status))
		case r.Status != 0:
			parts = append(parts, fmt.Sprintf("%d", r.Status))
		}
		if r.RetryAfter > 0 {
			parts = append(parts, fmt.Sprintf("Retry-After %d", r.RetryAfter))
		}
		if r.LatencyMS > 0 {
			parts = append(parts, fmt.Sprintf("+%d ms", r.LatencyMS))
		}
		if r.Times > 0 {
			parts = append(parts, fmt.Sprintf("%d time(s)", r.Times))
		}
		if r.Probability > 0 {
			parts = append(parts, fmt.Sprintf("p=%.2f", r.Probability))
		}
		what = strings.Join(parts, ", ")
	case f.ServerErrors != nil:
		what = buildErrors("server builds", f.ServerErrors)
	case f.ReplicaErrors != nil:
		what = buildErrors("replica builds", f.ReplicaErrors)
	case f.ExtraDelay != nil:
		var parts []string
		for k, v := range f.ExtraDelay {
			parts = append(parts, fmt.Sprintf("%s +%gs (unscaled)", k, v))
		}
		sort.Strings(parts)
		what = strings.Join(parts, ", ")
	case f.Gate:
		what = "the health URL fails once a member has been removed, first run only"
	}
	return fmt.Sprintf("%s %s: %s", f.Step, f.Kind, what)
}

func buildErrors(what string, e *devcloud.ServerErrorFault) string {
	if e.Next > 0 {
		return fmt.Sprintf("next %d %s end in ERROR", e.Next, what)
	}
	return fmt.Sprintf("%s end in ERROR with p=%.2f", what, e.Probability)
}

// killPoint is where a kill schedule SIGKILLs Terraform and its plugin: at the Nth devcloud
// event of a kind (matched by Match) after the step's first run started.
type killPoint struct {
	Step  step
	Kind  string
	N     int
	Match func(devcloud.Event) bool `json:"-"`
}

func (k killPoint) String() string {
	return fmt.Sprintf("%s: SIGKILL at %s #%d", k.Step, k.Kind, k.N)
}

// services are the catalog types whose every API gets 5xx and 429 answers.
var services = []string{"compute", "load-balancer", "image", "network", "database", "identity"}

// generator makes one fault of a kind, for a step the kind can act in.
type generator struct {
	kind  string
	steps []step
	make  func(r *rand.Rand) fault
}

func rule(r devcloud.FaultRule) func(*rand.Rand) fault {
	return func(*rand.Rand) fault { return fault{Rule: &r} }
}

// catalog is the list of faults every default run covers (see coverEvery).
func catalog() []generator {
	all := []step{stepCreate, stepScaleOut, stepScaleIn, stepDestroyPool, stepDestroy}
	var gens []generator
	for _, svc := range services {
		gens = append(gens, generator{kind: "5xx", steps: all, make: func(r *rand.Rand) fault {
			status := []int{500, 502, 503}[r.IntN(3)]
			if r.IntN(2) == 0 {
				return fault{Rule: &devcloud.FaultRule{Service: svc, Status: status, Probability: 0.05 + 0.1*r.Float64()}}
			}
			method := []string{"GET", "POST", "PUT", "DELETE"}[r.IntN(4)]
			return fault{Rule: &devcloud.FaultRule{Service: svc, Method: method, Status: status, Times: 1 + r.IntN(2)}}
		}})
		gens = append(gens, generator{kind: "429", steps: all, make: func(r *rand.Rand) fault {
			return fault{Rule: &devcloud.FaultRule{Service: svc, Status: 429, RetryAfter: 1, Times: 1 + r.IntN(3)}}
		}})
	}
	creating := []step{stepCreate, stepScaleOut}
	draining := []step{stepScaleIn, stepDestroyPool}
	gens = append(gens,
		generator{kind: "drop-before", steps: all, make: func(r *rand.Rand) fault {
			svc := []string{"compute", "load-balancer", "database", "image"}[r.IntN(4)]
			method := []string{"GET", "POST", "PUT", "DELETE"}[r.IntN(4)]
			return fault{Rule: &devcloud.FaultRule{Service: svc, Method: method, Drop: true, Times: 1}}
		}},
		// A POST /servers whose server was created but whose answer was lost.
		generator{kind: "lost-create", steps: creating, make: rule(devcloud.FaultRule{
			Service: "compute", Method: "POST", Path: "/servers", Drop: true, After: true, Times: 1})},
		generator{kind: "lost-create", steps: []step{stepCreate}, make: rule(devcloud.FaultRule{
			Service: "load-balancer", Method: "POST", Path: "/lbaas/loadbalancers", Drop: true, After: true, Times: 1})},
		generator{kind: "lost-create", steps: []step{stepCreate}, make: func(r *rand.Rand) fault {
			path := []string{"/lbaas/pools", "/lbaas/listeners", "/lbaas/healthmonitors", "/members"}[r.IntN(4)]
			return fault{Rule: &devcloud.FaultRule{Service: "load-balancer", Method: "POST", Path: path, Drop: true, After: true, Times: 1}}
		}},
		generator{kind: "lost-create", steps: creating, make: rule(devcloud.FaultRule{
			Service: "database", Method: "POST", Path: "/instances", Status: 504, After: true, Times: 1})},
		// A member PUT (a batch join or a drain) answered 504 after Octavia applied it.
		generator{kind: "504-after", steps: []step{stepScaleOut, stepScaleIn, stepDestroyPool}, make: rule(devcloud.FaultRule{
			Service: "load-balancer", Method: "PUT", Path: "/members", Status: 504, After: true, Times: 1})},
		generator{kind: "504-after", steps: draining, make: func(r *rand.Rand) fault {
			if r.IntN(2) == 0 {
				return fault{Rule: &devcloud.FaultRule{Service: "load-balancer", Method: "DELETE", Path: "/members", Status: 504, After: true, Times: 1}}
			}
			return fault{Rule: &devcloud.FaultRule{Service: "compute", Method: "DELETE", Path: "/servers", Status: 504, After: true, Times: 1}}
		}},
		generator{kind: "slow", steps: all, make: func(r *rand.Rand) fault {
			svc := services[r.IntN(len(services))]
			return fault{Rule: &devcloud.FaultRule{Service: svc, LatencyMS: 200 + r.IntN(1000), Probability: 0.2 + 0.3*r.Float64()}}
		}},
		generator{kind: "slow-build", steps: creating, make: func(r *rand.Rand) fault {
			return fault{ExtraDelay: map[string]float64{"server_build": float64(30 + r.IntN(90)), "db_build": float64(30 + r.IntN(60))}}
		}},
		generator{kind: "server-error", steps: creating, make: func(r *rand.Rand) fault {
			if r.IntN(2) == 0 {
				return fault{ServerErrors: &devcloud.ServerErrorFault{Next: 1 + r.IntN(2)}}
			}
			return fault{ServerErrors: &devcloud.ServerErrorFault{Probability: 0.25}}
		}},
		// Octavia slow to leave PENDING_UPDATE: every change takes seconds instead of 30 ms.
		generator{kind: "lb-stuck", steps: []step{stepScaleOut, stepScaleIn, stepDestroyPool}, make: func(r *rand.Rand) fault {
			return fault{ExtraDelay: map[string]float64{"lb_update": float64(100 + r.IntN(200))}}
		}},
		generator{kind: "replica-error", steps: creating, make: func(r *rand.Rand) fault {
			return fault{ReplicaErrors: &devcloud.ServerErrorFault{Next: 1}}
		}},
		generator{kind: "token-revoked", steps: all, make: func(r *rand.Rand) fault {
			svc := []string{"compute", "load-balancer", "image", "database", "network"}[r.IntN(5)]
			return fault{Rule: &devcloud.FaultRule{Service: svc, RevokeTokens: true, Times: 1 + r.IntN(2), Probability: 0.3}}
		}},
		// Only in scale-in: its update timeout can be made short for the run the gate stops, while
		// a destroy keeps the timeouts the last apply stored and would hold the gate for minutes.
		generator{kind: "health-gate", steps: []step{stepScaleIn}, make: func(r *rand.Rand) fault {
			return fault{Gate: true}
		}},
	)
	return gens
}

// mild are the faults added at random to any step: a busy cloud's background noise.
func mild() []generator {
	var out []generator
	for _, g := range catalog() {
		switch g.kind {
		case "5xx", "429", "slow", "drop-before", "token-revoked":
			out = append(out, g)
		}
	}
	return out
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6576656e747363)) //nolint:gosec // reproducible test schedules, not secrets
}

// coverEvery is how many consecutive seeds cover the whole catalog: the schedule of seed s
// features the catalog entries j with j = s (mod coverEvery), so that any 20 consecutive
// seeds (the default run) inject every entry at least once, and a schedule is still
// reproduced from its seed alone.
const coverEvery = 20

// newFaultSchedule builds the fault schedule of a seed: its featured catalog entries, and up
// to one more fault per step drawn at random.
func newFaultSchedule(seed int64) schedule {
	r := newRand(seed)
	s := schedule{Name: fmt.Sprintf("faults-%d", seed), Seed: seed}
	s.sizes(r)
	gens := catalog()
	for j := int(((seed % coverEvery) + coverEvery) % coverEvery); j < len(gens); j += coverEvery {
		s.add(r, gens[j])
	}
	noise := mild()
	for st := stepCreate; st < numSteps; st++ {
		if r.IntN(2) == 0 {
			g := noise[r.IntN(len(noise))]
			g.steps = []step{st}
			s.add(r, g)
		}
	}
	return s
}

// newKillSchedule builds a schedule with three kill points (scale-out, scale-in, and one of
// the destroys) and light faults.
func newKillSchedule(seed int64) schedule {
	r := newRand(seed)
	s := schedule{Name: fmt.Sprintf("kills-%d", seed), Seed: seed, Kill: true}
	s.sizes(r)
	added := s.Nodes[1] - s.Nodes[0]
	removed := s.Nodes[1] - s.Nodes[2]
	kill := func(st step, kind string, n int, match func(devcloud.Event) bool) killPoint {
		return killPoint{Step: st, Kind: kind, N: n, Match: match}
	}
	outs := []killPoint{
		kill(stepScaleOut, "server.created", 1+r.IntN(added), kindIs("server.created")),
		kill(stepScaleOut, "server.active", 1, kindIs("server.active")),
		kill(stepScaleOut, "member.added", 1, kindIs("member.added")),
		kill(stepScaleOut, "replica.created", 1, kindIs("replica.created")),
	}
	drains := func(st step, nodes int) []killPoint {
		return []killPoint{
			kill(st, "member.weight 0", 1+r.IntN(nodes), drained),
			kill(st, "member.removed", 1+r.IntN(nodes), kindIs("member.removed")),
			kill(st, "server.deleting", 1+r.IntN(nodes), kindIs("server.deleting")),
		}
	}
	ins := append(drains(stepScaleIn, removed), kill(stepScaleIn, "replica.detached", 1, kindIs("replica.detached")))
	ends := append(drains(stepDestroyPool, s.Nodes[2]),
		kill(stepDestroy, "replica.detached", 1, kindIs("replica.detached")),
		kill(stepDestroy, "lb.status PENDING_DELETE", 1, func(e devcloud.Event) bool {
			return e.Kind == "lb.status" && e.Attrs["provisioning_status"] == "PENDING_DELETE"
		}),
		kill(stepDestroy, "image.deleted", 1, kindIs("image.deleted")))
	s.Kills = []killPoint{outs[r.IntN(len(outs))], ins[r.IntN(len(ins))], ends[r.IntN(len(ends))]}
	noise := mild()
	for st := stepCreate; st < numSteps; st++ {
		if r.IntN(2) == 0 {
			g := noise[r.IntN(len(noise))]
			g.steps = []step{st}
			s.add(r, g)
		}
	}
	return s
}

// newCreateKillSchedule SIGKILLs Terraform during the first apply, which creates everything:
// an object the cloud made before Terraform recorded it must be found and adopted by the
// next apply, not made a second time.
func newCreateKillSchedule(seed int64) schedule {
	r := newRand(seed)
	s := schedule{Name: fmt.Sprintf("createkills-%d", seed), Seed: seed, Kill: true}
	s.sizes(r)
	points := []killPoint{
		{Step: stepCreate, Kind: "lb.created", N: 1, Match: kindIs("lb.created")},
		{Step: stepCreate, Kind: "pool.created", N: 1, Match: kindIs("pool.created")},
		{Step: stepCreate, Kind: "listener.created", N: 1, Match: kindIs("listener.created")},
		{Step: stepCreate, Kind: "image.created", N: 1, Match: kindIs("image.created")},
		{Step: stepCreate, Kind: "replica.created", N: 1, Match: kindIs("replica.created")},
		{Step: stepCreate, Kind: "server.created", N: 1, Match: kindIs("server.created")},
		{Step: stepCreate, Kind: "member.added", N: 2, Match: kindIs("member.added")},
	}
	s.Kills = []killPoint{points[r.IntN(len(points))]}
	return s
}

func kindIs(kind string) func(devcloud.Event) bool {
	return func(e devcloud.Event) bool { return e.Kind == kind }
}

// drained matches a member taken out of rotation (weight 0 or admin_state_up false).
func drained(e devcloud.Event) bool {
	switch e.Kind {
	case "member.weight":
		w, ok := e.Attrs["weight"].(int)
		return ok && w == 0
	case "member.admin_state":
		up, ok := e.Attrs["admin_state_up"].(bool)
		return ok && !up
	}
	return false
}

// sizes draws the pool's sizes (2-4 nodes at the peak) and the replicas' (1, 2, 1).
func (s *schedule) sizes(r *rand.Rand) {
	start := 1 + r.IntN(2)
	peak := 3 + r.IntN(2)
	after := 1 + r.IntN(2)
	s.Nodes = [3]int{start, peak, after}
	s.Replicas = [3]int{1, 2, 1}
}

func (s *schedule) add(r *rand.Rand, g generator) {
	f := g.make(r)
	f.Kind = g.kind
	f.Step = g.steps[r.IntN(len(g.steps))]
	s.Faults = append(s.Faults, f)
}

// spec is the devcloud fault spec of a step, and whether the health URL fails in it.
func (s schedule) spec(st step) (devcloud.FaultSpec, *fault) {
	spec := devcloud.FaultSpec{Seed: s.Seed*10 + int64(st) + 1}
	var gate *fault
	for i := range s.Faults {
		f := s.Faults[i]
		if f.Step != st {
			continue
		}
		switch {
		case f.Rule != nil:
			spec.Rules = append(spec.Rules, *f.Rule)
		case f.ServerErrors != nil:
			spec.ServerErrors = f.ServerErrors
		case f.ReplicaErrors != nil:
			spec.ReplicaErrors = f.ReplicaErrors
		case f.ExtraDelay != nil:
			if spec.ExtraDelaySeconds == nil {
				spec.ExtraDelaySeconds = map[string]float64{}
			}
			for k, v := range f.ExtraDelay {
				spec.ExtraDelaySeconds[k] += v
			}
		case f.Gate:
			gate = &s.Faults[i]
		}
	}
	return spec, gate
}

// describe lists the schedule for a failure report.
func (s schedule) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schedule %s: nodes %d -> %d -> %d, replicas %d -> %d -> %d\n", s.Name,
		s.Nodes[0], s.Nodes[1], s.Nodes[2], s.Replicas[0], s.Replicas[1], s.Replicas[2])
	for _, f := range s.Faults {
		fmt.Fprintf(&b, "  fault %s\n", f)
	}
	for _, k := range s.Kills {
		fmt.Fprintf(&b, "  kill  %s\n", k)
	}
	return b.String()
}
