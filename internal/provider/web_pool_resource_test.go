package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// webPoolConfig is a load balancer with web01 as its static member, and (when size >= 0)
// a web pool behind it.
type webPoolConfig struct {
	Name         string
	Size         int // -1: no pool resource
	Image        string
	DrainTimeout string
	Extra        string // more HCL inside the pool resource
	Outside      string // more HCL at top level
}

func (c webPoolConfig) hcl(target accTarget) string {
	lb := fmt.Sprintf(`
resource "eventscale_load_balancer" "front" {
  name          = "%s-lb"
  vip_subnet_id = %q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {
    lb_method = "ROUND_ROBIN"
  }
  health_monitor {
    type           = "HTTP"
    url_path       = "/"
    expected_codes = "200"
    delay          = 2
    timeout        = 1
    max_retries    = 1
  }
  members = [{ address = %q, protocol_port = 80 }]
}
`, c.Name, target.SubnetID, target.ServerAddress)
	out := target.ProviderHCL + lb + c.Outside
	if c.Size < 0 {
		return out
	}
	image := c.Image
	if image == "" {
		image = fmt.Sprintf("%q", target.ImageID)
	}
	drain := c.DrainTimeout
	if drain == "" {
		drain = accDrainTimeout(target).String()
	}
	return out + fmt.Sprintf(`
resource "eventscale_web_pool" "web" {
  name             = %q
  size             = %d
  image_id         = %s
  flavor           = %q
  networks         = [%q]
  subnet_id        = %q
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
  protocol_port    = 80
  scale_out = {
    max_parallel = 4
%s  }
  scale_in = {
    drain_timeout          = %q
    health_check_successes = 2
  }
%s
}
`, c.Name, c.Size, image, target.FlavorID, target.NetworkID, target.SubnetID, target.HealthyHCL, drain, c.Extra)
}

// accDrainTimeout is the pools' drain timeout: 1 s on devcloud; on an external cloud long
// enough that the scale-in watch, polling the APIs a few times a second, sees every drain.
func accDrainTimeout(target accTarget) time.Duration {
	if target.Dev != nil {
		return time.Second
	}
	return 3 * time.Second
}

// poolServers asks Nova for the pool's servers (by their metadata), not Terraform's state.
func poolServers(ctx context.Context, target accTarget, name string) ([]scaling.Server, error) {
	compute, err := target.Client.Compute(ctx)
	if err != nil {
		return nil, err
	}
	return compute.ListServers(ctx, scaling.PoolMatch(name))
}

// testAccCheckPoolMatchesCloud checks that the state lists exactly the servers that exist.
func testAccCheckPoolMatchesCloud(target accTarget, name string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources["eventscale_web_pool.web"]
		if !ok {
			return fmt.Errorf("eventscale_web_pool.web is not in state")
		}
		servers, err := poolServers(context.Background(), target, name)
		if err != nil {
			return err
		}
		inState := map[string]bool{}
		for k, v := range rs.Primary.Attributes {
			if strings.HasPrefix(k, "nodes.") && strings.HasSuffix(k, ".id") && v != "" {
				inState[v] = true
			}
		}
		inCloud := map[string]bool{}
		for _, srv := range servers {
			inCloud[srv.ID] = true
			if !inState[srv.ID] {
				return fmt.Errorf("server %s (%s) exists but is not in state", srv.Name, srv.ID)
			}
		}
		for id := range inState {
			if !inCloud[id] {
				return fmt.Errorf("state lists server %s, which does not exist", id)
			}
		}
		if want >= 0 && len(servers) != want {
			return fmt.Errorf("%d servers exist, want %d", len(servers), want)
		}
		return nil
	}
}

func testAccCheckPoolGone(target accTarget, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		servers, err := poolServers(context.Background(), target, name)
		if err != nil {
			return err
		}
		if len(servers) != 0 {
			return fmt.Errorf("%d servers of pool %s are left", len(servers), name)
		}
		return nil
	}
}

// serverIDs captures the pool's server ids from state, by node name.
func serverIDs(into map[string]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources["eventscale_web_pool.web"]
		for k := range into {
			delete(into, k)
		}
		for k, v := range rs.Primary.Attributes {
			if strings.HasPrefix(k, "nodes.") && strings.HasSuffix(k, ".name") {
				into[v] = rs.Primary.Attributes[strings.TrimSuffix(k, ".name")+".id"]
			}
		}
		return nil
	}
}

