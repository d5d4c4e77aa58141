package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// setupScale runs the cloud fast while the lab builds what the benchmarks start from (a 60 s
// load balancer create takes 0.12 s): set-up is never measured.
const setupScale = 0.002

// setupPoll is how often set-up waits look at the cloud.
const setupPoll = 10 * time.Millisecond

// Target is what a client needs to work on the lab's pool: credentials (through the
// recording proxy), the load balancer and its pool, the nodes' network, images and flavor.
type Target struct {
	AuthURL  string `json:"auth_url"`
	UserName string `json:"user_name"`
	Password string `json:"password"`
	Project  string `json:"project"`
	Region   string `json:"region"`

	LoadBalancerID string `json:"load_balancer_id"`
	PoolID         string `json:"pool_id"`
	// VIPURL is the load balancer's HTTP listener on 127.0.0.1: the health check URL.
	VIPURL string `json:"vip_url"`
	// NetworkID and SubnetID are the nodes' network: a /21, since the seeded /24 holds too few
	// addresses for 500 nodes.
	NetworkID string `json:"network_id"`
	SubnetID  string `json:"subnet_id"`
	// ImageID is the nodes' image (web01's); NewImageID a second active image, the release a
	// rolling replacement rolls out.
	ImageID    string `json:"image_id"`
	NewImageID string `json:"new_image_id"`
	FlavorID   string `json:"flavor_id"`
	FlavorName string `json:"flavor_name"`
}

// Env is the Target's credentials as the OS_* variables Terraform providers read.
func (t Target) Env() map[string]string {
	return map[string]string{
		"OS_AUTH_URL": t.AuthURL, "OS_USERNAME": t.UserName, "OS_PASSWORD": t.Password,
		"OS_PROJECT_NAME": t.Project, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
		"OS_REGION_NAME": t.Region, "OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3",
	}
}

// client authenticates as the target's user. The configuration is spelled out rather than
// resolved, so that the OS_* variables and clouds.yaml of whoever runs the benchmarks stay out.
func (t Target) client(ctx context.Context, user, password, project string) (*cloud.Client, error) {
	cfg := cloud.Config{AuthURL: t.AuthURL, UserName: user, Password: password, ProjectName: project,
		UserDomainName: "Default", ProjectDomainName: "Default", Region: t.Region}
	c, err := cloud.NewClient(cfg, nil, "eventscale-bench")
	if err != nil {
		return nil, err
	}
	if err := c.Authenticate(ctx); err != nil {
		return nil, fmt.Errorf("authenticating to devcloud as %s: %w", user, err)
	}
	return c, nil
}

// Lab is devcloud in this process, behind the recording proxy, with the timing model set,
// quotas lifted and a load balancer (listener, pool, health monitor, web01 as its one member)
// in front of an empty node network.
type Lab struct {
	DC     *devcloud.Cloud
	Model  Model
	Scale  float64
	Target Target

	rec *recorder
}

