package loadtest

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxFirstErrors is how many distinct error messages a Result keeps: enough to tell a refused
// connection from a timeout from a 503, few enough to read in a Terraform diagnostic.
const maxFirstErrors = 5

// maxBackends bounds the distinct backend names a run keeps: a header that is not a backend's
// name (a request id) must not grow the counts with every request.
const maxBackends = 1000

// OtherBackends is the name the counts of backends beyond the first maxBackends are kept under.
const OtherBackends = "(other backends)"

// attackName is sent as the X-Vegeta-Attack header, so the target's access logs can tell the
// rehearsal's traffic from real users'.
const attackName = "eventscale-load-test"

// Result summarises a run. Rates are per second; latencies span from sending a request to having
// read its whole response.
type Result struct {
	StartedAt time.Time
	// Elapsed is the wall time from the start of the run until the last response arrived.
	Elapsed time.Duration

	Requests  uint64  // requests sent (each got a response, an error or a timeout)
	Successes uint64  // responses with a 2xx or 3xx status
	Rate      float64 // requests attempted per second
	// Throughput is successful responses per second, including the time spent waiting for the
	// last responses.
	Throughput float64
	Success    float64 // Successes / Requests, 0 to 1

	Latencies Latencies
	// StatusCodes counts responses by status code; "0" counts requests that got no HTTP response
	// (connection refused, timeout, reset).
	StatusCodes map[string]int
	// FirstErrors holds the first distinct error messages, in the order they first occurred.
	FirstErrors []string
	// Series has one point per second of the run, by the time each request was sent.
	Series []Point
	// Stopped is true when the context ended the run before Duration.
	Stopped bool

	// Backends counts HTTP responses by the value of Spec.Backends.Header (the backend that
	// answered); nil when no header was configured. WithoutBackend counts the HTTP responses that
	// lacked it. Requests without an HTTP response are in neither (StatusCodes["0"]).
	Backends       map[string]BackendCount
	WithoutBackend uint64
}

// Latencies are computed over every request of the run, failed ones included: a timeout that
// took 10 s is exactly what an operator needs to see in the p99.
type Latencies struct {
	P50, P90, P95, P99, Max, Mean time.Duration
}

// Point is one second of a run.
type Point struct {
	Second    int // seconds since the start: the point covers [Second, Second+1)
	Requests  int // requests sent during that second
	Successes int
	P50       time.Duration
	P95       time.Duration
	Max       time.Duration
}

// Run validates spec and then runs it, blocking for spec.Duration plus the time the last
// responses take (at most spec.Timeout). When ctx ends first, no further request is sent,
// requests in flight are allowed to finish (each within Timeout), and Run returns what was
// measured together with an error wrapping ctx.Err().
func Run(ctx context.Context, spec Spec) (Result, error) {
	if err := spec.Validate(); err != nil {
		return Result{}, fmt.Errorf("invalid load test of %s: %w", spec.URL, err)
	}

	hdr := http.Header{}
	for k, v := range spec.Headers {
		hdr.Set(k, v)
	}
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: spec.method(), URL: spec.URL, Body: spec.Body, Header: hdr})

	client, transport := newClient(spec)
	defer transport.CloseIdleConnections()
	opts := []func(*vegeta.Attacker){
		vegeta.Client(client),
		// Bodies are read and discarded: keeping them would hold every response of the run in memory.
		vegeta.MaxBody(0),
	}
	if spec.MaxWorkers > 0 {
		opts = append(opts, vegeta.MaxWorkers(uint64(spec.MaxWorkers)))
	}
	attacker := vegeta.NewAttacker(opts...)

	start := time.Now()
	results := attacker.Attack(targeter, pacer(spec), spec.Duration, attackName)

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			attacker.Stop()
		case <-done:
		}
	}()

	agg := newAggregator(start, spec.Duration, spec.Backends.Header)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
collect:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break collect
			}
			agg.add(r)
		case now := <-tick.C:
			if spec.Progress != nil {
				spec.Progress(Progress{Elapsed: now.Sub(start), Requests: agg.metrics.Requests, Successes: agg.successes})
			}
		}
	}

	res := agg.result(time.Since(start))
	if err := ctx.Err(); err != nil {
		res.Stopped = true
		return res, fmt.Errorf("load test of %s stopped after %s with %d requests sent: %w",
			spec.URL, res.Elapsed.Round(time.Millisecond), res.Requests, err)
	}
	return res, nil
}

