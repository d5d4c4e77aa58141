//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts Terraform and the provider plugins it starts in a process group of
// their own, so that an interrupt reaches all of them through us and a forced stop leaves no
// plugin behind.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func interruptGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
}

// killGroup ends whatever is left of the group once Terraform has exited (a plugin it could
// not stop); the group id is the pid of the Terraform process we started.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
