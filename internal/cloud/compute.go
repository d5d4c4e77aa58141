package cloud

import (
	"context"
	"fmt"
	"sort"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Compute implements scaling.Compute with Nova.
type Compute struct {
	Client *gophercloud.ServiceClient
	Poll   Poll
	// AddressNetwork names the network whose fixed address becomes the member address;
	// empty takes the first fixed IPv4 address (networks sorted by name).
	AddressNetwork string

	// watcher, set by WatchTag, serves the waits with one list per poll.
	watcher *serverWatch
}

// WatchTag makes the waits on servers (WaitServerActive, WaitServerGone) poll ONE list of
// the servers carrying tag (a pool's tag: scaling.PoolTag) per poll, whatever their number,
// instead of one GET per server per poll. Call it before the first wait.
func (c *Compute) WatchTag(tag string) {
	if c.watcher == nil || c.watcher.tag != tag {
		c.watcher = newServerWatch(c, tag)
	}
}

var _ scaling.Compute = (*Compute)(nil)

func (c *Compute) CreateServer(ctx context.Context, spec scaling.ServerSpec) (scaling.Server, error) {
	nets := make([]servers.Network, 0, len(spec.Networks))
	for _, n := range spec.Networks {
		nets = append(nets, servers.Network{UUID: n})
	}
	opts := servers.CreateOpts{
		Name:             spec.Name,
		ImageRef:         spec.ImageID,
		FlavorRef:        spec.FlavorID,
		SecurityGroups:   spec.SecurityGroups,
		AvailabilityZone: spec.AvailabilityZone,
		Metadata:         spec.Metadata,
		Tags:             spec.Tags,
	}
	if len(nets) > 0 {
		opts.Networks = nets
	}
	if spec.UserData != "" {
		opts.UserData = []byte(spec.UserData)
	}
	var hints servers.SchedulerHintOptsBuilder
	if spec.ServerGroupID != "" {
		hints = servers.SchedulerHintOpts{Group: spec.ServerGroupID}
	}
	if spec.KeyPair != "" {
		created, err := servers.Create(ctx, c.Client, keyPairOpts{CreateOptsBuilder: opts, keyName: spec.KeyPair}, hints).Extract()
		if err != nil {
			return scaling.Server{}, createError("creating server "+spec.Name, err)
		}
		return c.toServer(created), nil
	}
	created, err := servers.Create(ctx, c.Client, opts, hints).Extract()
	if err != nil {
		return scaling.Server{}, createError("creating server "+spec.Name, err)
	}
	return c.toServer(created), nil
}

// keyPairOpts adds key_name, which lives in Nova's keypairs extension in gophercloud.
type keyPairOpts struct {
	servers.CreateOptsBuilder
	keyName string
}

func (o keyPairOpts) ToServerCreateMap() (map[string]any, error) {
	m, err := o.CreateOptsBuilder.ToServerCreateMap()
	if err != nil {
		return nil, err
	}
	m["server"].(map[string]any)["key_name"] = o.keyName
	return m, nil
}

func (c *Compute) ListServers(ctx context.Context, match map[string]string) ([]scaling.Server, error) {
	pages, err := servers.List(c.Client, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing servers", err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, apiError("reading the server list", err)
	}
	var out []scaling.Server
	for i := range all {
		if metadataMatches(all[i].Metadata, match) {
			out = append(out, c.toServer(&all[i]))
		}
	}
	return out, nil
}

func metadataMatches(md, match map[string]string) bool {
	for k, v := range match {
		if md[k] != v {
			return false
		}
	}
	return true
}

func (c *Compute) GetServer(ctx context.Context, id string) (scaling.Server, error) {
	s, err := servers.Get(ctx, c.Client, id).Extract()
	if err != nil {
		return scaling.Server{}, apiError("reading server "+id, err)
	}
	return c.toServer(s), nil
}

// ServerStatus returns a server's status, or "" when Nova does not know it.
func (c *Compute) ServerStatus(ctx context.Context, id string) (string, error) {
	s, err := c.GetServer(ctx, id)
	switch {
	case err == nil:
		return s.Status, nil
	case IsNotFound(err):
		return "", nil
	}
	return "", err
}

func (c *Compute) DeleteServer(ctx context.Context, id string) error {
	err := servers.Delete(ctx, c.Client, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting server "+id, err)
	}
	return nil
}

func (c *Compute) RebootServer(ctx context.Context, id string) error {
	err := servers.Reboot(ctx, c.Client, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr()
	return apiError("rebooting server "+id, err)
}

// AddSecurityGroup gives a running server a security group (by name); already having it is not an error.
func (c *Compute) AddSecurityGroup(ctx context.Context, serverID, group string) error {
	err := secgroups.AddServer(ctx, c.Client, serverID, group).ExtractErr()
	if err != nil && StatusCode(err) != 409 {
		return apiError(fmt.Sprintf("adding security group %s to server %s", group, serverID), err)
	}
	return nil
}

func (c *Compute) WaitServerActive(ctx context.Context, id string) (scaling.Server, error) {
	p := c.Poll.Expecting(ExpectServerBuild)
	if c.watcher != nil {
		var srv scaling.Server
		err := c.watch(ctx, p, id, "server "+id, func(s *servers.Server, gone error) (bool, error) {
			if gone != nil {
				return true, gone
			}
			srv = c.toServer(s)
			return srv.Status == "ACTIVE" || srv.Status == "ERROR", nil
		})
		return activeResult(id, srv, err)
	}
	srv, err := waitFor(ctx, p, "server "+id, func(ctx context.Context) (scaling.Server, string, error) {
		s, err := c.GetServer(ctx, id)
		return s, s.Status, err
	}, nil, []string{"ACTIVE", "ERROR"}, nil)
	return activeResult(id, srv, err)
}

func activeResult(id string, srv scaling.Server, err error) (scaling.Server, error) {
	if err == nil && srv.Status == "ERROR" {
		return srv, &scaling.ServerFaultError{ServerID: id, Name: srv.Name, Message: srv.Fault}
	}
	return srv, err
}

func (c *Compute) WaitServerGone(ctx context.Context, id string) error {
	p := c.Poll.Expecting(ExpectServerDelete)
	what := "deletion of server " + id
	if c.watcher != nil {
		return c.watch(ctx, p, id, what, func(s *servers.Server, gone error) (bool, error) {
			if gone != nil {
				return true, nil //nolint:nilerr // gone is the server's 404: the wait is over
			}
			status, err := deletionStatus(id, s)
			if err != nil {
				return true, err
			}
			if status == "ERROR" {
				return true, fmt.Errorf("%s went to %s", what, status)
			}
			return false, nil
		})
	}
	return waitGone(ctx, p, what, func(ctx context.Context) (string, error) {
		s, err := servers.Get(ctx, c.Client, id).Extract()
		if err != nil {
			return "", apiError("reading server "+id, err)
		}
		return deletionStatus(id, s)
	})
}

// deletionStatus is a server's status while it is deleted: a server whose build failed keeps
// its ERROR status while Nova deletes it; one whose deletion failed is back in ERROR with no
// task, and Nova's fault is the error.
func deletionStatus(id string, s *servers.Server) (string, error) {
	if s.Status != "ERROR" {
		return s.Status, nil
	}
	if s.TaskState == "deleting" {
		return "DELETING", nil
	}
	return s.Status, &scaling.ServerFaultError{ServerID: id, Name: s.Name, Message: s.Fault.Message}
}

func (c *Compute) toServer(s *servers.Server) scaling.Server {
	out := scaling.Server{
		ID:       s.ID,
		Name:     s.Name,
		Status:   s.Status,
		Metadata: s.Metadata,
		Created:  s.Created,
		Fault:    s.Fault.Message,
		Address:  fixedAddress(s.Addresses, c.AddressNetwork),
	}
	if id, ok := s.Image["id"].(string); ok {
		out.ImageID = id
	}
	if name, ok := s.Flavor["original_name"].(string); ok {
		out.Flavor = name
	}
	return out
}

// fixedAddress picks the server's fixed IPv4 address on the named network, or on the first
// network by name when none is named.
func fixedAddress(addresses map[string]any, network string) string {
	names := make([]string, 0, len(addresses))
	for n := range addresses {
		names = append(names, n)
	}
	sort.Strings(names)
	if network != "" {
		names = []string{network}
	}
	for _, n := range names {
		list, _ := addresses[n].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			if m == nil {
				continue
			}
			if t, _ := m["OS-EXT-IPS:type"].(string); t == "floating" {
				continue
			}
			if v, _ := m["version"].(float64); v == 6 {
				continue
			}
			if addr, _ := m["addr"].(string); addr != "" {
				return addr
			}
		}
	}
	return ""
}
