package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func validLB() loadBalancerModel {
	return loadBalancerModel{
		Name:      types.StringValue("lb"),
		Listeners: []lbListenerModel{{Protocol: types.StringValue("HTTP"), ProtocolPort: types.Int64Value(80)}},
		Pool:      &lbPoolModel{Protocol: types.StringValue("HTTP"), LBMethod: types.StringValue("ROUND_ROBIN")},
		HealthMonitor: &lbMonitorModel{Type: types.StringValue("HTTP"), URLPath: types.StringValue("/health"),
			ExpectedCodes: types.StringNull(), Delay: types.Int64Value(5), Timeout: types.Int64Value(3), MaxRetries: types.Int64Value(3)},
		Members: []lbMemberModel{{Address: types.StringValue("10.0.0.10"), ProtocolPort: types.Int64Value(80), Weight: types.Int64Value(1), SubnetID: types.StringNull()}},
	}
}

func TestValidateLoadBalancer_RefusesWhatOctaviaWouldRefuseLater(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*loadBalancerModel)
		want   string
	}{
		{"valid", func(*loadBalancerModel) {}, ""},
		{"two listeners on one port", func(m *loadBalancerModel) {
			m.Listeners = append(m.Listeners, lbListenerModel{Protocol: types.StringValue("TCP"), ProtocolPort: types.Int64Value(80)})
		}, "Duplicate listener port"},
		{"HTTP listener to a TCP pool", func(m *loadBalancerModel) { m.Pool.Protocol = types.StringValue("TCP") }, "cannot forward to a TCP pool"},
		{"TCP listener to an HTTP pool is fine", func(m *loadBalancerModel) { m.Listeners[0].Protocol = types.StringValue("TCP") }, ""},
		{"APP_COOKIE without cookie", func(m *loadBalancerModel) {
			m.Pool.SessionPersistence = &lbPersistenceModel{Type: types.StringValue("APP_COOKIE"), CookieName: types.StringNull()}
		}, "needs cookie_name"},
		{"cookie for SOURCE_IP", func(m *loadBalancerModel) {
			m.Pool.SessionPersistence = &lbPersistenceModel{Type: types.StringValue("SOURCE_IP"), CookieName: types.StringValue("sid")}
		}, "only used with session_persistence type APP_COOKIE"},
		{"monitor timeout above delay", func(m *loadBalancerModel) { m.HealthMonitor.Timeout = types.Int64Value(6) }, "must not exceed delay"},
		{"url_path on a TCP monitor", func(m *loadBalancerModel) { m.HealthMonitor.Type = types.StringValue("TCP") }, "applies to HTTP and HTTPS monitors only"},
		{"monitor without type", func(m *loadBalancerModel) { m.HealthMonitor.Type = types.StringNull() }, "needs a type"},
		{"same member twice", func(m *loadBalancerModel) { m.Members = append(m.Members, m.Members[0]) }, "are both 10.0.0.10:80"},
		{"unknown values are left to apply", func(m *loadBalancerModel) {
			m.Listeners[0].ProtocolPort = types.Int64Unknown()
			m.Members[0].Address = types.StringUnknown()
			m.HealthMonitor.Delay = types.Int64Unknown()
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validLB()
			tt.mutate(&m)
			diags := validateLoadBalancer(m)
			if tt.want == "" {
				if diags.HasError() {
					t.Fatalf("unexpected errors: %v", diags)
				}
				return
			}
			if !diags.HasError() || !strings.Contains(fmt.Sprint(diags), tt.want) {
				t.Fatalf("want an error containing %q, got %v", tt.want, diags)
			}
		})
	}
}

func TestPoolUpdate_SendsOnlyWhatChanged(t *testing.T) {
	state := validLB()
	plan := validLB()
	if _, changed := poolUpdate(state, plan); changed {
		t.Fatal("no change must send no pool update")
	}
	plan.Name = types.StringValue("lb2")
	plan.Pool = &lbPoolModel{Protocol: types.StringValue("HTTP"), LBMethod: types.StringValue("LEAST_CONNECTIONS"),
		SessionPersistence: &lbPersistenceModel{Type: types.StringValue("HTTP_COOKIE"), CookieName: types.StringNull()}}
	u, changed := poolUpdate(state, plan)
	if !changed || u.Name == nil || *u.Name != "lb2-pool" || u.LBMethod != "LEAST_CONNECTIONS" || u.Persistence == nil || u.Persistence.Type != "HTTP_COOKIE" {
		t.Fatalf("update = %+v", u)
	}
	u, _ = poolUpdate(plan, state) // persistence removed
	if !u.ClearPersistence {
		t.Fatal("removing session_persistence must clear it in Octavia")
	}
}

