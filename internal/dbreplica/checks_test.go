package dbreplica_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
)

// problemsText is everything a user would read of the problems.
func problemsText(ps dbreplica.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

func findProblem(ps dbreplica.Problems, attr dbreplica.Attribute) (dbreplica.Problem, bool) {
	for _, p := range ps {
		if p.Attribute == attr && p.Severity == dbreplica.SeverityError {
			return p, true
		}
	}
	return dbreplica.Problem{}, false
}

// accountExists says whether the primary has the account: the checks must stop the
// plan before the replication account (the first thing created) exists.
func accountExists(ctx context.Context, t *testing.T, srv *mariadbtest.Server, name string) bool {
	t.Helper()
	return count(ctx, t, adminDB(t, srv), "SELECT COUNT(*) FROM mysql.user WHERE User = '"+name+"'") > 0
}

func TestCheckPrimary_HealthyPrimaryHasNoProblems(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, info, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(set.primary))
	if p == nil {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	if len(problems) != 0 {
		t.Errorf("problems on a healthy primary:\n%s", problemsText(problems))
	}
	if info.Version.Flavor != dbreplica.MariaDB || !info.LogBin || info.ServerID != primaryServerID || info.BinlogFormat != "ROW" || info.GTIDPosition == "" {
		t.Errorf("info = %+v", info)
	}
	ids := map[uint32]bool{}
	for _, r := range info.Replicas {
		ids[r.ServerID] = true
	}
	for _, r := range set.replicas {
		if !ids[r.serverID] {
			t.Errorf("the primary does not list %s (server_id %d) among its replicas: %+v", r.name, r.serverID, info.Replicas)
		}
	}
}

func TestCheckPrimary_WrongPasswordPointsAtPasswordWithoutEchoingIt(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ep := primaryEndpoint(set.primary)
	ep.Password = "wrongPasswordXYZ123"
	p, _, problems := dbreplica.CheckPrimary(ctx, ep)
	if p != nil {
		p.Close()
		t.Fatal("connected with a wrong password")
	}
	pr, ok := findProblem(problems, dbreplica.AttrPrimaryPassword)
	if !ok {
		t.Fatalf("no problem on primary.password:\n%s", problemsText(problems))
	}
	text := problemsText(problems)
	t.Logf("diagnostic: %s", text)
	if !strings.Contains(pr.Summary, mariadbtest.AdminUser) || !strings.Contains(pr.Detail, "Access denied") || !strings.Contains(pr.Detail, "primary.password") {
		t.Errorf("the diagnostic should name the user, carry the server's message and say what to change: %s", text)
	}
	if strings.Contains(text, ep.Password) || strings.Contains(text, mariadbtest.AdminPassword) {
		t.Errorf("a password appears in the diagnostic: %s", text)
	}
}

func TestCheckPrimary_UnreachablePrimaryPointsAtHost(t *testing.T) {
	needLab(t)
	port, err := mariadbtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ep := dbreplica.Endpoint{Host: "127.0.0.1", Port: port, User: "root", Password: "secretPassword1", DialTimeout: 2 * time.Second}
	start := time.Now()
	p, _, problems := dbreplica.CheckPrimary(ctx, ep)
	if p != nil {
		p.Close()
		t.Fatal("connected to a port nothing listens on")
	}
	pr, ok := findProblem(problems, dbreplica.AttrPrimaryHost)
	if !ok {
		t.Fatalf("no problem on primary.host:\n%s", problemsText(problems))
	}
	t.Logf("diagnostic after %s: %s", time.Since(start).Round(time.Millisecond), pr.Error())
	if !strings.Contains(pr.Summary, ep.Address()) || !strings.Contains(pr.Summary, "unreachable") ||
		!strings.Contains(pr.Detail, "connection refused") || !strings.Contains(pr.Detail, "primary.port") {
		t.Errorf("the diagnostic should name the address, the cause and what to check: %s", pr.Error())
	}
	if strings.Contains(problemsText(problems), ep.Password) {
		t.Error("the password appears in the diagnostic")
	}
}

func TestCheckPrimary_BinlogOffStopsThePlanWithTheMyCnfLines(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A replica runs without a binary log: as a primary it must be refused.
	noBinlog := set.replicas[0].srv
	got, problems, err := newReplicaSet(ctx, "nobinlog", noBinlog, 500, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got != nil {
		t.Fatal("the plan went on with log_bin off")
	}
	pr, ok := findProblem(problems, dbreplica.AttrPrimaryServer)
	if !ok || !strings.Contains(pr.Summary, "log_bin") {
		t.Fatalf("no log_bin problem on the primary's configuration:\n%s", problemsText(problems))
	}
	t.Logf("diagnostic: %s", pr.Error())
	for _, want := range []string{"[mysqld]", "log_bin = mysql-bin", "binlog_format = ROW", "restart", "never restarts"} {
		if !strings.Contains(pr.Detail, want) {
			t.Errorf("the detail lacks %q: %s", want, pr.Detail)
		}
	}
	if accountExists(ctx, t, noBinlog, dbreplica.ReplicationUserName("nobinlog")) {
		t.Error("the replication account was created although the check failed")
	}
}

func TestCheckServerIDs_ClashesStopThePlanBeforeAnyReplicaIsMade(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		base uint32
		want string
	}{
		// Replica 1 would get server_id 1, the primary's.
		{"equal to the primary's", primaryServerID - 1, "the primary's own"},
		// Replicas 1 and 2 would get 101 and 102, which the shared set's replicas use.
		{"equal to connected replicas'", 100, "already connected to the primary uses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setName := "clash" + itoa(int(tc.base))
			got, problems, err := newReplicaSet(ctx, setName, set.primary, tc.base, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got != nil {
				t.Fatal("the plan went on with clashing server_ids")
			}
			pr, ok := findProblem(problems, dbreplica.AttrServerID)
			if !ok || !strings.Contains(pr.Summary, tc.want) || pr.Replica == "" {
				t.Fatalf("want a server_id problem naming a replica and saying %q:\n%s", tc.want, problemsText(problems))
			}
			t.Logf("diagnostic: %s", problemsText(problems))
			if accountExists(ctx, t, set.primary, dbreplica.ReplicationUserName(setName)) {
				t.Error("the replication account was created although the check failed")
			}
		})
	}
}

func TestCheckPrimary_AccountWithoutPrivilegesGetsTheGrantStatements(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := set.primary.Exec(ctx,
		"CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY 'weakPassword123'",
		"GRANT SELECT ON *.* TO 'weak'@'%'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.primary.Exec(context.Background(), "DROP USER IF EXISTS 'weak'@'%'") })
	ep := primaryEndpoint(set.primary)
	ep.User, ep.Password = "weak", "weakPassword123"
	p, _, problems := dbreplica.CheckPrimary(ctx, ep)
	if p == nil {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	if !problems.HasErrors() {
		t.Fatal("an account with SELECT only passed the checks")
	}
	text := problemsText(problems)
	t.Logf("diagnostics:\n%s", text)
	pr, ok := findProblem(problems, dbreplica.AttrPrimaryUser)
	if !ok {
		t.Fatalf("no problem on primary.user:\n%s", text)
	}
	_ = pr
	if !strings.Contains(text, "GRANT CREATE USER") || !strings.Contains(text, "WITH GRANT OPTION") || !strings.Contains(text, "REPLICATION SLAVE") {
		t.Errorf("the diagnostics should carry the GRANT statements to run:\n%s", text)
	}
}

func TestStopReplication_UnreachableReplicaIsAConnError(t *testing.T) {
	needLab(t)
	port, err := mariadbtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = dbreplica.StopReplication(ctx, dbreplica.Endpoint{Host: "127.0.0.1", Port: port, User: "m", Password: "monitorPassword1"})
	var ce *dbreplica.ConnError
	if !errors.As(err, &ce) || ce.Kind != dbreplica.ConnUnreachable {
		t.Fatalf("got %v, want a ConnError of kind unreachable", err)
	}
	if strings.Contains(err.Error(), "monitorPassword1") {
		t.Error("the password appears in the error")
	}
}
