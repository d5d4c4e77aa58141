package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/event"
)

// eventID is the id of an eventscale_event (event.ID).
func eventID(name string, starts, ends time.Time) string { return event.ID(name, starts, ends) }

// parseEventID splits an event id into its name and window (event.ParseID).
func parseEventID(id string) (name string, starts, ends time.Time, err error) {
	return event.ParseID(id)
}

// checkFreeze is event.CheckFreeze for a resource's event_id and allow_during_event: an
// event_id that is null or not known yet references no event.
func checkFreeze(eventIDValue types.String, allow types.Bool, now time.Time) error {
	if eventIDValue.IsNull() || eventIDValue.IsUnknown() {
		return nil
	}
	return event.CheckFreeze(eventIDValue.ValueString(), allow.ValueBool(), now)
}
