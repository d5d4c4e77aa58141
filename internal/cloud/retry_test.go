package cloud

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers every request with the given status (and header) after recording it.
func countingServer(t *testing.T, status func(n int64) (int, http.Header)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := hits.Add(1)
		code, h := status(n)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"message":"status"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func fastPolicy(maxRetries int) RetryPolicy {
	return RetryPolicy{MaxRetries: maxRetries, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond, RetryAfterMax: 10 * time.Second}
}

// do sends one request through c and returns the final status code; the body is closed here so
// that no test leaks a connection.
func do(t *testing.T, c http.Client, method, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(`{"server":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestRetry_429HonoursRetryAfter(t *testing.T) {
	srv, hits := countingServer(t, func(n int64) (int, http.Header) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"2"}}
		}
		return http.StatusOK, nil
	})
	c := NewHTTPClient(fastPolicy(3), nil, nil)
	start := time.Now()
	status := do(t, c, http.MethodGet, srv.URL)
	waited := time.Since(start)
	if status != http.StatusOK || hits.Load() != 2 {
		t.Fatalf("status %d after %d requests, want 200 after 2", status, hits.Load())
	}
	if waited < 1900*time.Millisecond || waited > 4*time.Second {
		t.Fatalf("waited %v, want about the 2 s the cloud asked for", waited)
	}
}

func TestRetry_PostAnswered500IsNotResent(t *testing.T) {
	srv, hits := countingServer(t, func(int64) (int, http.Header) { return http.StatusInternalServerError, nil })
	status := do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodPost, srv.URL+"/compute/v2.1/servers")
	if status != http.StatusInternalServerError || hits.Load() != 1 {
		t.Fatalf("status %d after %d requests, want the 500 after exactly 1", status, hits.Load())
	}
}

func TestRetry_PostAnswered503IsNotResent(t *testing.T) {
	srv, hits := countingServer(t, func(int64) (int, http.Header) { return http.StatusServiceUnavailable, nil })
	do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodPost, srv.URL+"/compute/v2.1/servers")
	if hits.Load() != 1 {
		t.Fatalf("a creating POST was sent %d times", hits.Load())
	}
}

func TestRetry_PostAnswered429IsResent(t *testing.T) {
	srv, hits := countingServer(t, func(n int64) (int, http.Header) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"0"}}
		}
		return http.StatusAccepted, nil
	})
	status := do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodPost, srv.URL+"/compute/v2.1/servers")
	if status != http.StatusAccepted || hits.Load() != 2 {
		t.Fatalf("status %d after %d requests", status, hits.Load())
	}
}

func TestRetry_GetAnswered503IsRetried(t *testing.T) {
	srv, hits := countingServer(t, func(n int64) (int, http.Header) {
		if n < 3 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	status := do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodGet, srv.URL)
	if status != http.StatusOK || hits.Load() != 3 {
		t.Fatalf("status %d after %d requests, want 200 after 3", status, hits.Load())
	}
}

func TestRetry_MaxRetriesIsHonoured(t *testing.T) {
	for _, max := range []int{0, 1, 4} {
		srv, hits := countingServer(t, func(int64) (int, http.Header) { return http.StatusBadGateway, nil })
		status := do(t, NewHTTPClient(fastPolicy(max), nil, nil), http.MethodDelete, srv.URL)
		if status != http.StatusBadGateway {
			t.Fatalf("max_retries=%d: final status %d, want the cloud's 502 passed through", max, status)
		}
		if got := hits.Load(); got != int64(max+1) {
			t.Fatalf("max_retries=%d: %d requests, want %d", max, got, max+1)
		}
	}
}

func TestRetry_401IsNotRetried(t *testing.T) {
	srv, hits := countingServer(t, func(int64) (int, http.Header) { return http.StatusUnauthorized, nil })
	do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodGet, srv.URL)
	if hits.Load() != 1 {
		t.Fatalf("401 was sent %d times", hits.Load())
	}
}

func TestRetry_409IsLeftToTheWaiters(t *testing.T) {
	srv, hits := countingServer(t, func(int64) (int, http.Header) { return http.StatusConflict, nil })
	do(t, NewHTTPClient(fastPolicy(5), nil, nil), http.MethodPut, srv.URL)
	if hits.Load() != 1 {
		t.Fatalf("409 was sent %d times", hits.Load())
	}
}

func TestRetry_ConnectionRefusedIsRetriedEvenForPost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: every dial is refused
	var attempts atomic.Int64
	c := NewHTTPClient(fastPolicy(2), nil, func(string, ...any) { attempts.Add(1) })
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/compute/v2.1/servers", strings.NewReader("{}"))
	resp, err := c.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("want an error from a refused connection")
	}
	if attempts.Load() != 2 {
		t.Fatalf("logged %d retries, want 2", attempts.Load())
	}
}

func TestRetry_PostCutAfterSendingIsNotResent(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // the server got the request, then the connection dropped
		}
	}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/compute/v2.1/servers", strings.NewReader("{}"))
	postClient := NewHTTPClient(fastPolicy(3), nil, nil)
	if resp, err := postClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("want the transport error")
	}
	if hits.Load() != 1 {
		t.Fatalf("POST reached the server %d times, want 1", hits.Load())
	}
	getReq, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	getClient := NewHTTPClient(fastPolicy(3), nil, nil)
	// Every attempt is cut, so the client ends in an error; only the hit count matters here.
	if resp, err := getClient.Do(getReq); err == nil {
		_ = resp.Body.Close()
	}
	if hits.Load() != 1+4 {
		t.Fatalf("GET reached the server %d times, want 4 (1 + 3 retries)", hits.Load()-1)
	}
}

func TestBackoff_JitterStaysWithinTheCap(t *testing.T) {
	p := RetryPolicy{WaitMin: 100 * time.Millisecond, WaitMax: time.Second}
	for attempt := 0; attempt < 20; attempt++ {
		d := p.backoff(p.WaitMin, p.WaitMax, attempt, nil)
		if d < p.WaitMin || d > p.WaitMax {
			t.Fatalf("attempt %d waited %v, outside [%v, %v]", attempt, d, p.WaitMin, p.WaitMax)
		}
	}
}

func TestRetryAfter_AcceptsSecondsAndHTTPDates(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if d, ok := retryAfter("7", now); !ok || d != 7*time.Second {
		t.Fatalf("seconds: %v %v", d, ok)
	}
	if d, ok := retryAfter(now.Add(3*time.Second).Format(http.TimeFormat), now); !ok || d != 3*time.Second {
		t.Fatalf("date: %v %v", d, ok)
	}
	if _, ok := retryAfter("soon", now); ok {
		t.Fatal("garbage accepted")
	}
}
