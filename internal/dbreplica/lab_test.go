package dbreplica_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
)

// The servers are started once per test binary: a primary with two replicas built by
// the same sequence the provider runs. Tests that grow, shrink or destroy start
// servers of their own next to them.

const (
	primaryServerID = 1
	sharedSet       = "event"
	seedRows        = 20000
)

var (
	labOnce sync.Once
	lab     *mariadbtest.Lab
	labErr  error
	labSkip string

	setOnce sync.Once
	shared  *replicaSet
	setErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if lab != nil {
		if err := lab.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the MariaDB lab:", err)
		}
	}
	os.Exit(code)
}

// needLab returns the lab, or skips the test when no mariadbd is installed.
func needLab(t *testing.T) *mariadbtest.Lab {
	t.Helper()
	labOnce.Do(func() {
		if _, err := mariadbtest.Find(); err != nil {
			labSkip = err.Error()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		lab, labErr = mariadbtest.New(ctx)
		if labErr == nil {
			fmt.Printf("mariadb lab: template datadir ready in %s (%s)\n", time.Since(start).Round(time.Millisecond), lab.Bin.Server)
		}
	})
	if labSkip != "" {
		t.Skip("real MariaDB servers needed: " + labSkip)
	}
	if labErr != nil {
		t.Fatalf("preparing the MariaDB lab: %v", labErr)
	}
	return lab
}

// replicaSet is one set as the provider would hold it in state.
type replicaSet struct {
	name       string
	primary    *mariadbtest.Server
	replUser   dbreplica.ReplicationUser
	monUser    string
	monPass    string
	serverBase uint32
	replicas   []*replicaServer
}

type replicaServer struct {
	name     string
	ordinal  int
	serverID uint32
	srv      *mariadbtest.Server
	// synced is the time from running the user data to WaitReplicating's success.
	synced time.Duration
	lag    time.Duration
	output string
}

func primaryEndpoint(p *mariadbtest.Server) dbreplica.Endpoint {
	return dbreplica.Endpoint{Host: "127.0.0.1", Port: p.Port, User: mariadbtest.AdminUser, Password: mariadbtest.AdminPassword, DialTimeout: 3 * time.Second}
}

func (s *replicaSet) monitorEndpoint(r *replicaServer) dbreplica.Endpoint {
	return dbreplica.Endpoint{Host: "127.0.0.1", Port: r.srv.Port, User: s.monUser, Password: s.monPass, DialTimeout: 3 * time.Second}
}

func (s *replicaSet) targets(rs ...*replicaServer) []dbreplica.ReplicaTarget {
	var out []dbreplica.ReplicaTarget
	for _, r := range rs {
		out = append(out, dbreplica.ReplicaTarget{Name: r.name, Endpoint: s.monitorEndpoint(r)})
	}
	return out
}

// newReplicaSet runs the provider's create-time steps on the primary: check it, check
// the planned server_ids, ensure the replication account. It stops at the first
// error-severity problem, before any replica is made.
func newReplicaSet(ctx context.Context, name string, primary *mariadbtest.Server, base uint32, planned int) (*replicaSet, dbreplica.Problems, error) {
	p, info, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(primary))
	if p != nil {
		defer p.Close()
	}
	if problems.HasErrors() {
		return nil, problems, nil
	}
	var plan []dbreplica.PlannedReplica
	for i := 1; i <= planned; i++ {
		id, err := dbreplica.ReplicaServerID(base, i)
		if err != nil {
			return nil, nil, err
		}
		plan = append(plan, dbreplica.PlannedReplica{Name: fmt.Sprintf("%s-db-%02d", name, i), ServerID: id})
	}
	if ps := dbreplica.CheckServerIDs(info, plan); ps.HasErrors() {
		return nil, append(problems, ps...), nil
	}
	replPass, err := dbreplica.GeneratePassword()
	if err != nil {
		return nil, nil, err
	}
	monPass, err := dbreplica.GeneratePassword()
	if err != nil {
		return nil, nil, err
	}
	set := &replicaSet{name: name, primary: primary, serverBase: base,
		replUser: dbreplica.ReplicationUser{Name: dbreplica.ReplicationUserName(name), Password: replPass},
		monUser:  dbreplica.MonitorUserName(name), monPass: monPass}
	if _, err := p.EnsureReplicationUser(ctx, set.replUser); err != nil {
		return nil, problems, err
	}
	return set, problems, nil
}

