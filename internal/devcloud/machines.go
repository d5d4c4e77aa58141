package devcloud

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A machine is what devcloud runs inside a Nova server whose user data is the database
// replica setup script (a bash script printing "eventscale-replica:" progress lines): a
// Debian server with MariaDB installed, as the image the script expects would be. It is a
// real mariadbd with its own datadir, configuration directory and socket, and the script
// runs unchanged as cloud-init would run it, once per instance. Only servers with that user
// data get one; every other server stays a simulated web node.
//
// Isolation: the machine's init is PID 1 of its own mount and PID namespaces (and a user
// namespace when devcloud does not run as root). In them, /etc/mysql, /var/lib/mysql,
// /run, /tmp and /var/tmp are the machine's own directories, so the script writes its
// option file to /etc/mysql/mariadb.conf.d and restarts "the service" exactly as on a
// server, and nothing of the host's MariaDB is touched. Killing the init (delete, reboot,
// Reset, Close, or devcloud's process dying) ends every process of the machine, as
// switching off a server does.
//
// Network: a machine shares the host's network stack, and devcloud listens on loopback
// only. The machine's service manager therefore starts mariadbd with its listen address
// pinned to 127.0.0.1 and a port of its own (command-line options win over the option
// files, which keep saying bind_address 0.0.0.0 and port 3306). Cloud.DialContext is the
// tenant network as seen from a machine attached to it: a connection to the server's fixed
// address and the port its option files configure goes to that loopback port; another port
// of the server is refused; other addresses of devcloud's subnets are unreachable; any
// other address is dialled as it is. GET /_devcloud/machines lists the mapping.

// machineMarker is the progress prefix of the replica setup script: devcloud boots a
// machine for user data that is a bash script printing it.
const machineMarker = "eventscale-replica:"

// isMachineUserData says whether decoded user data is the replica setup script.
func isMachineUserData(script string) bool {
	return strings.HasPrefix(script, "#!/bin/bash") && strings.Contains(script, machineMarker)
}

// MachineInfo is one machine, as GET /_devcloud/machines lists it.
type MachineInfo struct {
	ServerID string `json:"server_id"`
	Name     string `json:"name"`
	// Address is the server's fixed address; Port the port its option files configure.
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Forward is the loopback host:port behind Address:Port.
	Forward string `json:"forward"`
	// State: booting, running, stopped (powered off by a reboot or a failed boot).
	State string `json:"state"`
	Boots int    `json:"boots"`
	// UserDataStatus is the setup script's exit status, -1 while it has not finished.
	UserDataStatus int `json:"user_data_status"`
}

// machines runs the machines of one devcloud.
type machines struct {
	c *Cloud

	templateOnce sync.Once
	templateDir  string
	templateErr  error

	mu     sync.Mutex
	root   string
	closed bool
	byID   map[string]*machine
}

type machine struct {
	serverID, name, address string

	// bootMu serialises boot, power-off and destruction of one machine.
	bootMu sync.Mutex

	mu       sync.Mutex // guards the fields below
	dir      string
	hostPort int
	boots    int
	state    string
	bootErr  string // why the last boot failed, for the console when there is no disk
	deleted  bool
	cmd      *exec.Cmd
	exited   chan struct{}
}

func newMachines(c *Cloud) *machines { return &machines{c: c, byID: map[string]*machine{}} }

// MachinesSupported says whether this host can run devcloud's machines, and if not, why:
// it needs the MariaDB server programs and mount/PID namespaces.
func MachinesSupported() error {
	if _, err := findMariaDB(); err != nil {
		return err
	}
	return namespacesSupported()
}

type mariadbPrograms struct{ server, installDB, admin, printDefaults string }

