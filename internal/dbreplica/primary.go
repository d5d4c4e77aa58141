package dbreplica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Primary is a connection to db01 with the account the configuration supplies.
// This package only reads its settings and manages one account on it: it never
// changes the primary's server configuration and never restarts it.
type Primary struct {
	db      *sql.DB
	ep      Endpoint
	version ServerVersion
}

// PrimaryInfo is what CheckPrimary read from the primary.
type PrimaryInfo struct {
	Version      ServerVersion
	ServerID     uint32
	LogBin       bool
	BinlogFormat string // ROW, MIXED or STATEMENT
	// GTIDMode and EnforceGTIDConsistency are MySQL's; MariaDB always has GTIDs and
	// leaves them "".
	GTIDMode               string
	EnforceGTIDConsistency string
	// GTIDPosition is gtid_binlog_pos (MariaDB) or gtid_executed (MySQL).
	GTIDPosition string
	// Replicas are the replicas the primary lists as connected (SHOW SLAVE HOSTS /
	// SHOW REPLICAS), ours and anybody else's: their server_ids are taken.
	Replicas []ConnectedReplica
	// Account is the configured user as the server resolved it (CURRENT_USER()).
	Account string
}

// ConnectedReplica is one row of SHOW SLAVE HOSTS / SHOW REPLICAS.
type ConnectedReplica struct {
	ServerID uint32
	Host     string // report_host; empty when the replica reports none
	Port     int
}

// CheckPrimary connects to the primary and checks everything replication needs,
// before anything is created. It returns the connection (nil when it could not
// connect) and the problems found; the caller stops when Problems.HasErrors() and
// closes the Primary in any case. The checks only read.
func CheckPrimary(ctx context.Context, ep Endpoint) (*Primary, PrimaryInfo, Problems) {
	db, err := open(ctx, ep)
	if err != nil {
		return nil, PrimaryInfo{}, Problems{connProblem(ep, err)}
	}
	p := &Primary{db: db, ep: ep}
	version, err := queryVersion(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, PrimaryInfo{}, Problems{queryProblem(ep, err)}
	}
	p.version = version
	info, err := p.readInfo(ctx)
	if err != nil {
		return p, info, Problems{queryProblem(ep, err)}
	}
	problems := evaluatePrimary(info)
	if hasGTIDs(version) {
		if info.GTIDPosition, err = p.Position(ctx); err != nil {
			problems = append(problems, queryProblem(ep, err))
		}
		if info.Replicas, err = p.ConnectedReplicas(ctx); err != nil {
			problems = append(problems, queryProblem(ep, err))
		}
	}
	privs, role, err := p.readPrivileges(ctx)
	if err != nil {
		return p, info, append(problems, queryProblem(ep, err))
	}
	problems = append(problems, checkPrivileges(version, info.Account, role, privs)...)
	return p, info, problems
}

// Close releases the connection.
func (p *Primary) Close() error { return p.db.Close() }

// Version is the primary's server version.
func (p *Primary) Version() ServerVersion { return p.version }

// Position is the primary's current GTID position (gtid_binlog_pos on MariaDB,
// gtid_executed on MySQL): a replica that has applied it has everything written so far.
func (p *Primary) Position(ctx context.Context) (string, error) {
	query := "SELECT @@GLOBAL.gtid_binlog_pos"
	if p.version.Flavor == MySQL {
		query = "SELECT @@GLOBAL.gtid_executed"
	}
	var pos string
	if err := p.db.QueryRowContext(ctx, query).Scan(&pos); err != nil {
		return "", fmt.Errorf("reading the GTID position of the primary %s: %w", p.ep.Address(), err)
	}
	return normalizeGTIDSet(pos), nil
}

