package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// recorder is a reverse proxy in front of devcloud that notes when each API request arrived:
// devcloud's metrics count requests but keep no times, and the busiest moment is what a
// cloud's rate limit sees. Clients reach it through the auth URL; devcloud builds its catalog
// from the Host header, which the proxy passes on, so every later call comes back through it.
type recorder struct {
	url string
	srv *http.Server

	mu    sync.Mutex
	times []time.Time
}

func startRecorder(target string) (*recorder, error) {
	to, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("recording proxy: devcloud URL %q: %w", target, err)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("recording proxy: listen on 127.0.0.1: %w", err)
	}
	r := &recorder{url: "http://" + ln.Addr().String()}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(to)
			pr.Out.Host = pr.In.Host
		},
		// Clients poll from many goroutines at once: keep their connections to devcloud open
		// rather than opening one per request.
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute},
	}
	r.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/_devcloud/") {
			r.mu.Lock()
			r.times = append(r.times, time.Now())
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	})}
	// Serve returns only when close shuts it down.
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times)
}

// since returns the arrival times of the requests after the first n.
func (r *recorder) since(n int) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times[n:]...)
}

func (r *recorder) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// peakIn is the largest number of requests that arrived within any span of window.
func peakIn(times []time.Time, window time.Duration) int {
	sorted := append([]time.Time(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	best, lo := 0, 0
	for hi := range sorted {
		for sorted[hi].Sub(sorted[lo]) >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
