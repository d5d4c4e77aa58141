package devcloud

func (c *Cloud) serverAddress(s *server) string {
	for _, pid := range s.Ports {
		if p := c.st.ports[pid]; p != nil && len(p.FixedIPs) > 0 {
			return p.FixedIPs[0].Address.String()
		}
	}
	return ""
}

func (c *Cloud) serverAddresses(s *server) map[string]any {
	out := map[string]any{}
	if !s.ShowAddrs {
		return out
	}
	for _, pid := range s.Ports {
		p := c.st.ports[pid]
		if p == nil {
			continue
		}
		net := c.st.networks[p.NetworkID]
		if net == nil {
			continue
		}
		list, _ := out[net.Name].([]any)
		for _, ip := range p.FixedIPs {
			list = append(list, map[string]any{"addr": ip.Address.String(), "version": 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p.MAC})
		}
		out[net.Name] = list
	}
	return out
}

func (c *Cloud) serverLinks(id, base string) []any {
	return []any{map[string]any{"rel": "self", "href": base + "/compute/v2.1/servers/" + id}, map[string]any{"rel": "bookmark", "href": base + "/compute/servers/" + id}}
}

func (c *Cloud) serverView(s *server, mv microversion, base string, admin bool) map[string]any {
	f := c.st.flavors[s.FlavorID]
	m := map[string]any{
		"id": s.ID, "name": s.Name, "status": s.Status, "tenant_id": s.ProjectID, "user_id": s.UserID,
		"metadata": copyStrMap(s.Metadata), "hostId": hostID(s), "created": isoZ(s.Created), "updated": isoZ(s.Updated),
		"addresses": c.serverAddresses(s), "accessIPv4": "", "accessIPv6": "", "links": c.serverLinks(s.ID, base),
		"key_name": nullStr(s.KeyName), "progress": 0, "config_drive": "",
		"OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": s.AZ,
		"OS-EXT-STS:vm_state": s.VMState, "OS-EXT-STS:task_state": nullStr(s.TaskState), "OS-EXT-STS:power_state": s.PowerState,
		"OS-SRV-USG:launched_at": nil, "OS-SRV-USG:terminated_at": nil,
		"os-extended-volumes:volumes_attached": []any{},
	}
	if !s.LaunchedAt.IsZero() {
		m["OS-SRV-USG:launched_at"] = isoMicro(s.LaunchedAt)
	}
	if s.ImageID != "" {
		m["image"] = map[string]any{"id": s.ImageID, "links": []any{map[string]any{"rel": "bookmark", "href": base + "/compute/images/" + s.ImageID}}}
	} else {
		m["image"] = ""
	}
	if mv >= 47 && f != nil {
		m["flavor"] = map[string]any{"vcpus": f.VCPUs, "ram": f.RAM, "disk": f.Disk, "ephemeral": 0, "swap": 0, "original_name": f.Name, "extra_specs": map[string]string{}}
	} else {
		m["flavor"] = map[string]any{"id": s.FlavorID, "links": []any{map[string]any{"rel": "bookmark", "href": base + "/compute/flavors/" + s.FlavorID}}}
	}
	var sgs []any
	if s.ShowAddrs {
		for _, name := range s.SecurityGroups {
			sgs = append(sgs, map[string]any{"name": name})
		}
	}
	if sgs != nil {
		m["security_groups"] = sgs
	}
	if s.Fault != nil {
		fault := map[string]any{"code": s.Fault.Code, "message": s.Fault.Message, "created": isoZ(s.Fault.Created)}
		if admin && s.Fault.Details != "" {
			fault["details"] = s.Fault.Details
		}
		m["fault"] = fault
	}
	if admin {
		m["OS-EXT-SRV-ATTR:host"] = nullStr(s.Host)
		m["OS-EXT-SRV-ATTR:hypervisor_hostname"] = nullStr(s.Host)
		m["OS-EXT-SRV-ATTR:instance_name"] = "instance-" + s.ID[:8]
		if mv >= 3 {
			m["OS-EXT-SRV-ATTR:user_data"] = nullStr(s.UserData)
			m["OS-EXT-SRV-ATTR:hostname"] = s.Name
			m["OS-EXT-SRV-ATTR:launch_index"] = 0
			m["OS-EXT-SRV-ATTR:reservation_id"] = "r-" + s.ID[:8]
			m["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
			m["OS-EXT-SRV-ATTR:kernel_id"] = ""
			m["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		}
	}
	if mv >= 9 {
		m["locked"] = false
	}
	if mv >= 19 {
		m["description"] = nil
	}
	if mv >= 26 {
		m["tags"] = append([]string{}, s.Tags...)
	}
	if s.Deleted {
		// Nova deletes a server's metadata and tags with it: a changes-since listing shows
		// a deleted server with {} and [] (checked on the lab's Zed Nova).
		m["metadata"] = map[string]string{}
		if mv >= 26 {
			m["tags"] = []string{}
		}
	}
	if mv >= 16 && admin {
		m["host_status"] = ""
		if s.Host != "" {
			m["host_status"] = "UP"
		}
	}
	if mv >= 71 {
		var groups []string
		if s.GroupID != "" {
			groups = []string{s.GroupID}
		}
		m["server_groups"] = append([]string{}, groups...)
	}
	if mv >= 73 {
		m["locked_reason"] = nil
	}
	if mv >= 90 {
		m["OS-EXT-SRV-ATTR:hostname"] = s.Name
	}
	return m
}

// hostID is Nova's per-project obfuscated host id: empty until scheduled.
func hostID(s *server) string { return novaHostID(s.Host, s.ProjectID) }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func copyStrMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
