package cloud_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// A server whose build ended in ERROR stays in ERROR (task_state deleting) while Nova deletes
// it: waiting for it to be gone is no failure, or a node whose build failed could never be
// replaced.
func TestAdapters_ServerInErrorIsWaitedForUntilGone(t *testing.T) {
	l := newLab(t, 0.01)
	// Deleting takes 1 s here, so the waiter sees the server in ERROR and deleting many times.
	l.dc.SetTiming(devcloud.Timing{Delays: map[string]time.Duration{"server_delete": 100 * time.Second}})
	l.dc.InjectFaults(devcloud.FaultSpec{ServerErrors: &devcloud.ServerErrorFault{Next: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := l.compute.CreateServer(ctx, scaling.ServerSpec{Name: "doomed", ImageID: l.seed.Web01ImageID,
		FlavorID: l.seed.Web01FlavorID, Networks: []string{l.seed.NetworkID}})
	if err != nil {
		t.Fatal(err)
	}
	var fault *scaling.ServerFaultError
	if _, err := l.compute.WaitServerActive(ctx, srv.ID); !errors.As(err, &fault) {
		t.Fatalf("build: %v, want it to end in ERROR", err)
	}
	if err := l.compute.DeleteServer(ctx, srv.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := l.compute.GetServer(ctx, srv.ID); err != nil || got.Status != "ERROR" {
		t.Fatalf("right after the delete: %+v, %v; want the server still shown in ERROR", got, err)
	}
	if err := l.compute.WaitServerGone(ctx, srv.ID); err != nil {
		t.Fatalf("waiting for the deletion of a server in ERROR: %v", err)
	}
}
