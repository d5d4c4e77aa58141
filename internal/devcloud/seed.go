package devcloud

import (
	"net/netip"
	"time"
)

// SeedInfo names the seeded objects (all in project demo unless said otherwise).
type SeedInfo struct {
	ProjectID      string `json:"project_id"`
	AdminProjectID string `json:"admin_project_id"`
	DemoUserID     string `json:"demo_user_id"`
	AdminUserID    string `json:"admin_user_id"`
	// OctaviaUserID is Octavia's service user (project service), which TERMINATED_HTTPS
	// listeners add to the read ACL of their Barbican containers and secrets.
	OctaviaUserID string `json:"octavia_user_id"`

	AppCredentialID     string `json:"application_credential_id"`
	AppCredentialName   string `json:"application_credential_name"`
	AppCredentialSecret string `json:"application_credential_secret"`

	FlavorIDs          map[string]string `json:"flavor_ids"` // by name: m1.tiny, m1.small, m1.medium
	NetworkID          string            `json:"network_id"` // "private"
	SubnetID           string            `json:"subnet_id"`  // 10.0.0.0/24
	SecurityGroupID    string            `json:"security_group_id"`
	BaseImageID        string            `json:"base_image_id"` // "ubuntu-22.04", active
	Web01ServerID      string            `json:"web01_server_id"`
	Web01Address       string            `json:"web01_address"`
	Web01ImageID       string            `json:"web01_image_id"`
	Web01FlavorID      string            `json:"web01_flavor_id"`
	DB01ID             string            `json:"db01_id"`
	DB01Address        string            `json:"db01_address"`
	DatastoreID        string            `json:"datastore_id"`
	DatastoreVersionID string            `json:"datastore_version_id"`

	// The external network "public" (project admin, router:external) with its subnet
	// 203.0.113.0/24, and the demo project's "router1" joining private-subnet to it, as
	// DevStack sets them up: floating IPs come from public and reach the private network.
	PublicNetworkID string `json:"public_network_id"`
	PublicSubnetID  string `json:"public_subnet_id"`
	RouterID        string `json:"router_id"`
}

// Seed returns the ids of the seeded objects; they are the same after Reset.
func (c *Cloud) Seed() SeedInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st.seed
	s.FlavorIDs = map[string]string{}
	for k, v := range c.st.seed.FlavorIDs {
		s.FlavorIDs[k] = v
	}
	return s
}

