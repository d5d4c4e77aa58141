package loadtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers on 127.0.0.1 with the status chosen by status(n) for the n-th request
// (from 1), after delay, and counts what it answered.
type countingServer struct {
	*httptest.Server
	mu       sync.Mutex
	byStatus map[int]int
	total    atomic.Int64
}

func newCountingServer(t *testing.T, delay time.Duration, status func(n int64) int) *countingServer {
	t.Helper()
	s := &countingServer{byStatus: map[int]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.total.Add(1)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		code := status(n)
		s.mu.Lock()
		s.byStatus[code]++
		s.mu.Unlock()
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "ok\n")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) count(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byStatus[code]
}

func always(code int) func(int64) int { return func(int64) int { return code } }

func within(got, want, tolerance float64) bool {
	return got >= want*(1-tolerance) && got <= want*(1+tolerance)
}

func TestRun_ConstantRateSendsExpectedRequestCountAndOnePointPerSecond(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	var progress atomic.Int32
	spec := Spec{URL: srv.URL + "/health", Rate: 100, Duration: 2 * time.Second,
		Progress: func(Progress) { progress.Add(1) }}

	res, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !within(float64(res.Requests), 200, 0.1) {
		t.Errorf("requests = %d, want 200 ± 10%%", res.Requests)
	}
	if got := srv.total.Load(); got != int64(res.Requests) {
		t.Errorf("server saw %d requests, result counts %d", got, res.Requests)
	}
	if res.Success != 1 || res.Successes != res.Requests || res.StatusCodes["200"] != int(res.Requests) {
		t.Errorf("success = %v, successes = %d, status codes = %v; want every request a 200", res.Success, res.Successes, res.StatusCodes)
	}
	if !within(res.Rate, 100, 0.1) || !within(res.Throughput, 100, 0.1) {
		t.Errorf("rate = %.1f, throughput = %.1f, want about 100", res.Rate, res.Throughput)
	}
	if len(res.Series) != 2 {
		t.Fatalf("series has %d points, want 2 (one per second): %+v", len(res.Series), res.Series)
	}
	sum := 0
	for i, p := range res.Series {
		sum += p.Requests
		if p.Second != i || !within(float64(p.Requests), 100, 0.15) || p.Successes != p.Requests {
			t.Errorf("second %d: %+v, want about 100 requests, all successful", i, p)
		}
		if p.P50 <= 0 || p.P50 > p.P95 || p.P95 > p.Max {
			t.Errorf("second %d: latencies p50 %s, p95 %s, max %s are not ordered", i, p.P50, p.P95, p.Max)
		}
	}
	if sum != int(res.Requests) {
		t.Errorf("series holds %d requests, result %d", sum, res.Requests)
	}
	l := res.Latencies
	if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max || l.Mean <= 0 {
		t.Errorf("latencies not ordered: %+v", l)
	}
	if len(res.FirstErrors) != 0 || res.Stopped {
		t.Errorf("errors %v, stopped %v; want none", res.FirstErrors, res.Stopped)
	}
	if progress.Load() == 0 {
		t.Error("Progress was never called during a 2 s run")
	}
	if res.StartedAt.IsZero() || res.Elapsed < 2*time.Second {
		t.Errorf("started %v, elapsed %s", res.StartedAt, res.Elapsed)
	}
}

