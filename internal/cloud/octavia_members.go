package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// The library's member calls (scaling.LoadBalancer) first, then the static members the load
// balancer resource adds one at a time.

func (l *LoadBalancer) ListMembers(ctx context.Context, poolID string) ([]scaling.Member, error) {
	pages, err := pools.ListMembers(l.Client, poolID, pools.ListMembersOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing members of pool "+poolID, err)
	}
	all, err := pools.ExtractMembers(pages)
	if err != nil {
		return nil, apiError("reading members of pool "+poolID, err)
	}
	out := make([]scaling.Member, 0, len(all))
	for _, m := range all {
		out = append(out, toMember(m))
	}
	return out, nil
}

func toMember(m pools.Member) scaling.Member {
	return scaling.Member{
		ID: m.ID, Name: m.Name, Address: m.Address, ProtocolPort: m.ProtocolPort, SubnetID: m.SubnetID,
		Weight: m.Weight, AdminStateUp: m.AdminStateUp, OperatingStatus: m.OperatingStatus,
		ProvisioningStatus: m.ProvisioningStatus, Tags: m.Tags, Backup: m.Backup,
		MonitorAddress: m.MonitorAddress, MonitorPort: m.MonitorPort,
	}
}

func (l *LoadBalancer) BatchUpdateMembers(ctx context.Context, poolID string, members []scaling.MemberSpec) error {
	opts := make([]pools.BatchUpdateMemberOpts, 0, len(members))
	for _, m := range members {
		name, weight, admin := m.Name, m.Weight, m.AdminStateUp
		o := pools.BatchUpdateMemberOpts{Address: m.Address, ProtocolPort: m.ProtocolPort, Name: &name,
			Weight: &weight, AdminStateUp: &admin, Tags: m.Tags}
		if m.SubnetID != "" {
			subnet := m.SubnetID
			o.SubnetID = &subnet
		}
		if m.Backup {
			backup := true
			o.Backup = &backup
		}
		if m.MonitorAddress != "" {
			addr := m.MonitorAddress
			o.MonitorAddress = &addr
		}
		if m.MonitorPort != 0 {
			port := m.MonitorPort
			o.MonitorPort = &port
		}
		opts = append(opts, o)
	}
	action := "updating the members of pool " + poolID
	busy, err := l.mutateOnce(ctx, action, func(ctx context.Context) error {
		return pools.BatchUpdateMembers(ctx, l.Client, poolID, opts).ExtractErr()
	})
	if busy {
		// The list was built from members read before the change that kept the load balancer
		// busy: sending it again would undo that change. The caller reads them again.
		return fmt.Errorf("%s: %w: %w", action, scaling.ErrStale, err)
	}
	return err
}

func (l *LoadBalancer) UpdateMember(ctx context.Context, poolID, memberID string, weight *int, adminStateUp *bool) error {
	opts := pools.UpdateMemberOpts{Weight: weight, AdminStateUp: adminStateUp}
	return l.mutateNoWait(ctx, fmt.Sprintf("updating member %s of pool %s", memberID, poolID), func(ctx context.Context) error {
		_, err := pools.UpdateMember(ctx, l.Client, poolID, memberID, opts).Extract()
		return err
	})
}

func (l *LoadBalancer) DeleteMember(ctx context.Context, poolID, memberID string) error {
	err := l.mutateNoWait(ctx, fmt.Sprintf("removing member %s from pool %s", memberID, poolID), func(ctx context.Context) error {
		return pools.DeleteMember(ctx, l.Client, poolID, memberID).ExtractErr()
	})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// MemberSpec is one member to add; a nil Weight, AdminStateUp or Backup leaves Octavia's
// default (1, true, false).
type MemberSpec struct {
	Name         string
	Address      string
	ProtocolPort int
	SubnetID     string
	Weight       *int
	AdminStateUp *bool
	Backup       *bool
	Tags         []string
}

// ToMemberCreateMap implements pools.CreateMemberOptsBuilder.
func (s MemberSpec) ToMemberCreateMap() (map[string]any, error) {
	return pools.CreateMemberOpts{Name: s.Name, Address: s.Address, ProtocolPort: s.ProtocolPort, SubnetID: s.SubnetID,
		Weight: s.Weight, AdminStateUp: s.AdminStateUp, Backup: s.Backup, Tags: s.Tags}.ToMemberCreateMap()
}

// CreateMember adds one member; the caller waits (WaitMemberActive) after saving its id.
func (l *LoadBalancer) CreateMember(ctx context.Context, poolID string, spec MemberSpec) (scaling.Member, error) {
	action := fmt.Sprintf("adding member %s:%d to pool %s", spec.Address, spec.ProtocolPort, poolID)
	created, err := createChild(ctx, l, action, func(ctx context.Context) (*pools.Member, error) {
		return pools.CreateMember(ctx, l.Client, poolID, spec).Extract()
	})
	if err != nil {
		return scaling.Member{}, err
	}
	return toMember(*created), nil
}

// GetMember reads one member of a pool; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetMember(ctx context.Context, poolID, memberID string) (scaling.Member, error) {
	m, err := pools.GetMember(ctx, l.Client, poolID, memberID).Extract()
	if err != nil {
		return scaling.Member{}, apiError(fmt.Sprintf("reading member %s of pool %s", memberID, poolID), err)
	}
	return toMember(*m), nil
}

// WaitMemberActive waits until the load balancer has applied a new member and the member
// itself did not go to ERROR.
func (l *LoadBalancer) WaitMemberActive(ctx context.Context, poolID, memberID string) error {
	return l.WaitChildActive(ctx, "member "+memberID, func(ctx context.Context) (string, error) {
		m, err := l.GetMember(ctx, poolID, memberID)
		if err != nil {
			return "", err
		}
		return m.ProvisioningStatus, nil
	})
}

// UpdateStaticMember changes a member's weight and backup flag and waits until the load
// balancer has applied it.
func (l *LoadBalancer) UpdateStaticMember(ctx context.Context, poolID, memberID string, weight int, backup bool) error {
	return l.mutate(ctx, fmt.Sprintf("updating member %s of pool %s", memberID, poolID), func(ctx context.Context) error {
		_, err := pools.UpdateMember(ctx, l.Client, poolID, memberID, pools.UpdateMemberOpts{Weight: &weight, Backup: &backup}).Extract()
		return err
	})
}