func TestMonitorFromCloud_ReadsWhatOctaviaChoseSoAnImportMatchesAnUnsetAttribute(t *testing.T) {
	mon := &cloud.MonitorInfo{Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, URLPath: "/", ExpectedCodes: "200"}
	got := monitorFromCloud(mon)
	if got.URLPath.ValueString() != "/" || got.ExpectedCodes.ValueString() != "200" {
		t.Fatalf("url_path and expected_codes must be read back (they are computed when unset): %+v", got)
	}
	if tcp := monitorFromCloud(&cloud.MonitorInfo{Type: "TCP", URLPath: "/"}); !tcp.URLPath.IsNull() || !tcp.ExpectedCodes.IsNull() {
		t.Fatalf("a TCP monitor has no url_path or expected_codes: %+v", tcp)
	}
}

func TestLoadBalancerSchema_IsValid(t *testing.T) {
	s := resourceSchema(t, NewLoadBalancerResource())
	for _, b := range []string{"listener", "pool", "health_monitor", "timeouts"} {
		if _, ok := s.Blocks[b]; !ok {
			t.Errorf("no %s block", b)
		}
	}
}

type lbHCL struct {
	Name, LBMethod, MemberWeight string
	Delay                        int
	Extra                        string
}

func loadBalancerHCL(target accTarget, c lbHCL) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name          = %q
  vip_subnet_id = %q

  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }

  pool {
    lb_method = %q
  }

  health_monitor {
    type           = "HTTP"
    url_path       = "/"
    expected_codes = "200"
    delay          = %d
    timeout        = 2
    max_retries    = 3
  }

  members = [
    { address = %q, protocol_port = 80, weight = %s },
  ]
