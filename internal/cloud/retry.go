package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryPolicy says which requests the shared HTTP client retries and how long it waits.
type RetryPolicy struct {
	MaxRetries int
	// WaitMin and WaitMax bound the exponential backoff (with jitter) used when the cloud
	// gives no Retry-After.
	WaitMin time.Duration
	WaitMax time.Duration
	// RetryAfterMax caps how long a Retry-After header may make us wait.
	RetryAfterMax time.Duration
}

// DefaultRetryPolicy is used when the provider sets nothing but max_retries.
func DefaultRetryPolicy(maxRetries int) RetryPolicy {
	return RetryPolicy{MaxRetries: maxRetries, WaitMin: 500 * time.Millisecond, WaitMax: 30 * time.Second, RetryAfterMax: 2 * time.Minute}
}

// NewHTTPClient returns the one go-retryablehttp client every OpenStack service shares.
//
// It retries transport errors and 429/502/503/504 for GET, HEAD, PUT, DELETE and OPTIONS,
// which OpenStack APIs treat as idempotent. A POST is retried only when the cloud cannot have
// acted on it: the connection was never made, or the answer was 429 (rate limited, not
// processed). Everything else about a POST — a 5xx, a reset after the body was sent — is
// returned to the caller, which looks the object up before creating it again. Keystone's
// POST /auth/tokens creates nothing the user owns, so it is retried like a GET.
// Octavia's 409 "immutable" is not the HTTP layer's business: the waiters handle it.
//
// WithRequestLog adds the request log, below the retries so that each attempt is logged.
func NewHTTPClient(policy RetryPolicy, tlsConfig *tls.Config, logf func(format string, args ...any), opts ...HTTPOption) http.Client {
	var o httpOptions
	for _, opt := range opts {
		opt(&o)
	}
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.RetryMax = policy.MaxRetries
	rc.RetryWaitMin = policy.WaitMin
	rc.RetryWaitMax = policy.WaitMax
	rc.CheckRetry = checkRetry
	rc.Backoff = policy.backoff
	// Hand the last response back untouched so gophercloud turns the cloud's own error body
	// into its error, instead of retryablehttp's "giving up after N attempts".
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		transport.TLSClientConfig = tlsConfig
	}
	var rt http.RoundTripper = idempotencyTaggingTransport{next: transport}
	if o.requestLog != nil {
		rt = newRequestLogTransport(rt, *o.requestLog)
	}
	rc.HTTPClient = &http.Client{Transport: rt}
	if logf != nil {
		rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				// Method and URL only: bodies and headers carry passwords and tokens.
				logf("retrying %s %s (retry %d of %d)", req.Method, RedactURL(req.URL), attempt, policy.MaxRetries)
			}
		}
	}
	return *rc.StandardClient()
}

// retryableMethod reports whether re-sending the request can never create a second object.
func retryableMethod(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	case http.MethodPost:
		return strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/auth/tokens")
	}
	return false
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		switch {
		case neverSent(err):
			return true, nil
		case isPermanentTransportError(err), errors.Is(err, errNotIdempotent):
			return false, err
		}
		return true, nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true, nil
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return resp.Request != nil && retryableMethod(resp.Request), nil
	}
	return false, nil
}

// errNotIdempotent marks a transport error on a request that must not be re-sent: the
// server may have received it. retryablehttp hands CheckRetry no request along with a
// transport error, so the transport below tags the error instead.
var errNotIdempotent = errors.New("not re-sent: the cloud may have acted on it")

type idempotencyTaggingTransport struct{ next http.RoundTripper }

func (t idempotencyTaggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil && !retryableMethod(req) && !neverSent(err) {
		return resp, fmt.Errorf("%w (%w)", err, errNotIdempotent)
	}
	return resp, err
}

// neverSent reports a failure to connect at all: the server cannot have acted on it.
func neverSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && !dnsErr.IsTimeout
}

func isPermanentTransportError(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &verifyErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "unsupported protocol scheme")
}

// backoff honours Retry-After (seconds or an HTTP date) and otherwise waits a capped
// exponential time with full jitter, so many clients rate-limited together spread out.
func (p RetryPolicy) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			if p.RetryAfterMax > 0 && d > p.RetryAfterMax {
				d = p.RetryAfterMax
			}
			return d
		}
	}
	ceiling := float64(minWait) * math.Pow(2, float64(attempt))
	if ceiling > float64(maxWait) || math.IsInf(ceiling, 0) {
		ceiling = float64(maxWait)
	}
	if ceiling <= float64(minWait) {
		return minWait
	}
	return minWait + time.Duration(rand.Int64N(int64(ceiling)-int64(minWait)))
}

func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
