// Package mariadbtest runs real mariadbd processes on 127.0.0.1 for tests: each
// server gets its own datadir (copied from one mariadb-install-db run), port, socket
// and configuration file with an include directory, so a test can run the replica
// setup script against it exactly as cloud-init would on a replica. Nothing here
// fakes a server: without a mariadbd binary, Find fails and tests skip.
package mariadbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// AdminUser and AdminPassword are the TCP administrator account every server of a
// Lab has (created once in the template datadir), as an operator's root would be.
const (
	AdminUser     = "labadmin"
	AdminPassword = "labadminPassword1"
)

// Binaries are the MariaDB programs a Lab needs.
type Binaries struct {
	Server    string // mariadbd
	InstallDB string // mariadb-install-db
	Client    string // mariadb
	Dump      string // mariadb-dump
}

// Find looks for the MariaDB programs in PATH and /usr/sbin (where Debian puts
// mariadbd). The error says which Debian packages provide what is missing.
func Find() (Binaries, error) {
	var b Binaries
	var missing []string
	look := func(dst *string, names ...string) {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				*dst = p
				return
			}
			for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
				p := filepath.Join(dir, n)
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					*dst = p
					return
				}
			}
		}
		missing = append(missing, names[0])
	}
	look(&b.Server, "mariadbd")
	look(&b.InstallDB, "mariadb-install-db")
	look(&b.Client, "mariadb")
	look(&b.Dump, "mariadb-dump")
	if len(missing) > 0 {
		return b, fmt.Errorf("no %s in PATH or /usr/sbin: install the Debian packages mariadb-server and mariadb-client (apt-get install -y mariadb-server mariadb-client)",
			strings.Join(missing, ", "))
	}
	return b, nil
}

// Lab owns a temporary directory, a template datadir and the servers started from it.
type Lab struct {
	Bin      Binaries
	Root     string
	osUser   string
	template string

	mu      sync.Mutex
	servers []*Server
}

// ServerOptions describe one server.
type ServerOptions struct {
	Name         string // directory name and report label
	ServerID     uint32 // 0 is allowed on purpose (a misconfigured primary)
	LogBin       bool
	BinlogFormat string // ROW when empty
}

// Server is one running mariadbd.
type Server struct {
	Name     string
	Dir      string
	Datadir  string
	Socket   string
	ConfDir  string // the server's configuration includes every *.cnf here
	Port     int
	ServerID uint32

	lab  *Lab
	opts ServerOptions

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
}

// New finds the binaries, creates the lab directory under the system temp dir (short
// paths: unix socket paths are limited to about 100 bytes) and prepares the template
// datadir with the admin account.
func New(ctx context.Context) (*Lab, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "mdblab-")
	if err != nil {
		return nil, err
	}
	l := &Lab{Bin: bin, Root: root, osUser: currentUser()}
	if err := l.prepareTemplate(ctx); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	return l, nil
}

// LocalAdminUser is the account that logs in through a server's socket without a
// password (unix_socket): the operating system user running the tests.
func (l *Lab) LocalAdminUser() string { return l.osUser }

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}

// serverArgs are the options every server of the lab runs with: small memory, no
// name resolution (accounts match on addresses), only 127.0.0.1.
func (l *Lab) serverArgs() []string {
	args := []string{
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
		"--performance-schema=OFF", "--skip-name-resolve", "--bind-address=127.0.0.1",
		"--max-connections=50",
	}
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told so.
		args = append(args, "--user=root")
	}
	return args
}

func (l *Lab) prepareTemplate(ctx context.Context) error {
	l.template = filepath.Join(l.Root, "template")
	args := []string{"--no-defaults", "--datadir=" + l.template, "--user=" + l.osUser,
		"--auth-root-authentication-method=socket", "--skip-test-db",
		"--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"}
	out, err := exec.CommandContext(ctx, l.Bin.InstallDB, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, tail(string(out), 20))
	}
	// Start it once, socket only, to create the TCP admin account.
	s := &Server{Name: "template", Dir: filepath.Join(l.Root, "template-run"), Datadir: l.template, lab: l}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	s.Socket = filepath.Join(s.Dir, "s.sock")
	s.ConfDir = filepath.Join(s.Dir, "conf.d")
	if err := s.writeConfig(true); err != nil {
		return err
	}
	if err := s.start(ctx, true); err != nil {
		return err
	}
	sqlText := fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;",
		AdminUser, AdminPassword, AdminUser)
	cmd := exec.CommandContext(ctx, l.Bin.Client, "--no-defaults", "--socket="+s.Socket, "--user="+l.osUser, "-e", sqlText)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = s.Stop()
		return fmt.Errorf("creating the lab admin account: %w\n%s", err, out)
	}
	if err := s.Stop(); err != nil {
		return err
	}
	return os.RemoveAll(s.Dir)
}

