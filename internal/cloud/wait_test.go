package cloud

import (
	"testing"
	"time"
)

func TestConfiguredPoll_ReadsTheTestInterval(t *testing.T) {
	t.Setenv(pollIntervalEnv, "15ms")
	if p := ConfiguredPoll(); p.Interval != 15*time.Millisecond {
		t.Fatalf("poll = %v", p.Interval)
	}
	t.Setenv(pollIntervalEnv, "soon")
	if p := ConfiguredPoll(); p != DefaultPoll {
		t.Fatalf("an unparsable interval must fall back to the default, got %v", p.Interval)
	}
}

func TestConfigPoll_AnIntervalSetInTheConfigurationWinsOverTheEnvironment(t *testing.T) {
	t.Setenv(pollIntervalEnv, "15ms")
	if p := (Config{PollInterval: 40 * time.Millisecond}).Poll(); p.Interval != 40*time.Millisecond {
		t.Fatalf("poll = %v, want the configuration's 40ms", p.Interval)
	}
	if p := (Config{}).Poll(); p.Interval != 15*time.Millisecond {
		t.Fatalf("poll = %v, want EVENTSCALE_POLL_INTERVAL's 15ms when the configuration sets none", p.Interval)
	}
}