// vipLoad keeps a steady load on a devcloud VIP and counts what a visitor would see fail.
type vipLoad struct {
	ok, failed atomic.Int64
	stop       chan struct{}
	wg         sync.WaitGroup
}

func (v *vipLoad) start(url string) {
	v.stop = make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second}
	for range 4 {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for {
				select {
				case <-v.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				resp, err := client.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				if err != nil || resp.StatusCode >= 500 {
					v.failed.Add(1)
				} else {
					v.ok.Add(1)
				}
			}
		}()
	}
}

func (v *vipLoad) finish() (ok, failed int64) {
	if v.stop != nil {
		close(v.stop)
		v.wg.Wait()
		v.stop = nil
	}
	return v.ok.Load(), v.failed.Load()
}

// scaleBackTimeline reads devcloud's events for the managed members (by address) and checks
// the staggered drain: one member draining at a time, each removed no sooner than drainTimeout
// after its drain and its server deleted only after the removal; it returns the drain order.
func scaleBackTimeline(dc *devcloud.Cloud, loadBalancerID string, managed map[string]string, drainTimeout time.Duration) ([]string, error) {
	drainedAt := map[string]time.Time{}
	removed := map[string]bool{}
	draining := 0
	var order []string
	nameByServer := map[string]bool{}
	for _, name := range managed {
		nameByServer[name] = true
	}
	for _, e := range dc.Events() {
		// Other load balancers on the same devcloud (a capability probe's) are not this test's.
		if lb, ok := e.Attrs["lb_id"].(string); ok && lb != loadBalancerID {
			continue
		}
		addr, _ := e.Attrs["address"].(string)
		name, isManaged := managed[addr]
		switch e.Kind {
		case "member.weight", "member.admin_state":
			if !isManaged {
				if e.Kind == "member.weight" {
					return nil, fmt.Errorf("unmanaged member %s changed: %v", addr, e.Attrs)
				}
				continue
			}
			if w, ok := e.Attrs["weight"].(int); ok && w != 0 {
				continue
			}
			if up, ok := e.Attrs["admin_state_up"].(bool); ok && up {
				continue
			}
			drainedAt[addr] = e.Time
			order = append(order, name)
			draining++
			if draining > 1 {
				return nil, fmt.Errorf("%s drained while another member was still draining", name)
			}
		case "member.removed":
			if !isManaged {
				return nil, fmt.Errorf("unmanaged member %s was removed", addr)
			}
			at, ok := drainedAt[addr]
			if !ok {
				return nil, fmt.Errorf("member %s (%s) removed without a drain", name, addr)
			}
			if e.Time.Sub(at) < drainTimeout {
				return nil, fmt.Errorf("member %s removed %s after its drain, before the drain timeout %s", name, e.Time.Sub(at), drainTimeout)
			}
			removed[addr] = true
			draining--
		case "server.deleting":
			n, _ := e.Attrs["name"].(string)
			if !nameByServer[n] {
				continue
			}
			for a, nm := range managed {
				if nm == n && !removed[a] {
					return nil, fmt.Errorf("server %s deleted while still a pool member", n)
				}
			}
		}
	}
	return order, nil
}

// newestFirst is the order in which a scale-back removes the named nodes (prefix + ordinal)
// that all serve: by Nova's creation time, newest first, and by ordinal, highest first, between
// nodes created in the same second, as Nova's created times are to the second and a real cloud
// builds a wave's nodes in any order.
func newestFirst(createdAt map[string]string, prefix string, ordinals ...string) []string {
	names := make([]string, len(ordinals))
	for i, o := range ordinals {
		names[i] = prefix + o
	}
	sort.SliceStable(names, func(i, j int) bool {
		a, b := createdAt[names[i]], createdAt[names[j]]
		ta, erra := time.Parse(time.RFC3339, a)
		tb, errb := time.Parse(time.RFC3339, b)
		if erra == nil && errb == nil && !ta.Equal(tb) {
			return ta.After(tb)
		}
		return names[i] > names[j]
	})
	return names
}