%s
}
`, c.Name, target.SubnetID, c.LBMethod, c.Delay, target.ServerAddress, c.MemberWeight, c.Extra)
}

func accLB(target accTarget) (*cloud.LoadBalancer, error) {
	return target.Client.LoadBalancer(context.Background(), "")
}

// testAccCheckLoadBalancersGone asks Octavia for every load balancer the test put in state.
func testAccCheckLoadBalancersGone(target accTarget) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		api, err := accLB(target)
		if err != nil {
			return err
		}
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "eventscale_load_balancer" {
				continue
			}
			lb, err := api.GetLoadBalancer(context.Background(), rs.Primary.ID)
			switch {
			case cloud.IsNotFound(err):
				continue
			case err != nil:
				return err
			case lb.ProvisioningStatus != "DELETED":
				return fmt.Errorf("load balancer %s still exists (%s) after destroy", lb.ID, lb.ProvisioningStatus)
			}
		}
		return nil
	}
}

// testAccLB reads the tree back from Octavia.
func testAccLB(target accTarget, check func(lb *cloud.LoadBalancerInfo, pool *cloud.PoolInfo, mon *cloud.MonitorInfo, members []pools.Member) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources["eventscale_load_balancer.event"]
		api, err := accLB(target)
		if err != nil {
			return err
		}
		ctx := context.Background()
		lb, err := api.GetLoadBalancer(ctx, rs.Primary.ID)
		if err != nil {
			return err
		}
		pool, err := api.GetPool(ctx, rs.Primary.Attributes["pool_id"])
		if err != nil {
			return err
		}
		mon, err := api.GetMonitor(ctx, rs.Primary.Attributes["health_monitor_id"])
		if err != nil {
			return err
		}
		pages, err := pools.ListMembers(api.Client, pool.ID, pools.ListMembersOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		members, err := pools.ExtractMembers(pages)
		if err != nil {
			return err
		}
		return check(lb, pool, mon, members)
	}
}

func TestAccLoadBalancer_CreateUpdateInPlaceImport(t *testing.T) {
	target := accCloud(t)
	const addr = "eventscale_load_balancer.event"
	name := accName(t, "acc-lb")
	var lbID, poolID, foreignMemberID string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				Config:      loadBalancerHCL(target, lbHCL{Name: name, LBMethod: "ROUND_ROBIN", MemberWeight: "1", Delay: 1}),
				ExpectError: regexp.MustCompile(`(?s)timeout \(2 s\) must not exceed.*delay \(1 s\)`),
			},
			{
				Config:      loadBalancerHCL(target, lbHCL{Name: name, LBMethod: "FASTEST", MemberWeight: "1", Delay: 5}),
				ExpectError: regexp.MustCompile(`value must be one of`),
			},
			{
				Config: loadBalancerHCL(target, lbHCL{Name: name, LBMethod: "ROUND_ROBIN", MemberWeight: "1", Delay: 5}),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "provisioning_status", "ACTIVE"),
					resource.TestCheckResourceAttrSet(addr, "vip_address"),
					resource.TestCheckResourceAttrSet(addr, "vip_port_id"),
					resource.TestCheckResourceAttr(addr, "listener_ids.#", "1"),
					resource.TestCheckResourceAttr(addr, "pool.protocol", "HTTP"),
					resource.TestCheckResourceAttr(addr, "member_ids.%", "1"),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources[addr]
						lbID, poolID = rs.Primary.ID, rs.Primary.Attributes["pool_id"]
						return nil
					},
					testAccLB(target, func(lb *cloud.LoadBalancerInfo, pool *cloud.PoolInfo, mon *cloud.MonitorInfo, members []pools.Member) error {
						if lb.ProvisioningStatus != "ACTIVE" || lb.Name != name || lb.VIPSubnetID != target.SubnetID {
							return fmt.Errorf("Octavia has LB %q %s on %s", lb.Name, lb.ProvisioningStatus, lb.VIPSubnetID)
						}
						if pool.LBMethod != "ROUND_ROBIN" || pool.Name != name+"-pool" || mon.Type != "HTTP" || mon.Delay != 5 || mon.URLPath != "/" {
							return fmt.Errorf("Octavia has pool %s %s, monitor %s delay %d path %q", pool.Name, pool.LBMethod, mon.Type, mon.Delay, mon.URLPath)
						}
						if len(members) != 1 || members[0].Address != target.ServerAddress || members[0].Weight != 1 ||
							!slices.Contains(members[0].Tags, staticMemberTag) {
							return fmt.Errorf("Octavia has members %+v", members)
						}
						return nil
					}),
					// The web pool joins a node to the same pool; this resource must leave it alone.
					func(*terraform.State) error {
						api, err := accLB(target)
						if err != nil {
							return err
						}
						api.LoadBalancerID = lbID
						ctx := context.Background()
						m, err := api.CreateMember(ctx, poolID, cloud.MemberSpec{Address: "10.0.0.77", ProtocolPort: 80,
							Tags: []string{"eventscale:pool=web"}})
						if err != nil {
							return err
						}
						foreignMemberID = m.ID
						return api.WaitActive(ctx, lbID)
					},
				),
			},
			{
				Config: loadBalancerHCL(target, lbHCL{Name: name + "-v2", LBMethod: "LEAST_CONNECTIONS", MemberWeight: "5", Delay: 7}),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "name", name+"-v2"),
					resource.TestCheckResourceAttr(addr, "pool.lb_method", "LEAST_CONNECTIONS"),
					resource.TestCheckResourceAttr(addr, "health_monitor.delay", "7"),
					resource.TestCheckResourceAttr(addr, "members.0.weight", "5"),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources[addr]
						if rs.Primary.ID != lbID || rs.Primary.Attributes["pool_id"] != poolID {
							return fmt.Errorf("load balancer or pool replaced (%s/%s → %s/%s); these changes are in place",
								lbID, poolID, rs.Primary.ID, rs.Primary.Attributes["pool_id"])
						}
						return nil
					},
					testAccLB(target, func(lb *cloud.LoadBalancerInfo, pool *cloud.PoolInfo, mon *cloud.MonitorInfo, members []pools.Member) error {
						if lb.Name != name+"-v2" || pool.LBMethod != "LEAST_CONNECTIONS" || pool.Name != name+"-v2-pool" || mon.Delay != 7 {
							return fmt.Errorf("Octavia has LB %q pool %q %s monitor delay %d", lb.Name, pool.Name, pool.LBMethod, mon.Delay)
						}
						var static, foreign bool
						for _, m := range members {
							static = static || (m.Address == target.ServerAddress && m.Weight == 5)
							foreign = foreign || m.ID == foreignMemberID
						}
						if !static || !foreign {
							return fmt.Errorf("want the static member at weight 5 and the web pool's member untouched, got %+v", members)
						}
						return nil
					}),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// operating_status moves with health checks; timeouts live in configuration.
				ImportStateVerifyIgnore: []string{"timeouts", "operating_status"},
			},
			{
				// An import block followed by a plan of the same configuration: no change at all.
				ResourceName:    addr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				Config:          withProviderSource(loadBalancerHCL(target, lbHCL{Name: name + "-v2", LBMethod: "LEAST_CONNECTIONS", MemberWeight: "5", Delay: 7})),
			},
		},
	})
}

func TestAccLoadBalancer_VIPNetworkPicksSubnetAndListenerPortChangesInPlace(t *testing.T) {
	target := accCloud(t)
	name := accName(t, "acc-lb-vip")
	cfg := func(vip string) string {
		return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name = %q
  %s
  listener {
    protocol      = "TCP"
    protocol_port = 443
  }
  pool {
    protocol = "TCP"
  }
}
`, name, vip)
	}
	var first string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				Config:      cfg(""),
				ExpectError: regexp.MustCompile(`Exactly one of these attributes must be configured`),
			},
			{
				Config: cfg(fmt.Sprintf("vip_network_id = %q", target.NetworkID)),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckVIPSubnetPicked(t, target),
					resource.TestCheckNoResourceAttr("eventscale_load_balancer.event", "health_monitor_id"),
					func(s *terraform.State) error {
						first = s.RootModule().Resources["eventscale_load_balancer.event"].Primary.ID
						return nil
					},
				),
			},
			{
				// Octavia cannot change a listener's port: the listener is replaced, the load balancer
				// and its VIP stay.
				Config: strings.Replace(cfg(fmt.Sprintf("vip_network_id = %q", target.NetworkID)), "protocol_port = 443", "protocol_port = 8443", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_load_balancer.event", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_load_balancer.event", "listener.0.protocol_port", "8443"),
					resource.TestCheckResourceAttr("eventscale_load_balancer.event", "listener_ids.#", "1"),
					func(s *terraform.State) error {
						rs := s.RootModule().Resources["eventscale_load_balancer.event"].Primary
						if rs.ID != first {
							return fmt.Errorf("load balancer %s was replaced by %s: a listener change must keep it and its VIP", first, rs.ID)
						}
						api, err := accLB(target)
						if err != nil {
							return err
						}
						lb, err := api.GetLoadBalancer(context.Background(), first)
						if err != nil {
							return err
						}
						if len(lb.ListenerIDs) != 1 || lb.ListenerIDs[0] != rs.Attributes["listener_ids.0"] {
							return fmt.Errorf("load balancer has listeners %+v, want only %s", lb.ListenerIDs, rs.Attributes["listener_ids.0"])
						}
						return nil
					},
				),
			},
		},
	})
}

