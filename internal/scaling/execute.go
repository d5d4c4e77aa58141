package scaling

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// run carries what one Apply learns while executing its plan.
type run struct {
	p *Pool

	mu        sync.Mutex
	drainedAt map[string]time.Time // drained by this run and still a member
	removed   map[string]bool      // member removed by this run, server not yet gone
	// unapplied holds the members (node name -> member id) whose removal was sent but not
	// yet seen applied: until the load balancer is ACTIVE again such a member may still carry
	// connections, and its server is not deleted.
	unapplied map[string]string
	// failed holds nodes whose server could not be built: the rest of the wave still
	// joins and serves, and the run reports these errors at the end.
	failed   map[string]bool
	deferred []error
	baseline map[string]string // unmanaged members healthy before the first drain: id -> description
	// endpointsChecked is set once the health URL and the webhook were found usable.
	endpointsChecked bool
	// groupOf is the server group chosen for each node created by this run, by ordinal.
	groupOf map[int]string
	// monitorDelay is the pool's health monitor delay, once read (monitorRead).
	monitorRead  bool
	monitorDelay time.Duration
	// deleting counts the waits for deleted servers to be gone (deleteServers); their
	// failures go to deleteErrs until awaitDeletes reports them.
	deleting   sync.WaitGroup
	deleteErrs []error
	// gated is the health gate whose batch's servers were still being deleted when it passed:
	// the remaining members are checked again once they are gone (finishDeletes).
	gated *Step
}

func (p *Pool) execute(ctx context.Context, steps []Step) error {
	r := &run{p: p, drainedAt: map[string]time.Time{}, removed: map[string]bool{}, unapplied: map[string]string{}, failed: map[string]bool{}}
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return r.settle(ctx, fmt.Errorf("pool %q stopped before step %d of %d (%s): %w", p.spec.Key, i+1, len(steps), st, err))
		}
		p.progress(st.Kind, st.Nodes, "step %d/%d: %s", i+1, len(steps), st)
		if st.Kind == StepDrain && len(r.deferred) > 0 {
			// A replacement that failed to build must not be paid for with capacity.
			return fmt.Errorf("pool %q stopped before step %d of %d (%s), nodes failed to build: %w",
				p.spec.Key, i+1, len(steps), st, errors.Join(append(r.deferred, r.awaitDeletes())...))
		}
		st.Nodes = r.withoutFailed(st)
		if !overlapsDeletes(st.Kind) {
			if err := r.finishDeletes(ctx); err != nil {
				return r.settle(ctx, fmt.Errorf("pool %q, before step %d of %d (%s): %w", p.spec.Key, i+1, len(steps), st, err))
			}
		}
		if err := r.do(ctx, st); err != nil {
			return r.settle(ctx, fmt.Errorf("pool %q, step %d of %d (%s): %w", p.spec.Key, i+1, len(steps), st, err))
		}
	}
	if err := r.finishDeletes(ctx); err != nil {
		return r.settle(ctx, fmt.Errorf("pool %q, deleting servers: %w", p.spec.Key, err))
	}
	return errors.Join(r.deferred...)
}

// overlapsDeletes says whether a step may run while the servers of the batch before it are
// being deleted. Their members are gone, so they serve nothing: the health gate and the next
// batch's drain and drain wait run meanwhile. Every other step waits until they are gone (and
// the remaining members are healthy still), the next batch's member removal among them, so that
// one batch's servers are deleted at a time, and a failed deletion stops the scale-back before
// another node leaves the pool (settle then puts the drained batch back in service).
func overlapsDeletes(k StepKind) bool {
	return k == StepHealthGate || k == StepDrain || k == StepDrainWait
}

// withoutFailed drops nodes that failed to build from the scale-out steps after them.
func (r *run) withoutFailed(st Step) []string {
	if len(r.failed) == 0 || st.Kind == StepCreate {
		return st.Nodes
	}
	var out []string
	for _, n := range st.Nodes {
		if !r.failed[n] {
			out = append(out, n)
		}
	}
	return out
}

// buildFailed records a node that could not be built. Cancellation is not a build
// failure: it stops the run.
func (r *run) buildFailed(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed[name] = true
	r.deferred = append(r.deferred, err)
	return nil
}

func (r *run) do(ctx context.Context, st Step) error {
	switch st.Kind {
	case StepRemoveOrphans:
		return r.removeOrphans(ctx, st)
	case StepDelete:
		return r.deleteServers(ctx, st)
	case StepRestore:
		return r.restore(ctx, st.Nodes)
	case StepCreate:
		return r.create(ctx, st)
	case StepJoin:
		return r.join(ctx, st)
	case StepWaitOnline:
		return r.waitOnline(ctx, st)
	case StepRebootCheck:
		return r.rebootCheck(ctx, st)
	case StepDrain:
		return r.drain(ctx, st)
	case StepDrainWait:
		return r.drainWait(ctx, st)
	case StepRemoveMembers:
		return r.removeMembers(ctx, st)
	case StepHealthGate:
		return r.healthGate(ctx, st)
	}
	return fmt.Errorf("unknown step kind %q", st.Kind)
}

// node returns the current record of a node named by the plan.
func (r *run) node(name string) (Node, error) {
	n, ok := r.p.node(name)
	if !ok {
		return Node{}, fmt.Errorf("node %s is not known to pool %q", name, r.p.spec.Key)
	}
	return n, nil
}

// parallel runs f for 0..n-1 with at most limit at once and joins the errors.
func parallel(ctx context.Context, n, limit int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
