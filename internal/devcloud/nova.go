package devcloud

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	novaMinMinor = 1
	// novaMaxMinor is Zed's maximum, the release of the lab cloud.
	novaMaxMinor = 93
)

// microversion is a Nova 2.x microversion; only the minor part varies.
type microversion int

func (m microversion) String() string { return "2." + strconv.Itoa(int(m)) }

// parseMicroversion reads OpenStack-API-Version ("compute 2.79") or the legacy
// X-OpenStack-Nova-API-Version header, as Nova does (the new header wins).
func parseMicroversion(r *http.Request) (microversion, error) {
	raw := ""
	for _, v := range r.Header.Values("OpenStack-API-Version") {
		f := strings.Fields(v)
		if len(f) == 2 && strings.EqualFold(f[0], "compute") {
			raw = f[1]
		}
	}
	if raw == "" {
		raw = r.Header.Get("X-OpenStack-Nova-API-Version")
	}
	if raw == "" {
		return novaMinMinor, nil
	}
	if strings.EqualFold(raw, "latest") {
		return novaMaxMinor, nil
	}
	major, minor, ok := strings.Cut(raw, ".")
	mi, err := strconv.Atoi(minor)
	if !ok || major != "2" || err != nil {
		if major != "2" && ok {
			return 0, apiMessagef("Version %s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.", raw, novaMinMinor, novaMaxMinor)
		}
		return 0, apiMessagef("Invalid format for API version %s. Valid values are \"latest\" or X.Y where X and Y are integers.", raw)
	}
	if mi < novaMinMinor || mi > novaMaxMinor {
		return 0, apiMessagef("Version %s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.", raw, novaMinMinor, novaMaxMinor)
	}
	return microversion(mi), nil
}

func novaError(w http.ResponseWriter, status int, format string, args ...any) {
	writeServiceError(w, "compute", status, fmt.Sprintf(format, args...))
}

func novaVersionDoc(base string) map[string]any {
	return map[string]any{
		"id": "v2.1", "status": "CURRENT", "version": microversion(novaMaxMinor).String(), "min_version": "2.1",
		"updated":     "2013-07-23T11:33:21Z",
		"links":       []any{map[string]any{"rel": "self", "href": base + "/compute/v2.1/"}, map[string]any{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}},
	}
}

func defaultNovaQuota() map[string]int {
	return map[string]int{"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
		"server_groups": 10, "server_group_members": 10, "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255}
}

func (c *Cloud) novaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{
				map[string]any{"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
					"links": []any{map[string]any{"rel": "self", "href": base + "/compute/v2/"}}},
				novaVersionDoc(base)}})
			return
		}
		if segs[0] != "v2.1" && segs[0] != "v2" {
			novaError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		mv, err := parseMicroversion(r)
		if err != nil {
			novaError(w, http.StatusNotAcceptable, "%s", err.Error())
			return
		}
		if segs[0] == "v2" {
			mv = novaMinMinor
		}
		w.Header().Set("OpenStack-API-Version", "compute "+mv.String())
		w.Header().Set("X-OpenStack-Nova-API-Version", mv.String())
		w.Header().Add("Vary", "OpenStack-API-Version")
		w.Header().Add("Vary", "X-OpenStack-Nova-API-Version")
		rest := segs[1:]
		if len(rest) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"version": novaVersionDoc(base)})
			return
		}
		// Old clients put the project id in the URL (/v2.1/{project_id}/servers).
		if len(rest) > 1 && idSegment.MatchString(rest[0]) && tokenFrom(r) != nil && rest[0] == tokenFrom(r).ProjectID {
			rest = rest[1:]
		}
		n := &novaReq{c: c, w: w, r: r, mv: mv, tok: tokenFrom(r), base: base}
		switch rest[0] {
		case "servers":
			n.servers(rest[1:])
		case "flavors":
			n.flavors(rest[1:])
		case "os-server-groups":
			n.serverGroups(rest[1:])
		case "os-quota-sets":
			n.quotaSets(rest[1:])
		case "os-keypairs":
			n.keypairs(rest[1:])
		case "os-availability-zone":
			n.availabilityZones(rest[1:])
		case "limits":
			n.limits()
		default:
			novaError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

type novaReq struct {
	c    *Cloud
	w    http.ResponseWriter
	r    *http.Request
	mv   microversion
	tok  *token
	base string
}

func (n *novaReq) isAdmin() bool { return contains(n.tok.Roles, "admin") }

func (n *novaReq) methodNotAllowed() {
	novaError(n.w, http.StatusMethodNotAllowed, "The method specified is not allowed for this resource.")
}

// ---- flavors ----

func (c *Cloud) flavorView(f *flavor, mv microversion, base string, detail bool) map[string]any {
	links := []any{map[string]any{"rel": "self", "href": base + "/compute/v2.1/flavors/" + f.ID}, map[string]any{"rel": "bookmark", "href": base + "/compute/flavors/" + f.ID}}
	m := map[string]any{"id": f.ID, "name": f.Name, "links": links}
	if mv >= 55 {
		m["description"] = nil
		if f.Description != "" {
			m["description"] = f.Description
		}
	}
	if detail {
		m["vcpus"], m["ram"], m["disk"] = f.VCPUs, f.RAM, f.Disk
		m["OS-FLV-EXT-DATA:ephemeral"], m["swap"], m["rxtx_factor"] = 0, "", 1.0
		m["os-flavor-access:is_public"], m["OS-FLV-DISABLED:disabled"] = true, false
		if mv >= 61 {
			m["extra_specs"] = map[string]string{}
		}
	}
	return m
}

func (n *novaReq) flavors(rest []string) {
	if n.r.Method != http.MethodGet {
		n.methodNotAllowed()
		return
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(rest) == 0 || (len(rest) == 1 && rest[0] == "detail"):
		detail := len(rest) == 1
		var out []any
		for _, id := range c.st.flavorOrder {
			f := c.st.flavors[id]
			if q := n.r.URL.Query().Get("minRam"); q != "" {
				if v, err := strconv.Atoi(q); err == nil && f.RAM < v {
					continue
				}
			}
			if q := n.r.URL.Query().Get("minDisk"); q != "" {
				if v, err := strconv.Atoi(q); err == nil && f.Disk < v {
					continue
				}
			}
			out = append(out, c.flavorView(f, n.mv, n.base, detail))
		}
		if out == nil {
			out = []any{}
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"flavors": out})
	case len(rest) == 1:
		f := c.st.flavors[rest[0]]
		if f == nil {
			novaError(n.w, http.StatusNotFound, "Flavor %s could not be found.", rest[0])
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"flavor": c.flavorView(f, n.mv, n.base, true)})
	case len(rest) == 2 && rest[1] == "os-extra_specs":
		if c.st.flavors[rest[0]] == nil {
			novaError(n.w, http.StatusNotFound, "Flavor %s could not be found.", rest[0])
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"extra_specs": map[string]string{}})
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}

