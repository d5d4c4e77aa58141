package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// The calls below build and change a load balancer's tree one object at a time. Each
// mutating call is followed by a wait for the LB to be ACTIVE again, because Octavia takes one
// change per LB at a time and reports a child's provisioning only through its LB.

// CreateLoadBalancer sends the create once and returns what Octavia answered (PENDING_CREATE).
func (l *LoadBalancer) CreateLoadBalancer(ctx context.Context, opts loadbalancers.CreateOpts) (*loadbalancers.LoadBalancer, error) {
	lb, err := loadbalancers.Create(ctx, l.Client, opts).Extract()
	if err != nil {
		return nil, apiError(fmt.Sprintf("creating load balancer %q", opts.Name), err)
	}
	return lb, nil
}

// GetLoadBalancer reads one load balancer; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetLoadBalancer(ctx context.Context, id string) (*loadbalancers.LoadBalancer, error) {
	lb, err := loadbalancers.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading load balancer "+id, err)
	}
	return lb, nil
}

// UpdateLoadBalancer changes the LB's own fields and waits for ACTIVE.
func (l *LoadBalancer) UpdateLoadBalancer(ctx context.Context, id string, opts loadbalancers.UpdateOpts) error {
	return l.mutate(ctx, "updating load balancer "+id, func(ctx context.Context) error {
		_, err := loadbalancers.Update(ctx, l.Client, id, opts).Extract()
		return err
	})
}

