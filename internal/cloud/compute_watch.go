package cloud

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// serverWatch answers every wait on a pool's servers with ONE list call per poll, GET
// /servers/detail?tags=<the pool's tag>, whatever the number of servers waited on: a
// scale-out of 50 servers polls one list, not 50 servers. Every list counts as a look for
// every wait, so waits started together poll together, and the list comes as often as the
// wait nearest its expected end needs (Poll). A server missing from the list is read once
// with GET before a wait concludes anything from it (a server without the tag, or gone).
type serverWatch struct {
	c   *Compute
	tag string

	mu      sync.Mutex
	waiters map[*serverWaiter]bool
	wake    chan struct{}
	running bool
}

type serverWaiter struct {
	id   string
	poll Poll
	// start is when the wait began, last when it last had a look; due is its next look.
	start, last, due time.Time
	prev             time.Duration
	seen             chan serverSeen // buffered 1: the latest look replaces an unread one
}

// serverSeen is one look at a server: found is false when the list did not hold it.
type serverSeen struct {
	srv   servers.Server
	found bool
	err   error
}

func newServerWatch(c *Compute, tag string) *serverWatch {
	return &serverWatch{c: c, tag: tag, waiters: map[*serverWaiter]bool{}, wake: make(chan struct{}, 1)}
}

// add registers a wait on id; its first look comes after the poll's first interval, so that
// waits starting together share it.
func (w *serverWatch) add(id string, p Poll) *serverWaiter {
	now := time.Now()
	sw := &serverWaiter{id: id, poll: p, start: now, last: now, seen: make(chan serverSeen, 1)}
	sw.prev = p.next(0, 0)
	sw.due = now.Add(p.jittered(sw.prev))
	w.mu.Lock()
	w.waiters[sw] = true
	if !w.running {
		w.running = true
		go w.loop()
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return sw
}

func (w *serverWatch) remove(sw *serverWaiter) {
	w.mu.Lock()
	delete(w.waiters, sw)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// loop lists the servers whenever the earliest wait is due, until no wait is left.
func (w *serverWatch) loop() {
	for {
		w.mu.Lock()
		if len(w.waiters) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		var due time.Time
		for sw := range w.waiters {
			if due.IsZero() || sw.due.Before(due) {
				due = sw.due
			}
		}
		w.mu.Unlock()
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.wake:
				t.Stop()
				continue // a wait came or went: the earliest due may have changed
			}
		}
		w.look()
	}
}

// look lists the pool's servers once and hands every wait its server; each wait then
// counts it as a look and plans its next one.
func (w *serverWatch) look() {
	// No caller's context: the list serves every wait, and each wait stops on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	found, err := w.list(ctx)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for sw := range w.waiters {
		s, ok := found[sw.id]
		seen := serverSeen{srv: s, found: ok, err: err}
		select {
		case <-sw.seen:
		default:
		}
		sw.seen <- seen
		sw.prev = sw.poll.next(now.Sub(sw.start), max(now.Sub(sw.last), sw.prev))
		sw.last = now
		sw.due = now.Add(sw.poll.jittered(sw.prev))
	}
}

func (w *serverWatch) list(ctx context.Context) (map[string]servers.Server, error) {
	pages, err := servers.List(w.c.Client, servers.ListOpts{Tags: w.tag}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing the servers tagged "+w.tag, err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, apiError("reading the servers tagged "+w.tag, err)
	}
	out := make(map[string]servers.Server, len(all))
	for _, s := range all {
		out[s.ID] = s
	}
	return out, nil
}

// watch waits on one server through the watch: each look (the list, or a GET when the list
// did not hold it) goes to check, which says whether the wait is over. gone is Nova's 404
// when it no longer knows the server, nil otherwise.
func (c *Compute) watch(ctx context.Context, p Poll, id, what string, check func(s *servers.Server, gone error) (bool, error)) error {
	sw := c.watcher.add(id, p)
	defer c.watcher.remove(sw)
	lastStatus := ""
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (last status %q): %w", what, lastStatus, ctx.Err())
		case seen := <-sw.seen:
			if seen.err != nil {
				return seen.err
			}
			s := &seen.srv
			var gone error
			if !seen.found {
				got, err := servers.Get(ctx, c.Client, id).Extract()
				switch {
				case IsNotFound(err):
					gone = apiError("reading server "+id, err)
				case err != nil:
					return apiError("reading server "+id, err)
				default:
					s = got
				}
			}
			if gone == nil {
				lastStatus = s.Status
			}
			if done, err := check(s, gone); done || err != nil {
				return err
			}
		}
	}
}
