package provider

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// eventID is the id of an eventscale_event: "<name>@<starts_at>/<ends_at>", the event's name
// and its ISO 8601 time interval. The window travels in the id because a pool or replica that
// references the event must enforce the freeze in its own plan and apply, where Terraform
// gives a resource no access to another resource's state.
func eventID(name string, starts, ends time.Time) string {
	return name + "@" + starts.UTC().Format(time.RFC3339) + "/" + ends.UTC().Format(time.RFC3339)
}

// parseEventID splits an event id into its name and window.
func parseEventID(id string) (name string, starts, ends time.Time, err error) {
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

// checkFreeze refuses a shrink or destroy between the event's start and end unless the
// configuration says allow_during_event = true. It returns nil when no event is referenced.
func checkFreeze(eventIDValue types.String, allow types.Bool, now time.Time) error {
	if eventIDValue.IsNull() || eventIDValue.IsUnknown() || eventIDValue.ValueString() == "" {
		return nil
	}
	name, starts, ends, err := parseEventID(eventIDValue.ValueString())
	if err != nil {
		return err
	}
	if now.Before(starts) || !now.Before(ends) {
		return nil
	}
	if allow.ValueBool() {
		return nil
	}
	return fmt.Errorf("event %q runs from %s to %s (now %s): capacity must not shrink while the event is live. "+
		"Wait until %s, or set allow_during_event = true on this resource if the reduction is intended",
		name, starts.Format(time.RFC3339), ends.Format(time.RFC3339), now.UTC().Format(time.RFC3339), ends.Format(time.RFC3339))
}
