package devcloud

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica/mariadbtest"
)

// needMachines skips, naming what is missing, where devcloud cannot run machines.
func needMachines(t *testing.T) {
	t.Helper()
	if err := MachinesSupported(); err != nil {
		t.Skipf("devcloud machines cannot run here: %v", err)
	}
}

func waitActive(ctx context.Context, t *testing.T, sc *gophercloud.ServiceClient, id string) *servers.Server {
	t.Helper()
	for {
		s, err := servers.Get(ctx, sc, id).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == "ACTIVE" {
			return s
		}
		if s.Status == "ERROR" || ctx.Err() != nil {
			t.Fatalf("server %s: %s %v", id, s.Status, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fixedAddressOf(s *servers.Server) string {
	for _, list := range s.Addresses {
		for _, a := range list.([]any) {
			if m, _ := a.(map[string]any); m != nil {
				if addr, _ := m["addr"].(string); addr != "" {
					return addr
				}
			}
		}
	}
	return ""
}

func TestMachine_ReplicaUserDataRunsUnchangedAndServesOnTheServersAddress(t *testing.T) {
	needMachines(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lab, err := mariadbtest.New(ctx)
	if err != nil {
		t.Skipf("no MariaDB lab: %v", err)
	}
	t.Cleanup(func() { _ = lab.Close() })
	primary, err := lab.Start(ctx, mariadbtest.ServerOptions{Name: "primary", ServerID: 1, LogBin: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.Exec(ctx, "CREATE DATABASE shop", "CREATE TABLE shop.orders (id INT PRIMARY KEY)", "INSERT INTO shop.orders VALUES (1),(2),(3)"); err != nil {
		t.Fatal(err)
	}
	adminEP := dbreplica.Endpoint{Host: "127.0.0.1", Port: primary.Port, User: mariadbtest.AdminUser, Password: mariadbtest.AdminPassword}
	p, info, problems := dbreplica.CheckPrimary(ctx, adminEP)
	if problems.HasErrors() {
		t.Fatal(problems.Err())
	}
	defer p.Close()
	replPass, _ := dbreplica.GeneratePassword()
	monPass, _ := dbreplica.GeneratePassword()
	if _, err := p.EnsureReplicationUser(ctx, dbreplica.ReplicationUser{Name: dbreplica.ReplicationUserName("m"), Password: replPass}); err != nil {
		t.Fatal(err)
	}
	ud := dbreplica.CloudUserData(dbreplica.MariaDB)
	ud.ServerID, ud.ReportHost = info.ServerID+100, "m-db-01"
	ud.PrimaryHost, ud.PrimaryPort = "127.0.0.1", primary.Port
	ud.ReplicationUser, ud.ReplicationPassword = dbreplica.ReplicationUserName("m"), replPass
	ud.MonitorUser, ud.MonitorPassword = dbreplica.MonitorUserName("m"), monPass
	script, err := dbreplica.RenderUserData(ud)
	if err != nil {
		t.Fatal(err)
	}

	c := startCloud(t)
	sc := computeClient(t, provider(t, demoAuth(c)), "2.60")
	seed := c.Seed()
	created, err := servers.Create(ctx, sc, servers.CreateOpts{Name: "m-db-01", ImageRef: seed.BaseImageID, FlavorRef: seed.FlavorIDs["m1.small"],
		Networks: []servers.Network{{UUID: seed.NetworkID}}, UserData: []byte(script)}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := servers.Create(ctx, sc, servers.CreateOpts{Name: "web-01", ImageRef: seed.BaseImageID, FlavorRef: seed.FlavorIDs["m1.tiny"],
		Networks: []servers.Network{{UUID: seed.NetworkID}}, UserData: []byte("#!/bin/bash\necho hello\n")}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv := waitActive(ctx, t, sc, created.ID)
	addr := fixedAddressOf(srv)
	waitActive(ctx, t, sc, plain.ID)
	plainAddr := fixedAddressOf(waitActive(ctx, t, sc, plain.ID))

	monitor := dbreplica.Endpoint{Host: addr, Port: 3306, User: ud.MonitorUser, Password: monPass, Dial: c.DialContext, DialTimeout: 2 * time.Second}
	st, err := dbreplica.WaitReplicating(ctx, monitor, dbreplica.WaitOptions{PollInterval: 100 * time.Millisecond, ExpectServerID: ud.ServerID})
	if err != nil {
		out, _ := servers.ShowConsoleOutput(ctx, sc, created.ID, servers.ShowConsoleOutputOpts{Length: 40}).Extract()
		t.Fatalf("%v\nconsole:\n%s", err, out)
	}
	t.Logf("replica at %s:3306 replicating %s after the create: %s", addr, time.Since(start).Round(time.Millisecond), st)

	// The rows arrive on the replica, read as the application's account would.
	if err := primary.Exec(ctx, "INSERT INTO shop.orders VALUES (4),(5)"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbreplica.CheckStillReplicating(ctx, p, []dbreplica.ReplicaTarget{{Name: "m-db-01", Endpoint: monitor}}, dbreplica.DefaultMaxLag); err != nil {
		t.Fatal(err)
	}
	if n := countOnReplica(ctx, t, c, addr); n != 5 {
		t.Errorf("the replica has %d orders, want 5", n)
	}

	// The console carries the setup's progress, as Nova's os-getConsoleOutput does. The
	// replica serves before the script has printed its last lines.
	var out string
	for {
		out, err = servers.ShowConsoleOutput(ctx, sc, created.ID, servers.ShowConsoleOutputOpts{}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if progress := dbreplica.ParseSetupLog(out); progress.Done || progress.Failed || ctx.Err() != nil {
			if !progress.Done {
				t.Errorf("setup progress from the console: %+v\n%s", progress, out)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, secret := range []string{replPass, monPass} {
		if strings.Contains(out, secret) {
			t.Fatal("the console shows a password")
		}
	}
	if tail, _ := servers.ShowConsoleOutput(ctx, sc, created.ID, servers.ShowConsoleOutputOpts{Length: 2}).Extract(); strings.Count(tail, "\n") != 2 {
		t.Errorf("length 2 gave %q", tail)
	}

	// The mapping: the option files' port only; other ports refused; a plain server has no
	// database; an address outside any server is unreachable.
	refused := func(address string, want syscall.Errno) {
		t.Helper()
		conn, err := c.DialContext(ctx, "tcp", address)
		if err == nil {
			_ = conn.Close()
			t.Errorf("dialling %s succeeded", address)
			return
		}
		if !errors.Is(err, want) {
			t.Errorf("dialling %s: %v, want %v", address, err, want)
		}
	}
	refused(addr+":3307", syscall.ECONNREFUSED)
	refused(plainAddr+":3306", syscall.ECONNREFUSED)
	refused("10.0.0.250:3306", syscall.EHOSTUNREACH)
	var listing struct {
		Machines []MachineInfo `json:"machines"`
	}
	for ctx.Err() == nil {
		getControl(t, c, "/_devcloud/machines", &listing)
		if len(listing.Machines) != 1 || listing.Machines[0].UserDataStatus != -1 {
			break // the init records the script's exit status just after its last line
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(listing.Machines) != 1 || listing.Machines[0].Address != addr || listing.Machines[0].Port != 3306 ||
		listing.Machines[0].UserDataStatus != 0 || listing.Machines[0].State != "running" {
		t.Errorf("/_devcloud/machines: %+v", listing.Machines)
	}

	// A reboot restarts MariaDB from the option files the script wrote, without running
	// the user data again, and replication resumes where it stopped.
	if err := servers.Reboot(ctx, sc, created.ID, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := primary.Exec(ctx, "INSERT INTO shop.orders VALUES (6)"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	waitActive(ctx, t, sc, created.ID)
	if _, err := dbreplica.WaitReplicating(ctx, monitor, dbreplica.WaitOptions{PollInterval: 100 * time.Millisecond, ExpectServerID: ud.ServerID}); err != nil {
		t.Fatalf("after the reboot: %v", err)
	}
	if _, err := dbreplica.CheckStillReplicating(ctx, p, []dbreplica.ReplicaTarget{{Name: "m-db-01", Endpoint: monitor}}, dbreplica.DefaultMaxLag); err != nil {
		t.Fatal(err)
	}
	if n := countOnReplica(ctx, t, c, addr); n != 6 {
		t.Errorf("after the reboot the replica has %d orders, want 6", n)
	}
	if m := c.Machines(); len(m) != 1 || m[0].Boots != 2 {
		t.Errorf("machines after the reboot: %+v", m)
	}
	out, _ = servers.ShowConsoleOutput(ctx, sc, created.ID, servers.ShowConsoleOutputOpts{}).Extract()
	if strings.Count(out, "running the user data") != 1 {
		t.Errorf("the user data ran %d times", strings.Count(out, "running the user data"))
	}

	// Deleting the server ends the machine and its disk; once the server is gone its
	// address leads nowhere.
	dir := c.dp.machines.byIDForTest(created.ID)
	if err := servers.Delete(ctx, sc, created.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		_, err := servers.Get(ctx, sc, created.ID).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) && len(c.Machines()) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	refused(addr+":3306", syscall.EHOSTUNREACH)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the machine's disk %s is still there: %v", dir, err)
	}
}

func (ms *machines) byIDForTest(id string) string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m := ms.byID[id]; m != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.dir
	}
	return ""
}

// countOnReplica reads the orders through the application's account, which the replica
// got with the primary's dump.
func countOnReplica(ctx context.Context, t *testing.T, c *Cloud, addr string) int {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(addr, "3306")
	cfg.User, cfg.Passwd = mariadbtest.AdminUser, mariadbtest.AdminPassword
	cfg.DialFunc = c.DialContext
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func getControl(t *testing.T, c *Cloud, path string, v any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, c.URL()+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
