package backup

import (
	"fmt"
	"strings"
)

// RebuildCommand restores a server in place from its backup image: same id, same addresses,
// the disk replaced by the image.
func RebuildCommand(imageID, serverID string) string {
	return fmt.Sprintf("openstack server rebuild --image %s %s", imageID, serverID)
}

// NewServerCommand boots a new server from a backup image with the flavor and networks of the
// server it was taken of, named after it with -restored.
func NewServerCommand(imageID string, src Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "openstack server create --image %s", imageID)
	if src.Flavor != "" {
		fmt.Fprintf(&b, " --flavor %s", ShellQuote(src.Flavor))
	}
	for _, n := range src.Networks {
		fmt.Fprintf(&b, " --network %s", ShellQuote(n))
	}
	fmt.Fprintf(&b, " --wait %s", ShellQuote(restoredName(src)))
	return b.String()
}

// DatabaseRestoreCommand creates a new database instance from a Trove backup with the flavor,
// volume size and datastore of the instance it was taken of (Trove restores into a new
// instance only). Clouds that need a network for database instances also want --nic.
func DatabaseRestoreCommand(backupID string, src Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "openstack database instance create %s", ShellQuote(restoredName(src)))
	if src.FlavorID != "" {
		fmt.Fprintf(&b, " --flavor %s", ShellQuote(src.FlavorID))
	}
	if src.VolumeGB > 0 {
		fmt.Fprintf(&b, " --size %d", src.VolumeGB)
	}
	if src.Datastore != "" {
		fmt.Fprintf(&b, " --datastore %s", ShellQuote(src.Datastore))
	}
	if src.Version != "" {
		fmt.Fprintf(&b, " --datastore-version %s", ShellQuote(src.Version))
	}
	fmt.Fprintf(&b, " --backup %s", backupID)
	return b.String()
}

func restoredName(src Source) string {
	name := src.Name
	if name == "" {
		name = src.ID
	}
	return name + "-restored"
}

// ShellQuote quotes s for a POSIX shell unless it needs none.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
