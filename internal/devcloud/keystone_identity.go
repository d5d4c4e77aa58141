package devcloud

import (
	"crypto/sha256"
	"encoding/hex"
)

func (c *Cloud) seedIdentity() {
	st := c.st
	st.domains[defaultDomainID] = &domain{ID: defaultDomainID, Name: "Default"}
	for _, name := range []string{"admin", "member", "reader", "load-balancer_member"} {
		st.roles[c.newHexID()] = name
	}
	demo := &project{ID: c.newHexID(), Name: "demo", DomainID: defaultDomainID}
	admin := &project{ID: c.newHexID(), Name: "admin", DomainID: defaultDomainID}
	st.projects[demo.ID], st.projects[admin.ID] = demo, admin
	du := &user{ID: c.newHexID(), Name: "demo", DomainID: defaultDomainID, Password: "secret", DefaultProjectID: demo.ID,
		Roles: map[string][]string{demo.ID: {"member", "reader", "load-balancer_member", "creator"}}}
	au := &user{ID: c.newHexID(), Name: "admin", DomainID: defaultDomainID, Password: "secret", DefaultProjectID: admin.ID,
		Roles: map[string][]string{admin.ID: {"admin", "member", "reader"}}}
	st.users[du.ID], st.users[au.ID] = du, au
	st.appCreds[DemoAppCredentialID] = &appCred{ID: DemoAppCredentialID, Name: DemoAppCredentialName, Secret: DemoAppCredentialSecret,
		Description: "seeded by devcloud", UserID: du.ID, ProjectID: demo.ID, Roles: []string{"member", "load-balancer_member"}}
	st.seed.ProjectID, st.seed.AdminProjectID = demo.ID, admin.ID
	st.seed.DemoUserID, st.seed.AdminUserID = du.ID, au.ID
	st.seed.AppCredentialID, st.seed.AppCredentialName, st.seed.AppCredentialSecret = DemoAppCredentialID, DemoAppCredentialName, DemoAppCredentialSecret
	c.seedServiceUsers()
	for _, p := range []*project{demo, admin} {
		st.quotas[p.ID] = defaultNovaQuota()
	}
}

// seedServiceUsers adds what Barbican and Octavia need: the legacy Barbican role creator
// (which lets demo store secrets, as on the lab) and Octavia's service user, which reads
// certificate containers through the read ACL the Octavia API grants it. Their ids are fixed
// rather than drawn from c.rng, so that every other seeded id stays what it was.
func (c *Cloud) seedServiceUsers() {
	st := c.st
	for _, name := range []string{"creator", "service"} {
		st.roles[fixedHexID("role/"+name)] = name
	}
	service := &project{ID: fixedHexID("project/service"), Name: "service", DomainID: defaultDomainID}
	st.projects[service.ID] = service
	octavia := &user{ID: fixedHexID("user/octavia"), Name: "octavia", DomainID: defaultDomainID, Password: "secret",
		DefaultProjectID: service.ID, Roles: map[string][]string{service.ID: {"service", "admin"}}}
	st.users[octavia.ID] = octavia
	st.seed.OctaviaUserID = octavia.ID
}

// fixedHexID is a Keystone-shaped id that depends only on name.
func fixedHexID(name string) string {
	sum := sha256.Sum256([]byte("devcloud/" + name))
	return hex.EncodeToString(sum[:16])
}

func (c *Cloud) roleID(name string) string {
	for id, n := range c.st.roles {
		if n == name {
			return id
		}
	}
	return ""
}

type idName struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Domain *idName `json:"domain"`
}

func (c *Cloud) findDomain(ref *idName) *domain {
	if ref == nil {
		return nil
	}
	if ref.ID != "" {
		return c.st.domains[ref.ID]
	}
	for _, d := range c.st.domains {
		if d.Name == ref.Name {
			return d
		}
	}
	return nil
}

func (c *Cloud) findUser(ref idName) *user {
	if ref.ID != "" {
		return c.st.users[ref.ID]
	}
	d := c.findDomain(ref.Domain)
	if d == nil {
		return nil
	}
	for _, u := range c.st.users {
		if u.Name == ref.Name && u.DomainID == d.ID {
			return u
		}
	}
	return nil
}

func (c *Cloud) findProject(ref *idName) *project {
	if ref.ID != "" {
		return c.st.projects[ref.ID]
	}
	d := c.findDomain(ref.Domain)
	if d == nil {
		return nil
	}
	for _, p := range c.st.projects {
		if p.Name == ref.Name && p.DomainID == d.ID {
			return p
		}
	}
	return nil
}

func toIDName(m map[string]any) *idName {
	out := &idName{}
	out.ID, _ = m["id"].(string)
	out.Name, _ = m["name"].(string)
	if d, ok := m["domain"].(map[string]any); ok {
		out.Domain = toIDName(d)
	}
	return out
}
