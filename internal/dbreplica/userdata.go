package dbreplica

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// UserData is everything the replica setup script needs. CloudUserData gives the
// values for a server booted from a Debian/Ubuntu image; outside a cloud (tests) the
// caller points Datadir, Socket, Port and ConfigFile at a server it started itself and
// leaves InstallPackages false and ServiceName empty.
type UserData struct {
	Flavor Flavor // MariaDB or MySQL; MariaDB when empty
	// InstallPackages installs the server with apt-get when no server binary is found.
	InstallPackages bool
	// ServiceName is the service restarted after the configuration file is written
	// ("mariadb", "mysql"). Empty: the server is already running with the settings the
	// script needs at runtime (server_id, read_only are also set with SET GLOBAL) and
	// the script neither initialises the datadir nor restarts anything.
	ServiceName string
	// ConfigFile receives the replica's [mysqld] settings (server_id, read_only, ...)
	// so they survive a restart. Default by flavor: /etc/mysql/mariadb.conf.d/90-eventscale-replica.cnf
	// or /etc/mysql/mysql.conf.d/90-eventscale-replica.cnf.
	ConfigFile  string
	Datadir     string // default /var/lib/mysql
	Socket      string // default /run/mysqld/mysqld.sock
	Port        int    // the replica's port; default 3306
	BindAddress string // default 0.0.0.0: the provider reads status over the network
	// LocalAdminUser is the account the script uses on the local server through the
	// socket, without a password (unix_socket/auth_socket, as Debian and Ubuntu set up
	// root). Default root.
	LocalAdminUser string
	// DumpDir holds the primary's dump while it loads (the size of the data). Default /var/tmp.
	DumpDir string

	ServerID   uint32
	ReportHost string // shown in the primary's SHOW SLAVE HOSTS; the replica's name

	PrimaryHost string // as the replica reaches the primary (often a private address)
	PrimaryPort int    // default 3306

	ReplicationUser     string // ReplicationUserName(set)
	ReplicationPassword string // secret
	MonitorUser         string // MonitorUserName(set)
	MonitorHost         string // host part of the monitoring account; default "%"
	MonitorPassword     string // secret

	PrimaryWaitSeconds int // how long to retry reaching the primary; default 600
	ServerWaitSeconds  int // how long to wait for the local server to answer; default 180
}

// String describes the parameters without the passwords (also for %v and %+v).
func (u UserData) String() string {
	return fmt.Sprintf("replica user data: %s server_id %d (%s) of %s:%d, replication account %s, monitoring account %s@%s",
		u.Flavor, u.ServerID, u.ReportHost, u.PrimaryHost, u.PrimaryPort, u.ReplicationUser, u.MonitorUser, u.MonitorHost)
}

// GoString keeps the passwords out of %#v.
func (u UserData) GoString() string { return u.String() }

// CloudUserData returns the settings for a replica booted from a Debian or Ubuntu
// image: packages installed when missing, the distribution's service restarted.
func CloudUserData(f Flavor) UserData {
	u := UserData{Flavor: f, InstallPackages: true, ServiceName: "mariadb"}
	if f == MySQL {
		u.ServiceName = "mysql"
	}
	return u
}

//go:embed replica-setup.sh.tmpl
var setupScript string

var setupTemplate = template.Must(template.New("replica-setup").Funcs(template.FuncMap{
	"sh":  shellQuote,
	"sql": sqlString,
}).Parse(setupScript))