// StartLab starts devcloud and sets it up; the model runs at scale (0.05 makes a 30 s build
// take 1.5 s).
func StartLab(ctx context.Context, model Model, scale float64) (*Lab, error) {
	if scale <= 0 {
		return nil, fmt.Errorf("time scale must be positive, got %v", scale)
	}
	dc, err := devcloud.Start(devcloud.Options{TimeScale: setupScale, Seed: true, RandSeed: 1})
	if err != nil {
		return nil, err
	}
	rec, err := startRecorder(dc.URL())
	if err != nil {
		_ = dc.Close()
		return nil, err
	}
	l := &Lab{DC: dc, Model: model, Scale: scale, rec: rec}
	if err := l.setUp(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close stops the proxy and devcloud.
func (l *Lab) Close() {
	l.rec.close()
	_ = l.DC.Close()
}

// Reset puts devcloud back to its seed and sets the lab up again: the fastest way to remove
// hundreds of nodes, since a measured scale-back is not what follows.
func (l *Lab) Reset(ctx context.Context) error {
	l.DC.Reset()
	return l.setUp(ctx)
}

// SetScale changes the time scale for the transitions that start afterwards.
func (l *Lab) SetScale(scale float64) {
	l.Scale = scale
	l.DC.SetTiming(l.Model.Timing(scale))
	l.setCapacity()
}

// setCapacity scales the web nodes' answer time with the model: a health check costs a
// real node about 20 ms, not 20 ms of wall time at any time scale.
func (l *Lab) setCapacity() {
	c := l.DC.Capacity()
	c.BaseLatencyMS = 20 * l.Scale
	_ = l.DC.SetCapacity(c)
}

func (l *Lab) setUp(ctx context.Context) error {
	scale := l.Scale
	l.SetScale(setupScale)
	defer l.SetScale(scale)
	seed := l.DC.Seed()
	env := l.DC.Env()
	t := Target{AuthURL: l.rec.url + "/identity/v3", UserName: env["OS_USERNAME"], Password: env["OS_PASSWORD"],
		Project: env["OS_PROJECT_NAME"], Region: env["OS_REGION_NAME"],
		ImageID: seed.Web01ImageID, FlavorID: seed.Web01FlavorID}
	for name, id := range seed.FlavorIDs {
		if id == seed.Web01FlavorID {
			t.FlavorName = name
		}
	}
	if err := liftQuotas(ctx, t, seed.ProjectID); err != nil {
		return err
	}
	c, err := t.client(ctx, t.UserName, t.Password, t.Project)
	if err != nil {
		return err
	}
	if err := makeNodeNetwork(ctx, c, &t); err != nil {
		return err
	}
	if t.NewImageID, err = makeImage(ctx, c, "bench-web-v2"); err != nil {
		return err
	}
	if err := makeLoadBalancer(ctx, c, &t, seed, l.Model.MonitorDelay); err != nil {
		return err
	}
	for _, v := range l.DC.VIPs() {
		if v.LoadBalancerID == t.LoadBalancerID {
			t.VIPURL = v.URL
		}
	}
	if t.VIPURL == "" {
		return fmt.Errorf("devcloud lists no VIP listener for load balancer %s", t.LoadBalancerID)
	}
	l.Target = t
	return nil
}

// liftQuotas makes room for 500 nodes: Nova's default project quota is 10 instances and
// Neutron's 500 ports.
func liftQuotas(ctx context.Context, t Target, projectID string) error {
	admin, err := t.client(ctx, "admin", t.Password, "admin")
	if err != nil {
		return err
	}
	nova, err := admin.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		return err
	}
	unlimited := -1
	if _, err := quotasets.Update(ctx, nova, projectID, quotasets.UpdateOpts{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}).Extract(); err != nil {
		return fmt.Errorf("lifting the Nova quotas of project demo: %w", err)
	}
	neutron, err := admin.ServiceClient(ctx, cloud.ServiceNetwork)
	if err != nil {
		return err
	}
	if _, err := quotas.Update(ctx, neutron, projectID, quotas.UpdateOpts{Port: &unlimited}).Extract(); err != nil {
		return fmt.Errorf("lifting the Neutron port quota of project demo: %w", err)
	}
	return nil
}

func makeNodeNetwork(ctx context.Context, c *cloud.Client, t *Target) error {
	neutron, err := c.ServiceClient(ctx, cloud.ServiceNetwork)
	if err != nil {
		return err
	}
	net, err := networks.Create(ctx, neutron, networks.CreateOpts{Name: "bench-nodes"}).Extract()
	if err != nil {
		return fmt.Errorf("creating the nodes' network: %w", err)
	}
	sub, err := subnets.Create(ctx, neutron, subnets.CreateOpts{NetworkID: net.ID, Name: "bench-nodes", CIDR: "10.8.0.0/21",
		IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		return fmt.Errorf("creating the nodes' subnet: %w", err)
	}
	t.NetworkID, t.SubnetID = net.ID, sub.ID
	return nil
}

// makeImage uploads a small active image: the new release a rolling replacement rolls out.
func makeImage(ctx context.Context, c *cloud.Client, name string) (string, error) {
	glance, err := c.ServiceClient(ctx, cloud.ServiceImage)
	if err != nil {
		return "", err
	}
	img, err := images.Create(ctx, glance, images.CreateOpts{Name: name, ContainerFormat: "bare", DiskFormat: "qcow2"}).Extract()
	if err != nil {
		return "", fmt.Errorf("creating image %s: %w", name, err)
	}
	if err := imagedata.Upload(ctx, glance, img.ID, strings.NewReader("web node, release 2")).ExtractErr(); err != nil {
		return "", fmt.Errorf("uploading image %s: %w", name, err)
	}
	return img.ID, nil
}

// makeLoadBalancer builds the front door as an operator does before an event: a load
// balancer on the seeded subnet, an HTTP listener, a round-robin pool with an HTTP monitor,
// and web01 as its one member.
func makeLoadBalancer(ctx context.Context, c *cloud.Client, t *Target, seed devcloud.SeedInfo, monitorDelay time.Duration) error {
	sc, err := c.ServiceClient(ctx, cloud.ServiceLoadBalancer)
	if err != nil {
		return err
	}
	poll := cloud.Poll{Interval: setupPoll}
	lb, err := loadbalancers.Create(ctx, sc, loadbalancers.CreateOpts{Name: "bench-front", VipSubnetID: seed.SubnetID}).Extract()
	if err != nil {
		return fmt.Errorf("creating the load balancer: %w", err)
	}
	t.LoadBalancerID = lb.ID
	steps := []func() error{
		func() error {
			_, err := listeners.Create(ctx, sc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
			return err
		},
		func() error {
			lis, err := listeners.List(sc, listeners.ListOpts{LoadbalancerID: lb.ID}).AllPages(ctx)
			if err != nil {
				return err
			}
			all, err := listeners.ExtractListeners(lis)
			if err != nil {
				return err
			}
			if len(all) != 1 {
				return fmt.Errorf("load balancer %s has %d listeners, want the one just created", lb.ID, len(all))
			}
			p, err := pools.Create(ctx, sc, pools.CreateOpts{ListenerID: all[0].ID, Protocol: pools.ProtocolHTTP,
				LBMethod: pools.LBMethodRoundRobin, Name: "bench-web"}).Extract()
			if err == nil {
				t.PoolID = p.ID
			}
			return err
		},
		func() error {
			_, err := monitors.Create(ctx, sc, monitors.CreateOpts{PoolID: t.PoolID, Type: monitors.TypeHTTP,
				Delay: int(monitorDelay.Seconds()), Timeout: 3, MaxRetries: 3, URLPath: "/", ExpectedCodes: "200"}).Extract()
			return err
		},
		func() error {
			_, err := pools.CreateMember(ctx, sc, t.PoolID, pools.CreateMemberOpts{Name: "web01", Address: seed.Web01Address,
				ProtocolPort: 80, SubnetID: seed.SubnetID}).Extract()
			return err
		},
	}
	if _, err := cloud.WaitLoadBalancer(ctx, sc, poll, lb.ID, "ACTIVE"); err != nil {
		return err
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("building the load balancer (step %d of %d): %w", i+1, len(steps), err)
		}
		if _, err := cloud.WaitLoadBalancer(ctx, sc, poll, lb.ID, "ACTIVE"); err != nil {
			return err
		}
	}
	return nil
}

// mark is the lab's counters at one moment; usage tells what happened since.
type mark struct {
	requests map[string]devcloud.RequestCount
	events   int
	arrivals int
}

func metricKey(r devcloud.RequestCount) string {
	return fmt.Sprintf("%s %s %s %d", r.Service, r.Method, r.Path, r.Status)
}

func (l *Lab) mark() mark {
	m := mark{requests: map[string]devcloud.RequestCount{}, events: len(l.DC.Events()), arrivals: l.rec.count()}
	for _, r := range l.DC.Metrics().Requests {
		m.requests[metricKey(r)] = r
	}
	return m
}

// Usage is what a scenario cost the cloud.
type Usage struct {
	// Requests are devcloud's request counts (service, method, path template, status).
	Requests []devcloud.RequestCount
	Calls    int
	// Conflicts counts 409 answers: Octavia's "immutable" while an update cycle runs.
	Conflicts int
	// Cycles counts the load balancer's update cycles (PENDING_UPDATE transitions).
	Cycles int
	// Peak is the most requests that arrived within any 10 model seconds.
	Peak int
	// LastOnline is when the last member added during the scenario was ONLINE: its commit
	// plus one monitor delay (zero when none was added).
	LastOnline time.Time
	// FirstOnline is when the first member added during the scenario was ONLINE: capacity
	// serving (zero when none was added).
	FirstOnline time.Time
	// LastDeleted is when the last server deleted during the scenario was gone.
	LastDeleted time.Time
}

// ByServiceMethod sums the requests per "service METHOD", most first.
func (u Usage) ByServiceMethod() []Count {
	sums := map[string]int{}
	for _, r := range u.Requests {
		sums[r.Service+" "+r.Method] += int(r.Count)
	}
	return sortedCounts(sums)
}

// ByRoute sums the requests per "service METHOD path", most first.
func (u Usage) ByRoute() []Count {
	sums := map[string]int{}
	for _, r := range u.Requests {
		k := r.Service + " " + r.Method + " " + r.Path
		if r.Status >= 400 || r.Status == 0 {
			k += fmt.Sprintf(" (%d)", r.Status)
		}
		sums[k] += int(r.Count)
	}
	return sortedCounts(sums)
}

// Count is one line of a breakdown.
type Count struct {
	Key string
	N   int
}

func sortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func (l *Lab) usage(since mark) Usage {
	var u Usage
	for _, r := range l.DC.Metrics().Requests {
		n := r.Count - since.requests[metricKey(r)].Count
		if n <= 0 {
			continue
		}
		r.Count = n
		u.Requests = append(u.Requests, r)
		u.Calls += int(n)
		if r.Status == 409 {
			u.Conflicts += int(n)
		}
	}
	health := time.Duration(float64(l.Model.MonitorDelay) * l.Scale)
	for _, e := range l.DC.Events()[since.events:] {
		switch e.Kind {
		case "lb.status":
			if e.Attrs["lb_id"] == l.Target.LoadBalancerID && e.Attrs["provisioning_status"] == "PENDING_UPDATE" {
				u.Cycles++
			}
		case "member.added":
			if e.Attrs["lb_id"] != l.Target.LoadBalancerID {
				break
			}
			online := e.Time.Add(health)
			if online.After(u.LastOnline) {
				u.LastOnline = online
			}
			if u.FirstOnline.IsZero() || online.Before(u.FirstOnline) {
				u.FirstOnline = online
			}
		case "server.deleted":
			if e.Time.After(u.LastDeleted) {
				u.LastDeleted = e.Time
			}
		}
	}
	u.Peak = peakIn(l.rec.since(since.arrivals), time.Duration(float64(10*time.Second)*l.Scale))
	return u
}

// firstServing is the model time from start until the first member added was ONLINE, zero
// when none was added.
func (l *Lab) firstServing(u Usage, start time.Time) time.Duration {
	if u.FirstOnline.IsZero() {
		return 0
	}
	return l.modelTime(u.FirstOnline.Sub(start))
}

// modelTime converts a wall-clock span of the lab into model time.
func (l *Lab) modelTime(wall time.Duration) time.Duration {
	return time.Duration(float64(wall) / l.Scale)
}
