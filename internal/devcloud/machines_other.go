//go:build !linux

package devcloud

import "syscall"

func machineProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func namespacesSupported() error { return errNoNamespaces }
