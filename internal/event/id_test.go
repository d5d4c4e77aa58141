package event

import (
	"testing"
	"time"
)

func TestEventID_RoundTripsNameAndWindow(t *testing.T) {
	starts := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	ends := starts.Add(4 * time.Hour)
	id := ID("tv-spot@prime", starts, ends)
	name, s, e, err := ParseID(id)
	if err != nil || name != "tv-spot@prime" || !s.Equal(starts) || !e.Equal(ends) {
		t.Fatalf("parse(%q) = %q %v %v %v", id, name, s, e, err)
	}
}
