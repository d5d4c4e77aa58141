package provider

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/serverreplica"
)

// replicaAcc is an acceptance run of eventscale_server_replica: devcloud, whose servers
// with the replica user data run a real mariadbd, and a real mariadbd primary.
type replicaAcc struct {
	target  accTarget
	lab     *mariadbtest.Lab
	primary *mariadbtest.Server
}

// accServerReplica starts what the tests need, or skips naming what is missing.
func accServerReplica(t *testing.T) replicaAcc {
	t.Helper()
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("eventscale_server_replica acceptance tests run on devcloud, whose servers run the replicas' MariaDB; " +
			"on an external cloud the replicas would need an image with MariaDB and a primary they can reach")
	}
	if err := devcloud.MachinesSupported(); err != nil {
		t.Skipf("devcloud cannot run the replicas' database servers here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab, err := mariadbtest.New(ctx)
	if err != nil {
		t.Skipf("no MariaDB for the primary: %v", err)
	}
	t.Cleanup(func() { _ = lab.Close() })
	primary, err := lab.Start(ctx, mariadbtest.ServerOptions{Name: "db01", ServerID: 1, LogBin: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.Exec(ctx, "CREATE DATABASE shop", "CREATE TABLE shop.orders (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return replicaAcc{target: target, lab: lab, primary: primary}
}

// factories serve a provider that reaches the replicas over devcloud's tenant network.
func (a replicaAcc) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"eventscale": providerserver.NewProtocol6WithError(&eventscaleProvider{version: "test", dbDial: a.target.Dev.DialContext}),
	}
}

func (a replicaAcc) config(name string, count int, extra string) string {
	return serverReplicaHCL(a.target, name, count, a.primary.Port, mariadbtest.AdminPassword, extra)
}

func serverReplicaHCL(target accTarget, name string, count, port int, password, extra string) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_server_replica" "reads" {
  name          = %q
  replica_count = %d
  primary = {
    host     = "127.0.0.1"
    port     = %d
    user     = %q
    password = %q
  }
  image_id = %q
  flavor   = "m1.small"
  networks = [%q]
%s}
`, name, count, port, mariadbtest.AdminUser, password, target.ImageID, target.NetworkID, extra)
}

func (a replicaAcc) writeOrders(t *testing.T, from, to int) {
	t.Helper()
	var values []string
	for i := from; i <= to; i++ {
		values = append(values, "("+strconv.Itoa(i)+")")
	}
	if err := a.primary.Exec(context.Background(), "INSERT INTO shop.orders VALUES "+strings.Join(values, ",")); err != nil {
		t.Fatal(err)
	}
}

// checkOrders reads the orders on every replica in state, through the application's
// account and the replica's own address, after the replica caught up with the primary.
func (a replicaAcc) checkOrders(name string, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p, _, problems := dbreplica.CheckPrimary(ctx, dbreplica.Endpoint{Host: "127.0.0.1", Port: a.primary.Port,
			User: mariadbtest.AdminUser, Password: mariadbtest.AdminPassword})
		if p == nil {
			return problems.Err()
		}
		defer p.Close()
		attrs := s.RootModule().Resources["eventscale_server_replica.reads"].Primary.Attributes
		n, _ := strconv.Atoi(attrs["replicas.#"])
		var targets []dbreplica.ReplicaTarget
		for i := range n {
			targets = append(targets, dbreplica.ReplicaTarget{Name: attrs[fmt.Sprintf("replicas.%d.name", i)], Endpoint: dbreplica.Endpoint{
				Host: attrs[fmt.Sprintf("replicas.%d.address", i)], Port: 3306, User: dbreplica.MonitorUserName(name),
				Password: attrs["monitor_password"], Dial: a.target.Dev.DialContext}})
		}
		if _, err := dbreplica.CheckStillReplicating(ctx, p, targets, 30*time.Second); err != nil {
			return err
		}
		for _, tg := range targets {
			got, err := a.countOrders(ctx, tg.Endpoint.Host)
			if err != nil {
				return fmt.Errorf("%s: %w", tg.Name, err)
			}
			if got != want {
				return fmt.Errorf("%s has %d orders, want %d", tg.Name, got, want)
			}
		}
		return nil
	}
}

func (a replicaAcc) countOrders(ctx context.Context, host string) (int, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, "3306")
	cfg.User, cfg.Passwd = mariadbtest.AdminUser, mariadbtest.AdminPassword
	cfg.DialFunc = a.target.Dev.DialContext
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return 0, err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.orders").Scan(&n)
	return n, err
}

// serversOfSet lists the set's servers from Nova, not from state.
func serversOfSet(target accTarget, name string) (int, error) {
	ctx := context.Background()
	c, err := target.Client.Compute(ctx)
	if err != nil {
		return 0, err
	}
	list, err := c.ListServers(ctx, serverreplica.SetMatch(name))
	if err != nil {
		return 0, err
	}
	return len(list), nil
}

func checkServersOfSet(target accTarget, name string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		n, err := serversOfSet(target, name)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("Nova has %d servers of replica set %s, want %d", n, name, want)
		}
		return nil
	}
}

func (a replicaAcc) accountExists(name string) (bool, error) {
	db, err := a.primary.DB(context.Background(), "")
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM mysql.user WHERE User = ?", dbreplica.ReplicationUserName(name)).Scan(&n)
	return n > 0, err
}

// stepTimer logs how long each step took from its PreConfig to its checks, with the lag
// the replicas reported.
type stepTimer struct {
	t     *testing.T
	start time.Time
}

func (st *stepTimer) begin() { st.start = time.Now() }

func (st *stepTimer) done(what string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources["eventscale_server_replica.reads"].Primary.Attributes
		n, _ := strconv.Atoi(attrs["replicas.#"])
		var lags []string
		for i := range n {
			lags = append(lags, fmt.Sprintf("%s %s lag %ss", attrs[fmt.Sprintf("replicas.%d.name", i)],
				attrs[fmt.Sprintf("replicas.%d.status", i)], attrs[fmt.Sprintf("replicas.%d.lag_seconds", i)]))
		}
		st.t.Logf("%s: %s (plan and apply); %s", what, time.Since(st.start).Round(100*time.Millisecond), strings.Join(lags, ", "))
		return nil
	}
}

// onlyPasswordChanges is the plan after an import of the same configuration: the one
// difference the cloud cannot avoid is primary.password, which it does not keep.
type onlyPasswordChanges struct{ address string }

func (c onlyPasswordChanges) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.address {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		unknown, _ := rc.Change.AfterUnknown.(map[string]any)
		var changed []string
		for k, v := range after {
			if unknown[k] == true {
				continue
			}
			if k == "primary" {
				bp, _ := before[k].(map[string]any)
				ap, _ := v.(map[string]any)
				for pk, pv := range ap {
					if fmt.Sprint(bp[pk]) != fmt.Sprint(pv) {
						changed = append(changed, "primary."+pk)
					}
				}
				continue
			}
			if fmt.Sprint(before[k]) != fmt.Sprint(v) {
				changed = append(changed, k)
			}
		}
		if strings.Join(changed, ",") != "primary.password" {
			resp.Error = fmt.Errorf("after the import the plan changes %v, want only primary.password", changed)
		}
		return
	}
	resp.Error = fmt.Errorf("no change planned for %s", c.address)
}

func TestAccServerReplica_CreateGrowShrinkImportDestroy(t *testing.T) {
	a := accServerReplica(t)
	name := accName(t, "accsr")
	timer := &stepTimer{t: t}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		CheckDestroy: func(*terraform.State) error {
			if n, err := serversOfSet(a.target, name); err != nil || n != 0 {
				return fmt.Errorf("%d servers of the set left (%v)", n, err)
			}
			if exists, err := a.accountExists(name); err != nil || exists {
				return fmt.Errorf("the replication account is still on the primary (%v)", err)
			}
			if m := a.target.Dev.Machines(); len(m) != 0 {
				return fmt.Errorf("database servers still run: %+v", m)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() { a.writeOrders(t, 1, 100); timer.begin() },
				Config:    a.config(name, 2, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					timer.done("create 2"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.#", "2"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.0.name", name+"-01"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.0.status", "replicating"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.1.status", "replicating"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replication_user", dbreplica.ReplicationUserName(name)),
					resource.TestCheckResourceAttrSet("eventscale_server_replica.reads", "replication_password"),
					resource.TestCheckResourceAttrSet("eventscale_server_replica.reads", "monitor_password"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "server_id_base", strconv.Itoa(int(dbreplica.SuggestServerIDBase(name)))),
					checkServersOfSet(a.target, name, 2),
					func(*terraform.State) error { a.writeOrders(t, 101, 120); return nil },
					a.checkOrders(name, 120),
				),
			},
			{
				PreConfig: timer.begin,
				Config:    a.config(name, 3, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					timer.done("grow to 3"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.#", "3"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.2.status", "replicating"),
					checkServersOfSet(a.target, name, 3),
					func(*terraform.State) error { a.writeOrders(t, 121, 130); return nil },
					a.checkOrders(name, 130),
				),
			},
			{
				PreConfig: timer.begin,
				Config:    a.config(name, 1, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					timer.done("shrink to 1"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.#", "1"),
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.0.name", name+"-01"),
					checkServersOfSet(a.target, name, 1),
					func(*terraform.State) error {
						// One at a time, the highest number first: devcloud's timeline keeps the order.
						var order []string
						for _, e := range a.target.Dev.Events() {
							if e.Kind == "server.deleting" {
								order = append(order, fmt.Sprint(e.Attrs["name"]))
							}
						}
						if want := name + "-03," + name + "-02"; strings.Join(order, ",") != want {
							return fmt.Errorf("servers deleted in the order %v, want %s", order, want)
						}
						return nil
					},
					func(*terraform.State) error { a.writeOrders(t, 131, 140); return nil },
					a.checkOrders(name, 140),
				),
			},
			{
				ResourceName:      "eventscale_server_replica.reads",
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
				// The cloud cannot tell the passwords; without the monitoring password the
				// replication of an imported set reads as unknown.
				ImportStateVerifyIgnore: []string{"primary.password", "replication_password", "monitor_password",
					"replicas.0.status", "replicas.0.lag_seconds", "replicas.0.gtid_position"},
			},
			{
				ResourceName:       "eventscale_server_replica.reads",
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateId:      name,
				Config:             withProviderSource(a.config(name, 1, "")),
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					onlyPasswordChanges{address: "eventscale_server_replica.reads"},
				}},
			},
		},
	})
}

func TestAccServerReplica_PartlyFailedCreateKeepsTheReplicaThatServesAndTheNextApplyAddsTheOther(t *testing.T) {
	a := accServerReplica(t)
	name := accName(t, "accsrfail")
	serving := map[string]string{} // name -> server id after the partial create
	ids := func(s *terraform.State) map[string]string {
		attrs := s.RootModule().Resources["eventscale_server_replica.reads"].Primary.Attributes
		out := map[string]string{}
		n, _ := strconv.Atoi(attrs["replicas.#"])
		for i := range n {
			out[attrs[fmt.Sprintf("replicas.%d.name", i)]] = attrs[fmt.Sprintf("replicas.%d.server_id", i)]
		}
		return out
	}
	event := `  event_id = "launch@2020-01-01T00:00:00Z/2999-01-01T00:00:00Z"` + "\n"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					a.target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "compute", Method: "POST", Path: "/servers", Status: 403, Times: 1}}})
				},
				Config:             a.config(name, 2, ""),
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.#", "1"),
					checkServersOfSet(a.target, name, 1),
					func(s *terraform.State) error {
						serving = ids(s)
						return nil
					},
				),
			},
			{
				PreConfig: func() { a.target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    a.config(name, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_server_replica.reads", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_server_replica.reads", "replicas.#", "2"),
					checkServersOfSet(a.target, name, 2),
					func(s *terraform.State) error {
						now := ids(s)
						for n, id := range serving {
							if now[n] != id {
								return fmt.Errorf("replica %s, which served, was replaced: %s -> %s", n, id, now[n])
							}
						}
						return nil
					},
					a.checkOrders(name, 0),
				),
			},
			{
				// During the event the set refuses to shrink, at plan time.
				Config:      a.config(name, 1, event),
				ExpectError: regexp.MustCompile(`(?s)frozen during the event.*allow_during_event`),
			},
			{
				Config: a.config(name, 2, event+"  allow_during_event = true\n"),
				Check:  checkServersOfSet(a.target, name, 2),
			},
		},
	})
}

func TestAccServerReplica_BadInputRefusedAtPlanWithNoServerCreated(t *testing.T) {
	a := accServerReplica(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	noBinlog, err := a.lab.Start(ctx, mariadbtest.ServerOptions{Name: "nobinlog", ServerID: 1})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := mariadbtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// A primary whose server_id a replica would take: replica 02 of base 999999.
	if err := a.primary.Exec(ctx, "SET GLOBAL server_id = 1000001"); err != nil {
		t.Fatal(err)
	}
	name := accName(t, "accsrbad")
	cases := []struct {
		what   string
		config string
		want   string
	}{
		{"wrong password", serverReplicaHCL(a.target, name, 1, a.primary.Port, "not-the-password", ""),
			`(?s)refused the credentials of user 'labadmin'.*Check primary.user and primary.password`},
		{"binlog off", serverReplicaHCL(a.target, name, 1, noBinlog.Port, mariadbtest.AdminPassword, ""),
			`(?s)binary log.*log_bin = mysql-bin`},
		{"server_id clash", a.config(name, 2, "  server_id_base = 999999\n"),
			`(?s)would get server_id 1000001, the primary's own`},
		{"unreachable primary", serverReplicaHCL(a.target, name, 1, closed, mariadbtest.AdminPassword, ""),
			`(?s)is unreachable.*connection refused`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{PreConfig: func() { t.Logf("plan with %s", c.what) }, Config: c.config, PlanOnly: true,
			ExpectError: regexp.MustCompile(c.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: a.factories(), Steps: steps})
	if n, err := serversOfSet(a.target, name); err != nil || n != 0 {
		t.Fatalf("%d servers were created by plans that were refused (%v)", n, err)
	}
	for _, r := range a.target.Dev.Metrics().Requests {
		if r.Service == "compute" && r.Method != http.MethodGet {
			t.Errorf("a refused plan sent %s %s to Nova", r.Method, r.Path)
		}
	}
	if exists, err := a.accountExists(name); err != nil || exists {
		t.Errorf("a refused plan created the replication account (%v)", err)
	}
}

func TestServerReplicaSchema_SecretsAreSensitiveAndImportKeepsNullPasswords(t *testing.T) {
	s := resourceSchema(t, NewServerReplicaResource())
	for _, name := range []string{"replication_password", "monitor_password"} {
		if !s.Attributes[name].IsSensitive() {
			t.Errorf("%s is not sensitive", name)
		}
	}
	primary := s.Attributes["primary"].GetType().String()
	if !strings.Contains(primary, "password") {
		t.Fatalf("primary: %s", primary)
	}
	// An imported set has null passwords in state; a configuration without them must
	// plan null again, not "known after apply".
	existing := tfsdk.State{Raw: tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}, map[string]tftypes.Value{})}
	req := planmodifier.StringRequest{State: existing, StateValue: types.StringNull(), ConfigValue: types.StringNull(), PlanValue: types.StringUnknown()}
	resp := planmodifier.StringResponse{PlanValue: req.PlanValue}
	keepStateValue().PlanModifyString(context.Background(), req, &resp)
	if !resp.PlanValue.IsNull() {
		t.Errorf("planned %s for a null state and no configuration, want null", resp.PlanValue)
	}
	// On create there is no state: the value stays unknown, to be generated.
	req.State = tfsdk.State{Raw: tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}, nil)}
	resp = planmodifier.StringResponse{PlanValue: req.PlanValue}
	keepStateValue().PlanModifyString(context.Background(), req, &resp)
	if !resp.PlanValue.IsUnknown() {
		t.Errorf("planned %s on create, want unknown", resp.PlanValue)
	}
}

func TestOrdinalFromReplicaName_ReadsTheTrailingNumber(t *testing.T) {
	for name, want := range map[string]int{"event-db-01": 1, "event-db-12": 12, "a-b-003": 3, "event-db": 0, "db-x1": 0} {
		got, ok := ordinalFromReplicaName(name)
		if got != want || ok != (want > 0) {
			t.Errorf("%s: %d %v, want %d", name, got, ok, want)
		}
	}
}
