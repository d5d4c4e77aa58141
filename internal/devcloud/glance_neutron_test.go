package devcloud

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

func listImages(t *testing.T, ic *gophercloud.ServiceClient, opts images.ListOpts) []images.Image {
	t.Helper()
	pages, err := images.List(ic, opts).AllPages(testCtx(t))
	if err != nil {
		t.Fatalf("list images %+v: %v", opts, err)
	}
	list, _ := images.ExtractImages(pages)
	return list
}

func TestGlance_SeedImageListFiltersPatchAndDelete(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	ic := imageClient(t, pc)
	ctx := testCtx(t)
	list := listImages(t, ic, images.ListOpts{Name: "ubuntu-22.04"})
	if len(list) != 1 || list[0].Status != images.ImageStatusActive || list[0].Visibility != images.ImageVisibilityPublic {
		t.Fatalf("seed image = %+v", list)
	}
	own, err := images.Create(ctx, ic, images.CreateOpts{Name: "mine", Tags: []string{"golden"}, Visibility: ptrVis(images.ImageVisibilityPrivate),
		ContainerFormat: "bare", DiskFormat: "qcow2"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got := listImages(t, ic, images.ListOpts{Tags: []string{"golden"}}); len(got) != 1 || got[0].ID != own.ID {
		t.Fatalf("tag filter: %+v", got)
	}
	if got := listImages(t, ic, images.ListOpts{Status: images.ImageStatusQueued}); len(got) != 1 {
		t.Fatalf("status filter: %+v", got)
	}
	if got := listImages(t, ic, images.ListOpts{Visibility: images.ImageVisibilityPrivate}); len(got) != 1 || got[0].Name != "mine" {
		t.Fatalf("visibility filter: %+v", got)
	}
	if got := listImages(t, ic, images.ListOpts{Limit: 1}); len(got) != 2 {
		t.Fatalf("paged list = %d images, want 2", len(got))
	}
	upd, err := images.Update(ctx, ic, own.ID, images.UpdateOpts{
		images.UpdateImageProperty{Op: images.AddOp, Name: "eventscale_pool", Value: "web"},
		images.ReplaceImageName{NewName: "mine-v2"},
	}).Extract()
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if upd.Name != "mine-v2" || upd.Properties["eventscale_pool"] != "web" {
		t.Fatalf("patched image = %+v", upd)
	}
	upd, err = images.Update(ctx, ic, own.ID, images.UpdateOpts{images.UpdateImageProperty{Op: images.RemoveOp, Name: "eventscale_pool"}}).Extract()
	if err != nil || upd.Properties["eventscale_pool"] != nil {
		t.Fatalf("remove property: %+v, %v", upd, err)
	}
	if err := images.Delete(ctx, ic, own.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = images.Get(ctx, ic, own.ID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted image: %v, want 404", err)
	}
	// Another project cannot delete the public seed image.
	err = images.Delete(ctx, ic, c.Seed().BaseImageID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("deleting admin's public image as demo: %v, want 403", err)
	}
}

func ptrVis(v images.ImageVisibility) *images.ImageVisibility { return &v }

func TestNeutron_PortsFromSubnetPoolWithFiltersAndServerBinding(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	nc := networkClient(t, pc)
	ctx := testCtx(t)
	s := c.Seed()
	pages, err := networks.List(nc, networks.ListOpts{Name: "private"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nets, _ := networks.ExtractNetworks(pages)
	if len(nets) != 1 || nets[0].ID != s.NetworkID || len(nets[0].Subnets) != 1 {
		t.Fatalf("networks = %+v", nets)
	}
	sub, err := subnets.Get(ctx, nc, s.SubnetID).Extract()
	if err != nil || sub.CIDR != "10.0.0.0/24" || sub.GatewayIP != "10.0.0.1" || len(sub.AllocationPools) != 1 || sub.AllocationPools[0].Start != "10.0.0.2" {
		t.Fatalf("subnet = %+v, %v", sub, err)
	}
	p, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: s.NetworkID, Name: "vip"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.FixedIPs) != 1 || p.FixedIPs[0].SubnetID != s.SubnetID || !strings.HasPrefix(p.FixedIPs[0].IPAddress, "10.0.0.") {
		t.Fatalf("port = %+v", p)
	}
	for _, taken := range []string{s.Web01Address, s.DB01Address} {
		if p.FixedIPs[0].IPAddress == taken {
			t.Fatalf("port got %s, already used", taken)
		}
	}
	pages, _ = ports.List(nc, ports.ListOpts{DeviceID: s.Web01ServerID}).AllPages(ctx)
	byDevice, _ := ports.ExtractPorts(pages)
	if len(byDevice) != 1 || byDevice[0].DeviceOwner != "compute:nova" || byDevice[0].FixedIPs[0].IPAddress != s.Web01Address {
		t.Fatalf("web01 port = %+v", byDevice)
	}
	pages, _ = ports.List(nc, ports.ListOpts{FixedIPs: []ports.FixedIPOpts{{IPAddress: p.FixedIPs[0].IPAddress}}}).AllPages(ctx)
	byIP, _ := ports.ExtractPorts(pages)
	if len(byIP) != 1 || byIP[0].ID != p.ID {
		t.Fatalf("fixed_ips filter = %+v", byIP)
	}
	// A server booted on a pre-made port takes its address, and the port is unbound (not deleted) on server delete.
	cc := computeClient(t, pc, "2.79")
	srv := createServer(t, c, cc, "on-port", func(o *servers.CreateOpts) { o.Networks = []servers.Network{{Port: p.ID}} }, nil)
	got := waitStatus(t, cc, srv.ID, "ACTIVE")
	if addr := got.Addresses["private"].([]any)[0].(map[string]any)["addr"]; addr != p.FixedIPs[0].IPAddress {
		t.Fatalf("server on port got %v, want %s", addr, p.FixedIPs[0].IPAddress)
	}
	bound, _ := ports.Get(ctx, nc, p.ID).Extract()
	if bound.DeviceID != srv.ID || bound.Status != "ACTIVE" {
		t.Fatalf("bound port = %+v", bound)
	}
	if err := servers.Delete(ctx, cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5e9, "port unbound", func() bool {
		p2, err := ports.Get(ctx, nc, p.ID).Extract()
		return err == nil && p2.DeviceID == ""
	})
	if err := ports.Delete(ctx, nc, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = ports.Get(ctx, nc, p.ID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted port: %v, want 404", err)
	}
	pages, err = groups.List(nc, groups.ListOpts{Name: "default"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sgs, _ := groups.ExtractGroups(pages)
	if len(sgs) != 1 || sgs[0].ID != s.SecurityGroupID {
		t.Fatalf("security groups = %+v", sgs)
	}
}

func TestNeutron_NetworkAndSubnetCreateAndDeleteInUse(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: "lb-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sn, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "192.168.5.0/28", IPVersion: gophercloud.IPv4,
		AllocationPools: []subnets.AllocationPool{{Start: "192.168.5.10", End: "192.168.5.11"}}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	p2, _ := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	if p1 == nil || p2 == nil || p1.FixedIPs[0].IPAddress != "192.168.5.10" || p2.FixedIPs[0].IPAddress != "192.168.5.11" {
		t.Fatalf("ports = %+v %+v", p1, p2)
	}
	_, err = ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("exhausted pool: %v, want 409", err)
	}
	err = networks.Delete(ctx, nc, n.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("network with ports: %v, want 409", err)
	}
	_ = ports.Delete(ctx, nc, p1.ID).ExtractErr()
	_ = ports.Delete(ctx, nc, p2.ID).ExtractErr()
	if err := subnets.Delete(ctx, nc, sn.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := networks.Delete(ctx, nc, n.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

func TestGlance_UploadMakesQueuedImageActive(t *testing.T) {
	c := startCloud(t)
	ic := imageClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: "raw", ContainerFormat: "bare", DiskFormat: "raw"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, ic, img.ID, strings.NewReader("0123456789")).ExtractErr(); err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, err := images.Get(ctx, ic, img.ID).Extract()
	if err != nil || got.Status != images.ImageStatusActive || got.SizeBytes != 10 || got.Checksum != "781e5e245d69b566979b86e28d23f2c7" {
		t.Fatalf("uploaded image = %+v, %v", got, err)
	}
	err = imagedata.Upload(ctx, ic, img.ID, strings.NewReader("again")).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("second upload: %v, want 409", err)
	}
}

func TestNeutron_RoutersAndSecurityGroupsLifecycle(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	ctx := testCtx(t)
	s := c.Seed()
	rt, err := routers.Create(ctx, nc, routers.CreateOpts{Name: "r"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// The seeded router1 holds private-subnet's gateway address: this router gets a subnet of
	// its own.
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: "routed"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.7.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	info, err := routers.AddInterface(ctx, nc, rt.ID, routers.AddInterfaceOpts{SubnetID: sub.ID}).Extract()
	if err != nil {
		t.Fatalf("add interface: %v", err)
	}
	gw, _ := ports.Get(ctx, nc, info.PortID).Extract()
	if gw == nil || gw.FixedIPs[0].IPAddress != "10.7.0.1" || gw.DeviceOwner != "network:router_interface" {
		t.Fatalf("router port = %+v", gw)
	}
	if err := routers.Delete(ctx, nc, rt.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("delete router with interface: %v, want 409", err)
	}
	if _, err := routers.RemoveInterface(ctx, nc, rt.ID, routers.RemoveInterfaceOpts{SubnetID: sub.ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := routers.Delete(ctx, nc, rt.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	sg, err := groups.Create(ctx, nc, groups.CreateOpts{Name: "web"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Delete(ctx, nc, sg.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := groups.Delete(ctx, nc, s.SecurityGroupID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("deleting the default group: %v, want 409", err)
	}
}

func TestNeutron_QuotaShowsDefaultsAndUsage(t *testing.T) {
	c := startCloud(t)
	nc := networkClient(t, provider(t, demoAuth(c)))
	q, err := quotas.GetDetail(testCtx(t), nc, c.Seed().ProjectID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// web01's and db01's ports and router1's interface; router1's gateway port has no project.
	if q.Port.Limit != 500 || q.Port.Used != 3 || q.Network.Used != 1 || q.Router.Used != 1 ||
		q.SecurityGroup.Used != 1 || q.SecurityGroupRule.Used != 4 || q.FloatingIP.Limit != 50 {
		t.Fatalf("quota detail = %+v", q)
	}
}