func (p *Primary) readInfo(ctx context.Context) (PrimaryInfo, error) {
	info := PrimaryInfo{Version: p.version}
	var serverID uint64
	var logBin int
	var binlogFormat sql.NullString
	if err := p.db.QueryRowContext(ctx, "SELECT @@GLOBAL.server_id, @@GLOBAL.log_bin, @@GLOBAL.binlog_format, CURRENT_USER()").
		Scan(&serverID, &logBin, &binlogFormat, &info.Account); err != nil {
		return info, fmt.Errorf("reading server_id, log_bin and binlog_format: %w", err)
	}
	info.ServerID = uint32(serverID)
	info.LogBin = logBin == 1
	info.BinlogFormat = strings.ToUpper(binlogFormat.String)
	if p.version.Flavor == MySQL && p.version.AtLeast(5, 6, 5) {
		var mode, enforce sql.NullString
		if err := p.db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_mode, @@GLOBAL.enforce_gtid_consistency").Scan(&mode, &enforce); err != nil {
			return info, fmt.Errorf("reading gtid_mode and enforce_gtid_consistency: %w", err)
		}
		info.GTIDMode = strings.ToUpper(mode.String)
		info.EnforceGTIDConsistency = strings.ToUpper(enforce.String)
	}
	return info, nil
}

// hasGTIDs: GTIDs arrived in MariaDB 10.0.2 and MySQL 5.6.5.
func hasGTIDs(v ServerVersion) bool {
	return v.Flavor == MariaDB && v.AtLeast(10, 0, 2) || v.Flavor == MySQL && v.AtLeast(5, 6, 5)
}

// ConnectedReplicas lists the replicas the primary knows as connected.
func (p *Primary) ConnectedReplicas(ctx context.Context) ([]ConnectedReplica, error) {
	query := "SHOW SLAVE HOSTS"
	if p.version.Flavor == MySQL && p.version.AtLeast(8, 0, 22) {
		query = "SHOW REPLICAS"
	}
	rows, err := queryMaps(ctx, p.db, query)
	if err != nil {
		return nil, fmt.Errorf("listing the replicas connected to the primary (%s): %w", query, err)
	}
	var out []ConnectedReplica
	for _, row := range rows {
		id, _ := strconv.ParseUint(row.get("Server_id", "Server_Id"), 10, 32)
		port, _ := strconv.Atoi(row.get("Port"))
		out = append(out, ConnectedReplica{ServerID: uint32(id), Host: row.get("Host"), Port: port})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServerID < out[j].ServerID })
	return out, nil
}

// evaluatePrimary turns the primary's settings into problems. Settings that need a
// restart of db01 are errors with the my.cnf lines to add: this package never changes
// them itself.
func evaluatePrimary(info PrimaryInfo) Problems {
	var ps Problems
	v := info.Version
	cnf := myCnfHint(v.Flavor)
	if v.Flavor == MariaDB && !v.AtLeast(10, 0, 2) || v.Flavor == MySQL && !v.AtLeast(5, 7, 6) {
		ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrPrimaryServer,
			Summary: "the primary runs " + v.String() + ", which has no usable GTID replication",
			Detail:  "Replicas are started with GTID auto-positioning, which needs MariaDB 10.0.2 or MySQL 5.7.6 or newer on the primary. Upgrade db01."})
		return ps
	}
	if info.ServerID == 0 {
		ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrPrimaryServer,
			Summary: "the primary's server_id is 0, so it refuses replicas",
			Detail: "Give db01 a unique non-zero server_id. Add to " + cnf + ":\n\n[mysqld]\nserver_id = 1\n\n" +
				"server_id is dynamic: SET GLOBAL server_id = 1; applies it without a restart (put it in the file as well, or it is lost at the next restart)."})
	}
	if !info.LogBin {
		lines := "[mysqld]\nlog_bin = mysql-bin\nbinlog_format = ROW\n"
		if info.ServerID == 0 {
			lines += "server_id = 1\n"
		}
		if v.Flavor == MySQL {
			lines += "gtid_mode = ON\nenforce_gtid_consistency = ON\n"
		}
		what := "Add to " + cnf + ":\n\n" + lines
		if v.Flavor == MySQL && v.AtLeast(8, 0, 0) {
			what = "MySQL 8 logs binaries by default, so db01's configuration switches it off (skip-log-bin or disable-log-bin): remove that line, and make sure " + cnf + " has:\n\n" + lines
		}
		ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrPrimaryServer,
			Summary: "binary logging (log_bin) is off on the primary",
			Detail: "Replicas read the primary's binary log. " + what +
				"\nThen restart db01 in a maintenance window: log_bin cannot be switched on at runtime, and this provider never restarts the primary."})
	}
	if info.LogBin && info.BinlogFormat == "STATEMENT" {
		ps = append(ps, Problem{Severity: SeverityWarning, Attribute: AttrPrimaryServer,
			Summary: "the primary logs statements (binlog_format = STATEMENT)",
			Detail: "Statement-based replication can make replicas differ from the primary (non-deterministic statements). " +
				"ROW is the safe format and needs no restart: SET GLOBAL binlog_format = 'ROW'; and in " + cnf + ":\n\n[mysqld]\nbinlog_format = ROW\n"})
	}
	if v.Flavor == MySQL {
		var missing []string
		if info.GTIDMode != "ON" {
			missing = append(missing, "gtid_mode is "+orUnset(info.GTIDMode))
		}
		if info.EnforceGTIDConsistency != "ON" {
			missing = append(missing, "enforce_gtid_consistency is "+orUnset(info.EnforceGTIDConsistency))
		}
		if len(missing) > 0 {
			ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrPrimaryServer,
				Summary: "GTIDs are off on the primary: " + strings.Join(missing, ", "),
				Detail: "Replicas use SOURCE_AUTO_POSITION, which needs GTIDs on db01. Add to " + cnf + ":\n\n" +
					"[mysqld]\ngtid_mode = ON\nenforce_gtid_consistency = ON\n\n" +
					"and restart db01 in a maintenance window (or switch online step by step: enforce_gtid_consistency WARN, ON; " +
					"gtid_mode OFF_PERMISSIVE, ON_PERMISSIVE, ON, as MySQL's manual describes). This provider never changes or restarts the primary."})
		}
	}
	return ps
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