// Start copies the template datadir and starts a server with the options.
func (l *Lab) Start(ctx context.Context, opts ServerOptions) (*Server, error) {
	if opts.Name == "" {
		return nil, errors.New("mariadbtest: a server needs a name")
	}
	dir := filepath.Join(l.Root, opts.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{Name: opts.Name, Dir: dir, Datadir: filepath.Join(dir, "data"), Socket: filepath.Join(dir, "s.sock"),
		ConfDir: filepath.Join(dir, "conf.d"), ServerID: opts.ServerID, lab: l, opts: opts}
	if out, err := exec.CommandContext(ctx, "cp", "-a", l.template, s.Datadir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copying the template datadir: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.Port = port
	if err := s.writeConfig(false); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.servers = append(l.servers, s)
	l.mu.Unlock()
	if err := s.start(ctx, false); err != nil {
		return nil, err
	}
	return s, nil
}

// StartAll starts several servers in parallel.
func (l *Lab) StartAll(ctx context.Context, opts ...ServerOptions) ([]*Server, error) {
	out := make([]*Server, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i, o := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = l.Start(ctx, o)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (s *Server) writeConfig(socketOnly bool) error {
	if err := os.MkdirAll(s.ConfDir, 0o700); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("[mysqld]\n")
	fmt.Fprintf(&b, "datadir = %s\nsocket = %s\npid_file = %s\nlog_error = %s\n",
		s.Datadir, s.Socket, filepath.Join(s.Dir, "mariadbd.pid"), filepath.Join(s.Dir, "error.log"))
	if socketOnly {
		b.WriteString("skip_networking = ON\n")
	} else {
		fmt.Fprintf(&b, "port = %d\nserver_id = %d\n", s.Port, s.ServerID)
		if s.opts.LogBin {
			format := s.opts.BinlogFormat
			if format == "" {
				format = "ROW"
			}
			fmt.Fprintf(&b, "log_bin = %s\nbinlog_format = %s\n", filepath.Join(s.Datadir, "binlog"), format)
		}
	}
	// The replica setup script writes its file here, as it would to
	// /etc/mysql/mariadb.conf.d on a server; a restart reads it.
	fmt.Fprintf(&b, "!includedir %s\n", s.ConfDir)
	return os.WriteFile(filepath.Join(s.Dir, "my.cnf"), []byte(b.String()), 0o600)
}

func (s *Server) start(ctx context.Context, socketOnly bool) error {
	args := append([]string{"--defaults-file=" + filepath.Join(s.Dir, "my.cnf")}, s.lab.serverArgs()...)
	if socketOnly {
		args = slicesWithout(args, "--bind-address=127.0.0.1")
	}
	// The server outlives the start-up call: ctx bounds waiting for it, not its life.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), s.lab.Bin.Server, args...)
	logFile, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the test binary dies, so do its servers.
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting mariadbd %s: %w", s.Name, err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.exitErr = cmd, exited, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	return s.waitReady(ctx, socketOnly, exited)
}

func (s *Server) waitReady(ctx context.Context, socketOnly bool, exited chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		if socketOnly {
			var c net.Conn
			c, err = (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "unix", s.Socket)
			if err == nil {
				_ = c.Close()
			}
		} else {
			var db *sql.DB
			db, err = s.DB(ctx, "")
			if err == nil {
				err = db.PingContext(ctx)
				_ = db.Close()
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("mariadbd %s exited during start-up: %w\n%s", s.Name, s.exitErr, s.Logs())
		case <-ctx.Done():
			_ = s.Kill()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.Kill()
			return fmt.Errorf("mariadbd %s did not answer within 60 s: %w\n%s", s.Name, err, s.Logs())
		}
	}
}

// DB opens a connection pool to the server as the lab admin, over TCP.
func (s *Server) DB(_ context.Context, database string) (*sql.DB, error) {
	return s.DBAs(AdminUser, AdminPassword, database)
}

// DBAs opens a connection pool to the server as the given account, over TCP.
func (s *Server) DBAs(user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	cfg.User, cfg.Passwd, cfg.DBName = user, password, database
	cfg.Timeout = 5 * time.Second
	cfg.Logger = &mysql.NopLogger{}
	cfg.MultiStatements = true
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(4)
	return db, nil
}

// Exec runs statements as the lab admin.
func (s *Server) Exec(ctx context.Context, stmts ...string) error {
	db, err := s.DB(ctx, "")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%s on %s: %w", st, s.Name, err)
		}
	}
	return nil
}

// Alive reports whether the process runs.
func (s *Server) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Stop shuts the server down cleanly (SIGTERM), killing it after 60 s.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM, 60*time.Second) }

// Kill ends the server at once (SIGKILL), as deleting its machine would.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL, 10*time.Second) }

func (s *Server) signal(sig syscall.Signal, wait time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return nil
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("mariadbd %s did not stop within %s; killed", s.Name, wait)
	}
}

// Restart stops the server and starts it again with the same configuration, the
// include directory (and so whatever the setup script wrote there) included.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start(ctx, false)
}

// Logs returns the end of the server's error log, for failure messages.
func (s *Server) Logs() string {
	var b bytes.Buffer
	for _, f := range []string{"error.log", "stdout.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, f))
		if err == nil && len(data) > 0 {
			fmt.Fprintf(&b, "--- %s/%s\n%s\n", s.Name, f, tail(string(data), 30))
		}
	}
	return b.String()
}

// Close stops every server and removes the lab directory.
func (l *Lab) Close() error {
	l.mu.Lock()
	servers := append([]*Server(nil), l.servers...)
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Stop(); err != nil {
				_ = s.Kill()
			}
		}()
	}
	wg.Wait()
	return os.RemoveAll(l.Root)
}

// RunScript runs a bash script (the replica user data) and returns what it printed.
func (l *Lab) RunScript(ctx context.Context, name, script string) (string, error) {
	path := filepath.Join(l.Root, name+".sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		return "", err
	}
	defer os.Remove(path)
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Env = append(os.Environ(), "TMPDIR="+l.Root)
	// The script's own children (mariadb, mariadb-dump) go with it when ctx ends.
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return killProcessGroup(cmd) }
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) { return freePort() }

func freePort() (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func slicesWithout(in []string, drop string) []string {
	var out []string
	for _, s := range in {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