func TestRun_ServerErrorsGiveSuccessRatioStatusCountsAndDistinctErrors(t *testing.T) {
	// Every fourth request fails.
	srv := newCountingServer(t, 0, func(n int64) int {
		if n%4 == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	res, err := Run(context.Background(), Spec{URL: srv.URL, Rate: 100, Duration: time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	ok, failed := srv.count(http.StatusOK), srv.count(http.StatusInternalServerError)
	if res.StatusCodes["200"] != ok || res.StatusCodes["500"] != failed || len(res.StatusCodes) != 2 {
		t.Errorf("status codes %v, server answered 200×%d and 500×%d", res.StatusCodes, ok, failed)
	}
	if want := float64(ok) / float64(ok+failed); res.Success != want {
		t.Errorf("success = %v, want %v", res.Success, want)
	}
	if res.Success < 0.74 || res.Success > 0.76 {
		t.Errorf("success = %v, want about 0.75", res.Success)
	}
	if res.Successes != uint64(ok) {
		t.Errorf("successes = %d, want %d", res.Successes, ok)
	}
	if len(res.FirstErrors) != 1 || res.FirstErrors[0] != "500 Internal Server Error" {
		t.Errorf("first errors = %q, want the one distinct 500", res.FirstErrors)
	}
	if res.Throughput >= res.Rate {
		t.Errorf("throughput %.1f should be below the attempted rate %.1f when a quarter fails", res.Throughput, res.Rate)
	}
}

func TestRun_KeepsAtMostFiveDistinctErrors(t *testing.T) {
	codes := []int{500, 501, 502, 503, 504, 505, 507}
	srv := newCountingServer(t, 0, func(n int64) int { return codes[int(n-1)%len(codes)] })
	res, err := Run(context.Background(), Spec{URL: srv.URL, Rate: 50, Duration: time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.FirstErrors) != maxFirstErrors {
		t.Fatalf("first errors = %q, want %d", res.FirstErrors, maxFirstErrors)
	}
	seen := map[string]bool{}
	for _, e := range res.FirstErrors {
		if seen[e] {
			t.Errorf("error %q listed twice", e)
		}
		seen[e] = true
	}
	if res.Success != 0 {
		t.Errorf("success = %v, want 0", res.Success)
	}
}

func TestRun_SendsMethodHeadersAndBody(t *testing.T) {
	type seen struct{ method, host, auth, ctype, body string }
	got := make(chan seen, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Host, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Spec{URL: srv.URL + "/orders", Method: "post", Rate: 10, Duration: time.Second,
		Headers: map[string]string{"Authorization": "Bearer t", "content-type": "application/json", "Host": "shop.example"},
		Body:    []byte(`{"qty":1}`)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests == 0 || res.StatusCodes["201"] != int(res.Requests) {
		t.Fatalf("requests %d, status codes %v", res.Requests, res.StatusCodes)
	}
	s := <-got
	want := seen{"POST", "shop.example", "Bearer t", "application/json", `{"qty":1}`}
	if s != want {
		t.Errorf("server saw %+v, want %+v", s, want)
	}
}

func TestRun_RampIncreasesRateLinearly(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	// 20 → 180 req/s over 2 s: 200 requests, 60 in the first second and 140 in the second.
	res, err := Run(context.Background(), Spec{URL: srv.URL, RampFrom: 20, RampTo: 180, Duration: 2 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !within(float64(res.Requests), 200, 0.1) {
		t.Errorf("requests = %d, want 200 ± 10%%", res.Requests)
	}
	if len(res.Series) != 2 {
		t.Fatalf("series = %+v, want 2 points", res.Series)
	}
	first, second := float64(res.Series[0].Requests), float64(res.Series[1].Requests)
	if !within(first, 60, 0.2) || !within(second, 140, 0.15) {
		t.Errorf("per second %v and %v, want about 60 and 140", first, second)
	}
}

func TestRun_RampDownDecreasesRate(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	res, err := Run(context.Background(), Spec{URL: srv.URL, RampFrom: 150, RampTo: 10, Duration: 2 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Series) != 2 || res.Series[0].Requests <= res.Series[1].Requests {
		t.Errorf("series %+v: want fewer requests in the second second of a ramp down", res.Series)
	}
}

func TestRun_ContextCancellationStopsEarlyAndReturnsPartialResult(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	began := time.Now()
	res, err := Run(ctx, Spec{URL: srv.URL, Rate: 50, Duration: 30 * time.Second})
	took := time.Since(began)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if took > 3*time.Second {
		t.Errorf("Run took %s after a cancel at 300ms", took)
	}
	if !res.Stopped || res.Requests == 0 || res.Requests > 50 {
		t.Errorf("stopped %v with %d requests, want a partial run of about 15", res.Stopped, res.Requests)
	}
	// Stopped within its first second: the series ends there, not at the 30 s the spec asked for
	// (two points if this busy machine took long to drain).
	sum := 0
	for _, p := range res.Series {
		sum += p.Requests
	}
	if len(res.Series) < 1 || len(res.Series) > 2 || sum != int(res.Requests) {
		t.Errorf("series %+v for a run stopped after 300ms with %d requests", res.Series, res.Requests)
	}
	if srv.total.Load() != int64(res.Requests) {
		t.Errorf("server saw %d requests after the stop, result counts %d", srv.total.Load(), res.Requests)
	}
}

func TestRun_MaxWorkersCapsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Spec{URL: srv.URL, Rate: 100, Duration: time.Second, MaxWorkers: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("server saw %d concurrent requests with max_workers 2", p)
	}
	// Two workers at 100 ms per request manage about 20 of the 100 asked for.
	if res.Requests > 30 || res.Rate > 40 {
		t.Errorf("requests %d at %.1f req/s: the worker cap did not limit the rate", res.Requests, res.Rate)
	}
}

func TestRun_TimeoutCountsAsFailureWithoutResponse(t *testing.T) {
	srv := newCountingServer(t, time.Second, always(http.StatusOK))
	res, err := Run(context.Background(), Spec{URL: srv.URL, Rate: 5, Duration: time.Second, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests == 0 || res.StatusCodes["0"] != int(res.Requests) || res.Success != 0 {
		t.Fatalf("requests %d, status codes %v, success %v: want every request timed out", res.Requests, res.StatusCodes, res.Success)
	}
	if len(res.FirstErrors) == 0 || !strings.Contains(res.FirstErrors[0], "Client.Timeout") {
		t.Errorf("first errors %q, want the client timeout", res.FirstErrors)
	}
	if res.Latencies.Max < 100*time.Millisecond || res.Latencies.Max > 900*time.Millisecond {
		t.Errorf("max latency %s, want about the 100ms timeout", res.Latencies.Max)
	}
}

func TestRun_RefusedConnectionIsReportedNotFatal(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	res, err := Run(context.Background(), Spec{URL: url, Rate: 5, Duration: time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests == 0 || res.Success != 0 || res.StatusCodes["0"] != int(res.Requests) {
		t.Errorf("requests %d, success %v, status codes %v", res.Requests, res.Success, res.StatusCodes)
	}
	if len(res.FirstErrors) == 0 || !strings.Contains(res.FirstErrors[0], "refused") {
		t.Errorf("first errors %q, want connection refused", res.FirstErrors)
	}
}

func TestRun_InvalidSpecSendsNothing(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	_, err := Run(context.Background(), Spec{URL: srv.URL, Rate: MaxRate + 1, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "rate 5001 req/s must be between 1 and 5000") {
		t.Fatalf("err = %v, want the rate cap", err)
	}
	if n := srv.total.Load(); n != 0 {
		t.Errorf("server got %d requests from an invalid spec", n)
	}
}
