package dbreplica_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
)

const (
	testReplPassword = "ReplPassw0rdReplPassw0rd"
	testMonPassword  = "MonPassw0rdMonPassw0rd12"
)

func validUserData() dbreplica.UserData {
	u := dbreplica.CloudUserData(dbreplica.MariaDB)
	u.ServerID = 101
	u.ReportHost = "event-db-01"
	u.PrimaryHost = "10.0.0.5"
	u.ReplicationUser = dbreplica.ReplicationUserName("event")
	u.ReplicationPassword = testReplPassword
	u.MonitorUser = dbreplica.MonitorUserName("event")
	u.MonitorPassword = testMonPassword
	return u
}

func needBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is needed to check the script: " + err.Error())
	}
	return bash
}

func TestShellQuote_RoundTripsThroughBash(t *testing.T) {
	bash := needBash(t)
	for _, v := range []string{"", "plain", "it's", `"; rm -rf / #`, "$(touch /tmp/pwned)", "`id`", `back\slash`, "new\nline", "tab\tand space", "ünïcödé ★", "'''"} {
		out, err := exec.Command(bash, "-c", "v="+dbreplica.ShellQuote(v)+`; printf '%s' "$v"`).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("bash read %q back as %q", v, out)
		}
	}
}

func TestSQLString_RoundTripsThroughTheServer(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db := adminDB(t, set.primary)
	// No backslashes: the validated values never carry one, and their meaning depends
	// on sql_mode.
	for _, v := range []string{"", "plain", "it's", "''", "x' OR '1'='1", "%_ wildcards", "ünïcödé ★", "'; DROP DATABASE seed; --"} {
		var got string
		if err := db.QueryRowContext(ctx, "SELECT "+dbreplica.SQLString(v)).Scan(&got); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got != v {
			t.Errorf("the server read %q back as %q", v, got)
		}
	}
}

func TestRenderUserData_ScriptIsValidBashForBothFlavors(t *testing.T) {
	bash := needBash(t)
	for _, f := range []dbreplica.Flavor{dbreplica.MariaDB, dbreplica.MySQL} {
		u := validUserData()
		u = func() dbreplica.UserData {
			c := dbreplica.CloudUserData(f)
			c.ServerID, c.ReportHost, c.PrimaryHost = u.ServerID, u.ReportHost, u.PrimaryHost
			c.ReplicationUser, c.ReplicationPassword, c.MonitorUser, c.MonitorPassword = u.ReplicationUser, u.ReplicationPassword, u.MonitorUser, u.MonitorPassword
			return c
		}()
		script, err := dbreplica.RenderUserData(u)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s", f, err, out)
		}
		if !strings.HasPrefix(script, "#!/bin/bash\n") {
			t.Errorf("%s: cloud-init runs user data as a script only when it starts with #!", f)
		}
		if len(script) > 16*1024 {
			t.Errorf("%s: %d bytes; Nova takes at most 64 KiB of base64 user data", f, len(script))
		}
	}
}

func TestRenderUserData_FlavorSyntaxAndCloudDefaults(t *testing.T) {
	maria, err := dbreplica.RenderUserData(validUserData())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"INSTALL_PACKAGES='yes'", "SERVICE_NAME='mariadb'", "CONFIG_FILE='/etc/mysql/mariadb.conf.d/90-eventscale-replica.cnf'",
		"bind_address = 0.0.0.0", "server_id = 101", "read_only = ON", "report_host = event-db-01",
		"MASTER_USE_GTID=slave_pos", "--single-transaction --gtid --master-data=2", "GRANT SLAVE MONITOR, REPLICATION SLAVE ADMIN, RELOAD",
	} {
		if !strings.Contains(maria, want) {
			t.Errorf("MariaDB user data lacks %q", want)
		}
	}
	u := validUserData()
	c := dbreplica.CloudUserData(dbreplica.MySQL)
	u.Flavor, u.ServiceName = c.Flavor, c.ServiceName
	my, err := dbreplica.RenderUserData(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SERVICE_NAME='mysql'", "/etc/mysql/mysql.conf.d/90-eventscale-replica.cnf", "super_read_only = ON", "gtid_mode = ON",
		"SOURCE_AUTO_POSITION=1", "--set-gtid-purged=ON", "SET GLOBAL super_read_only = ON;", "REPLICATION_SLAVE_ADMIN",
	} {
		if !strings.Contains(my, want) {
			t.Errorf("MySQL user data lacks %q", want)
		}
	}
	if strings.Contains(my, "MASTER_USE_GTID") || strings.Contains(maria, "SOURCE_AUTO_POSITION") {
		t.Error("a flavor's user data carries the other flavor's syntax")
	}
}