// userData renders the replica's user data for a server the lab started: the same
// template as in a cloud, pointed at the lab server's datadir, socket and port, with
// no package installation and no service restart.
func (s *replicaSet) userData(srv *mariadbtest.Server, name string, serverID uint32) dbreplica.UserData {
	return dbreplica.UserData{
		Flavor:              dbreplica.MariaDB,
		ConfigFile:          filepath.Join(srv.ConfDir, "90-eventscale-replica.cnf"),
		Datadir:             srv.Datadir,
		Socket:              srv.Socket,
		Port:                srv.Port,
		BindAddress:         "127.0.0.1",
		LocalAdminUser:      lab.LocalAdminUser(),
		DumpDir:             srv.Dir,
		ServerID:            serverID,
		ReportHost:          name,
		PrimaryHost:         "127.0.0.1",
		PrimaryPort:         s.primary.Port,
		ReplicationUser:     s.replUser.Name,
		ReplicationPassword: s.replUser.Password,
		MonitorUser:         s.monUser,
		MonitorPassword:     s.monPass,
		PrimaryWaitSeconds:  30,
		ServerWaitSeconds:   30,
	}
}

// addReplica is what the provider does per replica: render the user data, have the
// server run it (here: bash on this machine instead of cloud-init on a new server),
// and wait until it replicates within max_lag.
func (s *replicaSet) addReplica(ctx context.Context, t *testing.T, srv *mariadbtest.Server, ordinal int) *replicaServer {
	t.Helper()
	r, err := s.buildReplica(ctx, srv, ordinal)
	if err != nil {
		t.Fatal(err)
	}
	s.replicas = append(s.replicas, r)
	return r
}

func (s *replicaSet) buildReplica(ctx context.Context, srv *mariadbtest.Server, ordinal int) (*replicaServer, error) {
	id, err := dbreplica.ReplicaServerID(s.serverBase, ordinal)
	if err != nil {
		return nil, err
	}
	r := &replicaServer{name: fmt.Sprintf("%s-db-%02d", s.name, ordinal), ordinal: ordinal, serverID: id, srv: srv}
	script, err := dbreplica.RenderUserData(s.userData(srv, r.name, id))
	if err != nil {
		return nil, fmt.Errorf("rendering user data for %s: %w", r.name, err)
	}
	start := time.Now()
	out, err := lab.RunScript(ctx, r.name, script)
	r.output = out
	if err != nil {
		return nil, fmt.Errorf("user data of %s failed: %w\n%s\n%s", r.name, err, out, srv.Logs())
	}
	if p := dbreplica.ParseSetupLog(out); !p.Done {
		return nil, fmt.Errorf("user data of %s did not report done: %+v\n%s", r.name, p, out)
	}
	st, err := dbreplica.WaitReplicating(ctx, s.monitorEndpoint(r), dbreplica.WaitOptions{
		MaxLag: dbreplica.DefaultMaxLag, PollInterval: 100 * time.Millisecond, ExpectServerID: id})
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", r.name, err, srv.Logs())
	}
	r.synced = time.Since(start)
	r.lag = st.Lag
	return r, nil
}

// needSharedSet returns the shared primary with its two replicas.
func needSharedSet(t *testing.T) *replicaSet {
	t.Helper()
	l := needLab(t)
	setOnce.Do(func() {
		setErr = buildSharedSet(t, l)
	})
	if setErr != nil {
		t.Fatalf("building the shared replica set: %v", setErr)
	}
	return shared
}

