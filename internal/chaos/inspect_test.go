package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// cloudView is what devcloud's OpenStack APIs show: the suite's ground truth.
type cloudView struct {
	servers   map[string]cloudServer
	lbs       map[string]cloudLB
	images    map[string]cloudImage
	instances map[string]cloudInstance
	groups    map[string]string // server group id -> name
}

type cloudServer struct {
	ID, Name, Status, TaskState, Address string
	Pool                                 string // eventscale_pool metadata
}

type cloudLB struct {
	ID, Name, Status string
	Pools            []cloudPool
	Listeners        []string
}

type cloudPool struct {
	ID, Name string
	Monitors []string
	Members  []pools.Member
}

type cloudImage struct{ ID, Name, Status string }

type cloudInstance struct{ ID, Name, Status, ReplicaOf string }

// readCloud lists every object of the demo project through the OpenStack APIs.
func readCloud(ctx context.Context, c *cloud.Client) (cloudView, error) {
	v := cloudView{servers: map[string]cloudServer{}, lbs: map[string]cloudLB{}, images: map[string]cloudImage{},
		instances: map[string]cloudInstance{}, groups: map[string]string{}}

	compute, err := c.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		return v, err
	}
	pages, err := servers.List(compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return v, fmt.Errorf("listing servers: %w", err)
	}
	var list []struct {
		ID        string            `json:"id"`
		Name      string            `json:"name"`
		Status    string            `json:"status"`
		TaskState *string           `json:"OS-EXT-STS:task_state"`
		Metadata  map[string]string `json:"metadata"`
		Addresses map[string][]struct {
			Addr string `json:"addr"`
		} `json:"addresses"`
	}
	if err := servers.ExtractServersInto(pages, &list); err != nil {
		return v, fmt.Errorf("decoding servers: %w", err)
	}
	for _, s := range list {
		cs := cloudServer{ID: s.ID, Name: s.Name, Status: s.Status, Pool: s.Metadata["eventscale_pool"]}
		if s.TaskState != nil {
			cs.TaskState = *s.TaskState
		}
		for _, addrs := range s.Addresses {
			for _, a := range addrs {
				if cs.Address == "" {
					cs.Address = a.Addr
				}
			}
		}
		v.servers[s.ID] = cs
	}
	gpages, err := servergroups.List(compute, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return v, fmt.Errorf("listing server groups: %w", err)
	}
	groups, err := servergroups.ExtractServerGroups(gpages)
	if err != nil {
		return v, err
	}
	for _, g := range groups {
		v.groups[g.ID] = g.Name
	}

	lbc, err := c.ServiceClient(ctx, cloud.ServiceLoadBalancer)
	if err != nil {
		return v, err
	}
	lpages, err := loadbalancers.List(lbc, loadbalancers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return v, fmt.Errorf("listing load balancers: %w", err)
	}
	lbs, err := loadbalancers.ExtractLoadBalancers(lpages)
	if err != nil {
		return v, err
	}
	for _, lb := range lbs {
		if lb.ProvisioningStatus == "DELETED" {
			continue
		}
		view := cloudLB{ID: lb.ID, Name: lb.Name, Status: lb.ProvisioningStatus}
		lis, err := listeners.List(lbc, listeners.ListOpts{LoadbalancerID: lb.ID}).AllPages(ctx)
		if err != nil {
			return v, fmt.Errorf("listing listeners of %s: %w", lb.ID, err)
		}
		ls, err := listeners.ExtractListeners(lis)
		if err != nil {
			return v, err
		}
		for _, l := range ls {
			view.Listeners = append(view.Listeners, l.ID)
		}
		ppages, err := pools.List(lbc, pools.ListOpts{LoadbalancerID: lb.ID}).AllPages(ctx)
		if err != nil {
			return v, fmt.Errorf("listing pools of %s: %w", lb.ID, err)
		}
		ps, err := pools.ExtractPools(ppages)
		if err != nil {
			return v, err
		}
		for _, p := range ps {
			cp := cloudPool{ID: p.ID, Name: p.Name}
			mpages, err := monitors.List(lbc, monitors.ListOpts{PoolID: p.ID}).AllPages(ctx)
			if err != nil {
				return v, fmt.Errorf("listing monitors of pool %s: %w", p.ID, err)
			}
			mons, err := monitors.ExtractMonitors(mpages)
			if err != nil {
				return v, err
			}
			for _, m := range mons {
				cp.Monitors = append(cp.Monitors, m.ID)
			}
			mempages, err := pools.ListMembers(lbc, p.ID, pools.ListMembersOpts{}).AllPages(ctx)
			if err != nil {
				return v, fmt.Errorf("listing members of pool %s: %w", p.ID, err)
			}
			if cp.Members, err = pools.ExtractMembers(mempages); err != nil {
				return v, err
			}
			view.Pools = append(view.Pools, cp)
		}
		v.lbs[lb.ID] = view
	}

	ic, err := c.ServiceClient(ctx, cloud.ServiceImage)
	if err != nil {
		return v, err
	}
	ipages, err := images.List(ic, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		return v, fmt.Errorf("listing images: %w", err)
	}
	imgs, err := images.ExtractImages(ipages)
	if err != nil {
		return v, err
	}
	for _, img := range imgs {
		v.images[img.ID] = cloudImage{ID: img.ID, Name: img.Name, Status: string(img.Status)}
	}

	db, err := c.Database(ctx)
	if err != nil {
		return v, err
	}
	insts, err := db.ListInstances(ctx)
	if err != nil {
		return v, err
	}
	for _, in := range insts {
		v.instances[in.ID] = cloudInstance{ID: in.ID, Name: in.Name, Status: in.Status, ReplicaOf: in.ReplicaOf}
	}
	return v, nil
}