func myCnfHint(f Flavor) string {
	if f == MariaDB {
		return "db01's server configuration (on Debian/Ubuntu a new file /etc/mysql/mariadb.conf.d/60-replication.cnf)"
	}
	return "db01's server configuration (on Ubuntu a new file /etc/mysql/mysql.conf.d/60-replication.cnf)"
}

// replicationGrants are the global privileges of the replication account: streaming
// the binary log, and reading everything for the replica's initial consistent dump
// (a dump needs SELECT, SHOW VIEW, TRIGGER and EVENT; MySQL's mysqldump also takes a
// brief FLUSH TABLES WITH READ LOCK for a consistent GTID set, hence RELOAD and
// REPLICATION CLIENT). MariaDB's dump takes its snapshot without that lock.
func replicationGrants(f Flavor) []string {
	grants := []string{"REPLICATION SLAVE", "SELECT", "SHOW VIEW", "TRIGGER", "EVENT"}
	if f == MySQL {
		grants = append(grants, "REPLICATION CLIENT", "RELOAD")
	}
	return grants
}

// readPrivileges lists the configured account's global privileges: name -> grantable.
func (p *Primary) readPrivileges(ctx context.Context) (map[string]bool, string, error) {
	var account string
	var role sql.NullString
	query := "SELECT CURRENT_USER(), CURRENT_ROLE()"
	if p.version.Flavor == MySQL && !p.version.AtLeast(8, 0, 0) {
		query = "SELECT CURRENT_USER(), NULL" // roles came with MySQL 8.0
	}
	if err := p.db.QueryRowContext(ctx, query).Scan(&account, &role); err != nil {
		return nil, "", fmt.Errorf("reading the current account: %w", err)
	}
	activeRole := role.String
	if strings.EqualFold(activeRole, "NONE") {
		activeRole = ""
	}
	user, host := splitAccount(account)
	grantee := "'" + user + "'@'" + host + "'"
	rows, err := p.db.QueryContext(ctx,
		"SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?", grantee)
	if err != nil {
		return nil, "", fmt.Errorf("reading the privileges of %s: %w", account, err)
	}
	defer rows.Close()
	privs := map[string]bool{}
	for rows.Next() {
		var name, grantable string
		if err := rows.Scan(&name, &grantable); err != nil {
			return nil, "", err
		}
		privs[strings.ToUpper(name)] = grantable == "YES"
	}
	return privs, activeRole, rows.Err()
}

func splitAccount(account string) (user, host string) {
	i := strings.LastIndex(account, "@")
	if i < 0 {
		return account, "%"
	}
	return account[:i], account[i+1:]
}

