package scaling

import (
	"context"
	"strings"
)

// waveJoiner joins the nodes of a scale-out larger than MaxParallel wave by wave while the
// later waves still build, so that capacity serves as soon as it exists: one member update
// whenever at least a wave's worth of nodes (MaxParallel) is built and not yet joined.
// Nodes built meanwhile go into the next update. Whatever is left when the builds end is
// joined by the plan's join step, which skips the members already there; a wave whose update
// failed is retried there too, so a wave's error is reported, not lost.
type waveJoiner struct {
	r     *run
	size  int
	ready chan string
	done  chan struct{}
	// finished is set by the first finish; later calls do nothing.
	finished bool
}

// joinWaves starts joining the nodes a create step builds in waves of wave nodes, as the plan
// says (Step.Wave); with wave 0 it returns nil, a joiner that does nothing. Every node fits in
// the queue, so that a build never waits for a wave's update.
func (r *run) joinWaves(ctx context.Context, wave, nodes int) *waveJoiner {
	if wave <= 0 {
		return nil
	}
	w := &waveJoiner{r: r, size: wave, ready: make(chan string, nodes), done: make(chan struct{})}
	go w.loop(ctx)
	return w
}

// built hands over a node whose server is ACTIVE.
func (w *waveJoiner) built(name string) {
	if w != nil {
		w.ready <- name
	}
}

// finish waits for the update in flight, if any; the nodes not joined yet are the join
// step's. Only the create step's goroutine calls it, after its builds returned.
func (w *waveJoiner) finish() {
	if w == nil || w.finished {
		return
	}
	w.finished = true
	close(w.ready)
	<-w.done
}

func (w *waveJoiner) loop(ctx context.Context) {
	defer close(w.done)
	var wave []string
	for name := range w.ready {
		wave = append(wave, name)
		for len(w.ready) > 0 { // whatever else is built already goes into the same update
			wave = append(wave, <-w.ready)
		}
		if len(wave) < w.size || ctx.Err() != nil {
			continue
		}
		p := w.r.p
		p.progress(StepJoin, wave, "joining %s, built while the other nodes build", strings.Join(wave, ", "))
		if err := w.r.addMembers(ctx, wave); err != nil {
			p.progress(StepJoin, wave, "joining %s while the others build failed, the join after the builds tries again: %v", strings.Join(wave, ", "), err)
		}
		wave = nil
	}
}
