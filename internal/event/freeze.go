package event

import (
	"fmt"
	"time"
)

// CheckFreeze refuses a shrink or destroy between the event's start and end unless
// allowDuringEvent says the reduction is intended. An empty id is no event: nothing is frozen.
func CheckFreeze(id string, allowDuringEvent bool, now time.Time) error {
	if id == "" {
		return nil
	}
	name, starts, ends, err := ParseID(id)
	if err != nil {
		return err
	}
	if now.Before(starts) || !now.Before(ends) {
		return nil
	}
	if allowDuringEvent {
		return nil
	}
	return fmt.Errorf("event %q runs from %s to %s (now %s): capacity must not shrink while the event is live. "+
		"Wait until %s, or set allow_during_event = true on this resource if the reduction is intended",
		name, starts.Format(time.RFC3339), ends.Format(time.RFC3339), now.UTC().Format(time.RFC3339), ends.Format(time.RFC3339))
}
