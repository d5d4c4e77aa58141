package dbreplica

import (
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// The MySQL cases run on the settings MySQL reports, since only MariaDB servers run
// here: the SQL that reads them is exercised against MariaDB, the judgement here.

func mysql8(minor int) ServerVersion {
	return ServerVersion{Flavor: MySQL, Raw: "8.0.36", Major: 8, Minor: 0, Patch: minor}
}

func TestEvaluatePrimary_MySQLWithoutGTIDsGetsTheMyCnfLines(t *testing.T) {
	ps := evaluatePrimary(PrimaryInfo{Version: mysql8(36), ServerID: 1, LogBin: true, BinlogFormat: "ROW",
		GTIDMode: "OFF", EnforceGTIDConsistency: "OFF"})
	if len(ps) != 1 || ps[0].Severity != SeverityError || ps[0].Attribute != AttrPrimaryServer {
		t.Fatalf("problems = %v", ps)
	}
	for _, want := range []string{"gtid_mode is OFF", "enforce_gtid_consistency is OFF", "gtid_mode = ON\nenforce_gtid_consistency = ON", "restart db01", "never changes or restarts"} {
		if !strings.Contains(ps[0].Summary+ps[0].Detail, want) {
			t.Errorf("missing %q in %s", want, ps[0].Error())
		}
	}
}

func TestEvaluatePrimary_MySQLWithGTIDsPasses(t *testing.T) {
	ps := evaluatePrimary(PrimaryInfo{Version: mysql8(36), ServerID: 7, LogBin: true, BinlogFormat: "ROW",
		GTIDMode: "ON", EnforceGTIDConsistency: "ON"})
	if len(ps) != 0 {
		t.Fatalf("problems = %v", ps)
	}
}

func TestEvaluatePrimary_MySQL8BinlogOffSaysToRemoveSkipLogBin(t *testing.T) {
	ps := evaluatePrimary(PrimaryInfo{Version: mysql8(36), ServerID: 1, LogBin: false, GTIDMode: "ON", EnforceGTIDConsistency: "ON"})
	if len(ps) != 1 || !strings.Contains(ps[0].Detail, "skip-log-bin") || !strings.Contains(ps[0].Detail, "log_bin = mysql-bin") {
		t.Fatalf("problems = %v", ps)
	}
}

func TestEvaluatePrimary_ServerIDZeroAndStatementFormat(t *testing.T) {
	v := ServerVersion{Flavor: MariaDB, Major: 10, Minor: 11, Patch: 6}
	ps := evaluatePrimary(PrimaryInfo{Version: v, ServerID: 0, LogBin: true, BinlogFormat: "STATEMENT"})
	if len(ps) != 2 {
		t.Fatalf("problems = %v", ps)
	}
	if ps[0].Severity != SeverityError || !strings.Contains(ps[0].Detail, "server_id = 1") || !strings.Contains(ps[0].Detail, "SET GLOBAL server_id") {
		t.Errorf("server_id 0: %s", ps[0].Error())
	}
	if ps[1].Severity != SeverityWarning || !strings.Contains(ps[1].Detail, "binlog_format = ROW") {
		t.Errorf("STATEMENT: %s", ps[1].Error())
	}
	if ps[1:].HasErrors() {
		t.Error("a warning stops the plan")
	}
}

func TestEvaluatePrimary_TooOldForGTIDs(t *testing.T) {
	ps := evaluatePrimary(PrimaryInfo{Version: ServerVersion{Flavor: MariaDB, Major: 5, Minor: 5, Patch: 68}, ServerID: 1, LogBin: true})
	if len(ps) != 1 || !strings.Contains(ps[0].Summary, "no usable GTID") {
		t.Fatalf("problems = %v", ps)
	}
}

func TestCheckPrivileges_MySQLAccountWithRoleIsAWarningNotAStop(t *testing.T) {
	ps := checkPrivileges(mysql8(36), "deploy@%", "`dba`@`%`", map[string]bool{"SELECT": true})
	if len(ps) != 1 || ps[0].Severity != SeverityWarning || !strings.Contains(ps[0].Summary, "role") {
		t.Fatalf("problems = %v", ps)
	}
	for _, want := range []string{"CONNECTION_ADMIN", "REPLICATION CLIENT, RELOAD ON *.* TO 'deploy'@'%' WITH GRANT OPTION"} {
		if !strings.Contains(ps[0].Detail, want) {
			t.Errorf("missing %q in %s", want, ps[0].Detail)
		}
	}
}

func TestCheckPrivileges_RootLikeAccountPasses(t *testing.T) {
	privs := map[string]bool{}
	for _, p := range []string{"CREATE USER", "PROCESS", "SUPER", "REPLICATION MASTER ADMIN", "REPLICATION SLAVE", "SELECT", "SHOW VIEW", "TRIGGER", "EVENT"} {
		privs[p] = true
	}
	if ps := checkPrivileges(ServerVersion{Flavor: MariaDB, Major: 10, Minor: 11, Patch: 6}, "root@localhost", "", privs); len(ps) != 0 {
		t.Fatalf("problems = %v", ps)
	}
}

func TestParseVersion(t *testing.T) {
	for raw, want := range map[string]ServerVersion{
		"10.11.19-MariaDB-0+deb12u1-log": {Flavor: MariaDB, Major: 10, Minor: 11, Patch: 19},
		"5.5.5-10.6.16-MariaDB":          {Flavor: MariaDB, Major: 10, Minor: 6, Patch: 16},
		"8.0.36-0ubuntu0.22.04.1":        {Flavor: MySQL, Major: 8, Minor: 0, Patch: 36},
		"8.4.3":                          {Flavor: MySQL, Major: 8, Minor: 4, Patch: 3},
	} {
		got := parseVersion(raw, "")
		got.Raw = ""
		if got != want {
			t.Errorf("parseVersion(%q) = %+v, want %+v", raw, got, want)
		}
	}
}

func TestRedact_KeepsTheServerErrorNumberAndHidesTheSecret(t *testing.T) {
	err := redact(&mysqlErr1064, "s3cretPassw0rd")
	if strings.Contains(err.Error(), "s3cretPassw0rd") || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("redacted = %v", err)
	}
	if serverErrorNumber(err) != 1064 {
		t.Errorf("the server error number is lost: %v", err)
	}
}

var mysqlErr1064 = mysql.MySQLError{Number: 1064, Message: "You have an error in your SQL syntax; check the manual near 'IDENTIFIED BY 's3cretPassw0rd'' at line 1"}
