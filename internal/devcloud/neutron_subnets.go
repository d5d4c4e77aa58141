package devcloud

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"
)

func (c *Cloud) subnetViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.subnetOrder {
		s := c.st.subnets[id]
		n := c.st.networks[s.NetworkID]
		if s.ProjectID != project && !admin && (n == nil || !n.Shared) {
			continue
		}
		var pools []any
		for _, p := range s.Pools {
			pools = append(pools, map[string]any{"start": p[0].String(), "end": p[1].String()})
		}
		dns := append([]string{}, s.DNS...)
		out = append(out, map[string]any{
			"id": s.ID, "name": s.Name, "network_id": s.NetworkID, "tenant_id": s.ProjectID, "project_id": s.ProjectID,
			"cidr": s.CIDR.String(), "ip_version": 4, "gateway_ip": s.Gateway.String(), "allocation_pools": pools,
			"enable_dhcp": s.EnableDHCP, "dns_nameservers": dns, "host_routes": []any{}, "ipv6_ra_mode": nil, "ipv6_address_mode": nil,
			"subnetpool_id": nil, "description": s.Description, "tags": append([]string{}, s.Tags...), "service_types": []string{},
			"created_at": neutronTime(s.Created), "updated_at": neutronTime(s.Updated), "revision_number": 0,
		})
	}
	return out
}

func (c *Cloud) createSubnet(project string, body map[string]any) (map[string]any, *neutronErr) {
	netID, _ := body["network_id"].(string)
	n := c.st.networks[netID]
	if n == nil || (n.ProjectID != project && !n.Shared) {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", netID)
	}
	cidrStr, _ := body["cidr"].(string)
	cidr, err := netip.ParsePrefix(cidrStr)
	if err != nil || !cidr.Addr().Is4() || cidr.Bits() > 30 {
		return nil, nErr(http.StatusBadRequest, "HTTPBadRequest", "Invalid input for cidr. Reason: '%s' is not a valid IP subnet.", cidrStr)
	}
	cidr = cidr.Masked()
	name, _ := body["name"].(string)
	s, err2 := c.addSubnetLocked(project, n, name, cidr)
	if err2 != nil {
		return nil, err2
	}
	if gw, ok := body["gateway_ip"].(string); ok {
		if a, err := netip.ParseAddr(gw); err == nil && cidr.Contains(a) {
			s.Gateway = a
		}
	}
	if pools, ok := body["allocation_pools"].([]any); ok && len(pools) > 0 {
		s.Pools = nil
		for _, p := range pools {
			m, _ := p.(map[string]any)
			a, err1 := netip.ParseAddr(fmt.Sprint(m["start"]))
			b, err2 := netip.ParseAddr(fmt.Sprint(m["end"]))
			if err1 != nil || err2 != nil || !cidr.Contains(a) || !cidr.Contains(b) || b.Less(a) {
				return nil, nErr(http.StatusBadRequest, "InvalidAllocationPool", "The allocation pool %v spans beyond the subnet cidr %s.", p, cidr)
			}
			s.Pools = append(s.Pools, [2]netip.Addr{a, b})
		}
	}
	if v, ok := body["enable_dhcp"].(bool); ok {
		s.EnableDHCP = v
	}
	for _, v := range c.subnetViews(project, true) {
		if v["id"] == s.ID {
			return v, nil
		}
	}
	return nil, nil
}

// addSubnetLocked creates a subnet with Neutron's defaults: gateway .1, one pool of the rest.
func (c *Cloud) addSubnetLocked(project string, n *network, name string, cidr netip.Prefix) (*subnet, *neutronErr) {
	for _, sid := range n.Subnets {
		if o := c.st.subnets[sid]; o != nil && o.CIDR.Overlaps(cidr) {
			return nil, nErr(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: Requested subnet with cidr: %s for network: %s overlaps with another subnet.", cidr, n.ID)
		}
	}
	now := time.Now().UTC()
	gw := cidr.Addr().Next()
	last := lastAddr(cidr)
	s := &subnet{ID: c.newID(), Name: name, NetworkID: n.ID, ProjectID: project, CIDR: cidr, Gateway: gw,
		Pools: [][2]netip.Addr{{gw.Next(), last.Prev()}}, EnableDHCP: true, DNS: []string{}, Tags: []string{}, Created: now, Updated: now}
	c.st.subnets[s.ID] = s
	c.st.subnetOrder = append(c.st.subnetOrder, s.ID)
	n.Subnets = append(n.Subnets, s.ID)
	return s, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (c *Cloud) deleteSubnet(project, id string) *neutronErr {
	for _, p := range c.st.ports {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == id {
				return nErr(http.StatusConflict, "SubnetInUse", "Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", id)
			}
		}
	}
	s := c.st.subnets[id]
	if n := c.st.networks[s.NetworkID]; n != nil {
		n.Subnets = removeString(n.Subnets, id)
	}
	delete(c.st.subnets, id)
	c.st.subnetOrder = removeString(c.st.subnetOrder, id)
	return nil
}
