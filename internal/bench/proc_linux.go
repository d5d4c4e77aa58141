//go:build linux

package bench

import (
	"os"
	"os/exec"
	"syscall"
)

// maxRSSKB is the peak resident set of a process that has exited, in KiB (Linux reports
// ru_maxrss in KiB).
func maxRSSKB(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// ownProcessGroup puts Terraform and the plugins it starts in a group of their own, so that
// an interrupt reaches all of them and nothing is left behind.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func interruptGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
}

// killGroup ends whatever is left of the group once Terraform has exited.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// dieWithParent makes the child end when the process that started it ends, so that a plugin
// wrapper Terraform kills takes its plugin along.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