func findMariaDB() (mariadbPrograms, error) {
	var p mariadbPrograms
	var missing []string
	for _, want := range []struct {
		dst  *string
		name string
	}{{&p.server, "mariadbd"}, {&p.installDB, "mariadb-install-db"}, {&p.admin, "mariadb-admin"}, {&p.printDefaults, "my_print_defaults"}} {
		if path, err := exec.LookPath(want.name); err == nil {
			*want.dst = path
			continue
		}
		found := false
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if st, err := os.Stat(filepath.Join(dir, want.name)); err == nil && st.Mode()&0o111 != 0 {
				*want.dst, found = filepath.Join(dir, want.name), true
				break
			}
		}
		if !found {
			missing = append(missing, want.name)
		}
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("devcloud machines need MariaDB: no %s found (Debian: apt-get install -y mariadb-server mariadb-client)", strings.Join(missing, ", "))
	}
	for _, dir := range []string{"/etc/mysql", "/var/lib/mysql"} {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return p, fmt.Errorf("devcloud machines mount their own %s over the host's, which does not exist (the mariadb-server package creates it)", dir)
		}
	}
	return p, nil
}

// up boots the machine of a server that became ACTIVE, when its user data asks for one: a
// new server's first boot runs the user data; a reboot's does not.
func (ms *machines) up(serverID, address string) {
	c := ms.c
	c.mu.Lock()
	s := c.st.servers[serverID]
	if s == nil || s.Deleted || s.Deleting || s.UserData == "" {
		c.mu.Unlock()
		return
	}
	raw, err := base64.StdEncoding.DecodeString(s.UserData)
	name := s.Name
	c.mu.Unlock()
	if err != nil || !isMachineUserData(string(raw)) {
		return
	}
	ms.mu.Lock()
	if ms.closed {
		ms.mu.Unlock()
		return
	}
	m := ms.byID[serverID]
	if m == nil {
		m = &machine{serverID: serverID, name: name, address: address, state: "booting"}
		ms.byID[serverID] = m
	}
	ms.mu.Unlock()
	go ms.boot(m, string(raw))
}

// down powers a machine off (the server reboots) or destroys it (the server is being
// deleted, or is gone).
func (ms *machines) down(address string) {
	ms.mu.Lock()
	var m *machine
	for _, x := range ms.byID {
		if x.address == address {
			m = x
		}
	}
	ms.mu.Unlock()
	if m == nil {
		return
	}
	c := ms.c
	c.mu.Lock()
	s := c.st.servers[m.serverID]
	gone := s == nil || s.Deleted || s.Deleting
	c.mu.Unlock()
	if !gone {
		m.bootMu.Lock()
		m.powerOffLocked("stopped")
		m.bootMu.Unlock()
		return
	}
	ms.destroy(m)
}

func (ms *machines) destroy(m *machine) {
	m.bootMu.Lock()
	defer m.bootMu.Unlock()
	m.powerOffLocked("deleted")
	m.mu.Lock()
	m.deleted = true
	dir := m.dir
	m.mu.Unlock()
	ms.mu.Lock()
	if ms.byID[m.serverID] == m {
		delete(ms.byID, m.serverID)
	}
	ms.mu.Unlock()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	ms.c.Event("machine.deleted", map[string]any{"server_id": m.serverID, "name": m.name})
}

// reset destroys every machine (devcloud went back to its seed).
func (ms *machines) reset() {
	ms.mu.Lock()
	all := make([]*machine, 0, len(ms.byID))
	for _, m := range ms.byID {
		all = append(all, m)
	}
	ms.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms.destroy(m)
		}()
	}
	wg.Wait()
}

// close destroys every machine and removes the machines' directory.
func (ms *machines) close() {
	ms.mu.Lock()
	ms.closed = true
	ms.mu.Unlock()
	ms.reset()
	ms.mu.Lock()
	root := ms.root
	ms.mu.Unlock()
	if root != "" {
		_ = os.RemoveAll(root)
	}
}

