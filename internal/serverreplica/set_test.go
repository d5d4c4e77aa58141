package serverreplica_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/serverreplica"
)

// The tests run replicas for real: devcloud boots a mariadbd for each server created with
// the replica user data, and a mariadbtest server is the primary.
var (
	labOnce sync.Once
	lab     *mariadbtest.Lab
	labErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if lab != nil {
		_ = lab.Close()
	}
	os.Exit(code)
}

type env struct {
	dc      *devcloud.Cloud
	compute *cloud.Compute
	primary *mariadbtest.Server
	seed    devcloud.SeedInfo
}

func newEnv(t *testing.T, name string) env {
	t.Helper()
	if err := devcloud.MachinesSupported(); err != nil {
		t.Skipf("devcloud cannot run database servers here: %v", err)
	}
	labOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		lab, labErr = mariadbtest.New(ctx)
	})
	if labErr != nil {
		t.Skipf("no MariaDB for the primary: %v", labErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	primary, err := lab.Start(ctx, mariadbtest.ServerOptions{Name: name, ServerID: 1, LogBin: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Kill() })
	if err := primary.Exec(ctx, "CREATE DATABASE shop", "CREATE TABLE shop.orders (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	dc, err := devcloud.Start(devcloud.Options{TimeScale: 0.01, Seed: true, RandSeed: time.Now().UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	denv := dc.Env()
	resolved, err := cloud.Config{AuthURL: dc.AuthURL(), UserName: denv["OS_USERNAME"], Password: denv["OS_PASSWORD"],
		ProjectName: denv["OS_PROJECT_NAME"], UserDomainName: "Default", ProjectDomainName: "Default", Region: "RegionOne"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(resolved, nil, "serverreplica-test")
	if err != nil {
		t.Fatal(err)
	}
	compute, err := client.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compute.Poll = cloud.Poll{Interval: 20 * time.Millisecond}
	return env{dc: dc, compute: compute, primary: primary, seed: dc.Seed()}
}

func (e env) spec(name string) serverreplica.Spec {
	return serverreplica.Spec{
		Name:    name,
		Primary: dbreplica.Endpoint{Host: "127.0.0.1", Port: e.primary.Port, User: mariadbtest.AdminUser, Password: mariadbtest.AdminPassword},
		ImageID: e.seed.BaseImageID, Flavor: "m1.small", FlavorID: e.seed.FlavorIDs["m1.small"], Networks: []string{e.seed.NetworkID},
		Dial: e.dc.DialContext,
	}
}

func (e env) set(t *testing.T, spec serverreplica.Spec, secrets serverreplica.Secrets, known []serverreplica.Replica) *serverreplica.Set {
	t.Helper()
	s, err := serverreplica.New(serverreplica.Config{Spec: spec, Secrets: secrets, Compute: e.compute, Known: known,
		Options:  serverreplica.Options{PollInterval: 200 * time.Millisecond, CheckTimeout: 30 * time.Second},
		Progress: func(p serverreplica.Progress) { t.Logf("%s", p.Message) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func secrets(t *testing.T) serverreplica.Secrets {
	t.Helper()
	s, err := serverreplica.Secrets{}.Complete()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e env) writeOrders(ctx context.Context, t *testing.T, from, to int) {
	t.Helper()
	var values []string
	for i := from; i <= to; i++ {
		values = append(values, "("+strconv.Itoa(i)+")")
	}
	if err := e.primary.Exec(ctx, "INSERT INTO shop.orders VALUES "+strings.Join(values, ",")); err != nil {
		t.Fatal(err)
	}
}

// orders counts the rows on a replica, read through the application's account (the
// replica has the primary's accounts from its dump) over devcloud's tenant network.
func (e env) orders(ctx context.Context, t *testing.T, r serverreplica.Replica) int {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(r.Address, "3306")
	cfg.User, cfg.Passwd = mariadbtest.AdminUser, mariadbtest.AdminPassword
	cfg.DialFunc = e.dc.DialContext
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.orders").Scan(&n); err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	return n
}

func (e env) accountExists(ctx context.Context, t *testing.T, name string) bool {
	t.Helper()
	db, err := e.primary.DB(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func names(rs []serverreplica.Replica) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s:%s", r.Name, r.Status))
	}
	return strings.Join(out, " ")
}

func TestSet_CreateGrowShrinkDestroy_TheOthersKeepReplicatingAndTheAccountGoesLast(t *testing.T) {
	e := newEnv(t, "lifecycle")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	e.writeOrders(ctx, t, 1, 100)
	spec, sec := e.spec("shop-db"), secrets(t)

	rs, err := e.set(t, spec, sec, nil).Apply(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || !rs[0].InService() || !rs[1].InService() {
		t.Fatalf("after create: %s", names(rs))
	}
	for _, r := range rs {
		t.Logf("create: %s (%s, server_id %d) in sync %s after its create request, lag %s", r.Name, r.Address, r.MySQLServerID, r.SyncedAfter.Round(100*time.Millisecond), r.Lag)
		if want, _ := dbreplica.ReplicaServerID(dbreplica.SuggestServerIDBase("shop-db"), r.Ordinal); r.MySQLServerID != want {
			t.Errorf("%s has server_id %d, want %d", r.Name, r.MySQLServerID, want)
		}
	}

	// Grow: a second run knows the two and adds the third only.
	e.writeOrders(ctx, t, 101, 150)
	before := len(e.dc.Machines())
	rs, err = e.set(t, spec, sec, rs).Apply(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[2].Name != "shop-db-03" || rs[2].SyncedAfter == 0 || rs[0].SyncedAfter != 0 {
		t.Fatalf("after growing: %s", names(rs))
	}
	if got := len(e.dc.Machines()); got != before+1 {
		t.Errorf("growing to 3 made %d servers, want 1", got-before)
	}
	t.Logf("grow: %s in sync %s after its create request", rs[2].Name, rs[2].SyncedAfter.Round(100*time.Millisecond))
	e.writeOrders(ctx, t, 151, 160)
	rs, err = e.set(t, spec, sec, rs).Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != serverreplica.StatusReplicating || !r.LagKnown || r.GTIDPosition == "" {
			t.Errorf("refresh: %s %s lag %s known %v gtid %q (%s)", r.Name, r.Status, r.Lag, r.LagKnown, r.GTIDPosition, r.Detail)
		}
	}

	// Shrink to 1: 03 then 02 go, and 01 replicates after each removal.
	rs, err = e.set(t, spec, sec, rs).Apply(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Name != "shop-db-01" || rs[0].Status != serverreplica.StatusReplicating {
		t.Fatalf("after shrinking: %s", names(rs))
	}
	order := []string{}
	for _, ev := range e.dc.Events() {
		if ev.Kind == "server.deleting" {
			order = append(order, fmt.Sprint(ev.Attrs["name"]))
		}
	}
	if strings.Join(order, ",") != "shop-db-03,shop-db-02" {
		t.Errorf("servers deleted in the order %v, want shop-db-03 then shop-db-02", order)
	}
	e.writeOrders(ctx, t, 161, 170)
	if _, err := e.set(t, spec, sec, rs).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	p, _, problems := dbreplica.CheckPrimary(ctx, spec.Primary)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	mon := dbreplica.Endpoint{Host: rs[0].Address, Port: 3306, User: dbreplica.MonitorUserName("shop-db"), Password: sec.MonitorPassword, Dial: e.dc.DialContext}
	if _, err := dbreplica.CheckStillReplicating(ctx, p, []dbreplica.ReplicaTarget{{Name: rs[0].Name, Endpoint: mon}}, time.Second); err != nil {
		t.Fatal(err)
	}
	if n := e.orders(ctx, t, rs[0]); n != 170 {
		t.Errorf("%s has %d orders, want 170", rs[0].Name, n)
	}

	// Destroy: the last replica, then the account.
	if !e.accountExists(ctx, t, dbreplica.ReplicationUserName("shop-db")) {
		t.Fatal("no replication account before the destroy")
	}
	rs, err = e.set(t, spec, sec, rs).Destroy(ctx)
	if err != nil || len(rs) != 0 {
		t.Fatalf("destroy: %s %v", names(rs), err)
	}
	if e.accountExists(ctx, t, dbreplica.ReplicationUserName("shop-db")) {
		t.Error("the replication account is still on the primary")
	}
	if m := e.dc.Machines(); len(m) != 0 {
		t.Errorf("machines left: %+v", m)
	}
}

func TestSet_LostCreateAnswerIsAdoptedAndAServerInErrorIsBuiltAgain(t *testing.T) {
	e := newEnv(t, "faults")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The first create is made but its answer lost; the next build ends in ERROR.
	e.dc.InjectFaults(devcloud.FaultSpec{
		Rules:        []devcloud.FaultRule{{Service: "compute", Method: "POST", Path: "/servers", Drop: true, After: true, Times: 1}},
		ServerErrors: &devcloud.ServerErrorFault{Next: 1, Message: "No valid host was found."},
	})
	spec := e.spec("faulty")
	rs, err := e.set(t, spec, secrets(t), nil).Apply(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || !rs[0].InService() || !rs[1].InService() {
		t.Fatalf("replicas: %s", names(rs))
	}
	created, errored := 0, 0
	for _, ev := range e.dc.Events() {
		switch ev.Kind {
		case "server.created":
			created++
		case "server.error":
			errored++
		}
	}
	// Two replicas, one lost answer adopted (no second create), one ERROR rebuilt: three servers.
	if created != 3 || errored != 1 {
		t.Errorf("%d servers created and %d in ERROR, want 3 and 1", created, errored)
	}
	servers, err := e.compute.ListServers(ctx, serverreplica.SetMatch("faulty"))
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 {
		t.Errorf("the set has %d servers, want 2", len(servers))
	}
}

func TestSet_FailedSetupIsReportedFromTheConsoleAndRebuiltByTheNextApply(t *testing.T) {
	e := newEnv(t, "setupfail")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	spec, sec := e.spec("broken"), secrets(t)
	// The primary refuses the replication account from the replicas' address.
	spec.ReplicationUserHost = "10.9.9.%"
	start := time.Now()
	rs, err := e.set(t, spec, sec, nil).Apply(ctx, 1)
	if err == nil {
		t.Fatal("the apply succeeded with a replication account the replicas may not use")
	}
	t.Logf("apply failed after %s: %v", time.Since(start).Round(100*time.Millisecond), err)
	if !strings.Contains(err.Error(), "step=primary") || !strings.Contains(err.Error(), "es_repl_broken") {
		t.Errorf("the error does not carry the setup's failing step from the console: %v", err)
	}
	if time.Since(start) > 2*time.Minute {
		t.Errorf("a failed setup was noticed only after %s", time.Since(start))
	}
	if len(rs) != 1 || rs[0].Status != serverreplica.StatusFailed || rs[0].ServerID == "" {
		t.Fatalf("the failed replica is kept and reported: %s", names(rs))
	}
	for _, secret := range []string{sec.ReplicationPassword, sec.MonitorPassword} {
		if strings.Contains(err.Error(), secret) {
			t.Fatal("the error contains a password")
		}
	}
	failedID := rs[0].ServerID

	// Fixed: the next apply deletes the server that never served and builds it again.
	spec.ReplicationUserHost = "%"
	rs, err = e.set(t, spec, sec, rs).Apply(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !rs[0].InService() || rs[0].ServerID == failedID {
		t.Fatalf("after the fix: %s (server %s, was %s)", names(rs), rs[0].ServerID, failedID)
	}
}

func TestDiscover_ReadsTheSetBackFromItsServersMetadata(t *testing.T) {
	e := newEnv(t, "discover")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec := e.spec("imp")
	spec.ServerIDBase = 5000
	spec.SourceHost = "127.0.0.1"
	spec.MaxLag = 45 * time.Second
	spec.SecurityGroups = []string{"default"}
	if _, err := e.set(t, spec, secrets(t), nil).Apply(ctx, 1); err != nil {
		t.Fatal(err)
	}
	rs, im, err := serverreplica.Discover(ctx, e.compute, "imp")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].MySQLServerID != 5001 || rs[0].Address == "" {
		t.Errorf("replicas: %+v", rs)
	}
	want := serverreplica.Imported{Name: "imp", PrimaryUser: mariadbtest.AdminUser, PrimaryHost: "127.0.0.1", PrimaryPort: e.primary.Port,
		SourceHost: "127.0.0.1", SourcePort: e.primary.Port, ReplUserHost: "%", ServerIDBase: 5000, ImageID: spec.ImageID, Flavor: "m1.small",
		Networks: spec.Networks, SecurityGroup: []string{"default"}, MaxLag: 45 * time.Second, ReplicaPort: 3306}
	if fmt.Sprintf("%+v", im) != fmt.Sprintf("%+v", want) {
		t.Errorf("imported %+v\nwant     %+v", im, want)
	}
	if _, _, err := serverreplica.Discover(ctx, e.compute, "nothing"); err == nil {
		t.Error("discovering a set without servers succeeded")
	}
	// Without the passwords nothing can be built or stopped, but the set is read.
	ro, err := serverreplica.New(serverreplica.Config{Spec: spec, Compute: e.compute, Known: rs})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.Refresh(ctx)
	if err != nil || len(got) != 1 || got[0].Status != serverreplica.StatusUnknown || !got[0].InService() {
		t.Errorf("refresh without passwords: %s %v", names(got), err)
	}
	if _, err := ro.Apply(ctx, 2); err == nil || !strings.Contains(err.Error(), "passwords") {
		t.Errorf("growing without passwords: %v", err)
	}
}
