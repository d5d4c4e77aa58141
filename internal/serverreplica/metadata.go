package serverreplica

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Nova metadata of a replica's server: what adopts a lost create (set and ordinal) and
// what an import reads back (the rest). Values are at most 255 characters; a longer one
// is left out, and an import cannot tell it.
const (
	MetaSet            = "eventscale_replica_set"
	MetaOrdinal        = scaling.MetaOrdinal
	MetaMySQLServerID  = "eventscale_mysql_server_id"
	MetaServerIDBase   = "eventscale_server_id_base"
	MetaPrimary        = "eventscale_primary"            // user@host:port, as the provider reaches it
	MetaSource         = "eventscale_replication_source" // host:port, as the replicas reach it
	MetaReplUserHost   = "eventscale_replication_user_host"
	MetaFlavor         = "eventscale_flavor" // as configured: an id or a name
	MetaNetworks       = "eventscale_networks"
	MetaKeyPair        = "eventscale_key_pair"
	MetaSecurityGroups = "eventscale_security_groups"
	MetaMaxLag         = "eventscale_max_lag"
	MetaPort           = "eventscale_replica_port"

	maxMetadataValue = 255
	maxTagLength     = 60
)

// SetMatch is the metadata filter that finds a set's servers in one listing.
func SetMatch(set string) map[string]string {
	return map[string]string{scaling.MetaManagedBy: scaling.ManagedByValue, MetaSet: set}
}

func (s *Set) serverMetadata(ordinal int, mysqlID uint32) map[string]string {
	sp := s.spec
	m := SetMatch(sp.Name)
	put := func(k, v string) {
		if v != "" && len(v) <= maxMetadataValue {
			m[k] = v
		}
	}
	put(MetaOrdinal, strconv.Itoa(ordinal))
	put(MetaMySQLServerID, strconv.FormatUint(uint64(mysqlID), 10))
	put(MetaServerIDBase, strconv.FormatUint(uint64(sp.ServerIDBase), 10))
	put(MetaPrimary, sp.Primary.User+"@"+sp.Primary.Address())
	put(MetaSource, net.JoinHostPort(sp.sourceHost(), strconv.Itoa(sp.sourcePort())))
	put(MetaReplUserHost, sp.replicationUserHost())
	put(MetaFlavor, sp.Flavor)
	put(MetaNetworks, strings.Join(sp.Networks, ","))
	put(MetaKeyPair, sp.KeyPair)
	put(MetaSecurityGroups, strings.Join(sp.SecurityGroups, ","))
	put(MetaMaxLag, sp.maxLag().String())
	put(MetaPort, strconv.Itoa(sp.replicaPort()))
	return m
}

func serverTags(set string, ordinal int) []string {
	tags := []string{"eventscale:managed-by=eventscale", "eventscale:ordinal=" + strconv.Itoa(ordinal)}
	if t := "eventscale:replica-set=" + set; len(t) <= maxTagLength {
		tags = append(tags, t)
	}
	return tags
}

// Imported is a set as its servers' metadata describe it.
type Imported struct {
	Name          string
	PrimaryUser   string
	PrimaryHost   string
	PrimaryPort   int
	SourceHost    string
	SourcePort    int
	ReplUserHost  string
	ServerIDBase  uint32
	ImageID       string
	Flavor        string
	Networks      []string
	KeyPair       string
	SecurityGroup []string
	MaxLag        time.Duration
	ReplicaPort   int
}

// importedFrom reads the configuration from the metadata of the set's lowest-ordinal
// server (all servers of a set carry the same values, except an image or flavor changed
// between applies, which new replicas take up).
func importedFrom(set string, s scaling.Server) (Imported, error) {
	md := s.Metadata
	im := Imported{Name: set, ImageID: s.ImageID, Flavor: md[MetaFlavor], KeyPair: md[MetaKeyPair], ReplUserHost: md[MetaReplUserHost]}
	if im.Flavor == "" {
		im.Flavor = s.Flavor
	}
	if p := md[MetaPrimary]; p != "" {
		at := strings.LastIndex(p, "@")
		host, port, err := net.SplitHostPort(p[at+1:])
		if at < 0 || err != nil {
			return im, fmt.Errorf("server %s: metadata %s=%q is not user@host:port", s.Name, MetaPrimary, p)
		}
		im.PrimaryUser, im.PrimaryHost = p[:at], host
		im.PrimaryPort, _ = strconv.Atoi(port)
	}
	if src := md[MetaSource]; src != "" {
		host, port, err := net.SplitHostPort(src)
		if err != nil {
			return im, fmt.Errorf("server %s: metadata %s=%q is not host:port", s.Name, MetaSource, src)
		}
		im.SourceHost = host
		im.SourcePort, _ = strconv.Atoi(port)
	}
	if b, err := strconv.ParseUint(md[MetaServerIDBase], 10, 32); err == nil {
		im.ServerIDBase = uint32(b)
	}
	if n := md[MetaNetworks]; n != "" {
		im.Networks = strings.Split(n, ",")
	}
	if g := md[MetaSecurityGroups]; g != "" {
		im.SecurityGroup = strings.Split(g, ",")
	}
	if d, err := time.ParseDuration(md[MetaMaxLag]); err == nil {
		im.MaxLag = d
	}
	im.ReplicaPort, _ = strconv.Atoi(md[MetaPort])
	return im, nil
}

// ordinalOf reads a set server's ordinal; ok is false for a server that is not the set's
// or whose name and ordinal disagree.
func ordinalOf(set string, s scaling.Server) (int, bool) {
	if s.Metadata[scaling.MetaManagedBy] != scaling.ManagedByValue || s.Metadata[MetaSet] != set {
		return 0, false
	}
	o, err := strconv.Atoi(s.Metadata[MetaOrdinal])
	if err != nil || o < 1 || s.Name != scaling.NodeName(set, o) {
		return 0, false
	}
	return o, true
}