func TestAccWebPool_ScaleOutInPlaceScaleInAndStaggeredDestroyUnderTraffic(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accweb")
	cfg := func(size int) string {
		return webPoolConfig{Name: name, Size: size}.hcl(target)
	}
	before := map[string]string{}
	after := map[string]string{}
	addresses := map[string]string{} // member address -> node name
	createdAt := map[string]string{} // node name -> created_at, as the scale-back orders by it
	var load vipLoad
	t.Cleanup(func() { load.finish() })
	var refreshCalls []int
	metricsBefore := 0
	var lbID, poolID string
	var watch *scaleInWatch
	startWatch := func() {
		watch = newScaleInWatch(target, name, poolID)
		if err := watch.start(); err != nil {
			t.Fatalf("scale-in watch: %v", err)
		}
	}
	// checkWatch verifies, from Octavia's and Nova's lists, the staggered order of the apply:
	// the nodes of the given ordinals, newest first.
	checkWatch := func(ordinals ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			order, err := watch.finish(accDrainTimeout(target))
			if err != nil {
				return err
			}
			want := newestFirst(createdAt, name, ordinals...)
			if strings.Join(order, ",") != strings.Join(want, ",") {
				return fmt.Errorf("scale-in order seen from the APIs %v, want %v", order, want)
			}
			t.Logf("scale-in seen from the APIs in %d polls: %v", watch.pollsDone(), order)
			return nil
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				Config: cfg(2),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "size", "2"),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "2"),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.0.name", name+"-01"),
					resource.TestCheckResourceAttrSet("eventscale_web_pool.web", "nodes.0.member_id"),
					testAccCheckPoolMatchesCloud(target, name, 2),
					serverIDs(before),
					func(s *terraform.State) error {
						lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes
						lbID, poolID = lb["id"], lb["pool_id"]
						return nil
					},
				),
			},
			{
				PreConfig:    func() { metricsBefore = computeRequests(target) },
				RefreshState: true,
				Check: func(*terraform.State) error {
					refreshCalls = append(refreshCalls, computeRequests(target)-metricsBefore)
					return nil
				},
			},
			{
				Config: cfg(4),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "4"),
					testAccCheckPoolMatchesCloud(target, name, 4),
					serverIDs(after),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources["eventscale_web_pool.web"]
						for i := 0; i < 4; i++ {
							node := rs.Primary.Attributes[fmt.Sprintf("nodes.%d.name", i)]
							addresses[rs.Primary.Attributes[fmt.Sprintf("nodes.%d.address", i)]] = node
							createdAt[node] = rs.Primary.Attributes[fmt.Sprintf("nodes.%d.created_at", i)]
						}
						for n, id := range before {
							if after[n] != id {
								return fmt.Errorf("scale out replaced %s (%s -> %s): it must grow in place", n, id, after[n])
							}
						}
						return nil
					},
				),
			},
			{
				PreConfig:    func() { metricsBefore = computeRequests(target) },
				RefreshState: true,
				Check: func(*terraform.State) error {
					refreshCalls = append(refreshCalls, computeRequests(target)-metricsBefore)
					if target.Dev != nil && refreshCalls[0] != refreshCalls[1] {
						return fmt.Errorf("refreshing 2 nodes cost %d compute calls, 4 nodes %d: want a constant number", refreshCalls[0], refreshCalls[1])
					}
					return nil
				},
			},
			{
				PreConfig: startWatch,
				Config:    cfg(2),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkWatch("-03", "-04"),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "2"),
					testAccCheckPoolMatchesCloud(target, name, 2),
					func(s *terraform.State) error {
						// newest-first: 03 and 04 go, 01 and 02 stay untouched.
						rs := s.RootModule().Resources["eventscale_web_pool.web"]
						got := []string{rs.Primary.Attributes["nodes.0.name"], rs.Primary.Attributes["nodes.1.name"]}
						sort.Strings(got)
						if got[0] != name+"-01" || got[1] != name+"-02" || rs.Primary.Attributes["nodes.0.id"] != before[got[0]] {
							return fmt.Errorf("after scale-in nodes are %v, want the two oldest kept", got)
						}
						return nil
					},
				),
			},
			{
				// Destroy the pool alone (the load balancer stays and keeps serving through
				// web01) while a steady load hits the VIP.
				PreConfig: func() {
					startWatch()
					url, why := accVIPURL(t, target, lbID)
					if url == "" {
						t.Logf("no load during the staggered destroy: %s", why)
						return
					}
					load.start(url)
					time.Sleep(200 * time.Millisecond)
				},
				Config: webPoolConfig{Name: name, Size: -1}.hcl(target),
				Check: func(s *terraform.State) error {
					if err := checkWatch("-01", "-02")(s); err != nil {
						return err
					}
					if err := testAccCheckPoolGone(target, name)(nil); err != nil {
						return err
					}
					ok, failed := load.finish()
					if target.Dev == nil {
						// Broken-in-flight counts come from devcloud's data plane; no real
						// cloud's API reports them per member. What a visitor saw fail counts.
						if failed != 0 {
							return fmt.Errorf("the staggered destroy failed %d of %d requests through the VIP", failed, ok+failed)
						}
						return nil
					}
					order, err := scaleBackTimeline(target.Dev, lbID, addresses, time.Second)
					if err != nil {
						return err
					}
					want := append(newestFirst(createdAt, name, "-03", "-04"), newestFirst(createdAt, name, "-01", "-02")...)
					if strings.Join(order, ",") != strings.Join(want, ",") {
						return fmt.Errorf("drain order %v, want newest first, one at a time: %v", order, want)
					}
					broken := int64(0)
					for _, m := range target.Dev.MemberTraffic() {
						broken += m.Broken
					}
					t.Logf("staggered destroy under load: %d requests answered, %d failed, %d broken in flight", ok, failed, broken)
					if ok < 50 {
						return fmt.Errorf("only %d requests answered: the load did not run", ok)
					}
					if failed != 0 || broken != 0 {
						return fmt.Errorf("the staggered destroy failed %d requests and broke %d in flight", failed, broken)
					}
					return nil
				},
			},
		},
	})
}

