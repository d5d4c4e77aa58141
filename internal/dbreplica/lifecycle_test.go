package dbreplica_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
)

func writeRows(ctx context.Context, t *testing.T, set *replicaSet, dbName string, from, to int) {
	t.Helper()
	var values []string
	for i := from; i <= to; i++ {
		values = append(values, fmt.Sprintf("(%d)", i))
	}
	if err := set.primary.Exec(ctx, "INSERT INTO `"+dbName+"`.t VALUES "+strings.Join(values, ",")); err != nil {
		t.Fatal(err)
	}
}

func openPrimary(ctx context.Context, t *testing.T, set *replicaSet) *dbreplica.Primary {
	t.Helper()
	p, _, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(set.primary))
	if p == nil {
		t.Fatal(problems.Err())
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func startServer(ctx context.Context, t *testing.T, name string) *mariadbtest.Server {
	t.Helper()
	srv, err := lab.Start(ctx, mariadbtest.ServerOptions{Name: name, ServerID: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Kill() })
	return srv
}

func TestScaleOutAndIn_RemovingOneReplicaLeavesTheOthersReplicating(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	if err := set.primary.Exec(ctx, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	writeRows(ctx, t, set, dbName, 1, 100)

	// Grow: the provider checks again with the existing replicas marked as such, and
	// ensures the account (a second run finds it).
	p := openPrimary(ctx, t, set)
	_, info, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(set.primary))
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	third, _ := dbreplica.ReplicaServerID(set.serverBase, 3)
	plan := []dbreplica.PlannedReplica{{Name: "event-db-03", ServerID: third}}
	for _, r := range set.replicas {
		plan = append(plan, dbreplica.PlannedReplica{Name: r.name, ServerID: r.serverID, Exists: true})
	}
	if ps := dbreplica.CheckServerIDs(info, plan); len(ps) != 0 {
		t.Fatalf("growing the set: %v", ps.Err())
	}
	res, err := p.EnsureReplicationUser(ctx, set.replUser)
	if err != nil || res.Created || res.PasswordUpdated {
		t.Fatalf("second ensure = %+v, %v; want the account found as it is", res, err)
	}
	srv := startServer(ctx, t, "replica3")
	r3 := set.addReplica(ctx, t, srv, 3)
	t.Logf("grow: %s in sync %s after its user data started, lag %s", r3.name, r3.synced.Round(time.Millisecond), r3.lag)
	writeRows(ctx, t, set, dbName, 101, 150)
	caughtUp(ctx, t, set, set.replicas...)
	for _, r := range set.replicas {
		if n := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM `"+dbName+"`.t"); n != 150 {
			t.Errorf("%s has %d rows, want 150", r.name, n)
		}
	}

	// Shrink, one replica: stop replication on it, delete it, check the others.
	others := set.replicas[:2]
	set.replicas = others
	if err := dbreplica.StopReplication(ctx, set.monitorEndpoint(r3)); err != nil {
		t.Fatal(err)
	}
	rep, err := dbreplica.OpenReplica(ctx, set.monitorEndpoint(r3))
	if err != nil {
		t.Fatal(err)
	}
	st, err := rep.Status(ctx)
	_ = rep.Close()
	if err != nil || st.Configured {
		t.Fatalf("after StopReplication %s: %s, %v; want no replication configured", r3.name, st, err)
	}
	// A second stop (a retried scale-in step) is fine.
	if err := dbreplica.StopReplication(ctx, set.monitorEndpoint(r3)); err != nil {
		t.Fatalf("second StopReplication: %v", err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	writeRows(ctx, t, set, dbName, 151, 200)
	checkStart := time.Now()
	health, err := dbreplica.CheckStillReplicating(ctx, p, set.targets(others...), dbreplica.DefaultMaxLag)
	if err != nil {
		t.Fatalf("after removing %s: %v", r3.name, err)
	}
	for _, h := range health {
		t.Logf("after removing %s: %s: %s (checked in %s)", r3.name, h.Name, h.Status, time.Since(checkStart).Round(time.Millisecond))
		if !h.Status.Replicating() {
			t.Errorf("%s: %s", h.Name, h.Status)
		}
	}
	for _, r := range others {
		if n := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM `"+dbName+"`.t"); n != 200 {
			t.Errorf("%s has %d rows, want 200", r.name, n)
		}
	}
	// The removed replica's stream ends on the primary at its next heartbeat (5 s).
	var streams []string
	for wait := time.Now(); ; {
		streams, err = p.BinlogStreams(ctx, set.replUser.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(streams) == len(others) {
			t.Logf("the primary closed the removed replica's stream within %s; streams: %v", time.Since(wait).Round(100*time.Millisecond), streams)
			break
		}
		if time.Since(wait) > 15*time.Second {
			t.Fatalf("binlog streams of %s 15 s after the scale-in: %v, want %d", set.replUser.Name, streams, len(others))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRestart_ReplicaKeepsItsSettingsAndResumes(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	if err := set.primary.Exec(ctx, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	r := set.replicas[1]
	// The lab started this server with server_id 1 and without read_only; only the
	// file the user data wrote into its include directory says otherwise.
	if err := r.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	writeRows(ctx, t, set, dbName, 1, 30) // while it is down
	if err := r.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := dbreplica.WaitReplicating(ctx, set.monitorEndpoint(r), dbreplica.WaitOptions{PollInterval: 100 * time.Millisecond, ExpectServerID: r.serverID})
	if err != nil {
		t.Fatal(err)
	}
	if st.ServerID != r.serverID || !st.ReadOnly || st.UsingGTID != "Slave_Pos" {
		t.Errorf("after a restart: %s; want server_id %d, read_only, Using_Gtid Slave_Pos", st, r.serverID)
	}
	caughtUp(ctx, t, set, r)
	if n := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM `"+dbName+"`.t"); n != 30 {
		t.Errorf("%s has %d of the rows written while it was down, want 30", r.name, n)
	}
	var reportHost string
	if err := adminDB(t, r.srv).QueryRowContext(ctx, "SELECT @@report_host").Scan(&reportHost); err != nil || reportHost != r.name {
		t.Errorf("report_host = %q, %v; want %q", reportHost, err, r.name)
	}
}

func TestDestroy_LastReplicaGoneDropsTheReplicationAccount(t *testing.T) {
	shared := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A second set on the same primary, with an id range of its own.
	set, problems, err := newReplicaSet(ctx, "finale", shared.primary, 300, 1)
	if err != nil || problems.HasErrors() {
		t.Fatalf("%v %v", err, problems.Err())
	}
	srv := startServer(ctx, t, "finale1")
	r := set.addReplica(ctx, t, srv, 1)
	t.Logf("%s in sync %s after its user data started", r.name, r.synced.Round(time.Millisecond))

	p := openPrimary(ctx, t, shared)
	if streams, err := p.BinlogStreams(ctx, set.replUser.Name); err != nil || len(streams) != 1 {
		t.Fatalf("binlog streams of %s: %v, %v; want the one replica's", set.replUser.Name, streams, err)
	}
	// Destroy: the last replica of the set goes, then the account.
	if err := dbreplica.StopReplication(ctx, set.monitorEndpoint(r)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	res, err := p.DropReplicationUser(ctx, set.replUser.Name, set.replUser.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drop: %+v", res)
	if !res.Existed {
		t.Error("the account did not exist before the drop")
	}
	if accountExists(ctx, t, shared.primary, set.replUser.Name) {
		t.Error("the replication account is still on the primary")
	}
	if streams, err := p.BinlogStreams(ctx, set.replUser.Name); err != nil || len(streams) != 0 {
		t.Errorf("binlog streams of the dropped account: %v, %v", streams, err)
	}
	again, err := p.DropReplicationUser(ctx, set.replUser.Name, set.replUser.Host)
	if err != nil || again.Existed {
		t.Errorf("second drop = %+v, %v; want nothing to do", again, err)
	}
	// The other set's replicas replayed CREATE USER and DROP USER of this set's account
	// and still replicate; its account is untouched.
	if _, err := dbreplica.CheckStillReplicating(ctx, p, shared.targets(shared.replicas...), dbreplica.DefaultMaxLag); err != nil {
		t.Fatalf("the other set after this set's destroy: %v", err)
	}
	if !accountExists(ctx, t, shared.primary, shared.replUser.Name) {
		t.Error("the other set's replication account is gone")
	}
}

func TestEnsureReplicationUser_SecondRunFindsItAndAChangedPasswordIsReset(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := openPrimary(ctx, t, set)
	pass, _ := dbreplica.GeneratePassword()
	u := dbreplica.ReplicationUser{Name: dbreplica.ReplicationUserName("idem"), Host: "127.0.0.%", Password: pass}
	t.Cleanup(func() { _, _ = p.DropReplicationUser(context.Background(), u.Name, u.Host) })
	first, err := p.EnsureReplicationUser(ctx, u)
	if err != nil || !first.Created {
		t.Fatalf("first ensure = %+v, %v", first, err)
	}
	second, err := p.EnsureReplicationUser(ctx, u)
	if err != nil || second.Created || second.PasswordUpdated {
		t.Fatalf("second ensure = %+v, %v; want found as is", second, err)
	}
	u.Password, _ = dbreplica.GeneratePassword()
	third, err := p.EnsureReplicationUser(ctx, u)
	if err != nil || third.Created || !third.PasswordUpdated {
		t.Fatalf("ensure with another password = %+v, %v; want the password updated", third, err)
	}
	db, err := set.primary.DBAs(u.Name, u.Password, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("logging in with the new password: %v", err)
	}
	grants := count(ctx, t, adminDB(t, set.primary),
		"SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = \"'"+u.Name+"'@'127.0.0.%'\" AND PRIVILEGE_TYPE IN ('REPLICATION SLAVE','SELECT','SHOW VIEW','TRIGGER','EVENT')")
	if grants != 5 {
		t.Errorf("the account has %d of the 5 replication privileges", grants)
	}
}

func TestUserData_SecondRunKeepsReplicatingWithoutReloading(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := set.replicas[0]
	script, err := dbreplica.RenderUserData(set.userData(r.srv, r.name, r.serverID))
	if err != nil {
		t.Fatal(err)
	}
	before := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM seed.items")
	out, err := lab.RunScript(ctx, r.name+"-again", script)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "already replicating") || strings.Contains(out, "step=dump") {
		t.Errorf("the second run should keep the data and not dump again:\n%s", out)
	}
	if p := dbreplica.ParseSetupLog(out); !p.Done {
		t.Errorf("second run: %+v", p)
	}
	if _, err := dbreplica.WaitReplicating(ctx, set.monitorEndpoint(r), dbreplica.WaitOptions{PollInterval: 100 * time.Millisecond, ExpectServerID: r.serverID}); err != nil {
		t.Fatal(err)
	}
	if after := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM seed.items"); after != before {
		t.Errorf("seed.items went from %d to %d rows", before, after)
	}
}

func TestUserData_WrongReplicationPasswordFailsAtThePrimaryStepWithoutPrintingIt(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(ctx, t, "replica5")
	id, _ := dbreplica.ReplicaServerID(set.serverBase, 5)
	ud := set.userData(srv, "event-db-05", id)
	ud.ReplicationPassword, _ = dbreplica.GeneratePassword()
	script, err := dbreplica.RenderUserData(ud)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := lab.RunScript(ctx, "event-db-05-wrong", script)
	if err == nil {
		t.Fatalf("the script succeeded with a wrong replication password:\n%s", out)
	}
	// A refusal is final: the script does not spend its 600 s of waiting for the primary.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the script took %s to give up on a refused password", took)
	}
	progress := dbreplica.ParseSetupLog(out)
	t.Logf("console: %s", progress.Message)
	if !progress.Failed || progress.Step != "primary" || !strings.Contains(progress.Message, "Access denied") || !strings.Contains(progress.Message, set.replUser.Name) {
		t.Errorf("want a failure at step primary naming the account and the server's refusal, got %+v\n%s", progress, out)
	}
	for _, secret := range []string{ud.ReplicationPassword, set.replUser.Password, ud.MonitorPassword} {
		if strings.Contains(out, secret) {
			t.Fatalf("the script printed a password:\n%s", out)
		}
	}
	// The provider's wait on such a server ends at its deadline and points at the console.
	// The deadline leaves a loaded machine time for a few status reads before it.
	waitCtx, waitCancel := context.WithTimeout(ctx, 6*time.Second)
	defer waitCancel()
	ep := dbreplica.Endpoint{Host: "127.0.0.1", Port: srv.Port, User: ud.MonitorUser, Password: ud.MonitorPassword, DialTimeout: time.Second}
	_, err = dbreplica.WaitReplicating(waitCtx, ep, dbreplica.WaitOptions{PollInterval: 200 * time.Millisecond})
	var we *dbreplica.WaitError
	if !errors.As(err, &we) || we.Failed || !strings.Contains(err.Error(), "eventscale-replica:") {
		t.Errorf("wait on a replica whose setup failed: %v", err)
	}
	t.Logf("wait: %v", err)

	// Fixed and run again (cloud-init would not, an operator might): it recovers.
	r, err := set.buildReplica(ctx, srv, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := dbreplica.StopReplication(ctx, set.monitorEndpoint(r)); err != nil {
		t.Fatal(err)
	}
}

func TestCreate_PrimaryWithoutApplicationDatabases(t *testing.T) {
	needLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	servers, err := lab.StartAll(ctx,
		mariadbtest.ServerOptions{Name: "emptyprimary", ServerID: 7, LogBin: true, BinlogFormat: "MIXED"},
		mariadbtest.ServerOptions{Name: "emptyreplica", ServerID: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		t.Cleanup(func() { _ = s.Kill() })
	}
	set, problems, err := newReplicaSet(ctx, "empty", servers[0], 700, 1)
	if err != nil || problems.HasErrors() {
		t.Fatalf("%v %v", err, problems.Err())
	}
	r := set.addReplica(ctx, t, servers[1], 1)
	t.Logf("%s in sync %s after its user data started", r.name, r.synced.Round(time.Millisecond))
	// The application's first database arrives through replication.
	if err := servers[0].Exec(ctx, "CREATE DATABASE later", "CREATE TABLE later.t (id INT PRIMARY KEY)", "INSERT INTO later.t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	caughtUp(ctx, t, set, r)
	if n := count(ctx, t, adminDB(t, r.srv), "SELECT COUNT(*) FROM later.t"); n != 2 {
		t.Errorf("%s has %d rows, want 2", r.name, n)
	}
}
