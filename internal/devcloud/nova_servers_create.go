package devcloud

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func countOver1(v any) bool {
	switch n := v.(type) {
	case float64:
		return n > 1
	case string:
		i, err := strconv.Atoi(n)
		return err == nil && i > 1
	}
	return false
}

type createServerReq struct {
	Server struct {
		Name             string            `json:"name"`
		ImageRef         string            `json:"imageRef"`
		FlavorRef        string            `json:"flavorRef"`
		Networks         any               `json:"networks"`
		KeyName          string            `json:"key_name"`
		SecurityGroups   []map[string]any  `json:"security_groups"`
		UserData         string            `json:"user_data"`
		AvailabilityZone string            `json:"availability_zone"`
		Metadata         map[string]string `json:"metadata"`
		Tags             []string          `json:"tags"`
		MinCount         any               `json:"min_count"`
		MaxCount         any               `json:"max_count"`
	} `json:"server"`
	Hints map[string]any `json:"os:scheduler_hints"`
	// OS-SCH-HNT is the older key some clients still send.
	HintsOld map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

// requestedNet is one entry of "networks": a network to allocate a port on, or a port to bind.
type requestedNet struct {
	networkID, portID, fixedIP string
}

func (n *novaReq) createServer() {
	var req createServerReq
	if err := readJSON(n.r, &req); err != nil {
		novaError(n.w, http.StatusBadRequest, "%s", err.Error())
		return
	}
	sr := req.Server
	if strings.TrimSpace(sr.Name) == "" {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server. Value: {}. 'name' is a required property")
		return
	}
	if sr.FlavorRef == "" {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server. 'flavorRef' is a required property")
		return
	}
	if len(sr.Tags) > 0 && n.mv < 52 {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server. Additional properties are not allowed ('tags' was unexpected)")
		return
	}
	if countOver1(sr.MinCount) || countOver1(sr.MaxCount) {
		// Multi-create answers with one server for N created; devcloud refuses it rather than
		// create servers a client could lose track of.
		novaError(n.w, http.StatusBadRequest, "devcloud does not support min_count/max_count above 1; create servers one by one")
		return
	}
	if sr.UserData != "" {
		if _, err := base64.StdEncoding.DecodeString(sr.UserData); err != nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute user_data. Value: %s. '%s' is not a 'base64'", sr.UserData, sr.UserData)
			return
		}
	}
	hints := req.Hints
	if hints == nil {
		hints = req.HintsOld
	}
	groupID, _ := hints["group"].(string)

	var nets []requestedNet
	auto := false
	switch v := sr.Networks.(type) {
	case nil:
		if n.mv >= 37 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server. 'networks' is a required property")
			return
		}
		auto = true
	case string:
		if v != "auto" && v != "none" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute networks. Value: %s. '%s' is not one of ['none', 'auto']", v, v)
			return
		}
		auto = v == "auto"
	case []any:
		for _, e := range v {
			m, _ := e.(map[string]any)
			var rn requestedNet
			rn.networkID, _ = m["uuid"].(string)
			rn.portID, _ = m["port"].(string)
			rn.fixedIP, _ = m["fixed_ip"].(string)
			if rn.networkID == "" && rn.portID == "" {
				novaError(n.w, http.StatusBadRequest, "Bad networks format: network uuid is not in proper format (%v)", e)
				return
			}
			nets = append(nets, rn)
		}
	default:
		novaError(n.w, http.StatusBadRequest, "Bad networks format")
		return
	}
	sgNames := []string{}
	for _, sg := range sr.SecurityGroups {
		if name, ok := sg["name"].(string); ok && name != "" {
			sgNames = append(sgNames, name)
		}
	}
	if len(sgNames) == 0 {
		sgNames = []string{"default"}
	}

	c := n.c
	c.mu.Lock()
	st := c.st
	project := n.tok.ProjectID
	fail := func(status int, format string, args ...any) {
		c.mu.Unlock()
		novaError(n.w, status, format, args...)
	}
	f := st.flavors[sr.FlavorRef]
	if f == nil {
		fail(http.StatusBadRequest, "Invalid flavorRef provided.")
		return
	}
	if sr.ImageRef == "" {
		fail(http.StatusBadRequest, "Invalid imageRef provided.")
		return
	}
	img := st.images[sr.ImageRef]
	if img == nil || !c.imageVisible(img, project, false) {
		fail(http.StatusBadRequest, "Can not find requested image")
		return
	}
	if img.Status != "active" {
		fail(http.StatusBadRequest, "Image %s is not active.", sr.ImageRef)
		return
	}
	if f.Disk > 0 && img.MinDisk > f.Disk {
		fail(http.StatusBadRequest, "Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", f.Disk<<30, int64(img.MinDisk)<<30)
		return
	}
	if sr.KeyName != "" && st.keypairs[n.tok.UserID+"/"+sr.KeyName] == nil {
		fail(http.StatusBadRequest, "Invalid key_name provided.")
		return
	}
	if sr.AvailabilityZone != "" && sr.AvailabilityZone != "nova" {
		fail(http.StatusBadRequest, "The requested availability zone is not available")
		return
	}
	for _, name := range sgNames {
		if c.findSecGroup(project, name) == nil {
			fail(http.StatusBadRequest, "Security group %s not found for project %s.", name, project)
			return
		}
	}
	var group *serverGroup
	if groupID != "" {
		group = st.groups[groupID]
		if group == nil || group.ProjectID != project {
			fail(http.StatusBadRequest, "Instance group %s could not be found.", groupID)
			return
		}
	}
	if auto {
		for _, id := range st.networkOrder {
			if net := st.networks[id]; net.ProjectID == project || net.Shared {
				nets = append(nets, requestedNet{networkID: id})
				break
			}
		}
	}
	for _, rn := range nets {
		if rn.portID != "" {
			p := st.ports[rn.portID]
			if p == nil {
				fail(http.StatusBadRequest, "Port id %s could not be found.", rn.portID)
				return
			}
			if p.DeviceID != "" {
				fail(http.StatusConflict, "Port %s is still in use.", rn.portID)
				return
			}
			continue
		}
		net := st.networks[rn.networkID]
		if net == nil || (net.ProjectID != project && !net.Shared) {
			fail(http.StatusBadRequest, "Network %s could not be found.", rn.networkID)
			return
		}
		if len(net.Subnets) == 0 {
			fail(http.StatusBadRequest, "Network %s requires a subnet in order to boot instances on.", rn.networkID)
			return
		}
	}
	if limit := c.novaQuota(project)["metadata_items"]; novaLimitExceeded(limit, 0, len(sr.Metadata)) {
		fail(http.StatusForbidden, "Maximum number of metadata items exceeds %d", limit)
		return
	}
	if msg := c.novaQuotaCheck(project, 1, f.VCPUs, f.RAM); msg != "" {
		fail(http.StatusForbidden, "%s", msg)
		return
	}
	// Nova checks the group's members after the instance quota (compute.API._provision_instances).
	if group != nil && novaLimitExceeded(c.novaQuota(project)["server_group_members"], len(group.Members), 1) {
		fail(http.StatusForbidden, "Quota exceeded, too many servers in group")
		return
	}

	now := time.Now().UTC()
	s := &server{
		ID: c.newID(), Name: sr.Name, ProjectID: project, UserID: n.tok.UserID, ImageID: img.ID, FlavorID: f.ID,
		KeyName: sr.KeyName, SecurityGroups: sgNames, UserData: sr.UserData, AZ: "nova", Metadata: copyStrMap(sr.Metadata),
		Tags: append([]string{}, sr.Tags...), Status: "BUILD", VMState: "building", TaskState: "scheduling",
		Created: now, Updated: now, AdminPass: randomB64(9), OwnedPorts: map[string]bool{},
	}
	if group != nil {
		s.GroupID = group.ID
		group.Members = append(group.Members, s.ID)
	}
	// Ports are reserved at once so that concurrent creates never share an address; Nova shows
	// them only once the build has allocated networking.
	for _, rn := range nets {
		if rn.portID != "" {
			p := st.ports[rn.portID]
			p.DeviceID, p.DeviceOwner, p.Updated = s.ID, "compute:nova", now
			s.Ports = append(s.Ports, p.ID)
			continue
		}
		p, err := c.allocatePortLocked(project, rn.networkID, "", "", rn.fixedIP)
		if err != nil {
			c.releaseServerPortsLocked(s)
			if group != nil {
				group.Members = removeString(group.Members, s.ID)
			}
			fail(http.StatusBadRequest, "Failed to allocate the network(s), not rescheduling: %v", err)
			return
		}
		p.DeviceID, p.DeviceOwner = s.ID, "compute:nova"
		s.Ports = append(s.Ports, p.ID)
		s.OwnedPorts[p.ID] = true
	}
	st.servers[s.ID] = s
	st.serverOrder = append(st.serverOrder, s.ID)
	c.startActionLocked(s, "create", n.reqID, n.tok.UserID, project)
	gen := c.gen
	view := map[string]any{"id": s.ID, "links": c.serverLinks(s.ID, n.base), "OS-DCF:diskConfig": "MANUAL", "adminPass": s.AdminPass}
	var sgView []any
	for _, name := range sgNames {
		sgView = append(sgView, map[string]any{"name": name})
	}
	view["security_groups"] = sgView
	c.Event("server.created", map[string]any{"server_id": s.ID, "name": s.Name, "image_id": s.ImageID, "flavor_id": s.FlavorID})
	c.mu.Unlock()

	c.afterGen(gen, c.Delay("server_schedule"), func() func() { return c.scheduleServer(s.ID, gen) })
	n.w.Header().Set("Location", n.base+"/compute/v2.1/servers/"+s.ID)
	writeJSON(n.w, http.StatusAccepted, map[string]any{"server": view})
}
