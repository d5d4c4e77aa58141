package cloud

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// Poll is how often waiters look at an object. Real clouds want seconds; devcloud with a
// small time scale wants milliseconds, hence a field rather than a constant.
type Poll struct {
	Interval time.Duration
}

// DefaultPoll suits real clouds: a change of Nova or Octavia state takes seconds.
var DefaultPoll = Poll{Interval: 2 * time.Second}

// pollIntervalEnv is the waiters' interval when the configuration sets none: a Go duration
// ("50ms"). The acceptance tests and the demo set it to poll devcloud, whose time runs a hundred
// times faster, every few milliseconds; a real cloud gains nothing from being polled faster than
// DefaultPoll. It is read here and nowhere else.
const pollIntervalEnv = "EVENTSCALE_POLL_INTERVAL"

// ConfiguredPoll is DefaultPoll unless EVENTSCALE_POLL_INTERVAL holds a positive Go duration.
func ConfiguredPoll() Poll {
	if v := os.Getenv(pollIntervalEnv); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return Poll{Interval: d}
		}
	}
	return DefaultPoll
}

// Poll is the waiters' poll of this configuration: PollInterval when it is set, otherwise
// ConfiguredPoll.
func (c Config) Poll() Poll {
	if c.PollInterval > 0 {
		return Poll{Interval: c.PollInterval}
	}
	return ConfiguredPoll()
}

func (p Poll) interval() time.Duration {
	if p.Interval <= 0 {
		return DefaultPoll.Interval
	}
	return p.Interval
}

// waitFor calls refresh until it reports one of target, fails on one of failed or on a
// status outside pending (when pending is non-empty), or ctx ends. It returns the last
// value read so callers can report it.
func waitFor[T any](ctx context.Context, p Poll, what string, refresh func(context.Context) (T, string, error),
	pending, target, failed []string) (T, error) {
	var last T
	lastStatus := ""
	for {
		v, status, err := refresh(ctx)
		if err != nil {
			return v, err
		}
		last, lastStatus = v, status
		switch {
		case slices.Contains(target, status):
			return v, nil
		case slices.Contains(failed, status):
			return v, fmt.Errorf("%s went to %s", what, status)
		case len(pending) > 0 && !slices.Contains(pending, status):
			return v, fmt.Errorf("%s is in unexpected status %q while waiting for %v", what, status, target)
		}
		timer := time.NewTimer(p.interval())
		select {
		case <-ctx.Done():
			timer.Stop()
			return last, fmt.Errorf("waiting for %s to reach %v (last status %q): %w", what, target, lastStatus, ctx.Err())
		case <-timer.C:
		}
	}
}

// waitGone polls get until it answers 404.
func waitGone(ctx context.Context, p Poll, what string, get func(context.Context) (string, error)) error {
	_, err := waitFor(ctx, p, what, func(ctx context.Context) (struct{}, string, error) {
		status, err := get(ctx)
		if IsNotFound(err) {
			return struct{}{}, "GONE", nil
		}
		return struct{}{}, status, err
	}, nil, []string{"GONE"}, []string{"ERROR"})
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
