//go:build unix && !linux

package mariadbtest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts a child in a process group of its own. Only Linux can tie its
// life to the test binary's; elsewhere Lab.Close is what stops the servers.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
