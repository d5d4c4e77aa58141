package event

import (
	"fmt"
	"strings"
	"time"
)

// ID is the id of an event: "<name>@<starts_at>/<ends_at>", the event's name and its ISO 8601
// time interval. The window travels in the id because a pool or replica that references the
// event must enforce the freeze in its own plan and apply, where Terraform gives a resource no
// access to another resource's state.
func ID(name string, starts, ends time.Time) string {
	return name + "@" + starts.UTC().Format(time.RFC3339) + "/" + ends.UTC().Format(time.RFC3339)
}

// ParseID splits an event id into its name and window.
func ParseID(id string) (name string, starts, ends time.Time, err error) {
	at := strings.LastIndex(id, "@")
	if at < 0 {
		return "", starts, ends, fmt.Errorf("event_id %q is not an eventscale_event id (<name>@<starts_at>/<ends_at>)", id)
	}
	window := strings.SplitN(id[at+1:], "/", 2)
	if len(window) != 2 {
		return "", starts, ends, fmt.Errorf("event_id %q has no <starts_at>/<ends_at> window", id)
	}
	if starts, err = time.Parse(time.RFC3339, window[0]); err != nil {
		return "", starts, ends, fmt.Errorf("event_id %q: starts_at: %w", id, err)
	}
	if ends, err = time.Parse(time.RFC3339, window[1]); err != nil {
		return "", starts, ends, fmt.Errorf("event_id %q: ends_at: %w", id, err)
	}
	return id[:at], starts, ends, nil
}