// ---- servers: views ----

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
func hostID(s *server) string {
	if s.Host == "" {
		return ""
	}
	sum := uint64(14695981039346656037)
	for _, b := range []byte(s.ProjectID + s.Host) {
		sum = (sum ^ uint64(b)) * 1099511628211
	}
	return fmt.Sprintf("%016x%016x%016x%08x", sum, sum*31, sum*17, uint32(sum))
}

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

// ---- servers: routing ----

func (n *novaReq) servers(rest []string) {
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		n.listServers(false)
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		n.createServer()
	case len(rest) == 1 && rest[0] == "detail" && n.r.Method == http.MethodGet:
		n.listServers(true)
	case len(rest) == 1:
		switch n.r.Method {
		case http.MethodGet:
			n.getServer(rest[0])
		case http.MethodPut:
			n.updateServer(rest[0])
		case http.MethodDelete:
			n.deleteServer(rest[0])
		default:
			n.methodNotAllowed()
		}
	case len(rest) == 2 && rest[1] == "action" && n.r.Method == http.MethodPost:
		n.serverAction(rest[0])
	case len(rest) >= 2 && rest[1] == "metadata":
		n.serverMetadata(rest[0], rest[2:])
	case len(rest) >= 2 && rest[1] == "tags":
		n.serverTags(rest[0], rest[2:])
	case len(rest) >= 2 && rest[1] == "ips" && n.r.Method == http.MethodGet:
		n.serverIPs(rest[0], rest[2:])
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}

// visibleServer returns the server if it exists and the caller may see it. Callers hold c.mu.
func (n *novaReq) visibleServer(id string) *server {
	s := n.c.st.servers[id]
	if s == nil || s.Deleted || (s.ProjectID != n.tok.ProjectID && !n.isAdmin()) {
		novaError(n.w, http.StatusNotFound, "Instance %s could not be found.", id)
		return nil
	}
	return s
}

func (n *novaReq) getServer(id string) {
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"server": c.serverView(s, n.mv, n.base, n.isAdmin())})
}

func (n *novaReq) updateServer(id string) {
	var req struct {
		Server map[string]any `json:"server"`
	}
	if err := readJSON(n.r, &req); err != nil || req.Server == nil {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server.")
		return
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	if name, ok := req.Server["name"].(string); ok {
		if strings.TrimSpace(name) == "" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute name. Value: %s. '%s' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'", name, name)
			return
		}
		s.Name = name
	}
	s.Updated = time.Now().UTC()
	writeJSON(n.w, http.StatusOK, map[string]any{"server": c.serverView(s, n.mv, n.base, n.isAdmin())})
}

// ---- servers: list ----

var novaStatusFilter = map[string]bool{"ACTIVE": true, "BUILD": true, "ERROR": true, "REBOOT": true, "HARD_REBOOT": true, "DELETED": true, "SHUTOFF": true}