// seedResources creates the demo project's objects. Callers hold c.mu.
func (c *Cloud) seedResources() {
	st := c.st
	demo := st.seed.ProjectID
	now := time.Now().UTC()
	st.seed.FlavorIDs = map[string]string{}
	// Ids 1, 2, 3 as on the lab cloud, so that tests can use the same flavorRef on both.
	for i, f := range []flavor{{Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1}, {Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20}, {Name: "m1.medium", VCPUs: 2, RAM: 4096, Disk: 40}} {
		f.ID = string(rune('1' + i))
		st.flavors[f.ID] = &f
		st.flavorOrder = append(st.flavorOrder, f.ID)
		st.seed.FlavorIDs[f.Name] = f.ID
	}
	c.ensureDefaultSecGroup(demo)
	st.seed.SecurityGroupID = c.findSecGroup(demo, "default").ID

	net := &network{ID: c.newID(), Name: "private", ProjectID: demo, AdminUp: true, MTU: 1450, Created: now, Updated: now}
	st.networks[net.ID] = net
	st.networkOrder = append(st.networkOrder, net.ID)
	sub, _ := c.addSubnetLocked(demo, net, "private-subnet", netip.MustParsePrefix("10.0.0.0/24"))
	st.seed.NetworkID, st.seed.SubnetID = net.ID, sub.ID

	img := &image{ID: c.newID(), Name: "ubuntu-22.04", Status: "active", Visibility: "public", Owner: st.seed.AdminProjectID,
		ContainerFormat: "bare", DiskFormat: "qcow2", MinDisk: 1, Size: 660 << 20, Checksum: "9f8c5a2b3d4e5f60718293a4b5c6d7e8",
		Properties: map[string]any{"os_distro": "ubuntu", "os_version": "22.04", "hw_disk_bus": "virtio"}, Tags: []string{}, Created: now, Updated: now}
	st.images[img.ID] = img
	st.imageOrder = append(st.imageOrder, img.ID)
	st.seed.BaseImageID = img.ID

	du := st.users[st.seed.DemoUserID]
	web := &server{ID: c.newID(), Name: "web01", ProjectID: demo, UserID: du.ID, ImageID: img.ID, FlavorID: "2",
		SecurityGroups: []string{"default"}, AZ: "nova", Metadata: map[string]string{"role": "web"}, Tags: []string{},
		Status: "ACTIVE", VMState: "active", PowerState: 1, Created: now, Updated: now, LaunchedAt: now,
		AdminPass: "", OwnedPorts: map[string]bool{}, ShowAddrs: true}
	web.Host = c.pickHost(web)
	p, _ := c.allocatePortLocked(demo, net.ID, sub.ID, "", "")
	p.DeviceID, p.DeviceOwner = web.ID, "compute:nova"
	web.Ports, web.OwnedPorts[p.ID] = []string{p.ID}, true
	web.NodeAddress = p.FixedIPs[0].Address.String()
	st.servers[web.ID] = web
	st.serverOrder = append(st.serverOrder, web.ID)
	st.seed.Web01ServerID, st.seed.Web01Address, st.seed.Web01ImageID, st.seed.Web01FlavorID = web.ID, web.NodeAddress, img.ID, web.FlavorID

	ds := &datastore{ID: c.newID(), Name: "mysql"}
	v := datastoreVersion{ID: c.newID(), Name: "8.0"}
	ds.Versions, ds.Default = []datastoreVersion{v}, v.ID
	st.datastores[ds.ID] = ds
	st.seed.DatastoreID, st.seed.DatastoreVersionID = ds.ID, v.ID

	db := &dbInstance{ID: c.newID(), Name: "db01", ProjectID: demo, FlavorID: "2", VolumeSize: 10, Datastore: "mysql", Version: "8.0",
		Status: "ACTIVE", Created: now, Updated: now}
	dp, _ := c.allocatePortLocked(demo, net.ID, sub.ID, "trove-"+db.ID, "")
	dp.DeviceID, dp.DeviceOwner = db.ID, "compute:nova"
	db.PortID, db.Address = dp.ID, dp.FixedIPs[0].Address.String()
	st.dbs[db.ID] = db
	st.dbOrder = append(st.dbOrder, db.ID)
	st.seed.DB01ID, st.seed.DB01Address = db.ID, db.Address

	c.seedExternalNetwork(sub)
}

// seedExternalNetwork creates "public" and "router1". It comes after the servers so that
// their addresses do not depend on it. Callers hold c.mu.
func (c *Cloud) seedExternalNetwork(private *subnet) {
	st := c.st
	now := time.Now().UTC()
	pub := &network{ID: c.newID(), Name: "public", ProjectID: st.seed.AdminProjectID, AdminUp: true, MTU: 1500, External: true,
		Tags: []string{}, Created: now, Updated: now}
	st.networks[pub.ID] = pub
	st.networkOrder = append(st.networkOrder, pub.ID)
	pubSub, _ := c.addSubnetLocked(pub.ProjectID, pub, "public-subnet", netip.MustParsePrefix("203.0.113.0/24"))
	pubSub.EnableDHCP = false
	rt := &router{ID: c.newID(), Name: "router1", ProjectID: st.seed.ProjectID, AdminUp: true, Tags: []string{}, Created: now, Updated: now}
	st.routers[rt.ID] = rt
	st.routerOrder = append(st.routerOrder, rt.ID)
	_ = c.setRouterGateway(rt, map[string]any{"network_id": pub.ID})
	if p, err := c.allocatePortLocked(rt.ProjectID, private.NetworkID, private.ID, "", private.Gateway.String()); err == nil {
		p.DeviceID, p.DeviceOwner = rt.ID, "network:router_interface"
	}
	st.seed.PublicNetworkID, st.seed.PublicSubnetID, st.seed.RouterID = pub.ID, pubSub.ID, rt.ID
}

// seedDataPlane registers web nodes for the seeded ACTIVE servers.
func (c *Cloud) seedDataPlane() {
	c.mu.Lock()
	var ups []func()
	for _, id := range c.st.serverOrder {
		s := c.st.servers[id]
		if s.Status == "ACTIVE" && s.NodeAddress != "" {
			addr, vcpus, capacity := s.NodeAddress, c.st.flavors[s.FlavorID].VCPUs, c.st.capacity
			sid := s.ID
			ups = append(ups, func() { c.dp.nodeUp(sid, addr, vcpus, capacity) })
		}
	}
	c.mu.Unlock()
	for _, f := range ups {
		f()
	}
}
