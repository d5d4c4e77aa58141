package devcloud

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

func neutronError(w http.ResponseWriter, status int, typ, format string, args ...any) {
	writeJSON(w, status, map[string]any{"NeutronError": map[string]any{"type": typ, "message": fmt.Sprintf(format, args...), "detail": ""}})
}

func (c *Cloud) neutronHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{"id": "v2.0", "status": "CURRENT",
				"links": []any{map[string]any{"rel": "self", "href": base + "/networking/v2.0/"}}}}})
			return
		}
		if segs[0] != "v2.0" {
			neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
			return
		}
		rest := segs[1:]
		if len(rest) == 0 {
			var res []any
			for _, n := range []string{"network", "subnet", "port", "security-group", "router"} {
				res = append(res, map[string]any{"name": n, "collection": n + "s", "links": []any{map[string]any{"rel": "self", "href": base + "/networking/v2.0/" + n + "s"}}})
			}
			writeJSON(w, http.StatusOK, map[string]any{"resources": res})
			return
		}
		// Neutron accepts an optional .json suffix on every resource path.
		last := len(rest) - 1
		rest[last] = strings.TrimSuffix(rest[last], ".json")
		nr := &neutronReq{c: c, w: w, r: r, tok: tokenFrom(r)}
		switch rest[0] {
		case "networks":
			nr.collection("network", rest[1:], c.networkViews, c.createNetwork, c.deleteNetwork, nil)
		case "subnets":
			nr.collection("subnet", rest[1:], c.subnetViews, c.createSubnet, c.deleteSubnet, nil)
		case "ports":
			nr.collection("port", rest[1:], c.portViews, c.createPort, c.deletePort, c.updatePort)
		case "quotas":
			nr.quotas(rest[1:])
		case "routers":
			if len(rest) == 3 && r.Method == http.MethodPut && (rest[2] == "add_router_interface" || rest[2] == "remove_router_interface") {
				nr.routerInterface(rest[1], rest[2] == "add_router_interface")
				return
			}
			nr.collection("router", rest[1:], c.routerViews, c.createRouter, c.deleteRouter, nil)
		case "security-groups":
			nr.collection("security_group", rest[1:], c.secGroupViews, c.createSecGroup, c.deleteSecGroup, nil)
		default:
			neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
		}
	})
}

type neutronReq struct {
	c   *Cloud
	w   http.ResponseWriter
	r   *http.Request
	tok *token
}

type neutronErr struct {
	status   int
	typ, msg string
}

func (e *neutronErr) Error() string { return e.msg }

// asNeutronErr gives the Neutron fault carried by err, so that its status and type reach the
// client. Port allocation only fails with one; anything else is answered as Neutron's own 500.
func asNeutronErr(err error) *neutronErr {
	var ne *neutronErr
	if errors.As(err, &ne) {
		return ne
	}
	return nErr(http.StatusInternalServerError, "HTTPInternalServerError", "%v", err)
}

func nErr(status int, typ, format string, args ...any) *neutronErr {
	return &neutronErr{status: status, typ: typ, msg: fmt.Sprintf(format, args...)}
}

