// Package dnsrecord holds what the DNS switch of an event needs besides the API calls: what a
// name pointed at before it was taken over (kept in the record set's description, so that an
// interrupted apply can still restore it), and when the TTL has to be lowered and the records
// switched for every resolver to follow by the event's start.
package dnsrecord

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// MaxDescription is the longest record set description Designate accepts.
const MaxDescription = 160

// Previous is what a name pointed at before it was taken over.
type Previous struct {
	// Existed is false when the name had no record set of the type: restoring deletes it.
	Existed bool
	Records []string
	// TTL is the record set's own TTL; 0 means it had none and used the zone's.
	TTL int
	// Description is the record set's description before the marker replaced it. The marker
	// holds it after " | " when there is room; DescriptionLost says there was none.
	Description     string
	DescriptionLost bool
	// Unrecorded is set when an adopted record set's marker could not hold the previous
	// records (too long): what to restore is unknown.
	Unrecorded bool
}

// Key is the adoption key of the record set of name and type in a zone.
func Key(zoneID, name, recordType string) string {
	sum := sha256.Sum256([]byte(zoneID + "\x00" + strings.ToLower(name) + "\x00" + recordType))
	return hex.EncodeToString(sum[:8])
}

const markerLead = "eventscale:"

// descriptionSeparator starts the previous description in a marker.
const descriptionSeparator = " | "

// Marker is the description a taken-over record set carries: the key and, when they fit, the
// previous records, TTL and description, e.g.
// "eventscale:1a2b3c4d5e6f7a8b was ttl=3600 203.0.113.10 | front door".
func Marker(key string, prev Previous) string {
	head := markerLead + key + " was "
	if !prev.Existed {
		return head + "none"
	}
	ttl := "zone"
	if prev.TTL > 0 {
		ttl = strconv.Itoa(prev.TTL)
	}
	full := head + "ttl=" + ttl + " " + strings.Join(prev.Records, ",")
	if len(full) > MaxDescription {
		return head + "unrecorded"
	}
	if prev.Description != "" {
		if withDesc := full + descriptionSeparator + prev.Description; len(withDesc) <= MaxDescription {
			return withDesc
		}
		return full + descriptionSeparator[:len(descriptionSeparator)-1] + "…"
	}
	return full
}

// ParseMarker reads a description written by Marker. ok is false when desc is no marker of
// this key (a record set the provider never took over, or another one's).
func ParseMarker(desc, key string) (prev Previous, ok bool) {
	rest, found := strings.CutPrefix(desc, markerLead+key+" was ")
	if !found {
		return Previous{}, false
	}
	switch rest {
	case "none":
		return Previous{}, true
	case "unrecorded":
		return Previous{Existed: true, Unrecorded: true}, true
	}
	rest, desc, hasDesc := strings.Cut(rest, descriptionSeparator)
	if !hasDesc {
		rest, hasDesc = strings.CutSuffix(rest, descriptionSeparator[:len(descriptionSeparator)-1]+"…")
		prev.DescriptionLost = hasDesc
	}
	ttlPart, records, found := strings.Cut(rest, " ")
	ttlText, isTTL := strings.CutPrefix(ttlPart, "ttl=")
	if !found || !isTTL {
		return Previous{}, false
	}
	prev.Existed, prev.Description = true, desc
	if ttlText != "zone" {
		n, err := strconv.Atoi(ttlText)
		if err != nil || n <= 0 {
			return Previous{}, false
		}
		prev.TTL = n
	}
	if records != "" {
		prev.Records = strings.Split(records, ",")
	}
	return prev, true
}

// IsMarker reports whether desc is any provider marker (of any key).
func IsMarker(desc string) bool { return strings.HasPrefix(desc, markerLead) }

// CheckRecords refuses records that are not addresses of the record type, naming the first.
func CheckRecords(recordType string, records []string) error {
	if len(records) == 0 {
		return fmt.Errorf("at least one address is needed")
	}
	for _, r := range records {
		a, err := netip.ParseAddr(r)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not an IP address", r)
		case recordType == "A" && !a.Is4():
			return fmt.Errorf("%q is not an IPv4 address, which an A record holds", r)
		case recordType == "AAAA" && (!a.Is6() || a.Is4In6()):
			return fmt.Errorf("%q is not an IPv6 address, which an AAAA record holds", r)
		case a.Zone() != "":
			return fmt.Errorf("%q has a zone index, which DNS cannot carry", r)
		}
	}
	return nil
}

// CheckName refuses a record name that is not a fully qualified name inside the zone.
func CheckName(name, zone string) error {
	switch {
	case !strings.HasSuffix(name, "."):
		return fmt.Errorf("%q must be fully qualified, ending with a dot (e.g. www.%s)", name, zone)
	case !strings.HasSuffix(zone, "."):
		return fmt.Errorf("zone %q must be fully qualified, ending with a dot", zone)
	case len(name) > 255:
		return fmt.Errorf("%q is longer than the 255 characters of a DNS name", name)
	}
	n, z := strings.ToLower(name), strings.ToLower(zone)
	if n != z && !strings.HasSuffix(n, "."+z) {
		return fmt.Errorf("%q is not inside the zone %s", name, zone)
	}
	for _, label := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q has an empty label or one longer than 63 characters", name)
		}
	}
	return nil
}

// SameRecords compares two record lists as sets (Designate does not keep an order).
func SameRecords(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range x {
		x[i] = canonical(x[i])
	}
	for i := range y {
		y[i] = canonical(y[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// canonical writes an address as netip does, so that 2001:DB8::1 and 2001:db8::1 compare equal.
func canonical(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}