func (n *novaReq) listServers(detail bool) {
	q := n.r.URL.Query()
	var nameRe *regexp.Regexp
	if v := q.Get("name"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			// Nova hands the pattern to the database's REGEXP; an invalid one matches literally.
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		nameRe = re
	}
	var ipRe *regexp.Regexp
	if v := q.Get("ip"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		ipRe = re
	}
	var since time.Time
	if v := q.Get("changes-since"); v != "" {
		t, err := parseKeystoneTime(v)
		if err != nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters changes-since. Value: %s. '%s' is not a 'date-time'", v, v)
			return
		}
		since = t
	}
	var before time.Time
	if v := q.Get("changes-before"); v != "" && n.mv >= 66 {
		t, err := parseKeystoneTime(v)
		if err != nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters changes-before. Value: %s. '%s' is not a 'date-time'", v, v)
			return
		}
		before = t
	}
	statuses := q["status"]
	for _, st := range statuses {
		if !novaStatusFilter[strings.ToUpper(st)] {
			writeJSON(n.w, http.StatusOK, map[string]any{"servers": []any{}})
			return
		}
	}
	splitTags := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, t := range strings.Split(v, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	tags, tagsAny, notTags, notTagsAny := splitTags("tags"), splitTags("tags-any"), splitTags("not-tags"), splitTags("not-tags-any")
	// Nova drops all_tenants from a non-admin's query instead of failing.
	v := q.Get("all_tenants")
	allTenants := n.isAdmin() && v != "" && v != "0" && !strings.EqualFold(v, "false")
	limit := -1
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 0 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters limit. Value: %s.", v)
			return
		}
		limit = l
	}
	marker := q.Get("marker")

	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var matched []*server
	for i := len(c.st.serverOrder) - 1; i >= 0; i-- { // newest first, as Nova sorts by created_at desc
		s := c.st.servers[c.st.serverOrder[i]]
		if s == nil || s.Deleted && since.IsZero() {
			continue
		}
		if s.ProjectID != n.tok.ProjectID && !allTenants {
			continue
		}
		if tid := q.Get("tenant_id"); allTenants && tid != "" && s.ProjectID != tid {
			continue
		}
		if nameRe != nil && !nameRe.MatchString(s.Name) {
			continue
		}
		if len(statuses) > 0 && !containsFold(statuses, s.Status) {
			continue
		}
		if v := q.Get("image"); v != "" && s.ImageID != v {
			continue
		}
		if v := q.Get("flavor"); v != "" && s.FlavorID != v {
			continue
		}
		if v := q.Get("availability_zone"); v != "" && s.AZ != v {
			continue
		}
		if v := q.Get("key_name"); v != "" && s.KeyName != v {
			continue
		}
		if !since.IsZero() && s.Updated.Before(since) {
			continue
		}
		if !before.IsZero() && s.Updated.After(before) {
			continue
		}
		if ipRe != nil && !ipRe.MatchString(c.serverAddress(s)) {
			continue
		}
		if len(tags) > 0 && !hasAll(s.Tags, tags) {
			continue
		}
		if len(tagsAny) > 0 && !hasAny(s.Tags, tagsAny) {
			continue
		}
		if len(notTags) > 0 && hasAll(s.Tags, notTags) {
			continue
		}
		if len(notTagsAny) > 0 && hasAny(s.Tags, notTagsAny) {
			continue
		}
		matched = append(matched, s)
	}
	if marker != "" {
		idx := -1
		for i, s := range matched {
			if s.ID == marker {
				idx = i
			}
		}
		if idx < 0 {
			novaError(n.w, http.StatusBadRequest, "marker [%s] not found", marker)
			return
		}
		matched = matched[idx+1:]
	}
	const maxLimit = 1000
	if limit < 0 || limit > maxLimit {
		limit = maxLimit
	}
	more := len(matched) > limit
	if more {
		matched = matched[:limit]
	}
	out := make([]any, 0, len(matched))
	for _, s := range matched {
		if detail {
			out = append(out, c.serverView(s, n.mv, n.base, n.isAdmin()))
		} else {
			out = append(out, map[string]any{"id": s.ID, "name": s.Name, "links": c.serverLinks(s.ID, n.base)})
		}
	}
	body := map[string]any{"servers": out}
	if (more || len(matched) == limit && limit > 0 && q.Get("limit") != "") && len(matched) > 0 {
		nq := n.r.URL.Query()
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("marker", matched[len(matched)-1].ID)
		path := "/compute/v2.1/servers"
		if detail {
			path += "/detail"
		}
		body["servers_links"] = []any{map[string]any{"rel": "next", "href": n.base + path + "?" + nq.Encode()}}
	}
	writeJSON(n.w, http.StatusOK, body)
}

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

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func hasAll(have, want []string) bool {
	for _, t := range want {
		if !contains(have, t) {
			return false
		}
	}
	return true
}

func hasAny(have, want []string) bool {
	for _, t := range want {
		if contains(have, t) {
			return true
		}
	}
	return false
}

