package cloud

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
)

// ListenerSpec is a listener to create.
type ListenerSpec struct {
	LoadBalancerID string
	Name           string
	Protocol       string
	ProtocolPort   int
	DefaultPoolID  string
	// DefaultTLSContainerRef is the Barbican container a TERMINATED_HTTPS listener serves.
	DefaultTLSContainerRef string
}

// ToListenerCreateMap implements listeners.CreateOptsBuilder.
func (s ListenerSpec) ToListenerCreateMap() (map[string]any, error) {
	return listeners.CreateOpts{LoadbalancerID: s.LoadBalancerID, Name: s.Name, Protocol: listeners.Protocol(s.Protocol),
		ProtocolPort: s.ProtocolPort, DefaultPoolID: s.DefaultPoolID, DefaultTlsContainerRef: s.DefaultTLSContainerRef}.ToListenerCreateMap()
}

// ListenerUpdate is a change to a listener; nil fields are left as they are.
type ListenerUpdate struct {
	DefaultTLSContainerRef *string
}

// ToListenerUpdateMap implements listeners.UpdateOptsBuilder.
func (u ListenerUpdate) ToListenerUpdateMap() (map[string]any, error) {
	return listeners.UpdateOpts{DefaultTlsContainerRef: u.DefaultTLSContainerRef}.ToListenerUpdateMap()
}

// ListenerInfo is a listener as Octavia reports it.
type ListenerInfo struct {
	ID                     string
	Name                   string
	Protocol               string
	ProtocolPort           int
	DefaultPoolID          string
	DefaultTLSContainerRef string
	ProvisioningStatus     string
}

func listenerInfo(l *listeners.Listener) *ListenerInfo {
	return &ListenerInfo{ID: l.ID, Name: l.Name, Protocol: l.Protocol, ProtocolPort: l.ProtocolPort, DefaultPoolID: l.DefaultPoolID,
		DefaultTLSContainerRef: l.DefaultTlsContainerRef, ProvisioningStatus: l.ProvisioningStatus}
}

// CreateListener creates one listener; the caller waits (WaitListenerActive) after saving its id.
func (l *LoadBalancer) CreateListener(ctx context.Context, spec ListenerSpec) (*ListenerInfo, error) {
	action := fmt.Sprintf("creating listener %s:%d on load balancer %s", spec.Protocol, spec.ProtocolPort, spec.LoadBalancerID)
	created, err := createChild(ctx, l, action, func(ctx context.Context) (*listeners.Listener, error) {
		return listeners.Create(ctx, l.Client, spec).Extract()
	})
	if err != nil {
		return nil, err
	}
	return listenerInfo(created), nil
}

// GetListener reads one listener; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetListener(ctx context.Context, id string) (*ListenerInfo, error) {
	lis, err := listeners.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading listener "+id, err)
	}
	return listenerInfo(lis), nil
}

// UpdateListener changes a listener (e.g. its certificate) and waits for ACTIVE.
func (l *LoadBalancer) UpdateListener(ctx context.Context, id string, u ListenerUpdate) error {
	return l.mutate(ctx, "updating listener "+id, func(ctx context.Context) error {
		_, err := listeners.Update(ctx, l.Client, id, u).Extract()
		return err
	})
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

// WaitListenerActive waits until the load balancer has applied a new listener and the
// listener itself did not go to ERROR.
func (l *LoadBalancer) WaitListenerActive(ctx context.Context, id string) error {
	return l.WaitChildActive(ctx, "listener "+id, func(ctx context.Context) (string, error) {
		lis, err := l.GetListener(ctx, id)
		if err != nil {
			return "", err
		}
		return lis.ProvisioningStatus, nil
	})
}
