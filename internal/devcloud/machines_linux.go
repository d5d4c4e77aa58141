package devcloud

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// machineProcAttr starts a machine's init as PID 1 of new mount and PID namespaces, in a
// new user namespace (mapping the caller to root) when devcloud is not root. The kernel
// kills it if devcloud dies, and with it the whole machine.
func machineProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		Pdeathsig:  syscall.SIGKILL,
		Setpgid:    true,
	}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	return attr
}

// namespacesSupported tries the namespaces a machine needs once, with a process that only
// mounts a tmpfs in them.
func namespacesSupported() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", "mount --make-rprivate / && mount -t tmpfs devcloud-probe /tmp")
	cmd.SysProcAttr = machineProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: trying them failed: %w %s (run as root, or allow unprivileged user namespaces)", errNoNamespaces, err, out)
	}
	return nil
}
