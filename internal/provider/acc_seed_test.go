package provider

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// With EVENTSCALE_ACC_SEED=create the external harness prepares, on a fresh cloud, what the
// suite expects to find: a network with a subnet and an ACTIVE server standing in for the
// user's web01. They carry fixed names (EVENTSCALE_ACC_NETWORK, EVENTSCALE_ACC_SEED_SERVER),
// not the test prefix: they play the part of objects the user already owns, they are reused by
// every later run (a Nova boot on a real cloud is the slowest step of a seed), and the sweeper,
// which removes only names starting with accPrefix, must never take them from under a run in progress.
// Without the variable nothing is created: a user's cloud is only read.
func accSeedWanted() bool { return os.Getenv("EVENTSCALE_ACC_SEED") == "create" }

// accEnsureSeed finds or creates the seed network, subnet and server, and returns the
// server's id. It is idempotent: a second run finds everything by name.
func accEnsureSeed(ctx context.Context, client *cloud.Client, serverName, netName string) error {
	network, err := client.ServiceClient(ctx, cloud.ServiceNetwork)
	if err != nil {
		return fmt.Errorf("network service: %w", err)
	}
	netID, err := accEnsureNetwork(ctx, network, netName)
	if err != nil {
		return err
	}
	compute, err := client.ServiceClient(ctx, cloud.ServiceCompute)
	if err != nil {
		return fmt.Errorf("compute service: %w", err)
	}
	pages, err := servers.List(compute, servers.ListOpts{Name: "^" + serverName + "$"}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing servers named %s: %w", serverName, err)
	}
	var list []seedServer
	if err := servers.ExtractServersInto(pages, &list); err != nil {
		return err
	}
	for _, s := range list {
		if why := s.unusable(); why != "" {
			// A seed that failed to boot, or that a restarted hypervisor no longer runs (the
			// lab's fake driver forgets its instances on restart, while Nova's database still
			// says running until its next power-state sync), would fail every snapshot: a seed
			// this harness created is booted afresh on every run; one it did not create is
			// replaced only when it is visibly broken.
			// It must be gone before the harness looks for exactly one server of that name.
			c := &cloud.Compute{Client: compute, Poll: cloud.Poll{Interval: time.Second}}
			if err := c.DeleteServer(ctx, s.ID); err != nil && !cloud.IsNotFound(err) {
				return fmt.Errorf("deleting seed server %s (%s): %w", s.ID, why, err)
			}
			if err := c.WaitServerGone(ctx, s.ID); err != nil {
				return fmt.Errorf("deleting seed server %s (%s): %w", s.ID, why, err)
			}
			continue
		}
		return accWaitSeedActive(ctx, compute, s.ID)
	}

	imageID, err := accSeedImage(ctx, client)
	if err != nil {
		return err
	}
	flavorID, err := (&cloud.Compute{Client: compute}).ResolveFlavor(ctx, envOr("EVENTSCALE_ACC_FLAVOR", "m1.tiny"))
	if err != nil {
		return err
	}
	created, err := servers.Create(ctx, compute, servers.CreateOpts{
		Name: serverName, ImageRef: imageID, FlavorRef: flavorID,
		Networks: []servers.Network{{UUID: netID}},
		Metadata: map[string]string{accSeedMarker: "true"},
	}, nil).Extract()
	if err != nil {
		return fmt.Errorf("creating seed server %s: %w", serverName, err)
	}
	return accWaitSeedActive(ctx, compute, created.ID)
}

func accEnsureNetwork(ctx context.Context, network *gophercloud.ServiceClient, netName string) (string, error) {
	pages, err := networks.List(network, networks.ListOpts{Name: netName}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing networks named %s: %w", netName, err)
	}
	nets, err := networks.ExtractNetworks(pages)
	if err != nil {
		return "", err
	}
	var netID string
	if len(nets) > 0 {
		netID = nets[0].ID
		if len(nets[0].Subnets) > 0 {
			return netID, nil
		}
	} else {
		up := true
		n, err := networks.Create(ctx, network, networks.CreateOpts{Name: netName, AdminStateUp: &up}).Extract()
		if err != nil {
			return "", fmt.Errorf("creating seed network %s: %w", netName, err)
		}
		netID = n.ID
	}
	enableDHCP := false
	_, err = subnets.Create(ctx, network, subnets.CreateOpts{
		NetworkID: netID, Name: netName + "-subnet", IPVersion: gophercloud.IPv4,
		CIDR: envOr("EVENTSCALE_ACC_SUBNET_CIDR", "10.42.0.0/24"), EnableDHCP: &enableDHCP,
	}).Extract()
	if err != nil {
		return "", fmt.Errorf("creating the subnet of seed network %s: %w", netName, err)
	}
	return netID, nil
}

// accSeedImage is EVENTSCALE_ACC_IMAGE (a name or id), else the first active image.
func accSeedImage(ctx context.Context, client *cloud.Client) (string, error) {
	glance, err := client.ServiceClient(ctx, cloud.ServiceImage)
	if err != nil {
		return "", fmt.Errorf("image service: %w", err)
	}
	want := os.Getenv("EVENTSCALE_ACC_IMAGE")
	pages, err := images.List(glance, images.ListOpts{Status: images.ImageStatusActive}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing images: %w", err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		return "", err
	}
	for _, img := range list {
		if want == "" || img.ID == want || img.Name == want {
			return img.ID, nil
		}
	}
	if want == "" {
		return "", fmt.Errorf("no active image to boot the seed server from: set EVENTSCALE_ACC_IMAGE")
	}
	return "", fmt.Errorf("no active image named or with id %q (EVENTSCALE_ACC_IMAGE)", want)
}

// seedServer is the part of Nova's server body that tells whether a seed can still be used.
type seedServer struct {
	ID         string            `json:"id"`
	Status     string            `json:"status"`
	PowerState int               `json:"OS-EXT-STS:power_state"`
	TaskState  *string           `json:"OS-EXT-STS:task_state"`
	Metadata   map[string]string `json:"metadata"`
}

// accSeedMarker is the metadata key on the seed servers this harness creates.
const accSeedMarker = "eventscale-acc-seed"

// unusable says why an existing seed server cannot serve the suite, or "" when it can. Nothing
// else runs on the seed while the harness prepares it, so any task state is a leftover.
func (s seedServer) unusable() string {
	const running = 1
	switch {
	case s.Metadata[accSeedMarker] == "true":
		return "created by an earlier run: its hypervisor may have restarted since"
	case s.Status == "ERROR":
		return "in ERROR"
	case s.Status == "ACTIVE" && s.PowerState != running:
		return fmt.Sprintf("ACTIVE but power state %d: the hypervisor no longer runs it", s.PowerState)
	case s.TaskState != nil && *s.TaskState != "":
		return "stuck in task " + *s.TaskState
	}
	return ""
}

func accWaitSeedActive(ctx context.Context, compute *gophercloud.ServiceClient, id string) error {
	c := &cloud.Compute{Client: compute, Poll: cloud.Poll{Interval: time.Second}}
	if _, err := c.WaitServerActive(ctx, id); err != nil {
		return fmt.Errorf("seed server %s: %w", id, err)
	}
	return nil
}
