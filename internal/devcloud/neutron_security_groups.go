package devcloud

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

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
