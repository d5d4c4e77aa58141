package backup

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxNameLength is the longest backup name both Glance (image name) and Trove accept.
const MaxNameLength = 255

// BackupName is the name of the backup of source taken under prefix: <prefix>-<source name>,
// so that each server's image says what it holds.
func BackupName(prefix, sourceName string) string {
	return prefix + "-" + sourceName
}

// CheckPrefix refuses a name prefix that Nova's createBackup (no leading or trailing space) or
// Trove (at least one letter or digit) would refuse, or that leaves no room for a source name.
func CheckPrefix(prefix string) error {
	switch {
	case prefix == "":
		return fmt.Errorf("must not be empty")
	case strings.TrimSpace(prefix) != prefix:
		return fmt.Errorf("%q starts or ends with white space, which Nova refuses in a backup name", prefix)
	case len(prefix) > MaxNameLength-2:
		return fmt.Errorf("is %d characters long; the backup names <name>-<server name> must fit in %d", len(prefix), MaxNameLength)
	}
	alnum := false
	for _, r := range prefix {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			alnum = true
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%q contains a character that is not printable", prefix)
		}
	}
	if !alnum {
		return fmt.Errorf("%q has no letter or digit, which Trove wants in a backup name", prefix)
	}
	return nil
}

// CheckBackupType refuses a Nova backup_type that could not be told apart from another
// (empty or with white space at either end).
func CheckBackupType(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("must not be empty")
	case strings.TrimSpace(t) != t:
		return fmt.Errorf("%q starts or ends with white space", t)
	case len(t) > 255:
		return fmt.Errorf("is longer than 255 characters")
	}
	return nil
}
