package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// steadyLoad sends GETs to one URL at a constant rate until stopped: the site's ordinary
// traffic while the pool scales back. Every request that gets no 2xx/3xx is a failure.
type steadyLoad struct {
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	sent     int
	failed   int
	byReason map[string]int
}

type loadResult struct {
	Sent, Failed int
	Reasons      []string // "count × reason", most frequent first
}

func startSteadyLoad(url string, rate int) *steadyLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &steadyLoad{cancel: cancel, done: make(chan struct{}), byReason: map[string]int{}}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 256},
	}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					l.record(get(client, url))
				}()
			}
		}
	}()
	return l
}

// get is one request, its own: in-flight requests are never cancelled by stop, so a failure
// is the tier's, not the demo's.
func get(client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return "reading the response: " + err.Error()
	}
	if resp.StatusCode >= 400 {
		return resp.Status
	}
	return ""
}

func (l *steadyLoad) record(failure string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	if failure != "" {
		l.failed++
		l.byReason[failure]++
	}
}

// stop ends the load and waits for the requests in flight to finish (at most their timeout).
func (l *steadyLoad) stop() loadResult {
	l.cancel()
	<-l.done
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	res := loadResult{Sent: l.sent, Failed: l.failed}
	reasons := make([]string, 0, len(l.byReason))
	for r := range l.byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return l.byReason[reasons[i]] > l.byReason[reasons[j]] })
	for _, r := range reasons {
		res.Reasons = append(res.Reasons, fmt.Sprintf("%d × %s", l.byReason[r], r))
	}
	return res
}

func (r loadResult) String() string {
	s := fmt.Sprintf("%d requests, %d failed", r.Sent, r.Failed)
	if len(r.Reasons) > 0 {
		s += ": " + strings.Join(r.Reasons, "; ")
	}
	return s
}