var (
	pathRE        = regexp.MustCompile(`^/[A-Za-z0-9._/+-]*$`)
	hostRE        = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,255}$`)
	reportHostRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,60}$`)
	serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,64}$`)
)

// withDefaults fills the zero values.
func (u UserData) withDefaults() UserData {
	if u.Flavor == "" {
		u.Flavor = MariaDB
	}
	if u.ConfigFile == "" {
		u.ConfigFile = "/etc/mysql/mariadb.conf.d/90-eventscale-replica.cnf"
		if u.Flavor == MySQL {
			u.ConfigFile = "/etc/mysql/mysql.conf.d/90-eventscale-replica.cnf"
		}
	}
	if u.Datadir == "" {
		u.Datadir = "/var/lib/mysql"
	}
	if u.Socket == "" {
		u.Socket = "/run/mysqld/mysqld.sock"
	}
	if u.Port == 0 {
		u.Port = DefaultPort
	}
	if u.BindAddress == "" {
		u.BindAddress = "0.0.0.0"
	}
	if u.LocalAdminUser == "" {
		u.LocalAdminUser = "root"
	}
	if u.DumpDir == "" {
		u.DumpDir = "/var/tmp"
	}
	if u.PrimaryPort == 0 {
		u.PrimaryPort = DefaultPort
	}
	if u.MonitorHost == "" {
		u.MonitorHost = "%"
	}
	if u.PrimaryWaitSeconds == 0 {
		u.PrimaryWaitSeconds = 600
	}
	if u.ServerWaitSeconds == 0 {
		u.ServerWaitSeconds = 180
	}
	return u
}

// validate checks every value against a strict pattern, so that no value can end a
// quoted string in the shell, an option file or SQL (no quotes, backslashes, spaces
// or control characters), on top of the quoting the template applies.
func (u UserData) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u.Flavor != MariaDB && u.Flavor != MySQL {
		bad("flavor %q: use %q or %q", u.Flavor, MariaDB, MySQL)
	}
	for _, p := range []struct{ name, value string }{
		{"config file", u.ConfigFile}, {"datadir", u.Datadir}, {"socket", u.Socket}, {"dump directory", u.DumpDir},
	} {
		if !pathRE.MatchString(p.value) || strings.Contains(p.value, "/../") || strings.HasSuffix(p.value, "/..") {
			bad("%s %q: use an absolute path of letters, digits and . _ / + -", p.name, p.value)
		}
	}
	if len(u.Socket) > 100 {
		bad("socket %q: longer than a unix socket path may be (100 characters here)", u.Socket)
	}
	for _, p := range []struct {
		name  string
		value int
	}{{"port", u.Port}, {"primary port", u.PrimaryPort}} {
		if p.value < 1 || p.value > 65535 {
			bad("%s %d: use 1 to 65535", p.name, p.value)
		}
	}
	if !hostRE.MatchString(u.BindAddress) {
		bad("bind address %q: use an IP address or a host name", u.BindAddress)
	}
	if !hostRE.MatchString(u.PrimaryHost) {
		bad("primary host %q: use the IP address or host name under which replicas reach the primary", u.PrimaryHost)
	}
	if !accountNameRE.MatchString(u.LocalAdminUser) {
		bad("local admin user %q: use letters, digits and underscores", u.LocalAdminUser)
	}
	if u.ServiceName != "" && !serviceNameRE.MatchString(u.ServiceName) {
		bad("service name %q: use letters, digits and @ . _ -", u.ServiceName)
	}
	if u.ServerID == 0 {
		bad("server_id 0: a replica needs a non-zero server_id")
	}
	if !reportHostRE.MatchString(u.ReportHost) {
		bad("report host %q: use 1 to 60 letters, digits and . _ -", u.ReportHost)
	}
	if err := validateAccount("replication account", u.ReplicationUser, "%", u.ReplicationPassword); err != nil {
		errs = append(errs, err)
	}
	if err := validateAccount("monitoring account", u.MonitorUser, u.MonitorHost, u.MonitorPassword); err != nil {
		errs = append(errs, err)
	}
	if u.ReplicationUser == u.MonitorUser {
		bad("the monitoring account must differ from the replication account (both %q)", u.MonitorUser)
	}
	if u.PrimaryWaitSeconds < 0 || u.ServerWaitSeconds < 0 {
		bad("wait seconds must not be negative")
	}
	return errors.Join(errs...)
}

// scriptData is what the template sees: the parameters plus the flavor's SQL.
type scriptData struct {
	UserData
	InstallPackagesWord string
	ConfigText          string
	SettingsSQL         string
	StartSQL            string
	MonitorSQL          string
	StatusQuery         string
	ServerBins          string
	Packages            string
	SourceHostField     string
	SourcePortField     string
	SQLRunningField     string
	IORunningField      string
	IOErrorField        string
}

// RenderUserData renders the bash script that makes a fresh server a read replica of
// the primary; cloud-init runs it as user data, and it runs unchanged against a local
// server outside a cloud. It returns an error naming every invalid parameter; the
// messages never contain a password. The script contains the two passwords: treat it
// as a secret.
func RenderUserData(u UserData) (string, error) {
	u = u.withDefaults()
	if err := u.validate(); err != nil {
		return "", fmt.Errorf("replica user data: %w", err)
	}
	d := scriptData{UserData: u, InstallPackagesWord: "no"}
	if u.InstallPackages {
		d.InstallPackagesWord = "yes"
	}
	d.ConfigText = configText(u)
	d.SettingsSQL = fmt.Sprintf("SET GLOBAL server_id = %d;\nSET GLOBAL read_only = ON;\n", u.ServerID)
	monitor := sqlAccount(u.MonitorUser, u.MonitorHost)
	monitorSQL := []string{
		"CREATE USER IF NOT EXISTS " + monitor + " IDENTIFIED BY " + sqlString(u.MonitorPassword) + ";",
		"ALTER USER " + monitor + " IDENTIFIED BY " + sqlString(u.MonitorPassword) + ";",
	}
	// The 5 s heartbeat: the primary notices within seconds that a stopped replica's
	// stream is gone (its dump thread ends on the failed write), so a removed replica
	// does not linger in SHOW SLAVE HOSTS with its server_id.
	switch u.Flavor {
	case MariaDB:
		d.ServerBins, d.Packages = "mariadbd mysqld", "mariadb-server mariadb-client"
		d.StatusQuery = "SHOW SLAVE STATUS"
		d.SourceHostField, d.SourcePortField = "Master_Host", "Master_Port"
		d.SQLRunningField, d.IORunningField, d.IOErrorField = "Slave_SQL_Running", "Slave_IO_Running", "Last_IO_Error"
		// Reading status (SLAVE MONITOR) and stopping replication on scale-in
		// (REPLICATION SLAVE ADMIN; RESET SLAVE ALL also wants RELOAD).
		monitorSQL = append(monitorSQL, "GRANT SLAVE MONITOR, REPLICATION SLAVE ADMIN, RELOAD ON *.* TO "+monitor+";")
		d.StartSQL = "CHANGE MASTER TO MASTER_HOST=" + sqlString(u.PrimaryHost) +
			", MASTER_PORT=" + strconv.Itoa(u.PrimaryPort) +
			", MASTER_USER=" + sqlString(u.ReplicationUser) +
			", MASTER_PASSWORD=" + sqlString(u.ReplicationPassword) +
			", MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=10, MASTER_HEARTBEAT_PERIOD=5;\nSTART SLAVE;\n"
	case MySQL:
		d.ServerBins, d.Packages = "mysqld", "mysql-server mysql-client"
		d.StatusQuery = "SHOW REPLICA STATUS"
		d.SourceHostField, d.SourcePortField = "Source_Host", "Source_Port"
		d.SQLRunningField, d.IORunningField, d.IOErrorField = "Replica_SQL_Running", "Replica_IO_Running", "Last_IO_Error"
		// The dump replaced the mysql schema's tables: load them before touching accounts.
		monitorSQL = append([]string{"FLUSH PRIVILEGES;"}, monitorSQL...)
		monitorSQL = append(monitorSQL, "GRANT REPLICATION CLIENT, REPLICATION_SLAVE_ADMIN, RELOAD ON *.* TO "+monitor+";")
		d.StartSQL = "CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + sqlString(u.PrimaryHost) +
			", SOURCE_PORT=" + strconv.Itoa(u.PrimaryPort) +
			", SOURCE_USER=" + sqlString(u.ReplicationUser) +
			", SOURCE_PASSWORD=" + sqlString(u.ReplicationPassword) +
			", SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_CONNECT_RETRY=10, SOURCE_HEARTBEAT_PERIOD=5;\nSTART REPLICA;\n"
	}
	d.MonitorSQL = strings.Join(monitorSQL, "\n") + "\n"
	if u.Flavor == MySQL {
		// super_read_only also stops accounts with SUPER; it goes on once the load is done.
		d.MonitorSQL += "SET GLOBAL super_read_only = ON;\n"
	}
	var b bytes.Buffer
	if err := setupTemplate.Execute(&b, d); err != nil {
		return "", fmt.Errorf("rendering the replica user data: %w", err)
	}
	return b.String(), nil
}

// configText is the replica's option file: what must survive a restart.
func configText(u UserData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the eventscale replica setup: this server is a read replica of %s:%d.\n", u.PrimaryHost, u.PrimaryPort)
	b.WriteString("[mysqld]\n")
	fmt.Fprintf(&b, "server_id = %d\n", u.ServerID)
	b.WriteString("read_only = ON\n")
	if u.Flavor == MySQL {
		b.WriteString("super_read_only = ON\ngtid_mode = ON\nenforce_gtid_consistency = ON\n")
	}
	fmt.Fprintf(&b, "datadir = %s\nsocket = %s\nport = %d\nbind_address = %s\nreport_host = %s\n",
		u.Datadir, u.Socket, u.Port, u.BindAddress, u.ReportHost)
	// A fixed relay log name: the default follows the host name, which a rebuilt or
	// renamed server would change. Recovery refetches a half-written relay log.
	b.WriteString("relay_log = relay-bin\nrelay_log_recovery = ON\n")
	return b.String()
}

// shellQuote quotes a value for bash: inside single quotes nothing is special, and a
// single quote is closed, escaped and reopened.
func shellQuote(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case Flavor:
		s = string(x)
	case int:
		s = strconv.Itoa(x)
	case uint32:
		s = strconv.FormatUint(uint64(x), 10)
	default:
		s = fmt.Sprint(x)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const setupLogPrefix = "eventscale-replica:"

// SetupProgress is what the setup script printed, read back from the server's console
// log (Nova's os-getConsoleOutput) or cloud-init-output.log.
type SetupProgress struct {
	Step    string // the last step reached: start, packages, config, server, settings, primary, dump, load, verify, done
	Done    bool
	Failed  bool
	Message string // the last progress line, without the prefix
}

// ParseSetupLog finds the setup script's progress lines in a console log. Console
// lines may carry timestamps or a cloud-init prefix before the marker.
func ParseSetupLog(console string) SetupProgress {
	var p SetupProgress
	for _, line := range strings.Split(console, "\n") {
		i := strings.Index(line, setupLogPrefix)
		if i < 0 {
			continue
		}
		msg := strings.TrimSpace(line[i+len(setupLogPrefix):])
		p.Message = msg
		if strings.HasPrefix(msg, "failed ") {
			p.Failed = true
		}
		if f := strings.Fields(msg); len(f) > 0 {
			for _, w := range f {
				if s, ok := strings.CutPrefix(w, "step="); ok {
					p.Step = strings.TrimSuffix(s, ":")
					break
				}
			}
		}
		p.Done = p.Step == "done" && !p.Failed
	}
	return p
}
