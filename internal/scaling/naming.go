package scaling

import (
	"fmt"
	"strconv"
	"strings"
)

// Metadata keys and tags that mark a server or member as belonging to a pool. Nova
// metadata keys accept letters, digits, '_', '-', '.', ':' and spaces; these stay plain.
const (
	MetaManagedBy  = "eventscale_managed_by"
	ManagedByValue = "eventscale"
	MetaPool       = "eventscale_pool"
	MetaOrdinal    = "eventscale_ordinal"
	// MetaServerGroup records the server group a node was created in.
	MetaServerGroup = "eventscale_server_group"

	tagPoolPrefix = "eventscale:pool="
	tagManagedBy  = "eventscale:managed-by=eventscale"
	tagOrdinal    = "eventscale:ordinal="
)

// NodeName is the deterministic name of a node: "<prefix>-<ordinal>", the ordinal
// zero-padded to at least two digits.
func NodeName(prefix string, ordinal int) string {
	return fmt.Sprintf("%s-%02d", prefix, ordinal)
}

// OrdinalFromName parses the ordinal of a deterministic name; ok is false for other names.
func OrdinalFromName(prefix, name string) (int, bool) {
	rest, found := strings.CutPrefix(name, prefix+"-")
	if !found || len(rest) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || NodeName(prefix, n) != name {
		return 0, false
	}
	return n, true
}

// PoolMatch is the metadata filter that finds the pool's servers in one listing.
func PoolMatch(key string) map[string]string {
	return map[string]string{MetaManagedBy: ManagedByValue, MetaPool: key}
}

// ServerMetadata is the metadata set on every created server.
func ServerMetadata(key string, ordinal int) map[string]string {
	m := PoolMatch(key)
	m[MetaOrdinal] = strconv.Itoa(ordinal)
	return m
}

// ServerTags are the Nova tags set on every created server (for humans and filters).
func ServerTags(key string, ordinal int) []string {
	return []string{tagManagedBy, tagPoolPrefix + key, tagOrdinal + strconv.Itoa(ordinal)}
}

// PoolTag is the tag every server and member of the pool carries: a Nova list filtered by it
// (tags=...) holds the pool's servers.
func PoolTag(key string) string { return tagPoolPrefix + key }

// MemberTags are the Octavia tags set on every member the pool creates.
func MemberTags(key string) []string {
	return []string{tagManagedBy, tagPoolPrefix + key}
}

// IsPoolMember says whether a member carries the pool's tag.
func IsPoolMember(key string, m Member) bool {
	for _, t := range m.Tags {
		if t == tagPoolPrefix+key {
			return true
		}
	}
	return false
}

// isPoolServer says whether a server carries the pool's metadata.
func isPoolServer(key string, s Server) bool {
	return s.Metadata[MetaManagedBy] == ManagedByValue && s.Metadata[MetaPool] == key
}
