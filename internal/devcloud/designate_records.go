package devcloud

import (
	"net/netip"
	"strconv"
	"strings"
)

// validRecordData checks one record's data the way Designate's rrdata objects parse it
// (from_string). Types whose parsers devcloud does not reproduce (SSHFP, NAPTR, CAA, CERT,
// SPF) need only be non-empty.
func validRecordData(typ, data string) bool {
	fields := strings.Fields(data)
	switch typ {
	case "A":
		a, err := netip.ParseAddr(data)
		return err == nil && a.Is4()
	case "AAAA":
		a, err := netip.ParseAddr(data)
		return err == nil && a.Is6() && !a.Is4In6()
	case "CNAME", "NS", "PTR":
		return validDNSName(data, "Domain", false) == ""
	case "MX":
		return len(fields) == 2 && validUint16(fields[0]) && validDNSName(fields[1], "Domain", false) == ""
	case "SRV":
		return len(fields) == 4 && validUint16(fields[0]) && validUint16(fields[1]) && validUint16(fields[2]) &&
			validDNSName(fields[3], "Domain", false) == ""
	case "TXT":
		return validTXT(data)
	case "SOA":
		return len(fields) == 7
	}
	return strings.TrimSpace(data) != ""
}

func validUint16(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

// validTXT follows rrdata_txt: strings of at most 255 characters, quotes on both ends or
// none, no unquoted whitespace, inner quotes escaped; longer data must be split into quoted
// strings.
func validTXT(v string) bool {
	if len(v) <= 255 {
		return validTXTString(v)
	}
	stripped := strings.Trim(v, `"`)
	quoted := strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`)
	if !quoted && !strings.Contains(stripped, `" "`) {
		return false
	}
	for _, part := range strings.Split(stripped, `" "`) {
		if !validTXTString(`"` + part + `"`) {
			return false
		}
	}
	return true
}

func validTXTString(v string) bool {
	if len(v) > 255 {
		return false
	}
	starts, ends := strings.HasPrefix(v, `"`), strings.HasSuffix(v, `"`)
	if starts != ends || v == `"` {
		return false
	}
	if !starts {
		return !strings.ContainsAny(v, " \t\n\r\v\f")
	}
	inner := strings.Trim(v, `"`)
	for i := 0; i < len(inner); i++ {
		if inner[i] == '"' && (i == 0 || inner[i-1] != '\\') {
			return false
		}
	}
	return true
}
