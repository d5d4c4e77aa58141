package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// scaleInWatch checks the staggered scale-in from the APIs, on any cloud: while an apply
// runs, it polls Octavia's member list and Nova's server list and records, per node, when its
// member was first seen drained (weight 0 or admin_state_up false), when the member was first
// seen gone and when the server was first seen gone. Terraform's state says nothing about the
// order in which these happened; the clouds' own lists do.
type scaleInWatch struct {
	target accTarget
	poolID string
	pool   string // the pool's name (server metadata)
	every  time.Duration

	mu         sync.Mutex
	nodes      map[string]*watchedNode // by server id
	violations []string
	polls      int
	pollErrs   int
	// minServing is the fewest pool nodes seen serving at once (member present, weight > 0,
	// admin up): a rolling replacement must keep it at the pool's size.
	minServing int
	lastErr    error

	stop chan struct{}
	done chan struct{}
}

type watchedNode struct {
	name, address                     string
	drainedAt, memberGoneAt, goneAt   time.Time
	memberSeen, drainedSeen, goneSeen bool
}

func newScaleInWatch(target accTarget, pool, poolID string) *scaleInWatch {
	every := 150 * time.Millisecond
	if target.Dev != nil {
		every = 10 * time.Millisecond
	}
	return &scaleInWatch{target: target, pool: pool, poolID: poolID, every: every, nodes: map[string]*watchedNode{}, minServing: -1}
}

// start takes the first snapshot synchronously (so every node that exists before the apply is
// known) and then keeps polling until finish.
func (w *scaleInWatch) start() error {
	if err := w.poll(); err != nil {
		return fmt.Errorf("first snapshot: %w", err)
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(w.every):
			}
			if err := w.poll(); err != nil {
				w.mu.Lock()
				w.pollErrs++
				w.lastErr = err
				w.mu.Unlock()
			}
		}
	}()
	return nil
}

func (w *scaleInWatch) poll() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lb, err := w.target.Client.LoadBalancer(ctx, "")
	if err != nil {
		return err
	}
	members, err := lb.ListMembers(ctx, w.poolID)
	if err != nil {
		return err
	}
	// Nova is read after Octavia: a server seen gone here whose member was still listed a
	// moment earlier was deleted while still a member (or within one poll of its removal).
	servers, err := poolServers(ctx, w.target, w.pool)
	if err != nil {
		return err
	}
	now := time.Now()
	byAddr := map[string]scaling.Member{}
	for _, m := range members {
		byAddr[m.Address] = m
	}
	present := map[string]scaling.Server{}
	for _, s := range servers {
		present[s.ID] = s
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	for _, s := range servers {
		if _, ok := w.nodes[s.ID]; !ok && s.Address != "" {
			w.nodes[s.ID] = &watchedNode{name: s.Name, address: s.Address}
		}
	}
	// Drained and still a member: the server of a node whose member is gone serves nothing,
	// and may be deleted while the next node drains.
	draining := []string{}
	serving := 0
	for id, n := range w.nodes {
		m, isMember := byAddr[n.address]
		_, exists := present[id]
		if isMember {
			n.memberSeen = true
			if m.Weight > 0 && m.AdminStateUp {
				serving++
			}
			if (m.Weight == 0 || !m.AdminStateUp) && !n.drainedSeen {
				n.drainedSeen, n.drainedAt = true, now
			}
		} else if n.memberSeen && n.memberGoneAt.IsZero() {
			n.memberGoneAt = now
			if !n.drainedSeen {
				w.violations = append(w.violations, fmt.Sprintf("%s: member removed without being drained first", n.name))
			}
		}
		if !exists && !n.goneSeen {
			n.goneSeen, n.goneAt = true, now
			if isMember {
				w.violations = append(w.violations, fmt.Sprintf("%s: server gone while still a pool member", n.name))
			}
		}
		if n.drainedSeen && isMember && !n.goneSeen {
			draining = append(draining, n.name)
		}
	}
	if w.minServing < 0 || serving < w.minServing {
		w.minServing = serving
	}
	if len(draining) > 1 {
		sort.Strings(draining)
		w.violations = append(w.violations, fmt.Sprintf("%d nodes drained at once: %s", len(draining), strings.Join(draining, ", ")))
	}
	return nil
}

// finish stops polling, takes a last snapshot and returns the nodes in the order their drain
// was first seen, after checking: each node drained, then its member removed no sooner than
// drainTimeout (less one poll) after the drain, then its server gone; one node drained at a
// time, and removed only once the server of the one before is gone.
func (w *scaleInWatch) finish(drainTimeout time.Duration) ([]string, error) {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop = nil
	}
	if err := w.poll(); err != nil {
		return nil, fmt.Errorf("last snapshot: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pollErrs > w.polls/10 {
		return nil, fmt.Errorf("%d of %d polls failed (last: %v): the watch saw too little", w.pollErrs, w.polls+w.pollErrs, w.lastErr)
	}
	if len(w.violations) > 0 {
		return nil, fmt.Errorf("staggered scale-in broken, as seen from the APIs: %s", strings.Join(w.violations, "; "))
	}
	var gone []*watchedNode
	for _, n := range w.nodes {
		if n.goneSeen {
			gone = append(gone, n)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].drainedAt.Before(gone[j].drainedAt) })
	var order []string
	for i, n := range gone {
		if !n.drainedSeen || n.memberGoneAt.IsZero() {
			return nil, fmt.Errorf("%s disappeared without a drain and a member removal seen", n.name)
		}
		if held := n.memberGoneAt.Sub(n.drainedAt); held < drainTimeout-w.every {
			return nil, fmt.Errorf("%s: member removed %s after its drain was seen, before the drain timeout %s", n.name, held, drainTimeout)
		}
		if n.goneAt.Before(n.memberGoneAt) {
			return nil, fmt.Errorf("%s: server gone before its member", n.name)
		}
		// The next node may drain while the server of the one before is deleted (its member is
		// gone, it serves nothing), but it leaves the pool only once that server is gone.
		if i > 0 && n.drainedAt.Before(gone[i-1].memberGoneAt) {
			return nil, fmt.Errorf("%s drained before the member of %s was removed", n.name, gone[i-1].name)
		}
		if i > 0 && n.memberGoneAt.Before(gone[i-1].goneAt) {
			return nil, fmt.Errorf("%s removed from the pool before the server of %s was gone", n.name, gone[i-1].name)
		}
		order = append(order, n.name)
	}
	return order, nil
}

func (w *scaleInWatch) fewestServing() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.minServing
}

func (w *scaleInWatch) pollsDone() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.polls
}
