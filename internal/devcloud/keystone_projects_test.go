package devcloud

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack"
)

// The openstack CLI reads the project before its quota commands; Keystone lets a member read
// its own project only, as on the lab.
func TestKeystone_ProjectShowIsOwnForMembersAndListIsAdminOnly(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	demo, err := openstack.NewIdentityV3(provider(t, demoAuth(c)), eo)
	if err != nil {
		t.Fatal(err)
	}
	own := wireCall(t, demo, "GET", demo.ServiceURL("projects", s.ProjectID), nil).object(t, "project")
	if own["id"] != s.ProjectID || own["name"] != "demo" || own["domain_id"] != "default" || own["enabled"] != true || own["is_domain"] != false {
		t.Fatalf("own project = %+v", own)
	}
	wireCall(t, demo, "GET", demo.ServiceURL("projects", s.AdminProjectID), nil).
		fault(t, 403, "error", "You are not authorized to perform the requested action: identity:get_project.")
	wireCall(t, demo, "GET", demo.ServiceURL("projects")+"?name=demo", nil).
		fault(t, 403, "error", "You are not authorized to perform the requested action: identity:list_projects.")
	admin, err := openstack.NewIdentityV3(provider(t, adminAuth(c)), eo)
	if err != nil {
		t.Fatal(err)
	}
	list := wireCall(t, admin, "GET", admin.ServiceURL("projects")+"?name=demo", nil).list(t, "projects")
	if len(list) != 1 || list[0].(map[string]any)["id"] != s.ProjectID {
		t.Fatalf("admin's list by name = %+v", list)
	}
	wireCall(t, admin, "GET", admin.ServiceURL("projects", "nonexist"), nil).fault(t, 404, "error", "Could not find project: nonexist.")
}
