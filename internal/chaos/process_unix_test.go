//go:build unix

package chaos

import (
	"fmt"
	"os/exec"
	"syscall"
)

// canKill says whether kill schedules can run here: they need process groups.
const canKill = true

// ownProcessGroup puts Terraform and the provider plugin it starts in a process group of their
// own, so that one signal reaches both, as when a CI runner or an operator's laptop dies.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup SIGKILLs the group whose leader is the Terraform process the suite started.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// cpuLine is the CPU the suite used, its own (devcloud, checks, traffic) and its children's
// (Terraform, the provider plugins, the provider's build): what it costs CI.
func cpuLine() string {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return ""
	}
	secs := func(r syscall.Rusage) float64 {
		return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
	}
	return fmt.Sprintf("CPU: %.0fs in the test process (devcloud, checks, traffic), %.0fs in Terraform, the provider and its build\n",
		secs(self), secs(children))
}