// collection serves list/show/create/update/delete for one Neutron resource type; views
// returns every object visible to the project as its API representation, in creation order.
func (nr *neutronReq) collection(kind string, rest []string,
	views func(project string, admin bool) []map[string]any,
	create func(project string, body map[string]any) (map[string]any, *neutronErr),
	del func(project, id string) *neutronErr,
	update func(project, id string, body map[string]any) (map[string]any, *neutronErr)) {
	c, w, r := nr.c, nr.w, nr.r
	admin := contains(nr.tok.Roles, "admin")
	plural := kind + "s"
	readBody := func() (map[string]any, bool) {
		var body map[string]any
		if err := readJSON(r, &body); err != nil {
			neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "%s", err.Error())
			return nil, false
		}
		obj, ok := body[kind].(map[string]any)
		if !ok {
			neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Resource body required")
			return nil, false
		}
		return obj, true
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		c.mu.Lock()
		all := views(nr.tok.ProjectID, admin)
		c.mu.Unlock()
		var matched []map[string]any
		q := r.URL.Query()
		for _, v := range all {
			if neutronMatch(v, q) {
				matched = append(matched, v)
			}
		}
		if m := q.Get("marker"); m != "" {
			idx := -1
			for i, v := range matched {
				if v["id"] == m {
					idx = i
				}
			}
			if idx < 0 {
				neutronError(w, http.StatusNotFound, title(kind)+"NotFound", "%s %s could not be found.", title(kind), m)
				return
			}
			matched = matched[idx+1:]
		}
		body := map[string]any{}
		if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && len(matched) > l {
			matched = matched[:l]
			nq := r.URL.Query()
			nq.Set("marker", fmt.Sprint(matched[l-1]["id"]))
			body[plural+"_links"] = []any{map[string]any{"rel": "next", "href": baseURL(r) + r.URL.Path + "?" + nq.Encode()}}
		}
		out := []any{}
		for _, v := range matched {
			out = append(out, selectFields(v, q["fields"]))
		}
		body[plural] = out
		writeJSON(w, http.StatusOK, body)
	case len(rest) == 0 && r.Method == http.MethodPost && create != nil:
		obj, ok := readBody()
		if !ok {
			return
		}
		c.mu.Lock()
		v, err := create(nr.tok.ProjectID, obj)
		c.mu.Unlock()
		if err != nil {
			neutronError(w, err.status, err.typ, "%s", err.msg)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{kind: v})
	case len(rest) == 1:
		id := rest[0]
		c.mu.Lock()
		var found map[string]any
		for _, v := range views(nr.tok.ProjectID, admin) {
			if v["id"] == id {
				found = v
			}
		}
		c.mu.Unlock()
		if found == nil {
			neutronError(w, http.StatusNotFound, title(kind)+"NotFound", "%s %s could not be found.", strings.ReplaceAll(title(kind), "Group", " group"), id)
			return
		}
		switch {
		case r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{kind: selectFields(found, r.URL.Query()["fields"])})
		case r.Method == http.MethodDelete && del != nil:
			c.mu.Lock()
			err := del(nr.tok.ProjectID, id)
			c.mu.Unlock()
			if err != nil {
				neutronError(w, err.status, err.typ, "%s", err.msg)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPut && update != nil:
			obj, ok := readBody()
			if !ok {
				return
			}
			c.mu.Lock()
			v, err := update(nr.tok.ProjectID, id, obj)
			c.mu.Unlock()
			if err != nil {
				neutronError(w, err.status, err.typ, "%s", err.msg)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{kind: v})
		default:
			neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
		}
	default:
		neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
	}
}