// ---- servers: create ----

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
		if q := st.quotas[project]["server_group_members"]; q >= 0 && len(group.Members) >= q {
			fail(http.StatusForbidden, "Quota exceeded, too many servers in group")
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
	if limit := st.quotas[project]["metadata_items"]; len(sr.Metadata) > limit {
		fail(http.StatusForbidden, "Maximum number of metadata items exceeds %d", limit)
		return
	}
	if msg := c.novaQuotaCheck(project, 1, f.VCPUs, f.RAM); msg != "" {
		fail(http.StatusForbidden, "%s", msg)
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

// novaQuotaCheck returns Nova's quota message when the request does not fit. Callers hold c.mu.
func (c *Cloud) novaQuotaCheck(project string, instances, cores, ram int) string {
	q := c.st.quotas[project]
	used := map[string]int{}
	for _, s := range c.st.servers {
		if s.ProjectID != project || s.Deleted {
			continue
		}
		used["instances"]++
		if f := c.st.flavors[s.FlavorID]; f != nil {
			used["cores"] += f.VCPUs
			used["ram"] += f.RAM
		}
	}
	req := map[string]int{"instances": instances, "cores": cores, "ram": ram}
	var overs, reqs, useds, allowed []string
	for _, res := range []string{"cores", "instances", "ram"} {
		limit, ok := q[res]
		if !ok || limit < 0 {
			continue
		}
		if used[res]+req[res] > limit {
			overs = append(overs, res)
			reqs = append(reqs, strconv.Itoa(req[res]))
			useds = append(useds, strconv.Itoa(used[res]))
			allowed = append(allowed, strconv.Itoa(limit))
		}
	}
	if len(overs) == 0 {
		return ""
	}
	o := strings.Join(overs, ", ")
	return fmt.Sprintf("Quota exceeded for %s: Requested %s, but already used %s of %s %s", o, strings.Join(reqs, ", "), strings.Join(useds, ", "), strings.Join(allowed, ", "), o)
}

// scheduleServer places the server on a fake host honouring its group's policy.
// It runs with c.mu held (from afterGen).
func (c *Cloud) scheduleServer(id string, gen int64) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted || s.Deleting {
		return nil
	}
	host := c.pickHost(s)
	now := time.Now().UTC()
	if host == "" {
		c.failServerLocked(s, now, "No valid host was found. There are not enough hosts available.", "")
		// Nova deallocates the networking of a server that could not be scheduled.
		c.releaseServerPortsLocked(s)
		s.Ports = nil
		c.Event("server.error", map[string]any{"server_id": s.ID, "name": s.Name, "message": s.Fault.Message})
		return nil
	}
	s.Host, s.TaskState, s.ShowAddrs, s.Updated = host, "spawning", true, now
	c.afterGen(gen, c.Delay("server_build"), func() func() { return c.finishBuild(id) })
	return nil
}

func (c *Cloud) failServerLocked(s *server, now time.Time, msg, details string) {
	s.Status, s.VMState, s.TaskState, s.Updated = "ERROR", "error", "", now
	s.Fault = &serverFault{Code: 500, Message: msg, Details: details, Created: now}
}

func (c *Cloud) hostNames() []string {
	out := make([]string, c.st.hostCount)
	for i := range out {
		out[i] = fmt.Sprintf("devcloud-compute-%d", i+1)
	}
	return out
}

func (c *Cloud) pickHost(s *server) string {
	hosts := c.hostNames()
	if len(hosts) == 0 {
		return ""
	}
	load := map[string]int{}
	for _, o := range c.st.servers {
		if o.Host != "" && !o.Deleted {
			load[o.Host]++
		}
	}
	leastLoaded := func(cands []string) string {
		best := ""
		for _, h := range cands {
			if best == "" || load[h] < load[best] {
				best = h
			}
		}
		return best
	}
	g := c.st.groups[s.GroupID]
	if g == nil {
		return leastLoaded(hosts)
	}
	used := map[string]int{}
	for _, mid := range g.Members {
		if m := c.st.servers[mid]; m != nil && m.ID != s.ID && m.Host != "" && !m.Deleted {
			used[m.Host]++
		}
	}
	switch g.Policy {
	case "affinity", "soft-affinity":
		for h := range used {
			return h
		}
		return leastLoaded(hosts)
	default: // anti-affinity, soft-anti-affinity
		maxPer := 1
		if v, ok := g.Rules["max_server_per_host"].(float64); ok && v >= 1 {
			maxPer = int(v)
		}
		var free []string
		for _, h := range hosts {
			if used[h] < maxPer {
				free = append(free, h)
			}
		}
		if len(free) > 0 {
			return leastLoaded(free)
		}
		if g.Policy == "soft-anti-affinity" {
			min := -1
			var cands []string
			for _, h := range hosts {
				if min < 0 || used[h] < min {
					min, cands = used[h], nil
				}
				if used[h] == min {
					cands = append(cands, h)
				}
			}
			return leastLoaded(cands)
		}
		return ""
	}
}

// finishBuild ends a build in ACTIVE, or in ERROR when a fault is injected. Runs with c.mu held.
func (c *Cloud) finishBuild(id string) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted || s.Deleting || s.Status != "BUILD" {
		return nil
	}
	now := time.Now().UTC()
	if fails, msg := c.faults.serverBuildFails(); fails {
		c.failServerLocked(s, now, msg, "injected by devcloud")
		c.Event("server.error", map[string]any{"server_id": s.ID, "name": s.Name, "message": msg})
		return nil
	}
	s.Status, s.VMState, s.TaskState, s.PowerState, s.LaunchedAt, s.Updated = "ACTIVE", "active", "", 1, now, now
	return c.nodeUpLocked(s, "server.active")
}

// nodeUpLocked registers the server's web node; the returned func does it outside c.mu.
func (c *Cloud) nodeUpLocked(s *server, event string) func() {
	addr := c.serverAddress(s)
	vcpus := 1
	if f := c.st.flavors[s.FlavorID]; f != nil {
		vcpus = f.VCPUs
	}
	capacity := c.st.capacity
	s.NodeAddress = addr
	id, name := s.ID, s.Name
	return func() {
		if addr != "" {
			c.dp.nodeUp(id, addr, vcpus, capacity)
		}
		c.Event(event, map[string]any{"server_id": id, "name": name, "address": addr})
	}
}

// nodeDownLocked unregisters the server's web node; the returned func does it outside c.mu.
func (c *Cloud) nodeDownLocked(s *server) func() {
	addr := s.NodeAddress
	s.NodeAddress = ""
	return func() {
		if addr != "" {
			c.dp.nodeDown(addr)
		}
	}
}

// ---- servers: delete ----

func (n *novaReq) deleteServer(id string) {
	c := n.c
	c.mu.Lock()
	s := n.visibleServer(id)
	if s == nil {
		c.mu.Unlock()
		return
	}
	if s.Deleting {
		c.mu.Unlock()
		n.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.Deleting, s.TaskState, s.Updated = true, "deleting", time.Now().UTC()
	down := c.nodeDownLocked(s)
	gen := c.gen
	c.Event("server.deleting", map[string]any{"server_id": s.ID, "name": s.Name})
	c.mu.Unlock()
	down()
	c.afterGen(gen, c.Delay("server_delete"), func() func() { return c.finishDelete(id) })
	n.w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) finishDelete(id string) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted {
		return nil
	}
	// The record stays as a tombstone: Nova lists deleted servers (status DELETED) to
	// changes-since queries, and nothing else sees them.
	s.Deleted, s.Status, s.VMState, s.TaskState, s.PowerState, s.Updated = true, "DELETED", "deleted", "", 0, time.Now().UTC()
	c.releaseServerPortsLocked(s)
	s.Ports = nil
	if g := c.st.groups[s.GroupID]; g != nil {
		g.Members = removeString(g.Members, s.ID)
	}
	c.Event("server.deleted", map[string]any{"server_id": id, "name": s.Name})
	return nil
}

