//go:build !unix

package chaos

import "os/exec"

// canKill is false where there are no process groups: kill schedules are skipped.
const canKill = false

func ownProcessGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

func cpuLine() string { return "" }