// boot prepares the machine's disk on its first boot and starts its init. A machine that
// cannot boot writes why to its console and stays stopped.
func (ms *machines) boot(m *machine, userData string) {
	m.bootMu.Lock()
	defer m.bootMu.Unlock()
	m.mu.Lock()
	running, deleted := m.cmd != nil, m.deleted
	m.mu.Unlock()
	if running || deleted {
		return
	}
	failed := func(err error) {
		m.mu.Lock()
		m.state, m.bootErr = "stopped", err.Error()
		dir := m.dir
		m.mu.Unlock()
		if dir != "" {
			appendConsole(dir, fmt.Sprintf("devcloud machine %s: cannot boot: %v\n", m.name, err))
		}
		ms.c.Event("machine.error", map[string]any{"server_id": m.serverID, "name": m.name, "message": err.Error()})
	}
	if err := ms.prepare(m, userData); err != nil {
		failed(err)
		return
	}
	m.mu.Lock()
	dir, hostPort := m.dir, m.hostPort
	m.mu.Unlock()
	console, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		failed(err)
		return
	}
	m.mu.Lock()
	m.boots++
	boots := m.boots
	m.mu.Unlock()
	// The machine runs until it is powered off, not for the length of a request.
	cmd := exec.CommandContext(context.Background(), "/bin/bash", filepath.Join(dir, "init.sh"), dir, strconv.Itoa(boots))
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cmd.SysProcAttr = machineProcAttr()
	if err := cmd.Start(); err != nil {
		_ = console.Close()
		failed(fmt.Errorf("starting its init in new namespaces: %w", err))
		return
	}
	exited := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.exited, m.state = cmd, exited, "running"
	m.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		_ = console.Close()
		m.mu.Lock()
		if m.cmd == cmd {
			m.cmd, m.state = nil, "stopped"
		}
		m.mu.Unlock()
		close(exited)
	}()
	ms.c.Event("machine.booted", map[string]any{"server_id": m.serverID, "name": m.name, "address": m.address,
		"forward": net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort)), "boot": boots})
}

func appendConsole(dir, text string) {
	f, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		_, _ = f.WriteString(text)
		_ = f.Close()
	}
}

// powerOffLocked kills the machine's init, and with it, through the kernel, every process
// of its PID namespace. The caller holds bootMu.
func (m *machine) powerOffLocked(state string) {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd, m.state = nil, state
	m.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
}

// prepare lays out the machine's disk on its first boot: a copy of the image's datadir,
// /etc/mysql with the image's my.cnf, the service manager, the init and the user data.
func (ms *machines) prepare(m *machine, userData string) error {
	m.mu.Lock()
	prepared := m.dir != ""
	m.mu.Unlock()
	if prepared {
		return nil
	}
	progs, err := findMariaDB()
	if err != nil {
		return err
	}
	if err := namespacesSupported(); err != nil {
		return err
	}
	template, err := ms.template(progs)
	if err != nil {
		return err
	}
	ms.mu.Lock()
	root := ms.root
	ms.mu.Unlock()
	dir := filepath.Join(root, m.serverID)
	for _, d := range []string{"etc-mysql/mariadb.conf.d", "etc-mysql/conf.d", "tmp", "var-tmp", "bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	cpCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(cpCtx, "cp", "-a", template, filepath.Join(dir, "var-lib-mysql")).CombinedOutput(); err != nil {
		return fmt.Errorf("copying the image's datadir: %w: %s", err, out)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		text string
		mode os.FileMode
	}{
		{"etc-mysql/my.cnf", machineMyCnf, 0o644},
		{"bin/service", machineService, 0o755},
		{"init.sh", machineInit, 0o755},
		{"user-data", userData, 0o700},
		{"host-port", strconv.Itoa(port) + "\n", 0o644},
		{"console.log", "", 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), f.mode); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.dir, m.hostPort = dir, port
	m.mu.Unlock()
	return nil
}

// template initialises the image's datadir once per devcloud: what installing the
// mariadb-server package leaves in /var/lib/mysql (root logs in through the socket).
func (ms *machines) template(progs mariadbPrograms) (string, error) {
	ms.templateOnce.Do(func() {
		root, err := os.MkdirTemp("", "devcloud-machines-")
		if err != nil {
			ms.templateErr = err
			return
		}
		ms.mu.Lock()
		ms.root = root
		ms.mu.Unlock()
		dir := filepath.Join(root, "image-datadir")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := []string{"--no-defaults", "--datadir=" + dir, "--user=" + currentUserName(),
			"--auth-root-authentication-method=socket", "--skip-test-db",
			"--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"}
		if out, err := exec.CommandContext(ctx, progs.installDB, args...).CombinedOutput(); err != nil {
			ms.templateErr = fmt.Errorf("mariadb-install-db for the machines' image: %w: %s", err, lastLines(string(out), 10))
			return
		}
		ms.templateDir = dir
	})
	return ms.templateDir, ms.templateErr
}