// releaseServerPortsLocked deletes the ports Nova created and unbinds the ones the user gave.
func (c *Cloud) releaseServerPortsLocked(s *server) {
	for _, pid := range s.Ports {
		p := c.st.ports[pid]
		if p == nil {
			continue
		}
		if s.OwnedPorts[pid] {
			c.deletePortLocked(pid)
			continue
		}
		p.DeviceID, p.DeviceOwner, p.Updated = "", "", time.Now().UTC()
	}
}

// ---- servers: actions ----

func (n *novaReq) serverAction(id string) {
	var body map[string]map[string]any
	if err := readJSON(n.r, &body); err != nil || len(body) != 1 {
		novaError(n.w, http.StatusBadRequest, "Malformed request body")
		return
	}
	c := n.c
	c.mu.Lock()
	s := n.visibleServer(id)
	if s == nil {
		c.mu.Unlock()
		return
	}
	// Nova's check_instance_state looks at vm_state first, then task_state.
	conflict := func(action string) bool {
		state, val := "", ""
		switch {
		case s.VMState != "active":
			state, val = "vm_state", s.VMState
		case s.Deleting:
			state, val = "task_state", "deleting"
		case s.TaskState != "":
			state, val = "task_state", s.TaskState
		}
		if state == "" {
			return false
		}
		c.mu.Unlock()
		novaError(n.w, http.StatusConflict, "Cannot '%s' instance %s while it is in %s %s", action, s.ID, state, val)
		return true
	}
	for action, args := range body {
		switch action {
		case "reboot":
			if conflict("reboot") {
				return
			}
			typ, _ := args["type"].(string)
			typ = strings.ToUpper(typ)
			if typ != "SOFT" && typ != "HARD" {
				c.mu.Unlock()
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute type. Value: %s. '%s' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", typ, typ)
				return
			}
			s.Status, s.TaskState = "REBOOT", "reboot_started"
			if typ == "HARD" {
				s.Status, s.TaskState = "HARD_REBOOT", "reboot_started_hard"
			}
			s.Updated = time.Now().UTC()
			down := c.nodeDownLocked(s)
			gen := c.gen
			c.Event("server.rebooting", map[string]any{"server_id": s.ID, "name": s.Name, "type": typ})
			c.mu.Unlock()
			down()
			c.afterGen(gen, c.Delay("server_reboot"), func() func() {
				if s.Deleted || s.Deleting || (s.Status != "REBOOT" && s.Status != "HARD_REBOOT") {
					return nil
				}
				s.Status, s.TaskState, s.PowerState, s.Updated = "ACTIVE", "", 1, time.Now().UTC()
				return c.nodeUpLocked(s, "server.active")
			})
			n.w.WriteHeader(http.StatusAccepted)
			return
		case "createImage":
			if conflict("createImage") {
				return
			}
			name, _ := args["name"].(string)
			if strings.TrimSpace(name) == "" {
				c.mu.Unlock()
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute createImage. 'name' is a required property")
				return
			}
			meta, _ := args["metadata"].(map[string]any)
			img := c.snapshotLocked(s, name, meta)
			gen := c.gen
			c.Event("image.created", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
			imageID := img.ID
			c.mu.Unlock()
			c.afterGen(gen, c.Delay("image_save")/5, func() func() {
				if img.Status == "queued" {
					img.Status, img.Updated = "saving", time.Now().UTC()
					s.TaskState = "image_uploading"
				}
				return nil
			})
			c.afterGen(gen, c.Delay("image_save"), func() func() {
				if c.st.images[img.ID] == nil {
					// Nova's snapshot task fails when its image is deleted mid-upload and
					// clears the task state, so the server accepts the next action.
					if s.TaskState == "image_uploading" || s.TaskState == "image_snapshot" {
						s.TaskState = ""
					}
					return nil
				}
				img.Status, img.Updated, img.Size = "active", time.Now().UTC(), 1<<30
				img.Checksum = fmt.Sprintf("%032x", uint64(len(img.ID))*0x9e3779b97f4a7c15)
				if s.TaskState == "image_uploading" || s.TaskState == "image_snapshot" {
					s.TaskState = ""
				}
				c.Event("image.saved", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
				return nil
			})
			if n.mv >= 45 {
				writeJSON(n.w, http.StatusAccepted, map[string]any{"image_id": imageID})
				return
			}
			n.w.Header().Set("Location", n.base+"/image/v2/images/"+imageID)
			n.w.WriteHeader(http.StatusAccepted)
			return
		case "os-getConsoleOutput":
			c.mu.Unlock()
			writeJSON(n.w, http.StatusOK, map[string]any{"output": "devcloud: " + s.Name + " login:\n"})
			return
		default:
			c.mu.Unlock()
			novaError(n.w, http.StatusBadRequest, "There is no such action: %s", action)
			return
		}
	}
	c.mu.Unlock()
}

// snapshotLocked creates the queued Glance image of a createImage action.
func (c *Cloud) snapshotLocked(s *server, name string, meta map[string]any) *image {
	now := time.Now().UTC()
	base := c.st.images[s.ImageID]
	props := map[string]any{}
	if base != nil {
		for k, v := range base.Properties {
			props[k] = v
		}
	}
	for k, v := range meta {
		props[k] = v
	}
	props["image_type"] = "snapshot"
	props["instance_uuid"] = s.ID
	props["base_image_ref"] = s.ImageID
	props["user_id"] = s.UserID
	props["owner_project_name"] = c.st.projects[s.ProjectID].Name
	props["image_location"] = "snapshot"
	props["boot_roles"] = "member,reader"
	img := &image{ID: c.newID(), Name: name, Status: "queued", Visibility: "private", Owner: s.ProjectID,
		ContainerFormat: "bare", DiskFormat: "qcow2", Properties: props, Created: now, Updated: now, Tags: []string{}}
	if base != nil {
		img.MinDisk, img.MinRAM, img.ContainerFormat, img.DiskFormat = base.MinDisk, base.MinRAM, base.ContainerFormat, base.DiskFormat
	}
	if f := c.st.flavors[s.FlavorID]; f != nil && f.Disk > img.MinDisk {
		img.MinDisk = f.Disk
	}
	c.st.images[img.ID] = img
	c.st.imageOrder = append(c.st.imageOrder, img.ID)
	s.TaskState = "image_snapshot"
	return img
}

// ---- servers: metadata, tags, ips ----

func (n *novaReq) serverMetadata(id string, rest []string) {
	c := n.c
	var body struct {
		Metadata map[string]string `json:"metadata"`
		Meta     map[string]string `json:"meta"`
	}
	if n.r.Method == http.MethodPut || n.r.Method == http.MethodPost {
		if err := readJSON(n.r, &body); err != nil {
			novaError(n.w, http.StatusBadRequest, "Malformed request body")
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	now := time.Now().UTC()
	if len(rest) == 0 {
		switch n.r.Method {
		case http.MethodGet:
		case http.MethodPut:
			if body.Metadata == nil {
				novaError(n.w, http.StatusBadRequest, "Malformed request body")
				return
			}
			s.Metadata, s.Updated = copyStrMap(body.Metadata), now
		case http.MethodPost:
			if body.Metadata == nil {
				novaError(n.w, http.StatusBadRequest, "Malformed request body")
				return
			}
			for k, v := range body.Metadata {
				s.Metadata[k] = v
			}
			s.Updated = now
		default:
			n.methodNotAllowed()
			return
		}
		if limit := c.st.quotas[s.ProjectID]["metadata_items"]; len(s.Metadata) > limit {
			novaError(n.w, http.StatusForbidden, "Maximum number of metadata items exceeds %d", limit)
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"metadata": copyStrMap(s.Metadata)})
		return
	}
	key := rest[0]
	switch n.r.Method {
	case http.MethodGet:
		v, ok := s.Metadata[key]
		if !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodPut:
		v, ok := body.Meta[key]
		if !ok || len(body.Meta) != 1 {
			novaError(n.w, http.StatusBadRequest, "Request body and URI mismatch")
			return
		}
		s.Metadata[key], s.Updated = v, now
		writeJSON(n.w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	case http.MethodDelete:
		if _, ok := s.Metadata[key]; !ok {
			novaError(n.w, http.StatusNotFound, "Metadata item was not found")
			return
		}
		delete(s.Metadata, key)
		s.Updated = now
		n.w.WriteHeader(http.StatusNoContent)
	default:
		n.methodNotAllowed()
	}
}

func (n *novaReq) serverTags(id string, rest []string) {
	if n.mv < 26 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if n.r.Method == http.MethodPut && len(rest) == 0 {
		if err := readJSON(n.r, &body); err != nil || body.Tags == nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute tags.")
			return
		}
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	now := time.Now().UTC()
	if len(rest) == 0 {
		switch n.r.Method {
		case http.MethodGet:
		case http.MethodPut:
			if len(body.Tags) > 50 {
				novaError(n.w, http.StatusBadRequest, "The number of tags exceeded the per-server limit 50")
				return
			}
			s.Tags, s.Updated = dedupe(body.Tags), now
		case http.MethodDelete:
			s.Tags, s.Updated = []string{}, now
			n.w.WriteHeader(http.StatusNoContent)
			return
		default:
			n.methodNotAllowed()
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"tags": append([]string{}, s.Tags...)})
		return
	}
	tag := rest[0]
	switch n.r.Method {
	case http.MethodGet:
		if !contains(s.Tags, tag) {
			novaError(n.w, http.StatusNotFound, "Tag '%s' could not be found.", tag)
			return
		}
		n.w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if contains(s.Tags, tag) {
			n.w.WriteHeader(http.StatusNoContent)
			return
		}
		s.Tags, s.Updated = append(s.Tags, tag), now
		n.w.Header().Set("Location", n.base+"/compute/v2.1/servers/"+s.ID+"/tags/"+tag)
		n.w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if !contains(s.Tags, tag) {
			novaError(n.w, http.StatusNotFound, "Tag '%s' could not be found.", tag)
			return
		}
		s.Tags, s.Updated = removeString(s.Tags, tag), now
		n.w.WriteHeader(http.StatusNoContent)
	default:
		n.methodNotAllowed()
	}
}

func dedupe(list []string) []string {
	out := []string{}
	for _, v := range list {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (n *novaReq) serverIPs(id string, rest []string) {
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := n.visibleServer(id)
	if s == nil {
		return
	}
	addrs := c.serverAddresses(s)
	if len(rest) == 1 {
		v, ok := addrs[rest[0]]
		if !ok {
			novaError(n.w, http.StatusNotFound, "Instance is not a member of specified network")
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{rest[0]: v})
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"addresses": addrs})
}

// ---- server groups ----

func (c *Cloud) groupView(g *serverGroup, mv microversion) map[string]any {
	m := map[string]any{"id": g.ID, "name": g.Name, "members": append([]string{}, g.Members...)}
	if mv >= 64 {
		m["policy"] = g.Policy
		rules := g.Rules
		if rules == nil {
			rules = map[string]any{}
		}
		m["rules"] = rules
	} else {
		m["policies"] = []string{g.Policy}
		m["metadata"] = map[string]any{}
	}
	if mv >= 13 {
		m["project_id"], m["user_id"] = g.ProjectID, g.UserID
	}
	return m
}

var groupPolicies = map[string]bool{"anti-affinity": true, "affinity": true, "soft-anti-affinity": true, "soft-affinity": true}

func (n *novaReq) serverGroups(rest []string) {
	c := n.c
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		c.mu.Lock()
		defer c.mu.Unlock()
		ids := make([]string, 0, len(c.st.groups))
		for id, g := range c.st.groups {
			if g.ProjectID == n.tok.ProjectID {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		out := []any{}
		for _, id := range ids {
			out = append(out, c.groupView(c.st.groups[id], n.mv))
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"server_groups": out})
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		var req struct {
			SG struct {
				Name     string         `json:"name"`
				Policies []string       `json:"policies"`
				Policy   string         `json:"policy"`
				Rules    map[string]any `json:"rules"`
			} `json:"server_group"`
		}
		if err := readJSON(n.r, &req); err != nil || req.SG.Name == "" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server_group. 'name' is a required property")
			return
		}
		policy := req.SG.Policy
		if n.mv < 64 {
			if len(req.SG.Policies) != 1 {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute policies. Value: %v. %v is too long", req.SG.Policies, req.SG.Policies)
				return
			}
			policy = req.SG.Policies[0]
		}
		if !groupPolicies[policy] {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute policy. Value: %s. '%s' is not one of ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']", policy, policy)
			return
		}
		if len(req.SG.Rules) > 0 && policy != "anti-affinity" {
			novaError(n.w, http.StatusBadRequest, "Only anti-affinity policy supports rules.")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		count := 0
		for _, g := range c.st.groups {
			if g.ProjectID == n.tok.ProjectID {
				count++
			}
		}
		if q := c.st.quotas[n.tok.ProjectID]["server_groups"]; count >= q {
			novaError(n.w, http.StatusForbidden, "Quota exceeded, too many server groups.")
			return
		}
		g := &serverGroup{ID: c.newID(), Name: req.SG.Name, ProjectID: n.tok.ProjectID, UserID: n.tok.UserID, Policy: policy, Rules: req.SG.Rules}
		c.st.groups[g.ID] = g
		writeJSON(n.w, http.StatusOK, map[string]any{"server_group": c.groupView(g, n.mv)})
	case len(rest) == 1:
		c.mu.Lock()
		defer c.mu.Unlock()
		g := c.st.groups[rest[0]]
		if g == nil || (g.ProjectID != n.tok.ProjectID && !n.isAdmin()) {
			novaError(n.w, http.StatusNotFound, "Instance group %s could not be found.", rest[0])
			return
		}
		switch n.r.Method {
		case http.MethodGet:
			writeJSON(n.w, http.StatusOK, map[string]any{"server_group": c.groupView(g, n.mv)})
		case http.MethodDelete:
			delete(c.st.groups, g.ID)
			for _, s := range c.st.servers {
				if s.GroupID == g.ID {
					s.GroupID = ""
				}
			}
			n.w.WriteHeader(http.StatusNoContent)
		default:
			n.methodNotAllowed()
		}
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}

// ---- quotas, limits, keypairs, availability zones ----

func (n *novaReq) quotaSets(rest []string) {
	if len(rest) == 0 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	c := n.c
	projectID := rest[0]
	if projectID != n.tok.ProjectID && !n.isAdmin() {
		novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.quotas[projectID]
	if q == nil {
		if c.st.projects[projectID] == nil {
			novaError(n.w, http.StatusBadRequest, "Project ID %s is not a valid project.", projectID)
			return
		}
		q = defaultNovaQuota()
		c.st.quotas[projectID] = q
	}
	view := func(detail bool) map[string]any {
		used := map[string]int{}
		for _, s := range c.st.servers {
			if s.ProjectID == projectID && !s.Deleted {
				used["instances"]++
				if f := c.st.flavors[s.FlavorID]; f != nil {
					used["cores"] += f.VCPUs
					used["ram"] += f.RAM
				}
			}
		}
		for _, g := range c.st.groups {
			if g.ProjectID == projectID {
				used["server_groups"]++
			}
		}
		m := map[string]any{"id": projectID}
		for k, v := range q {
			if detail {
				m[k] = map[string]any{"limit": v, "in_use": used[k], "reserved": 0}
			} else {
				m[k] = v
			}
		}
		return m
	}
	switch {
	case len(rest) == 1 && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(false)})
	case len(rest) == 2 && rest[1] == "detail" && n.r.Method == http.MethodGet:
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(true)})
	case len(rest) == 2 && rest[1] == "defaults" && n.r.Method == http.MethodGet:
		m := map[string]any{"id": projectID}
		for k, v := range defaultNovaQuota() {
			m[k] = v
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": m})
	case len(rest) == 1 && n.r.Method == http.MethodPut:
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
			return
		}
		var req struct {
			QS map[string]any `json:"quota_set"`
		}
		if err := readJSON(n.r, &req); err != nil || req.QS == nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set.")
			return
		}
		for k, v := range req.QS {
			if k == "force" {
				continue
			}
			f, ok := v.(float64)
			if _, known := q[k]; !ok || !known || f < -1 {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute quota_set. Additional properties are not allowed ('%s' was unexpected)", k)
				return
			}
		}
		for k, v := range req.QS {
			if f, ok := v.(float64); ok {
				q[k] = int(f)
			}
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"quota_set": view(false)})
	case len(rest) == 1 && n.r.Method == http.MethodDelete:
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.")
			return
		}
		c.st.quotas[projectID] = defaultNovaQuota()
		n.w.WriteHeader(http.StatusAccepted)
	default:
		n.methodNotAllowed()
	}
}