func TestRenderUserData_RejectsValuesThatCouldBreakOut(t *testing.T) {
	for name, change := range map[string]func(*dbreplica.UserData){
		"quote in primary host":       func(u *dbreplica.UserData) { u.PrimaryHost = "db01'; DROP USER root; --" },
		"newline in primary host":     func(u *dbreplica.UserData) { u.PrimaryHost = "db01\nreboot" },
		"command in report host":      func(u *dbreplica.UserData) { u.ReportHost = "$(reboot)" },
		"relative config file":        func(u *dbreplica.UserData) { u.ConfigFile = "replica.cnf" },
		"space in socket":             func(u *dbreplica.UserData) { u.Socket = "/run/my sql.sock" },
		"parent in datadir":           func(u *dbreplica.UserData) { u.Datadir = "/var/lib/../../etc" },
		"quote in password":           func(u *dbreplica.UserData) { u.ReplicationPassword = "abc'defghijklmnop" },
		"short password":              func(u *dbreplica.UserData) { u.MonitorPassword = "short" },
		"backslash in monitor host":   func(u *dbreplica.UserData) { u.MonitorHost = `10.0.0.\%` },
		"server_id 0":                 func(u *dbreplica.UserData) { u.ServerID = 0 },
		"one account for both jobs":   func(u *dbreplica.UserData) { u.MonitorUser = u.ReplicationUser },
		"port out of range":           func(u *dbreplica.UserData) { u.PrimaryPort = 70000 },
		"unknown flavor":              func(u *dbreplica.UserData) { u.Flavor = "postgres" },
		"shell in service name":       func(u *dbreplica.UserData) { u.ServiceName = "mariadb;reboot" },
		"user name with a quote mark": func(u *dbreplica.UserData) { u.ReplicationUser = "es'repl" },
	} {
		t.Run(name, func(t *testing.T) {
			u := validUserData()
			change(&u)
			script, err := dbreplica.RenderUserData(u)
			if err == nil {
				t.Fatalf("rendered:\n%s", script)
			}
			for _, secret := range []string{u.ReplicationPassword, u.MonitorPassword} {
				if len(secret) > 3 && strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a password: %v", err)
				}
			}
		})
	}
}

func TestParseSetupLog_ReadsProgressFromAConsoleLog(t *testing.T) {
	console := `[   12.3] cloud-init[812]: Reading package lists...
[   40.1] cloud-init[812]: eventscale-replica: step=start server_id=101 primary=10.0.0.5:3306 (0s)
[   41.0] cloud-init[812]: eventscale-replica: step=dump 3 database(s) and the accounts from 10.0.0.5:3306 (28s)
[   52.9] cloud-init[812]: eventscale-replica: failed step=load: loading the dump and starting replication failed: ERROR 1105 (HY000) at line 12 (40s)
`
	p := dbreplica.ParseSetupLog(console)
	if !p.Failed || p.Done || p.Step != "load" || !strings.Contains(p.Message, "ERROR 1105") {
		t.Errorf("got %+v", p)
	}
	p = dbreplica.ParseSetupLog("eventscale-replica: step=done replica of 10.0.0.5:3306 with server_id 101, read-only (61s)\n")
	if !p.Done || p.Failed || p.Step != "done" {
		t.Errorf("got %+v", p)
	}
	if p := dbreplica.ParseSetupLog("nothing yet"); p.Step != "" || p.Done || p.Failed {
		t.Errorf("got %+v", p)
	}
}

