package devcloud

import (
	"sync"
	"time"
)

// Event is one entry of the devcloud timeline.
type Event struct {
	Time  time.Time      `json:"time"`
	Kind  string         `json:"kind"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(kind string, attrs map[string]any) {
	l.mu.Lock()
	// The timestamp is taken under the lock so that the slice order and the times agree.
	l.events = append(l.events, Event{Time: time.Now().UTC(), Kind: kind, Attrs: attrs})
	l.mu.Unlock()
}

func (l *eventLog) clear() {
	l.mu.Lock()
	l.events = nil
	l.mu.Unlock()
}

// Events returns the timeline in order.
func (c *Cloud) Events() []Event {
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	return append([]Event(nil), c.events.events...)
}

// Event appends to the timeline; the Octavia service calls it through its Env.
func (c *Cloud) Event(kind string, attrs map[string]any) { c.events.add(kind, attrs) }