func (n *novaReq) limits() {
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.st.quotas[n.tok.ProjectID]
	inst, cores, ram := 0, 0, 0
	for _, s := range c.st.servers {
		if s.ProjectID == n.tok.ProjectID && !s.Deleted {
			inst++
			if f := c.st.flavors[s.FlavorID]; f != nil {
				cores += f.VCPUs
				ram += f.RAM
			}
		}
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": map[string]any{
		"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
		"maxServerMeta": q["metadata_items"], "maxTotalKeypairs": q["key_pairs"], "maxServerGroups": q["server_groups"],
		"maxServerGroupMembers": q["server_group_members"], "totalInstancesUsed": inst, "totalCoresUsed": cores, "totalRAMUsed": ram,
	}}})
}

func (n *novaReq) availabilityZones(rest []string) {
	c := n.c
	zone := map[string]any{"zoneName": "nova", "zoneState": map[string]any{"available": true}, "hosts": nil}
	if len(rest) == 1 && rest[0] == "detail" {
		if !n.isAdmin() {
			novaError(n.w, http.StatusForbidden, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
			return
		}
		c.mu.Lock()
		hosts := map[string]any{}
		for _, h := range c.hostNames() {
			hosts[h] = map[string]any{"nova-compute": map[string]any{"available": true, "active": true, "updated_at": isoMicro(time.Now())}}
		}
		c.mu.Unlock()
		zone["hosts"] = hosts
	} else if len(rest) != 0 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"availabilityZoneInfo": []any{zone}})
}

