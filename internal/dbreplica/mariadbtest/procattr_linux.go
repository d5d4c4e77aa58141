package mariadbtest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts a child in a process group of its own and, on Linux, has the
// kernel kill it when the test binary dies, so no server outlives a crashed test.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
