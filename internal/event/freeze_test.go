package event

import (
	"strings"
	"testing"
	"time"
)

func TestCheckFreeze_RefusesInsideTheWindowOnly(t *testing.T) {
	starts := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	ends := starts.Add(4 * time.Hour)
	id := ID("launch", starts, ends)
	cases := []struct {
		name  string
		now   time.Time
		allow bool
		want  bool
	}{
		{"before", starts.Add(-time.Second), false, false},
		{"at start", starts, false, true},
		{"during", starts.Add(time.Hour), false, true},
		{"during, allowed", starts.Add(time.Hour), true, false},
		{"at end", ends, false, false},
		{"after", ends.Add(time.Hour), false, false},
	}
	for _, c := range cases {
		err := CheckFreeze(id, c.allow, c.now)
		if (err != nil) != c.want {
			t.Errorf("%s: err = %v, want refusal %v", c.name, err, c.want)
		}
		if err != nil && (!strings.Contains(err.Error(), "allow_during_event") || !strings.Contains(err.Error(), "launch")) {
			t.Errorf("%s: error does not say why and how: %v", c.name, err)
		}
	}
}