func pacer(spec Spec) vegeta.Pacer {
	if !spec.IsRamp() {
		return vegeta.ConstantPacer{Freq: spec.Rate, Per: time.Second}
	}
	return vegeta.LinearPacer{
		StartAt: vegeta.Rate{Freq: spec.RampFrom, Per: time.Second},
		Slope:   float64(spec.RampTo-spec.RampFrom) / spec.Duration.Seconds(),
	}
}

// newClient builds the attacker's HTTP client ourselves (rather than taking vegeta's default) so
// that its idle connections can be closed after the run: a provider process runs several tests and
// would otherwise keep every keep-alive connection of every run open.
func newClient(spec Spec) (*http.Client, *http.Transport) {
	timeout := spec.timeout()
	idle := MaxWorkersCap
	if spec.MaxWorkers > 0 {
		idle = spec.MaxWorkers
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: transport}, transport
}

type aggregator struct {
	start     time.Time
	metrics   vegeta.Metrics
	successes uint64
	buckets   [][]time.Duration // latencies of the requests sent in each second
	bucketOK  []int
	lastSent  int // highest bucket that received a request

	backendHeader  string
	backends       map[string]BackendCount
	withoutBackend uint64
}

func newAggregator(start time.Time, d time.Duration, backendHeader string) *aggregator {
	n := int(d / time.Second)
	a := &aggregator{start: start, buckets: make([][]time.Duration, n), bucketOK: make([]int, n), lastSent: -1,
		backendHeader: backendHeader}
	if backendHeader != "" {
		a.backends = map[string]BackendCount{}
	}
	return a
}

func (a *aggregator) add(r *vegeta.Result) {
	a.metrics.Add(r)
	ok := r.Code >= 200 && r.Code < 400
	if ok {
		a.successes++
	}
	if a.backendHeader != "" && r.Code != 0 {
		if name := strings.TrimSpace(r.Headers.Get(a.backendHeader)); name != "" {
			if _, seen := a.backends[name]; !seen && len(a.backends) >= maxBackends {
				name = OtherBackends
			}
			c := a.backends[name]
			c.Responses++
			if ok {
				c.Successes++
			}
			a.backends[name] = c
		} else {
			a.withoutBackend++
		}
	}
	// vegeta stamps the last request marginally after Duration; it belongs to the last second.
	i := min(max(int(r.Timestamp.Sub(a.start)/time.Second), 0), len(a.buckets)-1)
	a.buckets[i] = append(a.buckets[i], r.Latency)
	if ok {
		a.bucketOK[i]++
	}
	a.lastSent = max(a.lastSent, i)
}

func (a *aggregator) result(elapsed time.Duration) Result {
	a.metrics.Close()
	m := &a.metrics
	res := Result{
		StartedAt: a.start.UTC(),
		Elapsed:   elapsed,
		Requests:  m.Requests, Successes: a.successes,
		Rate: m.Rate, Throughput: m.Throughput, Success: m.Success,
		Latencies: Latencies{P50: m.Latencies.P50, P90: m.Latencies.P90, P95: m.Latencies.P95, P99: m.Latencies.P99,
			Max: m.Latencies.Max, Mean: m.Latencies.Mean},
		StatusCodes: m.StatusCodes,
		FirstErrors: slices.Clone(m.Errors[:min(len(m.Errors), maxFirstErrors)]),
		Backends:    a.backends, WithoutBackend: a.withoutBackend,
	}
	// A run cut short ends at its last busy second; a full run keeps its quiet seconds, because a
	// second in which nothing could be sent is a finding.
	n := len(a.buckets)
	if elapsed < time.Duration(n)*time.Second {
		n = min(n, max(a.lastSent+1, int(math.Ceil(elapsed.Seconds()))))
	}
	res.Series = make([]Point, n)
	for i := range n {
		lat := a.buckets[i]
		slices.Sort(lat)
		p := Point{Second: i, Requests: len(lat), Successes: a.bucketOK[i]}
		if len(lat) > 0 {
			p.P50, p.P95, p.Max = quantile(lat, 0.50), quantile(lat, 0.95), lat[len(lat)-1]
		}
		res.Series[i] = p
	}
	return res
}

// quantile is the nearest-rank quantile of sorted, exact for the small per-second samples where
// an estimator would smooth away the spike the chart is meant to show.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
