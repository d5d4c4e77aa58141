//go:build !unix

package main

import (
	"os"
	"os/exec"
)

func ownProcessGroup(*exec.Cmd) {}

func interruptGroup(cmd *exec.Cmd) error { return cmd.Process.Signal(os.Interrupt) }

func killGroup(*exec.Cmd) {}
