package devcloud

import (
	"net/http"
	"sort"
	"strings"
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

// ensureDefaultSecGroup creates the project's "default" group, as Neutron does on first use,
// with Neutron's four rules: all egress, and ingress from members of the group, for IPv4 and
// IPv6.
func (c *Cloud) ensureDefaultSecGroup(project string) {
	if c.findSecGroup(project, "default") != nil {
		return
	}
	now := time.Now().UTC()
	sg := &secGroup{ID: c.newID(), Name: "default", ProjectID: project, Description: "Default security group",
		Created: now, Updated: now, Stateful: true, Tags: []string{}, Revision: 1}
	c.st.secGroups[sg.ID] = sg
	for _, ether := range []string{"IPv4", "IPv6"} {
		c.addSGRuleLocked(&secGroupRule{GroupID: sg.ID, ProjectID: project, Direction: "egress", Ethertype: ether})
		c.addSGRuleLocked(&secGroupRule{GroupID: sg.ID, ProjectID: project, Direction: "ingress", Ethertype: ether, RemoteGroupID: sg.ID})
	}
}

func (c *Cloud) createSecGroup(project string, body map[string]any) (map[string]any, *neutronErr) {
	if _, ok := body["tags"]; ok {
		return nil, nErr(http.StatusBadRequest, "HTTPBadRequest", "Attribute 'tags' not allowed in POST")
	}
	name, _ := body["name"].(string)
	if strings.EqualFold(name, "default") {
		c.ensureDefaultSecGroup(project)
		return nil, nErr(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	now := time.Now().UTC()
	sg := &secGroup{ID: c.newID(), Name: name, ProjectID: project, Created: now, Updated: now, Stateful: true, Tags: []string{}, Revision: 1}
	sg.Description, _ = body["description"].(string)
	if v, ok := body["stateful"].(bool); ok {
		sg.Stateful = v
	}
	c.st.secGroups[sg.ID] = sg
	// A new group allows all egress, nothing else.
	for _, ether := range []string{"IPv4", "IPv6"} {
		c.addSGRuleLocked(&secGroupRule{GroupID: sg.ID, ProjectID: project, Direction: "egress", Ethertype: ether})
	}
	return c.secGroupView(sg), nil
}

func (c *Cloud) updateSecGroup(project, id string, body map[string]any) (map[string]any, *neutronErr) {
	sg := c.st.secGroups[id]
	if name, ok := body["name"].(string); ok {
		if sg.Name == "default" {
			return nil, nErr(http.StatusConflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
		}
		if strings.EqualFold(name, "default") {
			return nil, nErr(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
		}
		sg.Name = name
	}
	if v, ok := body["description"].(string); ok {
		sg.Description = v
	}
	if v, ok := body["stateful"].(bool); ok {
		sg.Stateful = v
	}
	sg.Updated, sg.Revision = time.Now().UTC(), sg.Revision+1
	return c.secGroupView(sg), nil
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
	for rid, rule := range c.st.sgRules {
		if rule.GroupID == id {
			delete(c.st.sgRules, rid)
		}
	}
	delete(c.st.secGroups, id)
	return nil
}

func (c *Cloud) secGroupView(sg *secGroup) map[string]any {
	rules := []any{}
	for _, rule := range c.groupRules(sg.ID) {
		v := c.sgRuleView(rule)
		// Rules embedded in their group carry the tag attribute too.
		v["tags"] = []string{}
		rules = append(rules, v)
	}
	return map[string]any{"id": sg.ID, "name": sg.Name, "description": sg.Description, "tenant_id": sg.ProjectID,
		"project_id": sg.ProjectID, "security_group_rules": rules, "stateful": sg.Stateful, "shared": false,
		"tags": append([]string{}, sg.Tags...), "created_at": neutronTime(sg.Created), "updated_at": neutronTime(sg.Updated),
		"revision_number": sg.Revision}
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
		out = append(out, c.secGroupView(sg))
	}
	return out
}