// testAccCheckVIPSubnetPicked checks that the state holds the subnet Octavia picked for a
// vip_network_id, read back from Octavia, and that it is the seed network's subnet. An Octavia
// whose network driver does not consult Neutron (the lab's no-op driver) makes up a subnet id
// Neutron does not know: then only the read-back is checked, and the test says so.
func testAccCheckVIPSubnetPicked(t *testing.T, target accTarget) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources["eventscale_load_balancer.event"].Primary
		api, err := accLB(target)
		if err != nil {
			return err
		}
		lb, err := api.GetLoadBalancer(context.Background(), rs.ID)
		if err != nil {
			return err
		}
		if got := rs.Attributes["vip_subnet_id"]; got != lb.VIPSubnetID {
			return fmt.Errorf("vip_subnet_id in state %q, Octavia reports %q", got, lb.VIPSubnetID)
		}
		if lb.VIPSubnetID == target.SubnetID {
			return nil
		}
		network, err := target.Client.ServiceClient(context.Background(), cloud.ServiceNetwork)
		if err != nil {
			return err
		}
		if _, err := subnets.Get(context.Background(), network, lb.VIPSubnetID).Extract(); err != nil && gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			t.Logf("Octavia picked subnet %s, which Neutron does not know: its network driver does not consult Neutron; only the read-back is checked", lb.VIPSubnetID)
			return nil
		}
		return fmt.Errorf("Octavia picked subnet %s on network %s, want the network's subnet %s", lb.VIPSubnetID, target.NetworkID, target.SubnetID)
	}
}

