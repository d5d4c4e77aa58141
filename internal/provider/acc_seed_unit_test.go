package provider

import "testing"

func TestSeedServer_UnusableWhenBrokenLeftOverOrMadeByAnEarlierRun(t *testing.T) {
	snap, spawning, empty := "image_snapshot", "spawning", ""
	cases := []struct {
		s    seedServer
		want bool
	}{
		{seedServer{Status: "ACTIVE", PowerState: 1}, false},
		{seedServer{Status: "ACTIVE", PowerState: 1, TaskState: &empty}, false},
		{seedServer{Status: "BUILD", PowerState: 0, TaskState: &spawning}, true}, // a build cut by a restart never ends
		{seedServer{Status: "ERROR"}, true},
		{seedServer{Status: "ACTIVE", PowerState: 0}, true}, // a restarted fake driver forgot it
		{seedServer{Status: "ACTIVE", PowerState: 1, TaskState: &snap}, true},
		// One this harness made on an earlier run: Nova may still say running after a restart.
		{seedServer{Status: "ACTIVE", PowerState: 1, Metadata: map[string]string{accSeedMarker: "true"}}, true},
	}
	for _, c := range cases {
		if got := c.s.unusable() != ""; got != c.want {
			t.Errorf("%+v: unusable = %v (%q), want %v", c.s, got, c.s.unusable(), c.want)
		}
	}
}
