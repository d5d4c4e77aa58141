package cloud

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// MonitorSpec is a pool's health monitor to create.
type MonitorSpec struct {
	PoolID     string
	Name       string
	Type       string
	Delay      int
	Timeout    int
	MaxRetries int
	// URLPath and ExpectedCodes apply to HTTP and HTTPS monitors; "" leaves Octavia's default.
	URLPath       string
	ExpectedCodes string
}

// ToMonitorCreateMap implements monitors.CreateOptsBuilder.
func (s MonitorSpec) ToMonitorCreateMap() (map[string]any, error) {
	return monitors.CreateOpts{PoolID: s.PoolID, Name: s.Name, Type: s.Type, Delay: s.Delay, Timeout: s.Timeout,
		MaxRetries: s.MaxRetries, URLPath: s.URLPath, ExpectedCodes: s.ExpectedCodes}.ToMonitorCreateMap()
}

// MonitorUpdate is a change to a health monitor's settings; zero values are left as they are.
type MonitorUpdate struct {
	Delay         int
	Timeout       int
	MaxRetries    int
	URLPath       string
	ExpectedCodes string
}

// ToMonitorUpdateMap implements monitors.UpdateOptsBuilder.
func (u MonitorUpdate) ToMonitorUpdateMap() (map[string]any, error) {
	return monitors.UpdateOpts{Delay: u.Delay, Timeout: u.Timeout, MaxRetries: u.MaxRetries, URLPath: u.URLPath,
		ExpectedCodes: u.ExpectedCodes}.ToMonitorUpdateMap()
}

// MonitorInfo is a health monitor as Octavia reports it.
type MonitorInfo struct {
	ID                 string
	Name               string
	Type               string
	Delay              int
	Timeout            int
	MaxRetries         int
	URLPath            string
	ExpectedCodes      string
	ProvisioningStatus string
}

func monitorInfo(m *monitors.Monitor) *MonitorInfo {
	return &MonitorInfo{ID: m.ID, Name: m.Name, Type: m.Type, Delay: m.Delay, Timeout: m.Timeout, MaxRetries: m.MaxRetries,
		URLPath: m.URLPath, ExpectedCodes: m.ExpectedCodes, ProvisioningStatus: m.ProvisioningStatus}
}

// CreateMonitor creates the pool's health monitor; the caller waits (WaitMonitorActive) after
// saving its id.
func (l *LoadBalancer) CreateMonitor(ctx context.Context, spec MonitorSpec) (*MonitorInfo, error) {
	action := fmt.Sprintf("creating the %s health monitor of pool %s", spec.Type, spec.PoolID)
	created, err := createChild(ctx, l, action, func(ctx context.Context) (*monitors.Monitor, error) {
		return monitors.Create(ctx, l.Client, spec).Extract()
	})
	if err != nil {
		return nil, err
	}
	return monitorInfo(created), nil
}

// GetMonitor reads one health monitor; a 404 satisfies IsNotFound.
func (l *LoadBalancer) GetMonitor(ctx context.Context, id string) (*MonitorInfo, error) {
	m, err := monitors.Get(ctx, l.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading health monitor "+id, err)
	}
	return monitorInfo(m), nil
}

var _ scaling.MonitorDelayReader = (*LoadBalancer)(nil)

// HealthMonitorDelay reads the delay of the pool's health monitor (two GETs: the pool, its
// monitor), which the waits for new members to be ONLINE expect; like every expected time, it
// is multiplied by the poll's Scale.
func (l *LoadBalancer) HealthMonitorDelay(ctx context.Context, poolID string) (time.Duration, bool, error) {
	pool, err := l.GetPool(ctx, poolID)
	if err != nil || pool.MonitorID == "" {
		return 0, false, err
	}
	m, err := l.GetMonitor(ctx, pool.MonitorID)
	if err != nil {
		return 0, false, err
	}
	return l.Poll.Expecting(time.Duration(m.Delay) * time.Second).expected(), true, nil
}

// UpdateMonitor changes the monitor and waits for ACTIVE.
func (l *LoadBalancer) UpdateMonitor(ctx context.Context, id string, u MonitorUpdate) error {
	return l.mutate(ctx, "updating health monitor "+id, func(ctx context.Context) error {
		_, err := monitors.Update(ctx, l.Client, id, u).Extract()
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

// WaitMonitorActive waits until the load balancer has applied a new health monitor and the
// monitor itself did not go to ERROR.
func (l *LoadBalancer) WaitMonitorActive(ctx context.Context, id string) error {
	return l.WaitChildActive(ctx, "health monitor "+id, func(ctx context.Context) (string, error) {
		m, err := l.GetMonitor(ctx, id)
		if err != nil {
			return "", err
		}
		return m.ProvisioningStatus, nil
	})
}
