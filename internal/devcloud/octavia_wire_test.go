package devcloud

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func waitLBActive(t *testing.T, lc *gophercloud.ServiceClient, id string) {
	t.Helper()
	eventually(t, 10*time.Second, "load balancer "+id+" ACTIVE", func() bool {
		lb, err := loadbalancers.Get(testCtx(t), lc, id).Extract()
		if err != nil {
			t.Fatalf("get lb: %v", err)
		}
		return lb.ProvisioningStatus == "ACTIVE"
	})
}

func TestOctavia_LoadBalancerOnSeedSubnetServesWeb01ThroughRealVIP(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	lc, err := openstack.NewLoadBalancerV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	s := c.Seed()
	lb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "web", VipSubnetID: s.SubnetID}).Extract()
	if err != nil {
		t.Fatalf("create lb: %v (%s)", err, errBody(err))
	}
	if !strings.HasPrefix(lb.VipAddress, "10.0.0.") || lb.ProjectID != s.ProjectID {
		t.Fatalf("lb = %+v", lb)
	}
	vip, err := ports.Get(ctx, networkClient(t, pc), lb.VipPortID).Extract()
	if err != nil || vip.DeviceOwner != "Octavia" || vip.DeviceID != "lb-"+lb.ID {
		t.Fatalf("VIP port = %+v, %v", vip, err)
	}
	waitLBActive(t, lc, lb.ID)
	l, err := listeners.Create(ctx, lc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	p, err := pools.Create(ctx, lc, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	if _, err := pools.CreateMember(ctx, lc, p.ID, pools.CreateMemberOpts{Address: s.Web01Address, ProtocolPort: 80, SubnetID: s.SubnetID}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitLBActive(t, lc, lb.ID)
	var vips struct {
		VIPs []struct{ LoadBalancerID, ListenerID, VIPAddress, URL string } `json:"vips"`
	}
	control(t, c, "GET", "/vips", nil, &vips)
	if len(vips.VIPs) != 1 || vips.VIPs[0].LoadBalancerID != lb.ID || !strings.HasPrefix(vips.VIPs[0].URL, "http://127.0.0.1:") {
		t.Fatalf("vips = %+v", vips)
	}
	resp, err := http.Get(vips.VIPs[0].URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET through the VIP = %d %s", resp.StatusCode, body)
	}
	var doc struct {
		Events        []Event `json:"events"`
		MemberTraffic []struct {
			Address string
			Served  int64
		} `json:"member_traffic"`
	}
	control(t, c, "GET", "/events", nil, &doc)
	if len(doc.MemberTraffic) != 1 || doc.MemberTraffic[0].Address != s.Web01Address || doc.MemberTraffic[0].Served != 1 {
		t.Fatalf("member traffic = %+v", doc.MemberTraffic)
	}
	if len(kindsOf(doc.Events, "member.added")) != 1 || len(kindsOf(doc.Events, "lb.status")) == 0 {
		t.Fatalf("events = %v", kindsOf(doc.Events, ""))
	}
	if c.Metrics().ByService["load-balancer"] == 0 {
		t.Fatal("load-balancer requests not counted")
	}
}
