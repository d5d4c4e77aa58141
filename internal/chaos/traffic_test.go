package chaos

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// vipTarget is the URL of the load balancer's VIP listener, known once the load balancer
// exists ("" before).
type vipTarget struct{ url atomic.Pointer[string] }

func (v *vipTarget) set(url string) { v.url.Store(&url) }

func (v *vipTarget) get() string {
	if p := v.url.Load(); p != nil {
		return *p
	}
	return ""
}

// healthGate is the web pool's health_check_url: the VIP, behind a door the suite can shut.
// A real site's health URL is the VIP (or a name in front of it); shutting the door is the
// tier going bad in the middle of a scale-in, which the gate must notice and stop at.
type healthGate struct {
	srv    *http.Server
	url    string
	vip    *vipTarget
	client *http.Client
	// failing, when set and true, makes the gate answer 503 instead of asking the VIP.
	failing atomic.Pointer[func() bool]
	asked   atomic.Int64
	refused atomic.Int64
}

func startHealthGate(vip *vipTarget) (*healthGate, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &healthGate{vip: vip, url: "http://" + ln.Addr().String() + "/", client: &http.Client{Timeout: 5 * time.Second}}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

func (g *healthGate) serve(w http.ResponseWriter, r *http.Request) {
	g.asked.Add(1)
	if f := g.failing.Load(); f != nil && (*f)() {
		g.refused.Add(1)
		http.Error(w, "the tier is failing (injected)", http.StatusServiceUnavailable)
		return
	}
	target := g.vip.get()
	if target == "" {
		http.Error(w, "no VIP yet", http.StatusServiceUnavailable)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := g.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

// failWhen makes the gate answer 503 while cond holds (nil: never).
func (g *healthGate) failWhen(cond func() bool) {
	if cond == nil {
		g.failing.Store(nil)
		return
	}
	g.failing.Store(&cond)
}

func (g *healthGate) close() { _ = g.srv.Close() }

// traffic is a visitor's steady load on the VIP: every request that does not get a 2xx is
// a request lost.
type traffic struct {
	vip    *vipTarget
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
	client *http.Client

	mu       sync.Mutex
	sent     int64
	failed   int64
	byReason map[string]int64
}

// trafficRate is each schedule's load: web01 alone serves 50 req/s, so it never saturates.
const trafficRate = 10

func startTraffic(vip *vipTarget) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	l := &traffic{vip: vip, cancel: cancel, done: make(chan struct{}), byReason: map[string]int64{},
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(time.Second / trafficRate)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				url := vip.get()
				if url == "" {
					continue
				}
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					l.record(l.get(url))
				}()
			}
		}
	}()
	return l
}

// get sends one request under its own context: stopping the load never cancels a request in
// flight, so a failure is the tier's.
func (l *traffic) get(url string) string {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err.Error()
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch {
	case err != nil:
		return "reading the response: " + err.Error()
	case resp.StatusCode >= 300:
		return resp.Status
	}
	return ""
}

func (l *traffic) record(failure string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	if failure != "" {
		l.failed++
		l.byReason[failure]++
	}
}

// stop ends the load, waits for the requests in flight and returns the count.
func (l *traffic) stop() (sent, failed int64, reasons string) {
	l.cancel()
	<-l.done
	l.wg.Wait()
	l.client.CloseIdleConnections()
	l.mu.Lock()
	defer l.mu.Unlock()
	var rs []string
	for r, n := range l.byReason {
		rs = append(rs, fmt.Sprintf("%d × %s", n, r))
	}
	sort.Strings(rs)
	return l.sent, l.failed, strings.Join(rs, "; ")
}
