package provider

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// foreignObjects are a server and a pool member another team made by hand in the project and
// pool a web pool uses.
type foreignObjects struct {
	target   accTarget
	poolID   string
	lbID     string
	serverID string
	memberID string
	// server and member are what the cloud said right after they were made.
	server foreignServer
	member foreignMember
}

// foreignServer is what must not change about the foreign server.
type foreignServer struct {
	ID, Name, Status string
	Metadata         map[string]string
	Tags             []string
}

// foreignMember is what must not change about the foreign member.
type foreignMember struct {
	ID, Name, Address string
	ProtocolPort      int
	Weight            int
	AdminStateUp      bool
	Backup            bool
	Tags              []string
}

func (f *foreignObjects) compute(ctx context.Context) (*gophercloud.ServiceClient, error) {
	sc, err := f.target.Client.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		return nil, err
	}
	sc.Microversion = cloud.NovaMicroversion // tags at create time and in the server body
	return sc, nil
}

// create boots the foreign server with gophercloud, waits for it, and adds it to the pool
// with a weight, admin state, name and tags of its own.
func (f *foreignObjects) create(ctx context.Context, name string) error {
	compute, err := f.compute(ctx)
	if err != nil {
		return err
	}
	srv, err := servers.Create(ctx, compute, servers.CreateOpts{Name: name, ImageRef: f.target.ImageID, FlavorRef: f.target.FlavorID,
		Networks: []servers.Network{{UUID: f.target.NetworkID}}, Metadata: map[string]string{"owner": "team-b", "role": "canary"},
		Tags: []string{"team-b", "hand-made"}}, nil).Extract()
	if err != nil {
		return fmt.Errorf("creating the foreign server: %w", err)
	}
	f.serverID = srv.ID
	c := &cloud.Compute{Client: compute, Poll: cloud.ConfiguredPoll()}
	active, err := c.WaitServerActive(ctx, srv.ID)
	if err != nil {
		return fmt.Errorf("waiting for the foreign server: %w", err)
	}
	lb, err := f.target.Client.LoadBalancer(ctx, f.lbID)
	if err != nil {
		return err
	}
	weight, admin, backup := 7, false, false
	m, err := lb.CreateMember(ctx, f.poolID, cloud.MemberSpec{Name: "team-b-canary", Address: active.Address, ProtocolPort: 80,
		Weight: &weight, AdminStateUp: &admin, Backup: &backup, SubnetID: f.target.SubnetID, Tags: []string{"team-b", "do-not-touch"}})
	if err != nil {
		return fmt.Errorf("adding the foreign member: %w", err)
	}
	f.memberID = m.ID
	if _, err := cloud.WaitLoadBalancer(ctx, lb.Client, cloud.ConfiguredPoll(), f.lbID, "ACTIVE"); err != nil {
		return err
	}
	if f.server, err = f.readServer(ctx); err != nil {
		return err
	}
	f.member, err = f.readMember(ctx)
	return err
}

func (f *foreignObjects) readServer(ctx context.Context) (foreignServer, error) {
	compute, err := f.compute(ctx)
	if err != nil {
		return foreignServer{}, err
	}
	s, err := servers.Get(ctx, compute, f.serverID).Extract()
	if err != nil {
		return foreignServer{}, fmt.Errorf("reading the foreign server: %w", err)
	}
	out := foreignServer{ID: s.ID, Name: s.Name, Status: s.Status, Metadata: s.Metadata}
	if s.Tags != nil {
		out.Tags = append([]string(nil), *s.Tags...)
		sort.Strings(out.Tags)
	}
	return out, nil
}

func (f *foreignObjects) readMember(ctx context.Context) (foreignMember, error) {
	lb, err := f.target.Client.LoadBalancer(ctx, f.lbID)
	if err != nil {
		return foreignMember{}, err
	}
	m, err := lb.GetMember(ctx, f.poolID, f.memberID)
	if err != nil {
		return foreignMember{}, fmt.Errorf("reading the foreign member: %w", err)
	}
	tags := append([]string(nil), m.Tags...)
	sort.Strings(tags)
	return foreignMember{ID: m.ID, Name: m.Name, Address: m.Address, ProtocolPort: m.ProtocolPort, Weight: m.Weight,
		AdminStateUp: m.AdminStateUp, Backup: m.Backup, Tags: tags}, nil
}

// untouched checks the foreign server and member are exactly as made, read from the APIs.
func (f *foreignObjects) untouched(when string, withMember bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv, err := f.readServer(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", when, err)
		}
		if !reflect.DeepEqual(srv, f.server) {
			return fmt.Errorf("%s: the foreign server changed:\n got  %+v\n want %+v", when, srv, f.server)
		}
		if !withMember {
			return nil
		}
		m, err := f.readMember(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", when, err)
		}
		if !reflect.DeepEqual(m, f.member) {
			return fmt.Errorf("%s: the foreign member changed:\n got  %+v\n want %+v", when, m, f.member)
		}
		return nil
	}
}

func (f *foreignObjects) cleanup(t *testing.T) {
	if f.serverID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	compute, err := f.compute(ctx)
	if err == nil {
		c := &cloud.Compute{Client: compute, Poll: cloud.ConfiguredPoll()}
		if err = c.DeleteServer(ctx, f.serverID); err == nil {
			err = c.WaitServerGone(ctx, f.serverID)
		}
	}
	if err != nil {
		t.Errorf("removing the foreign server %s: %v", f.serverID, err)
	}
}

// TestAccWebPool_LeavesOtherTenantsServersAndMembersUntouched puts a server and a member that
// the provider did not create into the project and the pool a web pool scales, then applies,
// scales in and destroys the web pool: the foreign objects keep their id, name, weight, admin
// state, backup flag, tags and metadata throughout. The load balancer's own destroy, which
// cascades to its pool's members, is the only thing that may remove the foreign member; the
// foreign server survives even that.
func TestAccWebPool_LeavesOtherTenantsServersAndMembersUntouched(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accforeign")
	foreign := &foreignObjects{target: target}
	t.Cleanup(func() { foreign.cleanup(t) })
	cfg := func(size int) string { return webPoolConfig{Name: name, Size: size}.hcl(target) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := testAccCheckPoolGone(target, name)(s); err != nil {
				return err
			}
			return foreign.untouched("after destroying everything", false)(s)
		},
		Steps: []resource.TestStep{
			{
				// The load balancer and its pool first; the other team joins the pool.
				Config: cfg(-1),
				Check: func(s *terraform.State) error {
					lb := s.RootModule().Resources["eventscale_load_balancer.front"].Primary.Attributes
					foreign.lbID, foreign.poolID = lb["id"], lb["pool_id"]
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					// Named like the test's objects, so that the sweeper removes it after a crash.
					return foreign.create(ctx, accPrefix+"foreign-"+strings.TrimPrefix(name, accPrefix))
				},
			},
			{Config: cfg(3), Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckPoolMatchesCloud(target, name, 3), foreign.untouched("after scale-out", true))},
			{Config: cfg(1), Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckPoolMatchesCloud(target, name, 1), foreign.untouched("after scale-in", true))},
			{Config: cfg(-1), Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckPoolGone(target, name), foreign.untouched("after destroying the web pool", true))},
		},
	})
}