// DeleteLoadBalancerCascade deletes the LB with every listener, pool, member and monitor
// under it, then waits until Octavia no longer knows it. One already gone is not an error.
func (l *LoadBalancer) DeleteLoadBalancerCascade(ctx context.Context, id string) error {
	action := "deleting load balancer " + id
	for {
		err := loadbalancers.Delete(ctx, l.Client, id, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr()
		if err == nil || IsNotFound(err) {
			break
		}
		if !IsImmutable(err) {
			return apiError(action, err)
		}
		// A change is still being applied: DELETE is refused until the LB is ACTIVE or ERROR.
		if _, werr := waitFor(ctx, l.Poll, "load balancer "+id, func(ctx context.Context) (struct{}, string, error) {
			lb, err := l.GetLoadBalancer(ctx, id)
			if IsNotFound(err) {
				return struct{}{}, "GONE", nil
			}
			if err != nil {
				return struct{}{}, "", err
			}
			return struct{}{}, lb.ProvisioningStatus, nil
		}, nil, []string{"ACTIVE", "ERROR", "GONE"}, nil); werr != nil {
			return fmt.Errorf("%s: the load balancer stayed immutable: %w", action, werr)
		}
	}
	return waitGone(ctx, l.Poll, "deletion of load balancer "+id, func(ctx context.Context) (string, error) {
		lb, err := l.GetLoadBalancer(ctx, id)
		if err != nil {
			return "", err
		}
		if lb.ProvisioningStatus == "DELETED" {
			return "GONE", nil
		}
		// ERROR after PENDING_DELETE means the delete failed; waitGone fails on it.
		return lb.ProvisioningStatus, nil
	})
}

// CreateListener creates one listener and waits until the LB has applied it.
func (l *LoadBalancer) CreateListener(ctx context.Context, opts listeners.CreateOpts) (*listeners.Listener, error) {
	var created *listeners.Listener
	action := fmt.Sprintf("creating listener %s:%d on load balancer %s", opts.Protocol, opts.ProtocolPort, opts.LoadbalancerID)
	err := l.mutateNoWait(ctx, action, func(ctx context.Context) error {
		var err error
		created, err = listeners.Create(ctx, l.Client, opts).Extract()
		return err
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// GetListener reads one listener.
func (l *LoadBalancer) GetListener(ctx context.Context, id string) (*listeners.Listener, error) {
	lis, err := listeners.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading listener "+id, err)
	}
	return lis, nil
}

// UpdateListener changes a listener (e.g. its default pool) and waits for ACTIVE.
func (l *LoadBalancer) UpdateListener(ctx context.Context, id string, opts listeners.UpdateOpts) error {
	return l.mutate(ctx, "updating listener "+id, func(ctx context.Context) error {
		_, err := listeners.Update(ctx, l.Client, id, opts).Extract()
		return err
	})
}

// CreatePool creates the pool; the caller waits (WaitChildActive) after saving its id.
func (l *LoadBalancer) CreatePool(ctx context.Context, opts pools.CreateOpts) (*pools.Pool, error) {
	var created *pools.Pool
	err := l.mutateNoWait(ctx, fmt.Sprintf("creating pool %q", opts.Name), func(ctx context.Context) error {
		var err error
		created, err = pools.Create(ctx, l.Client, opts).Extract()
		return err
	})
	return created, err
}

// GetPool reads one pool.
func (l *LoadBalancer) GetPool(ctx context.Context, id string) (*pools.Pool, error) {
	p, err := pools.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading pool "+id, err)
	}
	return p, nil
}

// PoolUpdate is a pool change that can also clear session persistence, which gophercloud's
// UpdateOpts cannot express (it omits a nil persistence instead of sending null).
type PoolUpdate struct {
	Name             *string
	LBMethod         string
	Persistence      *pools.SessionPersistence
	ClearPersistence bool
	// Tags replaces the pool's whole tag list when set.
	Tags *[]string
}

// ToPoolUpdateMap implements pools.UpdateOptsBuilder.
func (u PoolUpdate) ToPoolUpdateMap() (map[string]any, error) {
	body := map[string]any{}
	if u.Name != nil {
		body["name"] = *u.Name
	}
	if u.LBMethod != "" {
		body["lb_algorithm"] = u.LBMethod
	}
	if u.Tags != nil {
		body["tags"] = append([]string{}, *u.Tags...)
	}
	switch {
	case u.ClearPersistence:
		body["session_persistence"] = nil
	case u.Persistence != nil:
		sp := map[string]any{"type": u.Persistence.Type}
		if u.Persistence.CookieName != "" {
			sp["cookie_name"] = u.Persistence.CookieName
		}
		body["session_persistence"] = sp
	}
	return map[string]any{"pool": body}, nil
}

// UpdatePool changes the pool and waits for ACTIVE.
func (l *LoadBalancer) UpdatePool(ctx context.Context, id string, u PoolUpdate) error {
	return l.mutate(ctx, "updating pool "+id, func(ctx context.Context) error {
		_, err := pools.Update(ctx, l.Client, id, u).Extract()
		return err
	})
}

// CreateMonitor creates the pool's health monitor; the caller waits after saving its id.
func (l *LoadBalancer) CreateMonitor(ctx context.Context, opts monitors.CreateOpts) (*monitors.Monitor, error) {
	var created *monitors.Monitor
	err := l.mutateNoWait(ctx, fmt.Sprintf("creating the %s health monitor of pool %s", opts.Type, opts.PoolID), func(ctx context.Context) error {
		var err error
		created, err = monitors.Create(ctx, l.Client, opts).Extract()
		return err
	})
	return created, err
}

// GetMonitor reads one health monitor.
func (l *LoadBalancer) GetMonitor(ctx context.Context, id string) (*monitors.Monitor, error) {
	m, err := monitors.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading health monitor "+id, err)
	}
	return m, nil
}

// UpdateMonitor changes the monitor and waits for ACTIVE.
func (l *LoadBalancer) UpdateMonitor(ctx context.Context, id string, opts monitors.UpdateOpts) error {
	return l.mutate(ctx, "updating health monitor "+id, func(ctx context.Context) error {
		_, err := monitors.Update(ctx, l.Client, id, opts).Extract()
		return err
	})
}

// DeleteMonitor deletes the monitor and waits for ACTIVE; one already gone is not an error.
func (l *LoadBalancer) DeleteMonitor(ctx context.Context, id string) error {
	err := l.mutate(ctx, "deleting health monitor "+id, func(ctx context.Context) error {
		return monitors.Delete(ctx, l.Client, id).ExtractErr()
	})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// CreateMember adds one member; the caller waits after saving its id.
func (l *LoadBalancer) CreateMember(ctx context.Context, poolID string, opts pools.CreateMemberOpts) (*pools.Member, error) {
	var created *pools.Member
	err := l.mutateNoWait(ctx, fmt.Sprintf("adding member %s:%d to pool %s", opts.Address, opts.ProtocolPort, poolID), func(ctx context.Context) error {
		var err error
		created, err = pools.CreateMember(ctx, l.Client, poolID, opts).Extract()
		return err
	})
	return created, err
}

// WaitChildActive waits for the LB to be ACTIVE after a change to one of its children, then
// reads the child's own provisioning_status: the LB goes back to ACTIVE even when the
// amphora refused the child, which Octavia then marks ERROR.
func (l *LoadBalancer) WaitChildActive(ctx context.Context, what string, status func(context.Context) (string, error)) error {
	if _, err := WaitLoadBalancer(ctx, l.Client, l.Poll, l.LoadBalancerID, "ACTIVE"); err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	s, err := status(ctx)
	if err != nil {
		return err
	}
	if s == "ERROR" {
		return fmt.Errorf("%s went to ERROR: the load balancer's provider refused it (see the Octavia worker log)", what)
	}
	return nil
}

// mutate sends a change, retrying while the LB is immutable, then waits for ACTIVE.
func (l *LoadBalancer) mutate(ctx context.Context, action string, call func(context.Context) error) error {
	if err := l.mutateNoWait(ctx, action, call); err != nil {
		return err
	}
	if _, err := WaitLoadBalancer(ctx, l.Client, l.Poll, l.LoadBalancerID, "ACTIVE"); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}

// mutateNoWait retries only Octavia's "immutable" 409, unlike retryImmutable: a 409 such as
// "Another Listener on this Load Balancer is already using protocol_port 80" never clears
// by waiting, and retrying it would hang until the timeout.
func (l *LoadBalancer) mutateNoWait(ctx context.Context, action string, call func(context.Context) error) error {
	for {
		err := call(ctx)
		if err == nil {
			return nil
		}
		if !IsImmutable(err) || l.LoadBalancerID == "" {
			return apiError(action, err)
		}
		if werr := l.WaitActive(ctx, l.LoadBalancerID); werr != nil {
			return fmt.Errorf("%s: the load balancer stayed immutable: %w", action, werr)
		}
	}
}

// GetMember reads one member of a pool.
func (l *LoadBalancer) GetMember(ctx context.Context, poolID, memberID string) (*pools.Member, error) {
	m, err := pools.GetMember(ctx, l.Client, poolID, memberID).Extract()
	if err != nil {
		return nil, apiError(fmt.Sprintf("reading member %s of pool %s", memberID, poolID), err)
	}
	return m, nil
}

// DeleteListener deletes a listener and waits until the load balancer has applied it; one
// already gone is not an error.
func (l *LoadBalancer) DeleteListener(ctx context.Context, id string) error {
	err := l.mutate(ctx, "deleting listener "+id, func(ctx context.Context) error {
		return listeners.Delete(ctx, l.Client, id).ExtractErr()
	})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// UpdateStaticMember changes a member's weight and backup flag and waits until the load
// balancer has applied it.
func (l *LoadBalancer) UpdateStaticMember(ctx context.Context, poolID, memberID string, weight int, backup bool) error {
	return l.mutate(ctx, fmt.Sprintf("updating member %s of pool %s", memberID, poolID), func(ctx context.Context) error {
		_, err := pools.UpdateMember(ctx, l.Client, poolID, memberID, pools.UpdateMemberOpts{Weight: &weight, Backup: &backup}).Extract()
		return err
	})
}
