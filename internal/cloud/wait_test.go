package cloud

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
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

// looks returns the times of the looks a wait with p makes until the transition ends at end.
func looks(p Poll, end time.Duration) []time.Duration {
	var at, prev time.Duration
	out := []time.Duration{0}
	for at < end {
		prev = p.next(at, prev)
		at += prev
		out = append(out, at)
	}
	return out
}

func TestPoll_SeesAnUpdateCycleSoonAfterItEndsWithFewLooks(t *testing.T) {
	p := DefaultPoll.Expecting(ExpectLBUpdate)
	ls := looks(p, ExpectLBUpdate)
	late := ls[len(ls)-1] - ExpectLBUpdate
	if late > ExpectLBUpdate/20 {
		t.Errorf("the end of a %s cycle was seen %s late (looks at %v), want at most a twentieth", ExpectLBUpdate, late, ls)
	}
	if len(ls) > 8 {
		t.Errorf("%d looks for a %s cycle (%v), want at most 8", len(ls), ExpectLBUpdate, ls)
	}
	if ls[1] != DefaultFirstPoll {
		t.Errorf("second look at %s, want the short first poll %s", ls[1], DefaultFirstPoll)
	}
}

func TestPoll_NeverWaitsLongerThanTheIntervalAndBacksOffPastTheExpectedTime(t *testing.T) {
	for _, p := range []Poll{DefaultPoll, DefaultPoll.Expecting(ExpectLBUpdate), DefaultPoll.Expecting(ExpectServerBuild),
		{Interval: 5 * time.Millisecond}, (Poll{Interval: 5 * time.Millisecond, Scale: 0.01}).Expecting(ExpectLBUpdate)} {
		ls := looks(p, 3*time.Minute)
		for i := 1; i < len(ls); i++ {
			if d := ls[i] - ls[i-1]; d > p.interval() {
				t.Fatalf("poll %+v waited %s between two looks, more than its interval %s", p, d, p.interval())
			}
		}
		for i := 0; i < 100; i++ {
			if d := p.jittered(p.interval()); d > p.interval() || d < p.interval()*9/10 {
				t.Fatalf("jittered %s = %s, want within a tenth below", p.interval(), d)
			}
		}
	}
	// Past the expected end the waits grow again, up to the interval.
	p := DefaultPoll.Expecting(ExpectLBUpdate)
	ls := looks(p, time.Minute)
	if last := ls[len(ls)-1] - ls[len(ls)-2]; last != p.interval() {
		t.Errorf("a transition far past its expected time is polled every %s, want the interval %s", last, p.interval())
	}
}

func TestPoll_ScaledRunsTheSameScheduleFaster(t *testing.T) {
	real := looks(DefaultPoll.Expecting(ExpectLBUpdate), ExpectLBUpdate)
	fast := looks(DefaultPoll.Scaled(0.1).Expecting(ExpectLBUpdate), ExpectLBUpdate/10)
	if len(real) != len(fast) {
		t.Fatalf("looks at scale 1 %v, at scale 0.1 %v: want the same schedule", real, fast)
	}
	for i := range real {
		if d := real[i]/10 - fast[i]; d > time.Microsecond || d < -time.Microsecond {
			t.Fatalf("look %d at %s, scaled %s: want a tenth", i, real[i], fast[i])
		}
	}
}

// revokedAgain is the error gophercloud returns when the token was revoked once more between
// its re-authentication and the retried request.
func revokedAgain() error {
	return apiError("reading load balancer lb-1", &gophercloud.ErrErrorAfterReauthentication{
		ErrOriginal: gophercloud.ErrUnexpectedResponseCode{Method: "GET", URL: "/v2/lbaas/loadbalancers/lb-1",
			Expected: []int{200}, Actual: http.StatusUnauthorized}})
}

func TestWaitFor_ALookMeetingATokenRevokedAgainIsLookedAgain(t *testing.T) {
	statuses := []string{"PENDING_UPDATE", "", "", "ACTIVE"}
	looked := 0
	got, err := waitFor(context.Background(), Poll{Interval: time.Millisecond}, "load balancer lb-1",
		func(context.Context) (string, string, error) {
			s := statuses[looked]
			looked++
			if s == "" {
				return "", "", revokedAgain()
			}
			return s, s, nil
		}, loadBalancerPending, []string{"ACTIVE"}, []string{"ERROR"})
	if err != nil || got != "ACTIVE" || looked != 4 {
		t.Fatalf("waitFor = %q, %v after %d looks; want ACTIVE after 4 looks, the two 401s looked past", got, err, looked)
	}
}

func TestWaitFor_TokensRevokedLookAfterLookOrAnyOtherErrorEndTheWait(t *testing.T) {
	looked := 0
	_, err := waitFor(context.Background(), Poll{Interval: time.Millisecond}, "load balancer lb-1",
		func(context.Context) (string, string, error) { looked++; return "", "", revokedAgain() },
		loadBalancerPending, []string{"ACTIVE"}, []string{"ERROR"})
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) || looked != maxRevokedLooks+1 {
		t.Fatalf("err = %v after %d looks, want the 401 after %d looks", err, looked, maxRevokedLooks+1)
	}
	forbidden := apiError("reading load balancer lb-1", gophercloud.ErrUnexpectedResponseCode{Method: "GET",
		URL: "/v2/lbaas/loadbalancers/lb-1", Expected: []int{200}, Actual: http.StatusForbidden})
	looked = 0
	_, err = waitFor(context.Background(), Poll{Interval: time.Millisecond}, "load balancer lb-1",
		func(context.Context) (string, string, error) { looked++; return "", "", forbidden },
		loadBalancerPending, []string{"ACTIVE"}, []string{"ERROR"})
	if !errors.Is(err, forbidden) || looked != 1 {
		t.Fatalf("err = %v after %d looks, want the 403 at the first look", err, looked)
	}
}