// TestAccLoadBalancer_ChildrenAddedChangedRemovedInPlace walks the monitor (added, type
// changed, removed), session persistence (set, cleared) and static members (added, removed)
// through updates of one load balancer, reading each result back from Octavia.
func TestAccLoadBalancer_ChildrenAddedChangedRemovedInPlace(t *testing.T) {
	target := accCloud(t)
	const addr = "eventscale_load_balancer.event"
	name := accName(t, "acc-lb-children")
	cfg := func(extra string) string {
		return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name          = %q
  vip_subnet_id = %q
  listener {
    protocol      = "TCP"
    protocol_port = 5432
  }
%s
}
`, name, target.SubnetID, extra)
	}
	withPool := func(persistence, rest string) string {
		return cfg("  pool {\n    protocol = \"TCP\"\n" + persistence + "  }\n" + rest)
	}
	var lbID, monitorID string
	read := func(check func(api *cloud.LoadBalancer, pool *cloud.PoolInfo, members []pools.Member) error) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			rs := s.RootModule().Resources[addr]
			if lbID == "" {
				lbID = rs.Primary.ID
			} else if rs.Primary.ID != lbID {
				return fmt.Errorf("load balancer replaced (%s → %s); the change is in place", lbID, rs.Primary.ID)
			}
			api, err := accLB(target)
			if err != nil {
				return err
			}
			pool, err := api.GetPool(context.Background(), rs.Primary.Attributes["pool_id"])
			if err != nil {
				return err
			}
			pages, err := pools.ListMembers(api.Client, pool.ID, pools.ListMembersOpts{}).AllPages(context.Background())
			if err != nil {
				return err
			}
			members, err := pools.ExtractMembers(pages)
			if err != nil {
				return err
			}
			return check(api, pool, members)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				Config: withPool("", ""),
				Check: read(func(_ *cloud.LoadBalancer, pool *cloud.PoolInfo, members []pools.Member) error {
					if pool.MonitorID != "" || len(members) != 0 || pool.Persistence.Type != "" {
						return fmt.Errorf("want a bare pool, got monitor %q, members %v, persistence %+v", pool.MonitorID, members, pool.Persistence)
					}
					return nil
				}),
			},
			{
				Config: withPool("    session_persistence = { type = \"SOURCE_IP\" }\n",
					"  health_monitor {\n    type = \"TCP\"\n  }\n"+
						fmt.Sprintf("  members = [{ address = %q, protocol_port = 5432 }]\n", target.ServerAddress)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrSet(addr, "health_monitor_id"),
					read(func(api *cloud.LoadBalancer, pool *cloud.PoolInfo, members []pools.Member) error {
						if pool.Persistence.Type != "SOURCE_IP" || pool.MonitorID == "" || len(members) != 1 || members[0].ProtocolPort != 5432 {
							return fmt.Errorf("got persistence %+v, monitor %q, members %+v", pool.Persistence, pool.MonitorID, members)
						}
						monitorID = pool.MonitorID
						return nil
					}),
				),
			},
			{
				// A new monitor type re-creates the monitor; the member list empties.
				Config: withPool("    session_persistence = { type = \"SOURCE_IP\" }\n",
					"  health_monitor {\n    type     = \"HTTP\"\n    url_path = \"/healthz\"\n  }\n"),
				Check: read(func(api *cloud.LoadBalancer, pool *cloud.PoolInfo, members []pools.Member) error {
					if pool.MonitorID == "" || pool.MonitorID == monitorID {
						return fmt.Errorf("monitor not re-created: %q (was %q)", pool.MonitorID, monitorID)
					}
					mon, err := api.GetMonitor(context.Background(), pool.MonitorID)
					if err != nil {
						return err
					}
					if mon.Type != "HTTP" || mon.URLPath != "/healthz" || len(members) != 0 {
						return fmt.Errorf("got monitor %s %q and members %+v", mon.Type, mon.URLPath, members)
					}
					if _, err := api.GetMonitor(context.Background(), monitorID); !cloud.IsNotFound(err) {
						return fmt.Errorf("old monitor %s still answers: %v", monitorID, err)
					}
					return nil
				}),
			},
			{
				Config: withPool("", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "health_monitor_id"),
					read(func(_ *cloud.LoadBalancer, pool *cloud.PoolInfo, _ []pools.Member) error {
						if pool.MonitorID != "" || pool.Persistence.Type != "" {
							return fmt.Errorf("monitor %q or persistence %+v left behind", pool.MonitorID, pool.Persistence)
						}
						return nil
					}),
				),
			},
		},
	})
}

// TestAccLoadBalancer_FailedCreateKeepsEverythingTracked fails the listener creation after
// the load balancer, pool and monitor exist: the apply fails, but the ids are in state, so
// the next apply replaces the tainted load balancer (cascade delete) instead of leaking it.
func TestAccLoadBalancer_PartlyFailedCreateIsFinishedInPlaceKeepingTheVIP(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to fail the listener creation (a real cloud cannot be told to)")
	}
	const addr = "eventscale_load_balancer.event"
	cfg := loadBalancerHCL(target, lbHCL{Name: accName(t, "acc-lb-fail"), LBMethod: "ROUND_ROBIN", MemberWeight: "1", Delay: 5})
	createdLBs := func() []string {
		var ids []string
		for _, e := range target.Dev.Events() {
			if e.Kind == "lb.created" {
				ids = append(ids, fmt.Sprint(e.Attrs["lb_id"]))
			}
		}
		return ids
	}
	var vip string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "load-balancer", Method: "POST", Path: "/listeners", Status: 500, Times: 1}}})
				},
				Config: cfg,
				// The create succeeds with a warning, so Terraform does not taint the load balancer;
				// the refresh after it shows the listener still to add.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "listener_ids.#", "0"),
					resource.TestCheckResourceAttrSet(addr, "pool_id"),
					func(s *terraform.State) error {
						vip = s.RootModule().Resources[addr].Primary.Attributes["vip_address"]
						return nil
					},
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "listener_ids.#", "1"),
					func(s *terraform.State) error {
						ids := createdLBs()
						if len(ids) != 1 {
							return fmt.Errorf("load balancers created: %v, want the first one only, finished in place", ids)
						}
						rs := s.RootModule().Resources[addr].Primary
						if rs.ID != ids[0] || rs.Attributes["vip_address"] != vip {
							return fmt.Errorf("state holds %s with VIP %s, want %s with the same VIP %s", rs.ID, rs.Attributes["vip_address"], ids[0], vip)
						}
						return nil
					},
				),
			},
		},
	})
}

// TestAccLoadBalancer_FailedUpdateIsFinishedByTheNextApply fails the creation of a health
// monitor added in an update: state must record only what Octavia accepted, so that the next
// apply, with the same configuration, still creates the monitor.
func TestAccLoadBalancer_FailedUpdateIsFinishedByTheNextApply(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to fail the monitor creation (a real cloud cannot be told to)")
	}
	const addr = "eventscale_load_balancer.event"
	name := accName(t, "acc-lb-upd")
	cfg := func(monitor string) string {
		return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_load_balancer" "event" {
  name          = %q
  vip_subnet_id = %q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {
    lb_method = "ROUND_ROBIN"
  }
%s
}
`, name, target.SubnetID, monitor)
	}
	withMonitor := cfg("  health_monitor {\n    type = \"TCP\"\n  }\n")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckLoadBalancersGone(target),
		Steps: []resource.TestStep{
			{Config: cfg("")},
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "load-balancer", Method: "POST", Path: "/healthmonitors", Status: 500, Times: 1}}})
				},
				Config:      withMonitor,
				ExpectError: regexp.MustCompile(`Cannot create the health monitor`),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    withMonitor,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrSet(addr, "health_monitor_id"),
					func(s *terraform.State) error {
						api, err := accLB(target)
						if err != nil {
							return err
						}
						pool, err := api.GetPool(context.Background(), s.RootModule().Resources[addr].Primary.Attributes["pool_id"])
						if err != nil {
							return err
						}
						if pool.MonitorID == "" {
							return fmt.Errorf("the monitor the failed update could not create is still missing")
						}
						return nil
					},
				),
			},
		},
	})
}
