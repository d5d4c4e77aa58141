package octavia

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

func attack(t *testing.T, url string, rate int, d time.Duration) vegeta.Metrics {
	t.Helper()
	atk := vegeta.NewAttacker(vegeta.Timeout(5*time.Second), vegeta.KeepAlive(true), vegeta.Workers(50), vegeta.MaxWorkers(2000))
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url + "/"})
	var m vegeta.Metrics
	for res := range atk.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, d, fmt.Sprintf("%d/s", rate)) {
		m.Add(res)
	}
	m.Close()
	t.Logf("%d/s for %v: requests %d, success %.3f, throughput %.1f/s, p50 %v, p95 %v, codes %v",
		rate, d, m.Requests, m.Success, m.Throughput, m.Latencies.P50, m.Latencies.P95, m.StatusCodes)
	return m
}

// Two nodes of 100 RPS each: the pool serves about 200 requests per second.
func TestLoadThroughVIP_HoldsBelowCapacityAndSaturatesNearItAbove(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	h := newHarness(t)
	c := webnode.Capacity{RPS: 100, Concurrency: 16, BaseLatency: 10 * time.Millisecond}
	h.addNode("10.1.0.1", c)
	h.addNode("10.1.0.2", c)
	st := h.buildStack(pools.LBMethodRoundRobin, true, "10.1.0.1", "10.1.0.2")
	for _, m := range st.members {
		h.waitMemberStatus(st.pool.ID, m.ID, "ONLINE")
	}

	under := attack(t, st.vipURL, 100, 2*time.Second)
	if under.Success < 0.98 || under.Latencies.P95 > 150*time.Millisecond {
		t.Fatalf("at half capacity: success %.3f p95 %v, want ~100%% and low latency", under.Success, under.Latencies.P95)
	}

	// Let the nodes' pacing recover before the overload.
	time.Sleep(200 * time.Millisecond)
	over := attack(t, st.vipURL, 400, 3*time.Second)
	if over.Throughput < 150 || over.Throughput > 240 {
		t.Fatalf("at 2x capacity: throughput %.1f/s, want near 200/s", over.Throughput)
	}
	if over.Success > 0.8 && over.Latencies.P95 < 5*under.Latencies.P95 {
		t.Fatalf("at 2x capacity neither errors (success %.3f) nor latency (p95 %v vs %v) show the saturation",
			over.Success, over.Latencies.P95, under.Latencies.P95)
	}
	if over.StatusCodes["503"] == 0 {
		t.Fatalf("no 503 at 2x capacity: %v", over.StatusCodes)
	}
}

// Clients hammer the VIP and the API while members change: run with -race.
func TestConcurrentClients_TrafficAndAPIStayConsistent(t *testing.T) {
	h := newHarness(t)
	h.env.setDelay("lb_update", 20*time.Millisecond)
	for _, a := range []string{"10.1.0.1", "10.1.0.2", "10.1.0.3"} {
		h.addNode(a, webnodeCapacity(2000, 2*time.Millisecond))
	}
	st := h.buildStack(pools.LBMethodLeastConnections, false, "10.1.0.1", "10.1.0.2")

	stop := make(chan struct{})
	var ok200, other atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := get(st.vipURL)
				if r.err == nil && r.status == 200 {
					ok200.Add(1)
				} else {
					other.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := loadbalancers.GetStatuses(h.ctx, h.lb, st.lb.ID).Extract(); err != nil {
					t.Errorf("status tree: %v", err)
					return
				}
				if _, err := pools.ListMembers(h.lb, st.pool.ID, pools.ListMembersOpts{}).AllPages(h.ctx); err != nil {
					t.Errorf("list members: %v", err)
					return
				}
			}
		}()
	}

	// Mutations retried on 409 as a real client must.
	retry := func(what string, f func() error) {
		for i := 0; ; i++ {
			err := f()
			if err == nil {
				h.waitLB(st.lb.ID, "ACTIVE")
				return
			}
			var ce gophercloud.ErrUnexpectedResponseCode
			if !errors.As(err, &ce) || ce.Actual != 409 || i > 200 {
				t.Fatalf("%s: %v", what, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	two := 2
	retry("weight", func() error {
		_, err := pools.UpdateMember(h.ctx, h.lb, st.pool.ID, st.members[0].ID, pools.UpdateMemberOpts{Weight: &two}).Extract()
		return err
	})
	retry("batch", func() error {
		return pools.BatchUpdateMembers(h.ctx, h.lb, st.pool.ID, []pools.BatchUpdateMemberOpts{
			{Address: "10.1.0.2", ProtocolPort: 80}, {Address: "10.1.0.3", ProtocolPort: 80}}).ExtractErr()
	})
	retry("add back", func() error {
		_, err := pools.CreateMember(h.ctx, h.lb, st.pool.ID, pools.CreateMemberOpts{Address: "10.1.0.1", ProtocolPort: 80}).Extract()
		return err
	})
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	var served int64
	for _, tr := range h.svc.MemberTraffic() {
		served += tr.Served
	}
	if ok200.Load() == 0 || served != ok200.Load() {
		t.Fatalf("members served %d, clients got %d OKs (%d other)", served, ok200.Load(), other.Load())
	}
}
