package cloud

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// Octavia takes one change per load balancer at a time and reports a child's provisioning
// only through its load balancer: every change below is sent while the load balancer accepts
// it, and followed by a wait for it to be ACTIVE again.

// IsImmutable reports Octavia's 409 "... is immutable and cannot be updated".
func IsImmutable(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusConflict) && strings.Contains(strings.ToLower(err.Error()), "immutable")
}

// mutate sends a change, retrying while the LB is immutable, then waits for ACTIVE.
func (l *LoadBalancer) mutate(ctx context.Context, action string, call func(context.Context) error) error {
	if err := l.mutateNoWait(ctx, action, call); err != nil {
		return err
	}
	if err := l.WaitActive(ctx, l.LoadBalancerID); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}

// mutateNoWait retries only Octavia's "immutable" 409: a 409 such as "Another Listener on this
// Load Balancer is already using protocol_port 80" never clears by waiting, and retrying it
// would hang until the timeout.
func (l *LoadBalancer) mutateNoWait(ctx context.Context, action string, call func(context.Context) error) error {
	for {
		busy, err := l.mutateOnce(ctx, action, call)
		if !busy {
			return err
		}
	}
}

// mutateOnce sends a change once. Refused because the load balancer was busy (Octavia's
// "immutable"), it waits until the load balancer is ACTIVE again and returns busy with the
// refusal; the caller decides whether the same change may be sent again.
func (l *LoadBalancer) mutateOnce(ctx context.Context, action string, call func(context.Context) error) (busy bool, err error) {
	err = call(ctx)
	if err == nil {
		return false, nil
	}
	if !IsImmutable(err) || l.LoadBalancerID == "" {
		return false, apiError(action, err)
	}
	if werr := l.WaitActive(ctx, l.LoadBalancerID); werr != nil {
		return false, fmt.Errorf("%s: the load balancer stayed immutable: %w", action, werr)
	}
	return true, err
}

// createChild sends a create that the caller follows with its object's wait once it has saved the
// new id (AWS's order: the id is in state before any wait).
func createChild[T any](ctx context.Context, l *LoadBalancer, action string, call func(context.Context) (T, error)) (T, error) {
	var created T
	err := l.mutateNoWait(ctx, action, func(ctx context.Context) error {
		var err error
		created, err = call(ctx)
		return err
	})
	return created, err
}

// WaitChildActive waits for the LB to be ACTIVE after a change to one of its children, then
// reads the child's own provisioning_status: the LB goes back to ACTIVE even when the
// amphora refused the child, which Octavia then marks ERROR.
func (l *LoadBalancer) WaitChildActive(ctx context.Context, what string, status func(context.Context) (string, error)) error {
	if err := l.WaitActive(ctx, l.LoadBalancerID); err != nil {
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
