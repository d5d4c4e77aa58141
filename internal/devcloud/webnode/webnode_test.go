package webnode

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func req() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }

func TestHandle_ServesWithBaseLatencyWhenIdle(t *testing.T) {
	n := NewNode("srv-1", "10.0.0.5", Capacity{RPS: 100, Concurrency: 4, BaseLatency: 20 * time.Millisecond})
	start := time.Now()
	status, body, err := n.Handle(context.Background(), req())
	took := time.Since(start)
	if err != nil || status != 200 || len(body) == 0 {
		t.Fatalf("status %d err %v", status, err)
	}
	// One request alone: base latency plus a quarter for its own utilisation.
	if took < 20*time.Millisecond || took > 200*time.Millisecond {
		t.Fatalf("idle latency %v", took)
	}
	if s := n.Stats(); s.Served != 1 || s.InService != 0 || s.Waiting != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestStop_BreaksInFlightAndRefusesLater(t *testing.T) {
	n := NewNode("srv-1", "10.0.0.5", Capacity{RPS: 100, Concurrency: 4, BaseLatency: time.Second})
	done := make(chan error, 1)
	go func() {
		_, _, err := n.Handle(context.Background(), req())
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for n.Stats().InService == 0 {
		if time.Now().After(deadline) {
			t.Fatal("request never entered service")
		}
		time.Sleep(time.Millisecond)
	}
	n.Stop()
	if err := <-done; !errors.Is(err, ErrBroken) {
		t.Fatalf("in-flight err %v, want ErrBroken", err)
	}
	if _, _, err := n.Handle(context.Background(), req()); !errors.Is(err, ErrStopped) {
		t.Fatalf("after stop err %v, want ErrStopped", err)
	}
	if n.Healthy() {
		t.Fatal("a stopped node reports healthy")
	}
	if s := n.Stats(); s.Broken != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSetHealthy_FailsRequestsAndHealthChecks(t *testing.T) {
	n := NewNode("srv-1", "10.0.0.5", Capacity{RPS: 100, Concurrency: 4})
	n.SetHealthy(false)
	if status, _, err := n.Handle(context.Background(), req()); err != nil || status != 500 || n.Healthy() {
		t.Fatalf("unhealthy node answered %d %v healthy=%v", status, err, n.Healthy())
	}
	n.SetHealthy(true)
	if status, _, _ := n.Handle(context.Background(), req()); status != 200 {
		t.Fatalf("recovered node answered %d", status)
	}
}

// A burst far above RPS is served at RPS (pacing), queues up to
// QueueTimeout, and the rest is refused with 503.
func TestBurstAboveCapacity_ServedAtRPSRestRefused(t *testing.T) {
	n := NewNode("srv-1", "10.0.0.5", Capacity{RPS: 50, Concurrency: 8, BaseLatency: 5 * time.Millisecond, QueueTimeout: 500 * time.Millisecond})
	var mu sync.Mutex
	codes := map[int]int{}
	var last time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := n.Handle(context.Background(), req())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			codes[status]++
			if status == 200 {
				last = max(last, time.Since(start))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	// A burst of Concurrency (8) at once, then 500 ms of queue at 50/s: ~33.
	if codes[200] < 28 || codes[200] > 38 || codes[503] != 100-codes[200] {
		t.Fatalf("codes %v, want ~33 served and the rest 503", codes)
	}
	if last < 400*time.Millisecond {
		t.Fatalf("the last served request finished after %v: no queueing", last)
	}
}

func TestHandle_CallerCancelEndsWait(t *testing.T) {
	n := NewNode("srv-1", "10.0.0.5", Capacity{RPS: 100, Concurrency: 1, BaseLatency: time.Second})
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("member removed")
	go func() { time.Sleep(20 * time.Millisecond); cancel(cause) }()
	if _, _, err := n.Handle(ctx, req()); !errors.Is(err, cause) {
		t.Fatalf("err %v, want the cancel cause", err)
	}
}

func TestRegistry_PutReplacesAndStopsOldRemoveStops(t *testing.T) {
	r := NewRegistry()
	a := NewNode("srv-a", "10.0.0.5", Capacity{})
	b := NewNode("srv-b", "10.0.0.5", Capacity{})
	r.Put(a)
	r.Put(a) // same node again: stays running
	if !a.Healthy() {
		t.Fatal("re-putting a node stopped it")
	}
	r.Put(b)
	if a.Healthy() {
		t.Fatal("the replaced node still runs")
	}
	if got, ok := r.Get("10.0.0.5"); !ok || got != b {
		t.Fatal("Get does not return the new node")
	}
	r.Remove("10.0.0.5")
	if _, ok := r.Get("10.0.0.5"); ok || b.Healthy() {
		t.Fatal("Remove kept or did not stop the node")
	}
	c := NewNode("srv-c", "10.0.0.6", Capacity{})
	r.Put(c)
	r.Reset()
	if len(r.List()) != 0 || c.Healthy() {
		t.Fatal("Reset kept or did not stop nodes")
	}
}

func TestResponseHeader_NamesTheNodeByItsAddress(t *testing.T) {
	web01 := NewNode("srv-web01", "10.0.0.5", Capacity{})
	node := NewNode("srv-1", "10.0.0.11", Capacity{})
	if got := web01.ResponseHeader().Get(ServedByHeader); got != "10.0.0.5" {
		t.Errorf("web01 sends %s: %q", ServedByHeader, got)
	}
	if web01.ResponseHeader().Get(ServedByHeader) == node.ResponseHeader().Get(ServedByHeader) {
		t.Error("two nodes send the same name")
	}
}