func buildSharedSet(t *testing.T, l *mariadbtest.Lab) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	servers, err := l.StartAll(ctx,
		mariadbtest.ServerOptions{Name: "primary", ServerID: primaryServerID, LogBin: true},
		mariadbtest.ServerOptions{Name: "replica1", ServerID: 1},
		mariadbtest.ServerOptions{Name: "replica2", ServerID: 1},
	)
	if err != nil {
		return err
	}
	primary := servers[0]
	// Data before the replicas exist: they get it through the dump, the rest through
	// the binary log.
	if err := seedPrimary(ctx, primary); err != nil {
		return err
	}
	set, problems, err := newReplicaSet(ctx, sharedSet, primary, 100, 2)
	if err != nil {
		return err
	}
	if problems.HasErrors() {
		return problems.Err()
	}
	shared = set
	// Like a cloud: servers boot and set themselves up at the same time.
	var wg sync.WaitGroup
	results := make([]*replicaServer, 2)
	errs := make([]error, 2)
	for i, srv := range servers[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = set.buildReplica(ctx, srv, i+1)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, r := range results {
		t.Logf("shared set: %s (server_id %d) in sync %s after its user data started, lag %s", r.name, r.serverID, r.synced.Round(time.Millisecond), r.lag)
		t.Logf("%s user data said:\n%s", r.name, r.output)
	}
	set.replicas = results
	return nil
}

func seedPrimary(ctx context.Context, primary *mariadbtest.Server) error {
	stmts := []string{
		"CREATE DATABASE seed",
		"CREATE TABLE seed.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64) NOT NULL, payload VARBINARY(200)) ENGINE=InnoDB",
		// A view, a trigger and a routine: the dump must carry them.
		"CREATE VIEW seed.item_names AS SELECT id, name FROM seed.items",
		"CREATE TABLE seed.audit (n INT NOT NULL) ENGINE=InnoDB",
		"CREATE TRIGGER seed.items_ai AFTER INSERT ON seed.items FOR EACH ROW INSERT INTO seed.audit VALUES (NEW.id)",
		"CREATE FUNCTION seed.twice(x INT) RETURNS INT DETERMINISTIC RETURN 2 * x",
	}
	if err := primary.Exec(ctx, stmts...); err != nil {
		return err
	}
	var values []string
	for i := range seedRows {
		values = append(values, fmt.Sprintf("('item-%d', UNHEX(SHA2('%d', 256)))", i, i))
		if len(values) == 2000 {
			if err := primary.Exec(ctx, "INSERT INTO seed.items (name, payload) VALUES "+strings.Join(values, ",")); err != nil {
				return err
			}
			values = values[:0]
		}
	}
	return nil
}

// freshDatabase creates a database of the test's own on the primary.
func freshDatabase(ctx context.Context, t *testing.T, primary *mariadbtest.Server) string {
	t.Helper()
	name := "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	if err := primary.Exec(ctx, "DROP DATABASE IF EXISTS `"+name+"`", "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatal(err)
	}
	return name
}

// caughtUp waits until each replica has applied everything the primary has written.
func caughtUp(ctx context.Context, t *testing.T, set *replicaSet, rs ...*replicaServer) {
	t.Helper()
	p, _, problems := dbreplica.CheckPrimary(ctx, primaryEndpoint(set.primary))
	if p == nil {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	pos, err := p.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		rep, err := dbreplica.OpenReplica(ctx, set.monitorEndpoint(r))
		if err != nil {
			t.Fatal(err)
		}
		err = rep.WaitForPosition(ctx, pos)
		_ = rep.Close()
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
}

func count(ctx context.Context, t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func adminDB(t *testing.T, srv *mariadbtest.Server) *sql.DB {
	t.Helper()
	db, err := srv.DB(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func itoa(n int) string { return strconv.Itoa(n) }