func TestReplicationUserName_FitsMySQLAndNeverSharedBetweenSets(t *testing.T) {
	if got := dbreplica.ReplicationUserName("event"); got != "es_repl_event" {
		t.Errorf("plain set name: %q", got)
	}
	seen := map[string]string{}
	for _, set := range []string{"a-b", "a_b", "A_B", "black-friday-2026-main-site-replicas", "black-friday-2026-main-site-replicaz", "ünï", ""} {
		for _, name := range []string{dbreplica.ReplicationUserName(set), dbreplica.MonitorUserName(set)} {
			if len(name) > 32 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				t.Errorf("%q -> %q: not a short plain account name", set, name)
			}
			if other, ok := seen[name]; ok {
				t.Errorf("sets %q and %q share the account %q", set, other, name)
			}
			seen[name] = set
		}
	}
}

func TestGeneratePassword_LettersAndDigitsOfFullLength(t *testing.T) {
	a, err := dbreplica.GeneratePassword()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := dbreplica.GeneratePassword()
	if len(a) != dbreplica.PasswordLength || a == b || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("passwords %q, %q", a, b)
	}
}

func TestCheckServerIDs_DuplicatesAndZeroAreNamedPerReplica(t *testing.T) {
	info := dbreplica.PrimaryInfo{ServerID: 1, Replicas: []dbreplica.ConnectedReplica{{ServerID: 201}, {ServerID: 9, Host: "legacy-report"}, {ServerID: 206, Host: "db-06"}}}
	ps := dbreplica.CheckServerIDs(info, []dbreplica.PlannedReplica{
		{Name: "db-01", ServerID: 201, Exists: true}, // its own stream: fine
		{Name: "db-02", ServerID: 202},
		{Name: "db-03", ServerID: 202},
		{Name: "db-04", ServerID: 0},
		{Name: "db-05", ServerID: 9},
		{Name: "db-06", ServerID: 206}, // removed a moment ago, its stream not yet closed
	})
	got := map[string]string{}
	for _, p := range ps {
		got[p.Replica] = p.Summary
	}
	if len(ps) != 4 || got["db-01"] != "" ||
		!strings.Contains(got["db-02"], "as would db-03") || !strings.Contains(got["db-03"], "as would db-02") ||
		!strings.Contains(got["db-04"], "server_id 0") || !strings.Contains(got["db-05"], "legacy-report") {
		t.Errorf("problems:\n%s", problemsText(ps))
	}
}

func TestSuggestServerIDBase_StableAndClearOfSmallIDs(t *testing.T) {
	a, b := dbreplica.SuggestServerIDBase("event"), dbreplica.SuggestServerIDBase("launch")
	if a != dbreplica.SuggestServerIDBase("event") || a == b || a < 100000 || a%dbreplica.ServerIDsPerSet != 0 {
		t.Errorf("bases %d, %d", a, b)
	}
	if _, err := dbreplica.ReplicaServerID(4294967290, 10); err == nil {
		t.Error("a server_id past 2^32-1 was accepted")
	}
}

func TestSecrets_FormattingNeverPrintsAPassword(t *testing.T) {
	u := validUserData()
	ep := dbreplica.Endpoint{Host: "10.0.0.5", User: "root", Password: testReplPassword}
	ru := dbreplica.ReplicationUser{Name: u.ReplicationUser, Password: testReplPassword}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{u, &u, ep, &ep, ru, &ru} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testReplPassword) || strings.Contains(out, testMonPassword) {
				t.Errorf("%s of %T prints a password: %s", verb, v, out)
			}
		}
	}
}