// stateView is what Terraform's state (terraform.tfstate, the local backend) says exists.
type stateView struct {
	resources map[string]bool // by type
	tainted   []string

	pool     *poolState
	lb       *lbState
	image    *imageState
	replicas *replicasState
}

type poolState struct {
	Size  int64       `json:"size"`
	Nodes []nodeState `json:"nodes"`
}

type nodeState struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Address  string `json:"address"`
	MemberID string `json:"member_id"`
	Status   string `json:"status"`
}

type lbState struct {
	ID                 string            `json:"id"`
	PoolID             string            `json:"pool_id"`
	ListenerIDs        []string          `json:"listener_ids"`
	HealthMonitorID    string            `json:"health_monitor_id"`
	MemberIDs          map[string]string `json:"member_ids"`
	ProvisioningStatus string            `json:"provisioning_status"`
}

type imageState struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type replicasState struct {
	ReplicaCount int64 `json:"replica_count"`
	Instances    []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"instances"`
}

func readState(dir string) (stateView, error) {
	v := stateView{resources: map[string]bool{}}
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	if len(b) == 0 {
		return v, errors.New("terraform.tfstate is empty")
	}
	var doc struct {
		Resources []struct {
			Mode      string `json:"mode"`
			Type      string `json:"type"`
			Name      string `json:"name"`
			Instances []struct {
				Status     string          `json:"status"`
				Attributes json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return v, fmt.Errorf("terraform.tfstate is not JSON: %w", err)
	}
	for _, r := range doc.Resources {
		if r.Mode != "managed" {
			continue
		}
		for _, in := range r.Instances {
			v.resources[r.Type] = true
			if in.Status == "tainted" {
				v.tainted = append(v.tainted, r.Type+"."+r.Name)
			}
			var target any
			switch r.Type {
			case "eventscale_web_pool":
				v.pool = &poolState{}
				target = v.pool
			case "eventscale_load_balancer":
				v.lb = &lbState{}
				target = v.lb
			case "eventscale_seed_image":
				v.image = &imageState{}
				target = v.image
			case "eventscale_database_replica":
				v.replicas = &replicasState{}
				target = v.replicas
			default:
				continue
			}
			if err := json.Unmarshal(in.Attributes, target); err != nil {
				return v, fmt.Errorf("%s.%s in terraform.tfstate: %w", r.Type, r.Name, err)
			}
		}
	}
	return v, nil
}

// converged says whether the state holds the step's outcome in full; when it does not, the
// operator's next move is a plain apply (or destroy) again.
func (s stateView) converged(st step, nodes, replicas int) (bool, string) {
	switch st {
	case stepDestroyPool:
		if s.pool != nil {
			return false, "the web pool is still in state"
		}
		return true, ""
	case stepDestroy:
		if len(s.resources) > 0 {
			return false, fmt.Sprintf("%d resource(s) still in state", len(s.resources))
		}
		return true, ""
	}
	for _, t := range []string{"eventscale_event", "eventscale_seed_image", "eventscale_load_balancer", "eventscale_web_pool", "eventscale_database_replica"} {
		if !s.resources[t] {
			return false, t + " is not in state"
		}
	}
	if len(s.tainted) > 0 {
		return false, fmt.Sprintf("tainted: %v", s.tainted)
	}
	if s.image.Status != "active" {
		return false, "the seed image is " + s.image.Status
	}
	if s.lb.PoolID == "" || len(s.lb.ListenerIDs) != 1 || s.lb.HealthMonitorID == "" || len(s.lb.MemberIDs) != 1 || s.lb.ProvisioningStatus != "ACTIVE" {
		return false, fmt.Sprintf("the load balancer is incomplete (%+v)", *s.lb)
	}
	serving := 0
	for _, n := range s.pool.Nodes {
		if n.ID != "" && n.MemberID != "" && n.Status == "ACTIVE" {
			serving++
		}
	}
	if s.pool.Size != int64(nodes) || len(s.pool.Nodes) != nodes || serving != nodes {
		return false, fmt.Sprintf("the web pool has %d of %d nodes serving (size %d, %d listed)", serving, nodes, s.pool.Size, len(s.pool.Nodes))
	}
	active := 0
	for _, in := range s.replicas.Instances {
		if in.Status == "ACTIVE" {
			active++
		}
	}
	if s.replicas.ReplicaCount != int64(replicas) || len(s.replicas.Instances) != replicas || active != replicas {
		return false, fmt.Sprintf("%d of %d replicas ACTIVE (%d listed)", active, replicas, len(s.replicas.Instances))
	}
	return true, ""
}