// computeRequests is the number of compute API requests devcloud has answered (0 elsewhere).
func computeRequests(target accTarget) int {
	if target.Dev == nil {
		return 0
	}
	n := 0
	for _, r := range target.Dev.Metrics().Requests {
		if r.Service == "compute" {
			n += int(r.Count)
		}
	}
	return n
}

func TestAccWebPool_ImageChangeIsARollingReplacement(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accroll")
	snapshot := `
resource "eventscale_seed_image" "v2" {
  name      = "` + name + `-v2"
  server_id = "` + target.ServerID + `"
}
`
	first := map[string]string{}
	var poolID string
	var watch *scaleInWatch
	// A snapshot keeps the source server's disk size as its min_disk: the nodes need a flavor
	// at least as large as web01's.
	flavored := func(c webPoolConfig) string {
		return strings.Replace(c.hcl(target), fmt.Sprintf("flavor           = %q", target.FlavorID), `flavor           = "m1.small"`, 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				Config: flavored(webPoolConfig{Name: name, Size: 2, Outside: snapshot}),
				Check: resource.ComposeAggregateTestCheckFunc(testAccCheckPoolMatchesCloud(target, name, 2), serverIDs(first),
					func(s *terraform.State) error {
						poolID = s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes["pool_id"]
						return nil
					}),
			},
			{
				PreConfig: func() {
					watch = newScaleInWatch(target, name, poolID)
					if err := watch.start(); err != nil {
						t.Fatalf("rolling replacement watch: %v", err)
					}
				},
				Config: flavored(webPoolConfig{Name: name, Size: 2, Outside: snapshot, Image: "eventscale_seed_image.v2.id"}),
				Check: resource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						// Seen from Octavia and Nova: old nodes left one at a time, drained,
						// and the pool never served with fewer than its size.
						gone, err := watch.finish(accDrainTimeout(target))
						if err != nil {
							return err
						}
						if len(gone) != 2 {
							return fmt.Errorf("%d old nodes seen leaving, want 2: %v", len(gone), gone)
						}
						if n := watch.fewestServing(); n < 2 {
							return fmt.Errorf("during the rolling replacement only %d nodes served at one point, want at least the size 2", n)
						}
						return nil
					},
					testAccCheckPoolMatchesCloud(target, name, 2),
					resource.TestCheckResourceAttrPair("eventscale_web_pool.web", "nodes.0.image_id", "eventscale_seed_image.v2", "id"),
					resource.TestCheckResourceAttrPair("eventscale_web_pool.web", "nodes.1.image_id", "eventscale_seed_image.v2", "id"),
					func(s *terraform.State) error {
						now := map[string]string{}
						if err := serverIDs(now)(s); err != nil {
							return err
						}
						for _, id := range now {
							for _, old := range first {
								if id == old {
									return fmt.Errorf("server %s still runs the old image", id)
								}
							}
						}
						if target.Dev == nil {
							return nil
						}
						// Capacity held: every drain of an old member comes after a new member was added.
						added, drained := 0, 0
						for _, e := range target.Dev.Events() {
							switch e.Kind {
							case "member.added":
								added++
							case "member.weight":
								if w, _ := e.Attrs["weight"].(int); w == 0 {
									drained++
									if added-1 < drained { // web01 was the first member added
										return fmt.Errorf("an old node drained before its replacement joined (%d added, %d drained)", added-1, drained)
									}
								}
							}
						}
						if drained != 2 {
							return fmt.Errorf("%d drains, want 2", drained)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccWebPool_FreezeWindowRefusesShrinkDuringTheEvent(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accfreeze")
	now := time.Now().UTC()
	event := fmt.Sprintf(`
resource "eventscale_event" "launch" {
  name      = "%s-launch"
  starts_at = %q
  ends_at   = %q
}
`, name, now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	pool := func(size int, allow string) string {
		return webPoolConfig{Name: name, Size: size, Outside: event,
			Extra: "  event_id = eventscale_event.launch.id\n" + allow}.hcl(target)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{Config: pool(2, ""), Check: testAccCheckPoolMatchesCloud(target, name, 2)},
			{Config: pool(1, ""), ExpectError: regexp.MustCompile(`(?s)frozen during the event.*allow_during_event = true`)},
			{Config: pool(2, ""), Check: testAccCheckPoolMatchesCloud(target, name, 2), PlanOnly: true},
			{Config: pool(1, "  allow_during_event = true\n"), Check: testAccCheckPoolMatchesCloud(target, name, 1)},
		},
	})
}

func TestAccWebPool_PartlyFailedCreateIsResumedInPlaceKeepingServingNodes(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to make a server build fail")
	}
	target.HealthyHCL = accHealthyStatusesHCL(t, target)
	name := accName(t, "accfail")
	extra := "  scale_out = {\n    create_retries = 0\n  }\n"
	cfg := webPoolConfig{Name: name, Size: 3, Extra: ""}.hcl(target)
	cfg = strings.Replace(cfg, "  scale_out = {\n    max_parallel = 4\n  }\n", extra, 1)
	serving := map[string]string{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{ServerErrors: &devcloud.ServerErrorFault{Next: 1, Message: "No valid host was found. There are not enough hosts available."}})
				},
				Config: cfg,
				// The create succeeds with a warning: the refresh after it shows the pool short.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckPoolMatchesCloud(target, name, 2),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "nodes.#", "3"),
					resource.TestCheckTypeSetElemNestedAttrs("eventscale_web_pool.web", "nodes.*", map[string]string{"status": notBuilt, "id": ""}),
					serverIDs(serving),
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_web_pool.web", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckPoolMatchesCloud(target, name, 3),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "size", "3"),
					testAccCheckServingNodesKept(serving, 2),
				),
			},
		},
	})
}