func (n *novaReq) keypairs(rest []string) {
	c := n.c
	userID := n.tok.UserID
	if v := n.r.URL.Query().Get("user_id"); v != "" && n.mv >= 10 && n.isAdmin() {
		userID = v
	}
	view := func(k *keypair, detail bool) map[string]any {
		m := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
		if n.mv >= 2 {
			m["type"] = k.Type
		}
		if detail {
			m["user_id"], m["created_at"], m["deleted"], m["deleted_at"], m["updated_at"], m["id"] = k.UserID, isoMicro(k.Created), false, nil, nil, k.ID
		}
		return m
	}
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		c.mu.Lock()
		defer c.mu.Unlock()
		var names []string
		for key, k := range c.st.keypairs {
			if k.UserID == userID {
				names = append(names, key)
			}
		}
		sort.Strings(names)
		out := []any{}
		for _, key := range names {
			out = append(out, map[string]any{"keypair": view(c.st.keypairs[key], false)})
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"keypairs": out})
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		var req struct {
			KP struct {
				Name      string `json:"name"`
				PublicKey string `json:"public_key"`
				Type      string `json:"type"`
			} `json:"keypair"`
		}
		if err := readJSON(n.r, &req); err != nil || req.KP.Name == "" {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute keypair. 'name' is a required property")
			return
		}
		if req.KP.PublicKey == "" && n.mv >= 92 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute keypair. 'public_key' is a required property")
			return
		}
		typ := req.KP.Type
		if typ == "" {
			typ = "ssh"
		}
		var private string
		pub := req.KP.PublicKey
		if pub == "" {
			var err error
			pub, private, err = generateKeypair(req.KP.Name)
			if err != nil {
				novaError(n.w, http.StatusInternalServerError, "Keypair data is invalid: %v", err)
				return
			}
		} else if !strings.HasPrefix(pub, "ssh-") && !strings.HasPrefix(pub, "ecdsa-") {
			novaError(n.w, http.StatusBadRequest, "Keypair data is invalid: failed to generate fingerprint")
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		key := userID + "/" + req.KP.Name
		if c.st.keypairs[key] != nil {
			novaError(n.w, http.StatusConflict, "Key pair '%s' already exists.", req.KP.Name)
			return
		}
		k := &keypair{Name: req.KP.Name, UserID: userID, PublicKey: pub, Fingerprint: fingerprint(pub), Type: typ, ID: len(c.st.keypairs) + 1, Created: time.Now().UTC()}
		c.st.keypairs[key] = k
		m := view(k, false)
		m["user_id"] = userID
		if private != "" {
			m["private_key"] = private
		}
		status := http.StatusOK
		if n.mv >= 2 {
			status = http.StatusCreated
		}
		writeJSON(n.w, status, map[string]any{"keypair": m})
	case len(rest) == 1:
		c.mu.Lock()
		defer c.mu.Unlock()
		key := userID + "/" + rest[0]
		k := c.st.keypairs[key]
		if k == nil {
			novaError(n.w, http.StatusNotFound, "Keypair %s not found for user %s", rest[0], userID)
			return
		}
		switch n.r.Method {
		case http.MethodGet:
			writeJSON(n.w, http.StatusOK, map[string]any{"keypair": view(k, true)})
		case http.MethodDelete:
			delete(c.st.keypairs, key)
			if n.mv >= 2 {
				n.w.WriteHeader(http.StatusNoContent)
			} else {
				n.w.WriteHeader(http.StatusAccepted)
			}
		default:
			n.methodNotAllowed()
		}
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}
