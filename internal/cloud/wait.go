package cloud

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Poll is how often waiters look at an object in transition. A waiter looks at once, again
// after First, then backs off: towards the end of the transition it expects (Expecting) it
// waits two thirds of the time remaining, down to a twentieth of the transition (never less than
// First), so that it sees the change shortly after it happens, and past that time it backs off
// by half again each look. No wait between two looks is longer than Interval, and each is
// jittered by up to a tenth so that parallel waiters spread out. Real clouds want seconds;
// devcloud with a small time scale wants milliseconds, hence fields rather than constants.
type Poll struct {
	// Interval is the longest wait between two looks (2 s by default).
	Interval time.Duration
	// First is the wait before the second look; 0 means DefaultFirstPoll, and it is never
	// longer than Interval.
	First time.Duration
	// Scale multiplies the expected transition times (0 means 1): the benchmarks run devcloud's
	// model faster than wall time, and scale the intervals and the expectations alike.
	Scale float64

	expect time.Duration // the expected transition time of this wait (0: none known)
}

// DefaultPoll suits real clouds: a change of Nova or Octavia state takes seconds.
var DefaultPoll = Poll{Interval: 2 * time.Second}

// DefaultFirstPoll is the wait before the second look unless Poll.First says otherwise.
const DefaultFirstPoll = 250 * time.Millisecond

// The transitions the waiters expect on a real cloud (Expecting): they shape the back-off, not
// the timeout.
const (
	ExpectLBUpdate     = 5 * time.Second
	ExpectServerBuild  = 30 * time.Second
	ExpectServerDelete = 5 * time.Second
)

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

// Poll is the waiters' poll of this configuration: PollInterval when it is set (the provider's
// poll_interval), otherwise ConfiguredPoll.
func (c Config) Poll() Poll {
	if c.PollInterval > 0 {
		return Poll{Interval: c.PollInterval}
	}
	return ConfiguredPoll()
}

// Scaled is p with its intervals and expected transition times multiplied by scale, for a cloud
// whose time runs 1/scale times faster than wall time.
func (p Poll) Scaled(scale float64) Poll {
	first := p.first()
	p.Interval = time.Duration(float64(p.interval()) * scale)
	p.First = time.Duration(float64(first) * scale)
	p.Scale = scale
	return p
}

// Expecting is p for a transition that usually takes d on a real cloud.
func (p Poll) Expecting(d time.Duration) Poll {
	p.expect = d
	return p
}

func (p Poll) interval() time.Duration {
	if p.Interval <= 0 {
		return DefaultPoll.Interval
	}
	return p.Interval
}

func (p Poll) first() time.Duration {
	f := p.First
	if f <= 0 {
		f = DefaultFirstPoll
	}
	return min(f, p.interval())
}

func (p Poll) expected() time.Duration {
	if p.Scale > 0 {
		return time.Duration(float64(p.expect) * p.Scale)
	}
	return p.expect
}

// next is the wait before the next look of a wait that began elapsed ago and last waited
// prev (0 before the second look), before jitter.
func (p Poll) next(elapsed, prev time.Duration) time.Duration {
	return scaling.NextLook(elapsed, prev, p.expected(), p.first(), p.interval())
}

// jittered spreads d by up to a tenth either way, never above the poll's interval.
func (p Poll) jittered(d time.Duration) time.Duration {
	j := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return min(d+j, p.interval())
}

// waitFor calls refresh until it reports one of target, fails on one of failed or on a
// status outside pending (when pending is non-empty), or ctx ends. It returns the last
// value read so callers can report it. It looks at once, then as Poll describes.
func waitFor[T any](ctx context.Context, p Poll, what string, refresh func(context.Context) (T, string, error),
	pending, target, failed []string) (T, error) {
	var last T
	lastStatus := ""
	start := time.Now()
	var prev time.Duration
	revoked := 0
	for {
		v, status, err := refresh(ctx)
		switch {
		case err != nil && (!tokenRevokedAgain(err) || revoked >= maxRevokedLooks):
			return v, err
		case err != nil:
			// A look is a read: the next one, with the token the client has by then, is as good.
			revoked++
		case slices.Contains(target, status):
			return v, nil
		case slices.Contains(failed, status):
			return v, fmt.Errorf("%s went to %s", what, status)
		case len(pending) > 0 && !slices.Contains(pending, status):
			return v, fmt.Errorf("%s is in unexpected status %q while waiting for %v", what, status, target)
		}
		if err == nil {
			revoked, last, lastStatus = 0, v, status
		}
		prev = p.next(time.Since(start), prev)
		timer := time.NewTimer(p.jittered(prev))
		select {
		case <-ctx.Done():
			timer.Stop()
			return last, fmt.Errorf("waiting for %s to reach %v (last status %q): %w", what, target, lastStatus, ctx.Err())
		case <-timer.C:
		}
	}
}

// maxRevokedLooks is how many looks in a row a wait lets fail with tokenRevokedAgain.
const maxRevokedLooks = 3

// tokenRevokedAgain reports a 401 that came after gophercloud authenticated again: the token
// was revoked once more in between (a Keystone key rotation, a password change, a busy cloud
// revoking tokens in bursts), which the next request, authenticating again, gets past.
func tokenRevokedAgain(err error) bool {
	var again *gophercloud.ErrErrorAfterReauthentication
	return errors.As(err, &again) && gophercloud.ResponseCodeIs(err, http.StatusUnauthorized)
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