func TestAccWebPool_NodeDeletedOutsideIsReplacedAtNextApply(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accheal")
	cfg := webPoolConfig{Name: name, Size: 2}.hcl(target)
	ids := map[string]string{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(testAccCheckPoolMatchesCloud(target, name, 2), serverIDs(ids))},
			{
				PreConfig: func() {
					ctx := context.Background()
					compute, err := target.Client.Compute(ctx)
					if err == nil {
						err = compute.DeleteServer(ctx, ids[name+"-02"])
					}
					if err == nil {
						compute.Poll = cloud.ConfiguredPoll()
						err = compute.WaitServerGone(ctx, ids[name+"-02"])
					}
					if err != nil {
						t.Fatalf("deleting a node behind Terraform's back: %v", err)
					}
				},
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckPoolMatchesCloud(target, name, 2),
					resource.TestCheckResourceAttr("eventscale_web_pool.web", "size", "2"),
					func(s *terraform.State) error {
						now := map[string]string{}
						_ = serverIDs(now)(s)
						if now[name+"-02"] == "" || now[name+"-02"] == ids[name+"-02"] {
							return fmt.Errorf("node %s-02 was not replaced: %v", name, now)
						}
						if now[name+"-01"] != ids[name+"-01"] {
							return fmt.Errorf("the healthy node %s-01 was touched", name)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccWebPool_ImportRestoresTheConfigurationAndPlansNoChange(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accimp")
	cfg := webPoolConfig{Name: name, Size: 2, Extra: "  metadata = { role = \"web\" }\n"}.hcl(target)
	importID := func(s *terraform.State) (string, error) {
		lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes
		return fmt.Sprintf("%s/%s/%s/80", name, lb["id"], lb["pool_id"]), nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      "eventscale_web_pool.web",
				ImportState:       true,
				ImportStateIdFunc: importID,
				ImportStateVerify: true,
				// Everything is read back or restored from the pool's record; the operating status moves
				// with health checks and timeouts live in the configuration only.
				ImportStateVerifyIgnore: []string{"timeouts", "nodes.0.operating_status", "nodes.1.operating_status"},
			},
			{
				// An import block followed by a plan of the same configuration: no change at all.
				ResourceName:      "eventscale_web_pool.web",
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID,
				Config:            withProviderSource(cfg),
			},
		},
	})
}

func TestAccWebPool_ImportIDsThatNameNoPoolAreRefused(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accimpbad")
	cfg := webPoolConfig{Name: name, Size: 1}.hcl(target)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckPoolGone(target, name),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:  "eventscale_web_pool.web",
				ImportState:   true,
				ImportStateId: name + "/lb/pool",
				ExpectError:   regexp.MustCompile(`expected <name>/<load_balancer_id>/<pool_id>/<protocol_port>`),
			},
			{
				ResourceName: "eventscale_web_pool.web",
				ImportState:  true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes
					return fmt.Sprintf("%s/%s/%s/80", name, lb["id"], "00000000-0000-0000-0000-000000000000"), nil
				},
				ExpectError: regexp.MustCompile(`(?s)Invalid import id.*00000000-0000-0000-0000-000000000000`),
			},
		},
	})
}