// checkPrivileges says which global privileges the configured account lacks for
// what this package does on the primary: create the replication account and grant it
// (CREATE USER, and each granted privilege WITH GRANT OPTION), list connected
// replicas, and close the binlog streams of stopped replicas before dropping the
// account (PROCESS, and SUPER or CONNECTION ADMIN).
func checkPrivileges(v ServerVersion, account, role string, privs map[string]bool) Problems {
	var missing, missingGrantable []string
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := privs[n]; ok {
				return true
			}
		}
		return false
	}
	if !has("CREATE USER") {
		missing = append(missing, "CREATE USER")
	}
	if !has("PROCESS") {
		missing = append(missing, "PROCESS")
	}
	if !has("SUPER", "CONNECTION ADMIN", "CONNECTION_ADMIN") {
		if v.Flavor == MariaDB && v.AtLeast(10, 5, 2) {
			missing = append(missing, "CONNECTION ADMIN")
		} else if v.Flavor == MySQL && v.AtLeast(8, 0, 0) {
			missing = append(missing, "CONNECTION_ADMIN")
		} else {
			missing = append(missing, "SUPER")
		}
	}
	if v.Flavor == MariaDB && v.AtLeast(10, 5, 2) && !has("REPLICATION MASTER ADMIN", "SUPER") {
		missing = append(missing, "REPLICATION MASTER ADMIN")
	}
	for _, g := range replicationGrants(v.Flavor) {
		name := g
		// MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR and lists the new name.
		if g == "REPLICATION CLIENT" && has("BINLOG MONITOR") && !has(g) {
			name = "BINLOG MONITOR"
		}
		if !privs[name] {
			missingGrantable = append(missingGrantable, g)
		}
	}
	if len(missing) == 0 && len(missingGrantable) == 0 {
		return nil
	}
	user, host := splitAccount(account)
	to := "'" + user + "'@'" + host + "'"
	var stmts []string
	if len(missing) > 0 {
		stmts = append(stmts, "GRANT "+strings.Join(missing, ", ")+" ON *.* TO "+to+";")
	}
	if len(missingGrantable) > 0 {
		stmts = append(stmts, "GRANT "+strings.Join(missingGrantable, ", ")+" ON *.* TO "+to+" WITH GRANT OPTION;")
	}
	pr := Problem{Severity: SeverityError, Attribute: AttrPrimaryUser,
		Summary: "the primary's account " + account + " lacks privileges to create and manage the replication account",
		Detail: "Use an administrative account (such as root) as primary.user, or grant the missing privileges on db01:\n\n" +
			strings.Join(stmts, "\n") + "\n"}
	if role != "" {
		// Privileges of an active role are not in USER_PRIVILEGES: the account may well
		// have them. Say so instead of stopping the plan.
		pr.Severity = SeverityWarning
		pr.Summary = "could not confirm the privileges of " + account + " (role " + role + " is active)"
	}
	return Problems{pr}
}

// queryProblem turns a failed read on the primary into a diagnostic: missing
// privileges point at the account, anything else at the server.
func queryProblem(ep Endpoint, err error) Problem {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryHost,
			Summary: "checking the primary " + ep.Address() + " did not finish", Detail: err.Error()}
	}
	switch serverErrorNumber(err) {
	case errSpecificAccessDenied, errTableAccessDenied, errDBAccessDenied, errAccessDenied:
		return Problem{Severity: SeverityError, Attribute: AttrPrimaryUser,
			Summary: "the primary's account " + quoteForMessage(ep.User) + " lacks a privilege the checks need",
			Detail:  err.Error() + ". Use an administrative account (such as root) as primary.user."}
	}
	return Problem{Severity: SeverityError, Attribute: AttrPrimaryServer,
		Summary: "reading the primary's settings failed", Detail: err.Error()}
}

// rowMap is one result row by column name.
type rowMap map[string]string

// get returns the first of the named columns present (MariaDB and MySQL name some
// columns differently).
func (r rowMap) get(names ...string) string {
	for _, n := range names {
		if v, ok := r[n]; ok {
			return v
		}
	}
	return ""
}

func (r rowMap) has(names ...string) bool {
	for _, n := range names {
		if _, ok := r[n]; ok {
			return true
		}
	}
	return false
}

func queryMaps(ctx context.Context, db *sql.DB, query string) ([]rowMap, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []rowMap
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := rowMap{}
		for i, c := range cols {
			if vals[i].Valid {
				m[c] = vals[i].String
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// normalizeGTIDSet drops the newlines MySQL puts into long GTID sets.
func normalizeGTIDSet(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "")), "")
}
