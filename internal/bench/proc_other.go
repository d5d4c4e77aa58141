//go:build !linux

package bench

import (
	"os"
	"os/exec"
)

// Peak memory and process groups are read and set on Linux only; elsewhere the table shows
// no RSS.
func maxRSSKB(*os.ProcessState) int64 { return 0 }

func ownProcessGroup(*exec.Cmd) {}

func interruptGroup(cmd *exec.Cmd) error { return cmd.Process.Signal(os.Interrupt) }

func killGroup(*exec.Cmd) {}

func dieWithParent(*exec.Cmd) {}