// title turns "security_group" into Neutron's exception prefix "SecurityGroup".
func title(kind string) string {
	parts := strings.Split(kind, "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

var neutronNonFilters = map[string]bool{"fields": true, "limit": true, "marker": true, "page_reverse": true, "sort_key": true, "sort_dir": true}

// neutronMatch applies Neutron's list filters: each query key is a field, several values
// for one key are alternatives; fixed_ips takes "ip_address=..." or "subnet_id=...".
func neutronMatch(v map[string]any, q map[string][]string) bool {
	for key, vals := range q {
		if neutronNonFilters[key] {
			continue
		}
		if key == "fixed_ips" {
			ips, _ := v["fixed_ips"].([]any)
			for _, want := range vals {
				k, val, _ := strings.Cut(want, "=")
				hit := false
				for _, e := range ips {
					m := e.(map[string]any)
					switch k {
					case "ip_address_substr":
						hit = hit || strings.Contains(fmt.Sprint(m["ip_address"]), val)
					default:
						hit = hit || fmt.Sprint(m[k]) == val
					}
				}
				if !hit {
					return false
				}
			}
			continue
		}
		if key == "tags" || key == "tags-any" || key == "not-tags" || key == "not-tags-any" {
			tags, _ := v["tags"].([]string)
			var want []string
			for _, s := range vals {
				want = append(want, strings.Split(s, ",")...)
			}
			switch {
			case key == "tags" && !hasAll(tags, want), key == "tags-any" && !hasAny(tags, want),
				key == "not-tags" && hasAll(tags, want), key == "not-tags-any" && hasAny(tags, want):
				return false
			}
			continue
		}
		field, ok := v[key]
		if !ok {
			// Neutron rejects filters on unknown attributes only when strict; it ignores them.
			continue
		}
		hit := false
		for _, want := range vals {
			switch f := field.(type) {
			case bool:
				b, err := strconv.ParseBool(want)
				hit = hit || err == nil && b == f
			case nil:
				hit = hit || want == ""
			default:
				hit = hit || fmt.Sprint(f) == want
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

func selectFields(v map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return v
	}
	out := map[string]any{}
	for _, f := range fields {
		if x, ok := v[f]; ok {
			out[f] = x
		}
	}
	return out
}

func neutronTime(t time.Time) string { return isoZ(t) }

// ---- networks ----

func (c *Cloud) networkViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.networkOrder {
		n := c.st.networks[id]
		if n.ProjectID != project && !n.Shared && !admin {
			continue
		}
		out = append(out, map[string]any{
			"id": n.ID, "name": n.Name, "status": "ACTIVE", "subnets": append([]string{}, n.Subnets...), "admin_state_up": n.AdminUp,
			"shared": n.Shared, "tenant_id": n.ProjectID, "project_id": n.ProjectID, "mtu": n.MTU, "router:external": n.External,
			"availability_zone_hints": []string{}, "availability_zones": []string{"nova"}, "ipv4_address_scope": nil, "ipv6_address_scope": nil,
			"description": n.Description, "tags": append([]string{}, n.Tags...), "port_security_enabled": true, "l2_adjacency": true,
			"created_at": neutronTime(n.Created), "updated_at": neutronTime(n.Updated), "revision_number": 1,
		})
	}
	return out
}

func (c *Cloud) networkView(project, id string) map[string]any {
	for _, v := range c.networkViews(project, true) {
		if v["id"] == id {
			return v
		}
	}
	return nil
}

func (c *Cloud) createNetwork(project string, body map[string]any) (map[string]any, *neutronErr) {
	now := time.Now().UTC()
	n := &network{ID: c.newID(), ProjectID: project, AdminUp: true, MTU: 1450, Created: now, Updated: now}
	n.Name, _ = body["name"].(string)
	n.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		n.AdminUp = v
	}
	if v, ok := body["shared"].(bool); ok {
		n.Shared = v
	}
	c.st.networks[n.ID] = n
	c.st.networkOrder = append(c.st.networkOrder, n.ID)
	return c.networkView(project, n.ID), nil
}

func (c *Cloud) deleteNetwork(project, id string) *neutronErr {
	for _, p := range c.st.ports {
		if p.NetworkID == id && p.DeviceOwner != "network:dhcp" {
			return nErr(http.StatusConflict, "NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
		}
	}
	for _, sid := range c.st.networks[id].Subnets {
		delete(c.st.subnets, sid)
		c.st.subnetOrder = removeString(c.st.subnetOrder, sid)
	}
	delete(c.st.networks, id)
	c.st.networkOrder = removeString(c.st.networkOrder, id)
	return nil
}

// ---- subnets ----

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

// ---- ports ----

func (c *Cloud) portView(p *port, admin bool) map[string]any {
	var ips []any
	for _, ip := range p.FixedIPs {
		ips = append(ips, map[string]any{"subnet_id": ip.SubnetID, "ip_address": ip.Address.String()})
	}
	status := "DOWN"
	if p.DeviceID != "" {
		status = "ACTIVE"
	}
	m := map[string]any{
		"id": p.ID, "name": p.Name, "network_id": p.NetworkID, "tenant_id": p.ProjectID, "project_id": p.ProjectID,
		"mac_address": p.MAC, "fixed_ips": ips, "device_id": p.DeviceID, "device_owner": p.DeviceOwner, "status": status,
		"admin_state_up": p.AdminUp, "security_groups": append([]string{}, p.SecurityGroups...), "allowed_address_pairs": []any{},
		"extra_dhcp_opts": []any{}, "binding:vnic_type": "normal", "port_security_enabled": true, "description": p.Description,
		"tags": append([]string{}, p.Tags...), "created_at": neutronTime(p.Created), "updated_at": neutronTime(p.Updated), "revision_number": 1,
	}
	if admin {
		// Neutron's policy shows the binding attributes to admins only.
		host, vif := "", "unbound"
		if s := c.st.servers[p.DeviceID]; s != nil && s.Host != "" {
			host, vif = s.Host, "ovs"
		}
		m["binding:host_id"], m["binding:vif_type"], m["binding:vif_details"], m["binding:profile"] = host, vif, map[string]any{}, map[string]any{}
	}
	return m
}

func (c *Cloud) portViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.portOrder {
		p := c.st.ports[id]
		if p.ProjectID != project && !admin {
			continue
		}
		out = append(out, c.portView(p, admin))
	}
	return out
}

// allocatePortLocked creates a port with the lowest free address of the subnet (the network's
// first subnet when subnetID is empty), or the requested address.
func (c *Cloud) allocatePortLocked(project, networkID, subnetID, name, wantIP string) (*port, error) {
	n := c.st.networks[networkID]
	if n == nil {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", networkID)
	}
	if subnetID == "" {
		if len(n.Subnets) == 0 {
			return nil, nErr(http.StatusBadRequest, "BadRequest", "Network %s has no subnet to allocate an address from.", networkID)
		}
		subnetID = n.Subnets[0]
	}
	s := c.st.subnets[subnetID]
	if s == nil || s.NetworkID != networkID {
		return nil, nErr(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: Failed to create port on network %s, because fixed_ips included invalid subnet %s.", networkID, subnetID)
	}
	used := map[netip.Addr]bool{}
	for _, p := range c.st.ports {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == subnetID {
				used[ip.Address] = true
			}
		}
	}
	var addr netip.Addr
	if wantIP != "" {
		a, err := netip.ParseAddr(wantIP)
		if err != nil || !s.CIDR.Contains(a) {
			return nil, nErr(http.StatusBadRequest, "InvalidIpForSubnet", "IP address %s is not a valid IP for the specified subnet.", wantIP)
		}
		if used[a] {
			return nil, nErr(http.StatusConflict, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", wantIP, subnetID)
		}
		addr = a
	} else {
	pools:
		for _, pool := range s.Pools {
			for a := pool[0]; a.Compare(pool[1]) <= 0; a = a.Next() {
				if !used[a] {
					addr = a
					break pools
				}
			}
		}
		if !addr.IsValid() {
			return nil, nErr(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", networkID)
		}
	}
	now := time.Now().UTC()
	b := c.rng.Uint32()
	p := &port{ID: c.newID(), Name: name, NetworkID: networkID, ProjectID: project,
		MAC:      fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", byte(b>>16), byte(b>>8), byte(b)),
		FixedIPs: []fixedIP{{SubnetID: subnetID, Address: addr}}, AdminUp: true, Tags: []string{}, Created: now, Updated: now}
	if sg := c.findSecGroup(project, "default"); sg != nil {
		p.SecurityGroups = []string{sg.ID}
	}
	c.st.ports[p.ID] = p
	c.st.portOrder = append(c.st.portOrder, p.ID)
	return p, nil
}

func (c *Cloud) deletePortLocked(id string) {
	delete(c.st.ports, id)
	c.st.portOrder = removeString(c.st.portOrder, id)
}

func (c *Cloud) createPort(project string, body map[string]any) (map[string]any, *neutronErr) {
	netID, _ := body["network_id"].(string)
	n := c.st.networks[netID]
	if n == nil || (n.ProjectID != project && !n.Shared) {
		return nil, nErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", netID)
	}
	subnetID, ip := "", ""
	if ips, ok := body["fixed_ips"].([]any); ok && len(ips) > 0 {
		m, _ := ips[0].(map[string]any)
		subnetID, _ = m["subnet_id"].(string)
		ip, _ = m["ip_address"].(string)
	}
	name, _ := body["name"].(string)
	p, err := c.allocatePortLocked(project, netID, subnetID, name, ip)
	if err != nil {
		return nil, asNeutronErr(err)
	}
	p.DeviceID, _ = body["device_id"].(string)
	p.DeviceOwner, _ = body["device_owner"].(string)
	p.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		p.AdminUp = v
	}
	if sgs, ok := body["security_groups"].([]any); ok {
		p.SecurityGroups = nil
		for _, sg := range sgs {
			id := fmt.Sprint(sg)
			if c.st.secGroups[id] == nil {
				c.deletePortLocked(p.ID)
				return nil, nErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
			}
			p.SecurityGroups = append(p.SecurityGroups, id)
		}
	}
	return c.portView(p, false), nil
}

func (c *Cloud) updatePort(project, id string, body map[string]any) (map[string]any, *neutronErr) {
	p := c.st.ports[id]
	if v, ok := body["name"].(string); ok {
		p.Name = v
	}
	if v, ok := body["description"].(string); ok {
		p.Description = v
	}
	if v, ok := body["device_id"].(string); ok {
		p.DeviceID = v
	}
	if v, ok := body["device_owner"].(string); ok {
		p.DeviceOwner = v
	}
	if v, ok := body["admin_state_up"].(bool); ok {
		p.AdminUp = v
	}
	p.Updated = time.Now().UTC()
	return c.portView(p, false), nil
}

func (c *Cloud) deletePort(project, id string) *neutronErr {
	p := c.st.ports[id]
	if strings.HasPrefix(p.DeviceOwner, "compute:") {
		// Deleting a bound port detaches it from the server, as Neutron does.
		if s := c.st.servers[p.DeviceID]; s != nil {
			s.Ports = removeString(s.Ports, id)
		}
	}
	c.deletePortLocked(id)
	return nil
}

// ---- security groups ----

func (c *Cloud) findSecGroup(project, nameOrID string) *secGroup {
	if sg := c.st.secGroups[nameOrID]; sg != nil && sg.ProjectID == project {
		return sg
	}
	for _, sg := range c.st.secGroups {
		if sg.ProjectID == project && sg.Name == nameOrID {
			return sg
		}
	}
	return nil
}

// ensureDefaultSecGroup creates the project's "default" group, as Neutron does on first use.
func (c *Cloud) ensureDefaultSecGroup(project string) {
	if c.findSecGroup(project, "default") != nil {
		return
	}
	sg := &secGroup{ID: c.newID(), Name: "default", ProjectID: project, Description: "Default security group", Created: time.Now().UTC()}
	c.st.secGroups[sg.ID] = sg
}

func (c *Cloud) createSecGroup(project string, body map[string]any) (map[string]any, *neutronErr) {
	name, _ := body["name"].(string)
	if name == "default" {
		c.ensureDefaultSecGroup(project)
		return nil, nErr(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	sg := &secGroup{ID: c.newID(), Name: name, ProjectID: project, Created: time.Now().UTC()}
	sg.Description, _ = body["description"].(string)
	c.st.secGroups[sg.ID] = sg
	for _, v := range c.secGroupViews(project, false) {
		if v["id"] == sg.ID {
			return v, nil
		}
	}
	return nil, nil
}

func (c *Cloud) deleteSecGroup(project, id string) *neutronErr {
	sg := c.st.secGroups[id]
	if sg.Name == "default" {
		return nErr(http.StatusConflict, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
	}
	for _, p := range c.st.ports {
		if contains(p.SecurityGroups, id) {
			return nErr(http.StatusConflict, "SecurityGroupInUse", "Security Group %s in use.", id)
		}
	}
	delete(c.st.secGroups, id)
	return nil
}

func (c *Cloud) secGroupViews(project string, admin bool) []map[string]any {
	c.ensureDefaultSecGroup(project)
	var list []*secGroup
	for _, sg := range c.st.secGroups {
		if sg.ProjectID == project || admin {
			list = append(list, sg)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	var out []map[string]any
	for _, sg := range list {
		var rules []any
		for i, dir := range []string{"egress", "ingress"} {
			rule := map[string]any{"id": fmt.Sprintf("%s%d", sg.ID[:35], i), "direction": dir, "ethertype": "IPv4", "protocol": nil,
				"port_range_min": nil, "port_range_max": nil, "remote_ip_prefix": nil, "remote_group_id": nil,
				"security_group_id": sg.ID, "tenant_id": sg.ProjectID, "project_id": sg.ProjectID, "description": ""}
			if dir == "ingress" {
				rule["remote_group_id"] = sg.ID
			}
			rules = append(rules, rule)
		}
		out = append(out, map[string]any{"id": sg.ID, "name": sg.Name, "description": sg.Description, "tenant_id": sg.ProjectID,
			"project_id": sg.ProjectID, "security_group_rules": rules, "stateful": true, "tags": []string{},
			"created_at": neutronTime(sg.Created), "updated_at": neutronTime(sg.Created), "revision_number": 1})
	}
	return out
}

// ---- routers (database only, as on the lab: no L3 agent) ----

func (c *Cloud) routerViews(project string, admin bool) []map[string]any {
	var out []map[string]any
	for _, id := range c.st.routerOrder {
		rt := c.st.routers[id]
		if rt.ProjectID != project && !admin {
			continue
		}
		out = append(out, map[string]any{
			"id": rt.ID, "name": rt.Name, "status": "ACTIVE", "admin_state_up": rt.AdminUp, "external_gateway_info": nil,
			"routes": []any{}, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID, "description": rt.Description,
			"distributed": false, "ha": false, "availability_zone_hints": []string{}, "availability_zones": []string{"nova"},
			"flavor_id": nil, "tags": []string{}, "created_at": neutronTime(rt.Created), "updated_at": neutronTime(rt.Updated), "revision_number": 1,
		})
	}
	return out
}

func (c *Cloud) createRouter(project string, body map[string]any) (map[string]any, *neutronErr) {
	now := time.Now().UTC()
	rt := &router{ID: c.newID(), ProjectID: project, AdminUp: true, Created: now, Updated: now}
	rt.Name, _ = body["name"].(string)
	rt.Description, _ = body["description"].(string)
	if v, ok := body["admin_state_up"].(bool); ok {
		rt.AdminUp = v
	}
	c.st.routers[rt.ID] = rt
	c.st.routerOrder = append(c.st.routerOrder, rt.ID)
	for _, v := range c.routerViews(project, false) {
		if v["id"] == rt.ID {
			return v, nil
		}
	}
	return nil, nil
}

func (c *Cloud) deleteRouter(project, id string) *neutronErr {
	for _, p := range c.st.ports {
		if p.DeviceID == id && p.DeviceOwner == "network:router_interface" {
			return nErr(http.StatusConflict, "RouterInUse", "Router %s still has ports", id)
		}
	}
	delete(c.st.routers, id)
	c.st.routerOrder = removeString(c.st.routerOrder, id)
	return nil
}

// routerInterface attaches a subnet through a port holding its gateway address, or detaches it.
func (nr *neutronReq) routerInterface(routerID string, add bool) {
	var body struct {
		SubnetID string `json:"subnet_id"`
		PortID   string `json:"port_id"`
	}
	if err := readJSON(nr.r, &body); err != nil || (body.SubnetID == "" && body.PortID == "") {
		neutronError(nr.w, http.StatusBadRequest, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.")
		return
	}
	c := nr.c
	c.mu.Lock()
	defer c.mu.Unlock()
	rt := c.st.routers[routerID]
	if rt == nil || (rt.ProjectID != nr.tok.ProjectID && !contains(nr.tok.Roles, "admin")) {
		neutronError(nr.w, http.StatusNotFound, "RouterNotFound", "Router %s could not be found", routerID)
		return
	}
	var p *port
	for _, id := range c.st.portOrder {
		cand := c.st.ports[id]
		if cand.DeviceID != routerID || cand.DeviceOwner != "network:router_interface" {
			continue
		}
		if cand.ID == body.PortID || (len(cand.FixedIPs) > 0 && cand.FixedIPs[0].SubnetID == body.SubnetID) {
			p = cand
		}
	}
	if add {
		if p != nil {
			neutronError(nr.w, http.StatusBadRequest, "BadRequest", "Bad router request: Router already has a port on subnet %s.", body.SubnetID)
			return
		}
		if body.PortID != "" {
			p = c.st.ports[body.PortID]
			if p == nil {
				neutronError(nr.w, http.StatusNotFound, "PortNotFound", "Port %s could not be found.", body.PortID)
				return
			}
		} else {
			sn := c.st.subnets[body.SubnetID]
			if sn == nil {
				neutronError(nr.w, http.StatusNotFound, "SubnetNotFound", "Subnet %s could not be found.", body.SubnetID)
				return
			}
			np, err := c.allocatePortLocked(rt.ProjectID, sn.NetworkID, sn.ID, "", sn.Gateway.String())
			if err != nil {
				ne := asNeutronErr(err)
				neutronError(nr.w, ne.status, ne.typ, "%s", ne.msg)
				return
			}
			p = np
		}
		p.DeviceID, p.DeviceOwner, p.Updated = routerID, "network:router_interface", time.Now().UTC()
	} else {
		if p == nil {
			neutronError(nr.w, http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", routerID, body.SubnetID)
			return
		}
		c.deletePortLocked(p.ID)
	}
	subnetID := ""
	if len(p.FixedIPs) > 0 {
		subnetID = p.FixedIPs[0].SubnetID
	}
	writeJSON(nr.w, http.StatusOK, map[string]any{"id": routerID, "tenant_id": rt.ProjectID, "project_id": rt.ProjectID,
		"port_id": p.ID, "network_id": p.NetworkID, "subnet_id": subnetID, "subnet_ids": []string{subnetID}})
}

// quotas serves Neutron's read-only quota view: the defaults, which devcloud does not enforce
// beyond address exhaustion.
func (nr *neutronReq) quotas(rest []string) {
	if nr.r.Method != http.MethodGet || len(rest) == 0 {
		neutronError(nr.w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
		return
	}
	project := rest[0]
	if project != nr.tok.ProjectID && !contains(nr.tok.Roles, "admin") {
		neutronError(nr.w, http.StatusForbidden, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
		return
	}
	limits := map[string]int{"network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
		"security_group": 10, "security_group_rule": 100, "rbac_policy": 10}
	if len(rest) == 2 && rest[1] == "details" {
		nr.c.mu.Lock()
		used := map[string]int{}
		for _, n := range nr.c.st.networks {
			if n.ProjectID == project {
				used["network"]++
			}
		}
		for _, s := range nr.c.st.subnets {
			if s.ProjectID == project {
				used["subnet"]++
			}
		}
		for _, p := range nr.c.st.ports {
			if p.ProjectID == project {
				used["port"]++
			}
		}
		for _, r := range nr.c.st.routers {
			if r.ProjectID == project {
				used["router"]++
			}
		}
		for _, g := range nr.c.st.secGroups {
			if g.ProjectID == project {
				used["security_group"]++
			}
		}
		nr.c.mu.Unlock()
		out := map[string]any{}
		for k, v := range limits {
			out[k] = map[string]any{"limit": v, "used": used[k], "reserved": 0}
		}
		writeJSON(nr.w, http.StatusOK, map[string]any{"quota": out})
		return
	}
	writeJSON(nr.w, http.StatusOK, map[string]any{"quota": limits})
}
