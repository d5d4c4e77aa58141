package dbreplica

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
)

// PlannedReplica is a replica the caller has or is about to create.
type PlannedReplica struct {
	Name     string
	ServerID uint32
	// Exists is true for a replica already built: the primary lists it among its
	// connected replicas under its own server_id, which is no clash.
	Exists bool
}

// ServerIDsPerSet is the room SuggestServerIDBase leaves between two sets.
const ServerIDsPerSet = 100

// SuggestServerIDBase derives a base from the set's name, so that two sets on one
// primary rarely overlap when nobody chose a base: 100000 + 100·(hash mod 40000).
// CheckServerIDs still catches the rare overlap.
func SuggestServerIDBase(set string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(set))
	return 100000 + ServerIDsPerSet*(h.Sum32()%40000)
}

// ReplicaServerID is the server_id of the replica with the given ordinal (1, 2, ...).
func ReplicaServerID(base uint32, ordinal int) (uint32, error) {
	id := uint64(base) + uint64(ordinal)
	if ordinal < 1 || id > math.MaxUint32 {
		return 0, fmt.Errorf("server_id %d + %d is outside 1..%d", base, ordinal, uint32(math.MaxUint32))
	}
	return uint32(id), nil
}

// CheckServerIDs finds server_id clashes before any replica is made: a replica whose
// id is 0, equal to the primary's, equal to another planned replica's, or (for a new
// replica) equal to that of a replica of another name the primary has connected. Two
// servers with one id break replication: the primary drops one stream whenever the
// other connects.
func CheckServerIDs(info PrimaryInfo, replicas []PlannedReplica) Problems {
	var ps Problems
	byID := map[uint32][]string{}
	for _, r := range replicas {
		byID[r.ServerID] = append(byID[r.ServerID], r.Name)
	}
	connected := map[uint32]ConnectedReplica{}
	for _, c := range info.Replicas {
		connected[c.ServerID] = c
	}
	for _, r := range replicas {
		switch {
		case r.ServerID == 0:
			ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrServerID, Replica: r.Name,
				Summary: "replica " + r.Name + " would get server_id 0",
				Detail:  "server_id 0 refuses to replicate. Choose a server_id base of 1 or more."})
		case r.ServerID == info.ServerID:
			ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrServerID, Replica: r.Name,
				Summary: fmt.Sprintf("replica %s would get server_id %d, the primary's own", r.Name, r.ServerID),
				Detail:  fmt.Sprintf("The primary runs with server_id %d. Choose a server_id base so that no replica's id equals it.", info.ServerID)})
		case len(byID[r.ServerID]) > 1:
			others := without(byID[r.ServerID], r.Name)
			ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrServerID, Replica: r.Name,
				Summary: fmt.Sprintf("replica %s would get server_id %d, as would %s", r.Name, r.ServerID, strings.Join(others, ", ")),
				Detail:  "Every replica needs its own server_id."})
		case !r.Exists:
			// A replica reporting the planned replica's own name is a leftover of the
			// same replica (removed moments ago, its stream not yet closed): no clash.
			if c, ok := connected[r.ServerID]; ok && c.Host != r.Name {
				who := "a replica"
				if c.Host != "" {
					who = fmt.Sprintf("the replica %s", c.Host)
				}
				ps = append(ps, Problem{Severity: SeverityError, Attribute: AttrServerID, Replica: r.Name,
					Summary: fmt.Sprintf("replica %s would get server_id %d, which %s already connected to the primary uses", r.Name, r.ServerID, who),
					Detail:  "Another replica (of another set or outside this provider) replicates from db01 with that id. Choose a server_id base whose range is free."})
			}
		}
	}
	return ps
}

func without(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