func TestAccWebPool_PlanTimeValidation(t *testing.T) {
	target := accCloud(t)
	name := accName(t, "accval")
	base := webPoolConfig{Name: name, Size: 1, DrainTimeout: "1s"}.hcl(target)
	cases := []struct {
		from, to string
		want     string
	}{
		{`drain_timeout          = "1s"`, `drain_timeout          = "soon"`, `must be a duration`},
		{`drain_timeout          = "1s"`, `drain_timeout          = "1s"` + "\n    drain_method = \"pull-the-plug\"", `value must be one of`},
		{`size             = 1`, `size             = -1`, `size.*between 0 and 500`},
		{`name             = "` + name + `"`, `name             = "bad/name"`, `letters, digits`},
		{`drain_timeout          = "1s"`, `drain_timeout          = "1s"` + "\n    health_check_url = \"ftp://vip/\"", `http or https URL`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      strings.Replace(base, c.from, c.to, 1),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile("(?s)" + c.want),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// testAccCheckServingNodesKept checks that each node that served before a resume (serving:
// node name to server id, from serverIDs) still has its server: the resume added what was
// missing and replaced none of them. want is how many served before.
func testAccCheckServingNodesKept(serving map[string]string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		now := map[string]string{}
		_ = serverIDs(now)(s)
		kept := 0
		for node, id := range serving {
			if id == "" {
				continue
			}
			if now[node] != id {
				return fmt.Errorf("serving node %s was replaced (%s -> %s): the resume must keep it", node, id, now[node])
			}
			kept++
		}
		if kept != want {
			return fmt.Errorf("%d serving nodes before the resume, want %d: %v", kept, want, serving)
		}
		return nil
	}
}
