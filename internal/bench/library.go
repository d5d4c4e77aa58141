package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// PoolRun is one Apply of the scaling library with the real adapters (gophercloud over HTTP)
// against the lab, configured as the web pool resource configures it. Durations are model
// time: the run scales the adapters' poll interval and the library's clock by Scale, as a
// provider whose EVENTSCALE_POLL_INTERVAL and drain_timeout were scaled would.
type PoolRun struct {
	Target Target  `json:"target"`
	Scale  float64 `json:"scale"`
	Key    string  `json:"key"`
	// ImageID is the nodes' image; empty means the target's.
	ImageID string `json:"image_id"`
	// NewImage asks for the target's NewImageID (set once the lab is known).
	NewImage bool `json:"new_image,omitempty"`
	Desired  int  `json:"desired"`

	MaxParallel int           `json:"max_parallel"`
	BatchSize   int           `json:"batch_size"`
	Drain       time.Duration `json:"drain"`
	// Poll is the provider's poll interval: cloud.DefaultPoll, both for the adapters' waiters
	// and for the library's health waits (the web pool passes the client's interval on).
	Poll time.Duration `json:"poll"`
	// HealthCheck makes the scale-back check the VIP before the first drain and after each
	// batch, as the example configuration does.
	HealthCheck bool `json:"health_check"`
}

// PoolResult is what the run saw: when Apply started and returned (wall clock), how many
// nodes exist and serve, and Apply's error.
type PoolResult struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Nodes   int       `json:"nodes"`
	Serving int       `json:"serving"`
	Err     string    `json:"error,omitempty"`
}

// RunPool authenticates, builds the adapters and the pool, and applies run.Desired. The
// clock starts when Apply is called: authentication is the provider's Configure, not the
// scaling.
func RunPool(ctx context.Context, run PoolRun) (PoolResult, error) {
	if run.Scale <= 0 {
		return PoolResult{}, fmt.Errorf("pool run: time scale must be positive, got %v", run.Scale)
	}
	t := run.Target
	c, err := t.client(ctx, t.UserName, t.Password, t.Project)
	if err != nil {
		return PoolResult{}, err
	}
	// The provider's poll with the interval run.Poll, its first look and its expected transition
	// times all in model time.
	poll := cloud.Poll{Interval: run.Poll}.Scaled(run.Scale)
	compute, err := c.Compute(ctx)
	if err != nil {
		return PoolResult{}, err
	}
	compute.Poll = poll
	compute.WatchTag(scaling.PoolTag(run.Key))
	lb, err := c.LoadBalancer(ctx, t.LoadBalancerID)
	if err != nil {
		return PoolResult{}, err
	}
	lb.Poll = poll
	opts := scaling.Options{MaxParallel: run.MaxParallel, BatchSize: run.BatchSize, DrainTimeout: run.Drain, PollInterval: run.Poll}
	if run.Drain == 0 {
		opts.DrainTimeout = -1
	}
	if run.HealthCheck {
		opts.HealthCheckURL = t.VIPURL
	}
	image := run.ImageID
	if image == "" {
		image = t.ImageID
	}
	p, err := scaling.New(scaling.Config{
		Spec: scaling.PoolSpec{Key: run.Key, NamePrefix: run.Key, ImageID: image, FlavorID: t.FlavorID, FlavorName: t.FlavorName,
			Networks: []string{t.NetworkID}, LoadBalancerID: t.LoadBalancerID, PoolID: t.PoolID, ProtocolPort: 80, SubnetID: t.SubnetID},
		Options: opts, Compute: compute, LB: lb, Clock: newScaledClock(run.Scale),
	})
	if err != nil {
		return PoolResult{}, err
	}
	res := PoolResult{Start: time.Now()}
	nodes, err := p.Apply(ctx, run.Desired)
	res.End = time.Now()
	res.Nodes = len(nodes)
	for _, n := range nodes {
		if n.MemberID != "" && !n.Drained && n.ServerID != "" {
			res.Serving++
		}
	}
	if err != nil {
		res.Err = err.Error()
	}
	return res, nil
}

// scaledClock is the library's clock in model time: a model second lasts scale wall
// seconds, so drain timeouts and poll intervals keep their real-cloud values.
type scaledClock struct {
	origin time.Time
	scale  float64
}

func newScaledClock(scale float64) scaledClock { return scaledClock{origin: time.Now(), scale: scale} }

func (c scaledClock) Now() time.Time {
	return c.origin.Add(time.Duration(float64(time.Since(c.origin)) / c.scale))
}

func (c scaledClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(float64(d) * c.scale))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
