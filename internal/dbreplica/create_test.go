package dbreplica_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
)

func TestCreate_ReplicasHoldTheDumpAndRowsWrittenAfterwards(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Written before the replicas existed: came with the dump, view, trigger and routine included.
	for _, r := range set.replicas {
		db := adminDB(t, r.srv)
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM seed.items"); n != seedRows {
			t.Errorf("%s: seed.items has %d rows, want %d", r.name, n, seedRows)
		}
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM seed.item_names"); n != seedRows {
			t.Errorf("%s: view seed.item_names has %d rows, want %d", r.name, n, seedRows)
		}
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM seed.audit"); n != seedRows {
			t.Errorf("%s: the trigger's table seed.audit has %d rows, want %d", r.name, n, seedRows)
		}
		if n := count(ctx, t, db, "SELECT seed.twice(21)"); n != 42 {
			t.Errorf("%s: seed.twice(21) = %d", r.name, n)
		}
	}

	// Written now: must arrive through the binary log.
	dbName := freshDatabase(ctx, t, set.primary)
	stmts := []string{fmt.Sprintf("CREATE TABLE `%s`.orders (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB", dbName)}
	for i := 1; i <= 50; i++ {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO `%s`.orders VALUES (%d, 'order %d')", dbName, i, i))
	}
	stmts = append(stmts, fmt.Sprintf("UPDATE `%s`.orders SET note = 'changed' WHERE id <= 10", dbName),
		fmt.Sprintf("DELETE FROM `%s`.orders WHERE id > 40", dbName))
	if err := set.primary.Exec(ctx, stmts...); err != nil {
		t.Fatal(err)
	}
	caughtUp(ctx, t, set, set.replicas...)
	for _, r := range set.replicas {
		db := adminDB(t, r.srv)
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM `"+dbName+"`.orders"); n != 40 {
			t.Errorf("%s: %d orders, want 40", r.name, n)
		}
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM `"+dbName+"`.orders WHERE note = 'changed'"); n != 10 {
			t.Errorf("%s: %d changed orders, want 10", r.name, n)
		}
	}
}

func TestStatus_ReportsThreadsLagAndGTIDPosition(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	if err := set.primary.Exec(ctx, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)", "INSERT INTO `"+dbName+"`.t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	caughtUp(ctx, t, set, set.replicas...)
	p, _, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(set.primary))
	if p == nil {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	pos, err := p.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range set.replicas {
		rep, err := dbreplica.OpenReplica(ctx, set.monitorEndpoint(r))
		if err != nil {
			t.Fatal(err)
		}
		st, err := rep.Status(ctx)
		_ = rep.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", r.name, st)
		if !st.Replicating() || st.IORunning != "Yes" || !st.SQLRunning {
			t.Errorf("%s: not replicating: %s", r.name, st)
		}
		if !st.LagKnown || st.Lag < 0 || st.Lag > dbreplica.DefaultMaxLag {
			t.Errorf("%s: lag %s (known %v), want a figure between 0 and %s", r.name, st.Lag, st.LagKnown, dbreplica.DefaultMaxLag)
		}
		if st.GTIDPosition != pos {
			t.Errorf("%s: GTID position %q, the primary's is %q", r.name, st.GTIDPosition, pos)
		}
		if st.UsingGTID != "Slave_Pos" {
			t.Errorf("%s: Using_Gtid %q, want Slave_Pos", r.name, st.UsingGTID)
		}
		if st.ServerID != r.serverID || st.SourceServerID != primaryServerID {
			t.Errorf("%s: server_id %d (want %d), source server_id %d (want %d)", r.name, st.ServerID, r.serverID, st.SourceServerID, primaryServerID)
		}
		if !st.ReadOnly {
			t.Errorf("%s: read_only is off", r.name)
		}
		if st.LastIOErrno != 0 || st.LastSQLErrno != 0 {
			t.Errorf("%s: errors in the status: %s", r.name, st)
		}
	}
}

func TestReplica_RefusesWritesFromApplicationUser(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	// The application's account is created on the primary after the replicas exist: it
	// reaches them through replication.
	appUser := "app_" + fmt.Sprint(time.Now().UnixNano()%100000)
	if err := set.primary.Exec(ctx,
		"CREATE TABLE `"+dbName+"`.carts (id INT PRIMARY KEY, items INT)",
		"INSERT INTO `"+dbName+"`.carts VALUES (1, 3)",
		"CREATE USER '"+appUser+"'@'%' IDENTIFIED BY 'appPassword123'",
		"GRANT ALL PRIVILEGES ON `"+dbName+"`.* TO '"+appUser+"'@'%'",
	); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.primary.Exec(context.Background(), "DROP USER IF EXISTS '"+appUser+"'@'%'") })
	caughtUp(ctx, t, set, set.replicas...)

	onPrimary, err := set.primary.DBAs(appUser, "appPassword123", dbName)
	if err != nil {
		t.Fatal(err)
	}
	defer onPrimary.Close()
	if _, err := onPrimary.ExecContext(ctx, "INSERT INTO carts VALUES (2, 1)"); err != nil {
		t.Fatalf("the application cannot write on the primary: %v", err)
	}
	caughtUp(ctx, t, set, set.replicas...)
	for _, r := range set.replicas {
		db, err := r.srv.DBAs(appUser, "appPassword123", dbName)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(ctx, t, db, "SELECT COUNT(*) FROM carts"); n != 2 {
			t.Errorf("%s: the application reads %d carts, want 2", r.name, n)
		}
		_, err = db.ExecContext(ctx, "INSERT INTO carts VALUES (3, 1)")
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1290 || !strings.Contains(me.Message, "read-only") {
			t.Errorf("%s: a write by the application got %v, want error 1290 (--read-only)", r.name, err)
		}
		_, err = db.ExecContext(ctx, "CREATE TABLE sneaky (id INT)")
		if !errors.As(err, &me) || me.Number != 1290 {
			t.Errorf("%s: CREATE TABLE by the application got %v, want error 1290", r.name, err)
		}
		_ = db.Close()
	}
}
