package devcloud

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sgProtocols are the names Neutron accepts for a rule's protocol, with their numbers
// (neutron_lib.constants.IP_PROTOCOL_MAP). Numbers 0 to 255 are accepted as well.
var sgProtocols = map[string]int{"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
	"ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
	"ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112}

// sgProtocolList is the list in Neutron's SecurityGroupRuleInvalidProtocol message, in its order.
const sgProtocolList = "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', " +
	"'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', " +
	"'udplite', 'vrrp']"

// sgPortProtocols take port ranges; ICMP takes a type and code in the same fields.
var sgPortProtocols = map[int]bool{33: true, 132: true, 6: true, 17: true, 136: true}

// sgRuleAttrs are the attributes a rule's POST may carry.
var sgRuleAttrs = map[string]bool{"security_group_id": true, "direction": true, "ethertype": true, "protocol": true,
	"port_range_min": true, "port_range_max": true, "remote_ip_prefix": true, "remote_group_id": true,
	"remote_address_group_id": true, "description": true, "tenant_id": true, "project_id": true}

func (c *Cloud) addSGRuleLocked(rule *secGroupRule) {
	rule.ID, rule.Created = c.newID(), time.Now().UTC()
	c.st.sgRules[rule.ID] = rule
}

// groupRules are a group's rules in id order, Neutron's order without a sort key.
func (c *Cloud) groupRules(groupID string) []*secGroupRule {
	var out []*secGroupRule
	for _, r := range c.st.sgRules {
		if r.GroupID == groupID {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *Cloud) sgRuleView(r *secGroupRule) map[string]any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	port := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var normalized, desc any
	if r.RemoteIPPrefix != "" {
		normalized = netip.MustParsePrefix(r.RemoteIPPrefix).Masked().String()
	}
	if r.Description != nil {
		desc = *r.Description
	}
	return map[string]any{"id": r.ID, "tenant_id": r.ProjectID, "project_id": r.ProjectID, "security_group_id": r.GroupID,
		"ethertype": r.Ethertype, "direction": r.Direction, "protocol": null(r.Protocol), "port_range_min": port(r.PortMin),
		"port_range_max": port(r.PortMax), "remote_ip_prefix": null(r.RemoteIPPrefix), "remote_address_group_id": nil,
		"normalized_cidr": normalized, "remote_group_id": null(r.RemoteGroupID), "description": desc,
		"created_at": neutronTime(r.Created), "updated_at": neutronTime(r.Created), "revision_number": 0}
}

func (c *Cloud) sgRuleViews(project string, admin bool) []map[string]any {
	var list []*secGroupRule
	for _, r := range c.st.sgRules {
		if r.ProjectID == project || admin {
			list = append(list, r)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	var out []map[string]any
	for _, r := range list {
		out = append(out, c.sgRuleView(r))
	}
	return out
}

// createSGRule validates in Neutron's order: the attribute layer (unknown attributes, required
// ones, direction, ethertype, protocol, ports, CIDR), then the plugin (port range, prefix
// against ethertype, one remote, the groups), then duplicates.
func (c *Cloud) createSGRule(project string, body map[string]any) (map[string]any, *neutronErr) {
	bad := func(typ, format string, args ...any) (map[string]any, *neutronErr) {
		return nil, nErr(http.StatusBadRequest, typ, format, args...)
	}
	var unknown []string
	for k := range body {
		if !sgRuleAttrs[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return bad("HTTPBadRequest", "Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	for _, k := range []string{"security_group_id", "direction"} {
		if _, ok := body[k]; !ok {
			return bad("HTTPBadRequest", "Failed to parse request. Required attribute '%s' not specified", k)
		}
	}
	rule := &secGroupRule{ProjectID: project, Ethertype: "IPv4"}
	rule.GroupID, _ = body["security_group_id"].(string)
	rule.Direction, _ = body["direction"].(string)
	if rule.Direction != "ingress" && rule.Direction != "egress" {
		return bad("HTTPBadRequest", "Invalid input for direction. Reason: %s is not in valid_values.", pyStr(body["direction"]))
	}
	if v, ok := body["ethertype"]; ok && v != nil {
		s, _ := v.(string)
		switch strings.ToLower(s) {
		case "ipv4":
			rule.Ethertype = "IPv4"
		case "ipv6":
			rule.Ethertype = "IPv6"
		default:
			return bad("SecurityGroupRuleInvalidEtherType", "Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", pyStr(v))
		}
	}
	if v, ok := body["protocol"]; ok && v != nil {
		proto, err := sgProtocol(v)
		if err != nil {
			return nil, err
		}
		rule.Protocol = proto
	}
	for _, f := range []struct {
		key string
		dst **int
	}{{"port_range_min", &rule.PortMin}, {"port_range_max", &rule.PortMax}} {
		v, ok := body[f.key]
		if !ok || v == nil {
			continue
		}
		n, err := quotaInt(v)
		if err != nil || n < 0 || n > 65535 {
			return bad("SecurityGroupInvalidPortValue", "Invalid value for port %s", pyStr(v))
		}
		*f.dst = &n
	}
	if v, ok := body["remote_ip_prefix"].(string); ok && v != "" {
		prefix, err := parseRemotePrefix(v)
		if err != nil {
			return bad("InvalidCIDR", "Invalid CIDR %s given as IP prefix.", v)
		}
		rule.RemoteIPPrefix = prefix
	}
	rule.RemoteGroupID, _ = body["remote_group_id"].(string)
	if v, ok := body["description"].(string); ok {
		rule.Description = &v
	} else {
		empty := ""
		rule.Description = &empty
	}

	// The plugin's checks.
	if rule.Ethertype == "IPv6" && (rule.Protocol == "icmp" || rule.Protocol == "icmpv6") {
		rule.Protocol = "ipv6-icmp"
	} else if rule.Ethertype == "IPv6" && rule.Protocol == "1" {
		rule.Protocol = "58"
	}
	if rule.PortMin != nil && rule.PortMax != nil && *rule.PortMin == 1 && *rule.PortMax == 65535 {
		// The whole range is stored as no range.
		rule.PortMin, rule.PortMax = nil, nil
	}
	if err := validateSGPortRange(rule); err != nil {
		return nil, err
	}
	if rule.RemoteIPPrefix != "" {
		p := netip.MustParsePrefix(rule.RemoteIPPrefix)
		if (p.Addr().Is4() && rule.Ethertype != "IPv4") || (p.Addr().Is6() && rule.Ethertype != "IPv6") {
			return bad("SecurityGroupRuleParameterConflict", "Conflicting value ethertype %s for CIDR %s", rule.Ethertype, rule.RemoteIPPrefix)
		}
	}
	addressGroup, _ := body["remote_address_group_id"].(string)
	remotes := 0
	for _, r := range []string{rule.RemoteIPPrefix, rule.RemoteGroupID, addressGroup} {
		if r != "" {
			remotes++
		}
	}
	if remotes > 1 {
		return bad("SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
	}
	if addressGroup != "" {
		// devcloud has no address groups.
		return nil, nErr(http.StatusNotFound, "AddressGroupNotFound", "Address group %s could not be found.", addressGroup)
	}
	if rule.RemoteGroupID != "" {
		if g := c.st.secGroups[rule.RemoteGroupID]; g == nil || g.ProjectID != project {
			return nil, neutronNotFound("security_group", rule.RemoteGroupID)
		}
	}
	g := c.st.secGroups[rule.GroupID]
	if g == nil || g.ProjectID != project {
		return nil, neutronNotFound("security_group", rule.GroupID)
	}
	key := sgRuleKey(rule)
	for _, other := range c.groupRules(g.ID) {
		if sgRuleKey(other) == key {
			return nil, nErr(http.StatusConflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", other.ID)
		}
	}
	c.addSGRuleLocked(rule)
	g.Updated, g.Revision = time.Now().UTC(), g.Revision+1
	return c.sgRuleView(rule), nil
}

// sgProtocol converts as Neutron's convert_protocol: a number 0-255 kept as its string, or a
// known name in lower case.
func sgProtocol(v any) (string, *neutronErr) {
	invalid := nErr(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol",
		"Security group rule protocol %s not supported. Only protocol values %s and integer representations [0 to 255] are supported.",
		pyStr(v), sgProtocolList)
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) || x < 0 || x > 255 {
			return "", invalid
		}
		return strconv.Itoa(int(x)), nil
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			if n < 0 || n > 255 {
				return "", invalid
			}
			return x, nil
		}
		if _, ok := sgProtocols[strings.ToLower(x)]; ok {
			return strings.ToLower(x), nil
		}
	}
	return "", invalid
}

// sgProtocolNumber is the IP protocol number of a stored protocol, -1 for none.
func sgProtocolNumber(proto string) int {
	if proto == "" {
		return -1
	}
	if n, ok := sgProtocols[proto]; ok {
		return n
	}
	n, _ := strconv.Atoi(proto)
	return n
}

// parseRemotePrefix accepts a CIDR or a bare address (which gets its full mask) and keeps the
// host bits as given: Neutron stores "10.0.0.5/24" as is and shows the network in
// normalized_cidr.
func parseRemotePrefix(s string) (string, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP prefix: %w", s, err)
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), nil
}

func validateSGPortRange(r *secGroupRule) *neutronErr {
	if r.PortMin == nil && r.PortMax == nil {
		return nil
	}
	bad := func(typ, format string, args ...any) *neutronErr {
		return nErr(http.StatusBadRequest, typ, format, args...)
	}
	if r.Protocol == "" {
		return bad("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	}
	proto := sgProtocolNumber(r.Protocol)
	switch {
	case sgPortProtocols[proto]:
		if r.PortMin != nil && *r.PortMin == 0 || r.PortMax != nil && *r.PortMax == 0 {
			return bad("SecurityGroupInvalidPortValue", "Invalid value for port 0")
		}
		if r.PortMin == nil || r.PortMax == nil || *r.PortMin > *r.PortMax {
			return bad("SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	case proto == 1 || proto == 58:
		for _, f := range []struct {
			attr, field string
			v           *int
		}{{"port_range_min", "type", r.PortMin}, {"port_range_max", "code", r.PortMax}} {
			if f.v != nil && *f.v > 255 {
				return bad("SecurityGroupInvalidIcmpValue", "Invalid value for ICMP %s (%s) %d. It must be 0 to 255.", f.field, f.attr, *f.v)
			}
		}
		if r.PortMin == nil && r.PortMax != nil {
			return bad("SecurityGroupMissingIcmpType", "ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *r.PortMax)
		}
	default:
		return bad("SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol %d. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.", proto)
	}
	return nil
}

// sgRuleKey is what makes two rules the same for Neutron (_rule_to_key): protocols compare by
// number, and a remote prefix of everything equals none.
func sgRuleKey(r *secGroupRule) string {
	prefix := r.RemoteIPPrefix
	if prefix == "0.0.0.0/0" || prefix == "::/0" {
		prefix = ""
	}
	port := func(p *int) string {
		if p == nil {
			return "+"
		}
		return strconv.Itoa(*p)
	}
	return strings.Join([]string{r.Direction, r.Ethertype, port(r.PortMax), port(r.PortMin), strconv.Itoa(sgProtocolNumber(r.Protocol)),
		r.RemoteGroupID, prefix, r.GroupID}, "_")
}

func (c *Cloud) deleteSGRule(project, id string) *neutronErr {
	rule := c.st.sgRules[id]
	delete(c.st.sgRules, id)
	if g := c.st.secGroups[rule.GroupID]; g != nil {
		g.Updated, g.Revision = time.Now().UTC(), g.Revision+1
	}
	return nil
}

// updateSGRule answers as the lab's Neutron (Zed) does to a PUT on a rule: its plugin has no
// update for rules, which surfaces as a 500.
func (c *Cloud) updateSGRule(project, id string, body map[string]any) (map[string]any, *neutronErr) {
	return nil, nErr(http.StatusInternalServerError, "HTTPInternalServerError", "Request Failed: internal server error while processing your request.")
}
