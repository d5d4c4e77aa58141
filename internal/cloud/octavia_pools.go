package cloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// SessionPersistence is a pool's session persistence: SOURCE_IP, HTTP_COOKIE or APP_COOKIE
// with its cookie.
type SessionPersistence struct {
	Type       string
	CookieName string
}

// PoolSpec is a pool to create.
type PoolSpec struct {
	LoadBalancerID string
	Name           string
	Protocol       string
	LBMethod       string
	Persistence    *SessionPersistence
}

// ToPoolCreateMap implements pools.CreateOptsBuilder.
func (s PoolSpec) ToPoolCreateMap() (map[string]any, error) {
	opts := pools.CreateOpts{LoadbalancerID: s.LoadBalancerID, Name: s.Name, Protocol: pools.Protocol(s.Protocol), LBMethod: pools.LBMethod(s.LBMethod)}
	if s.Persistence != nil {
		opts.Persistence = &pools.SessionPersistence{Type: s.Persistence.Type, CookieName: s.Persistence.CookieName}
	}
	return opts.ToPoolCreateMap()
}

// PoolUpdate is a pool change that can also clear session persistence, which gophercloud's
// UpdateOpts cannot express (it omits a nil persistence instead of sending null).
type PoolUpdate struct {
	Name             *string
	LBMethod         string
	Persistence      *SessionPersistence
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

// PoolInfo is a pool as Octavia reports it.
type PoolInfo struct {
	ID                 string
	Name               string
	Protocol           string
	LBMethod           string
	Persistence        SessionPersistence
	MonitorID          string
	LoadBalancerIDs    []string
	ProvisioningStatus string
	Tags               []string
}

func poolInfo(p *pools.Pool) *PoolInfo {
	out := &PoolInfo{ID: p.ID, Name: p.Name, Protocol: p.Protocol, LBMethod: p.LBMethod,
		Persistence: SessionPersistence{Type: p.Persistence.Type, CookieName: p.Persistence.CookieName},
		MonitorID:   p.MonitorID, ProvisioningStatus: p.ProvisioningStatus, Tags: p.Tags}
	for _, lb := range p.Loadbalancers {
		out.LoadBalancerIDs = append(out.LoadBalancerIDs, lb.ID)
	}
	return out
}

// CreatePool creates the pool; the caller waits (WaitPoolActive) after saving its id.
func (l *LoadBalancer) CreatePool(ctx context.Context, spec PoolSpec) (*PoolInfo, error) {
	created, err := createChild(ctx, l, fmt.Sprintf("creating pool %q", spec.Name), func(ctx context.Context) (*pools.Pool, error) {
		return pools.Create(ctx, l.Client, spec).Extract()
	})
	if err != nil {
		return nil, err
	}
	return poolInfo(created), nil
}

// GetPool reads one pool; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetPool(ctx context.Context, id string) (*PoolInfo, error) {
	p, err := pools.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading pool "+id, err)
	}
	return poolInfo(p), nil
}

// UpdatePool changes the pool and waits for ACTIVE.
func (l *LoadBalancer) UpdatePool(ctx context.Context, id string, u PoolUpdate) error {
	return l.mutate(ctx, "updating pool "+id, func(ctx context.Context) error {
		_, err := pools.Update(ctx, l.Client, id, u).Extract()
		return err
	})
}

// WaitPoolActive waits until the load balancer has applied a new pool and the pool itself did
// not go to ERROR.
func (l *LoadBalancer) WaitPoolActive(ctx context.Context, id string) error {
	return l.WaitChildActive(ctx, "pool "+id, func(ctx context.Context) (string, error) {
		p, err := l.GetPool(ctx, id)
		if err != nil {
			return "", err
		}
		return p.ProvisioningStatus, nil
	})
}

// PoolTags reads the tags of an Octavia pool: the web pool keeps its settings there
// (EncodeTagRecord).
func (l *LoadBalancer) PoolTags(ctx context.Context, poolID string) ([]string, error) {
	p, err := l.GetPool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	return p.Tags, nil
}

// SetPoolTags replaces the pool's tags and waits until the load balancer has applied it.
func (l *LoadBalancer) SetPoolTags(ctx context.Context, poolID string, tags []string) error {
	return l.UpdatePool(ctx, poolID, PoolUpdate{Tags: &tags})
}

// CheckPool reports a pool that does not exist, or that is not a pool of the load balancer.
func (l *LoadBalancer) CheckPool(ctx context.Context, poolID, loadBalancerID string) error {
	p, err := l.GetPool(ctx, poolID)
	if err != nil {
		return err
	}
	for _, id := range p.LoadBalancerIDs {
		if id == loadBalancerID {
			return nil
		}
	}
	return fmt.Errorf("pool %s (%s) is a pool of load balancer %s, not of %s", poolID, p.Name, strings.Join(p.LoadBalancerIDs, ", "), loadBalancerID)
}