func currentUserName() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return strconv.Itoa(os.Geteuid())
}

func freeLoopbackPort() (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// console is the machine's console log: all of it when lines < 0, else its last lines.
func (ms *machines) console(serverID string, lines int) (string, bool) {
	ms.mu.Lock()
	m := ms.byID[serverID]
	ms.mu.Unlock()
	if m == nil {
		return "", false
	}
	m.mu.Lock()
	dir, bootErr := m.dir, m.bootErr
	m.mu.Unlock()
	if dir == "" {
		if bootErr != "" {
			return fmt.Sprintf("devcloud machine %s: cannot boot: %s\n", m.name, bootErr), true
		}
		return "", true
	}
	data, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		return "", false
	}
	switch {
	case lines == 0:
		return "", true
	case lines > 0:
		return lastLines(string(data), lines) + "\n", true
	}
	return string(data), true
}

// info reads a machine's port mapping and state.
func (m *machine) info() MachineInfo {
	m.mu.Lock()
	state, dir, boots := m.state, m.dir, m.boots
	m.mu.Unlock()
	mi := MachineInfo{ServerID: m.serverID, Name: m.name, Address: m.address, State: state, Boots: boots, UserDataStatus: -1}
	if dir == "" {
		return mi
	}
	// The service manager writes "<port from the option files> <loopback port>" at each start.
	if data, err := os.ReadFile(filepath.Join(dir, "ports")); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			mi.Port, _ = strconv.Atoi(f[0])
			mi.Forward = net.JoinHostPort("127.0.0.1", f[1])
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "user-data-status")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			mi.UserDataStatus = n
		}
	}
	return mi
}

// Machines lists devcloud's machines (GET /_devcloud/machines).
func (c *Cloud) Machines() []MachineInfo {
	ms := c.dp.machines
	ms.mu.Lock()
	all := make([]*machine, 0, len(ms.byID))
	for _, m := range ms.byID {
		all = append(all, m)
	}
	ms.mu.Unlock()
	out := make([]MachineInfo, 0, len(all))
	for _, m := range all {
		out = append(out, m.info())
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].ServerID < out[j].ServerID
	})
	return out
}

// DialContext connects as a machine on devcloud's tenant network would: a server's fixed
// address and the port its option files configure reach its machine's mariadbd; another
// port of a server is refused; another address of devcloud's subnets is unreachable; any
// other address (127.0.0.1, where a test's primary database runs) is dialled as it is. It
// has the signature of net.Dialer.DialContext, so a database driver can use it.
func (c *Cloud) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ip, perr := netip.ParseAddr(host)
	port, _ := strconv.Atoi(portText)
	var d net.Dialer
	if perr != nil || !c.inTenantNetwork(ip) {
		return d.DialContext(ctx, network, address)
	}
	opErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))),
			Err: os.NewSyscallError("connect", errno)}
	}
	for _, mi := range c.Machines() {
		if mi.Address != host {
			continue
		}
		if mi.State != "running" || mi.Forward == "" || mi.Port != port {
			return nil, opErr(syscall.ECONNREFUSED)
		}
		return d.DialContext(ctx, network, mi.Forward)
	}
	if c.serverAt(ip) {
		return nil, opErr(syscall.ECONNREFUSED) // a server, but nothing listens there
	}
	return nil, opErr(syscall.EHOSTUNREACH)
}

// inTenantNetwork says whether ip lies in one of devcloud's subnets.
func (c *Cloud) inTenantNetwork(ip netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.st.subnets {
		if s.CIDR.Contains(ip) {
			return true
		}
	}
	return false
}

// serverAt says whether a live server holds ip as a fixed address.
func (c *Cloud) serverAt(ip netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.st.servers {
		if s.Deleted {
			continue
		}
		for _, pid := range s.Ports {
			if p := c.st.ports[pid]; p != nil {
				for _, f := range p.FixedIPs {
					if f.Address == ip {
						return true
					}
				}
			}
		}
	}
	return false
}

var errNoNamespaces = errors.New("devcloud machines need Linux mount and PID namespaces")
