package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Eight servers built and deleted at once are waited for with one list of the pool's servers
// per poll: the GETs of single servers are the confirmations of the eight deletions (a server
// missing from the list is read once before it counts as gone), not one per server per poll.
func TestAdapters_ServerWaitsPollOneListWhateverTheirNumber(t *testing.T) {
	const n = 8
	l := newLab(t, 0.01)
	l.compute.Poll = cloud.DefaultPoll.Scaled(0.01)
	l.compute.WatchTag(scaling.PoolTag("watched"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := l.dc.Metrics()
	ids := make([]string, n)
	for i := range ids {
		s, err := l.compute.CreateServer(ctx, scaling.ServerSpec{Name: scaling.NodeName("watched", i+1), ImageID: l.seed.Web01ImageID,
			FlavorID: l.seed.Web01FlavorID, Networks: []string{l.seed.NetworkID}, Tags: scaling.ServerTags("watched", i+1)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	each := func(f func(id string) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, id := range ids {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f(id) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	each(func(id string) error {
		s, err := l.compute.WaitServerActive(ctx, id)
		if err == nil && (s.Status != "ACTIVE" || s.Address == "") {
			err = fmt.Errorf("server %s: %+v, want ACTIVE with an address", id, s)
		}
		return err
	})
	each(func(id string) error {
		if err := l.compute.DeleteServer(ctx, id); err != nil {
			return err
		}
		return l.compute.WaitServerGone(ctx, id)
	})
	after := l.dc.Metrics()
	count := func(method, path string) int64 {
		return after.Count("compute", method, path) - before.Count("compute", method, path)
	}
	lists, gets := count("GET", "/compute/v2.1/servers/detail"), count("GET", "/compute/v2.1/servers/{id}")
	t.Logf("%d lists, %d GETs of one server", lists, gets)
	if gets > n {
		t.Errorf("%d GETs of single servers, want at most %d (one confirmation per deletion)", gets, n)
	}
	// A 30 s build and a 5 s delete at most every 2 s, closer near their ends: about 25 looks.
	if lists < 2 || lists > 40 {
		t.Errorf("%d lists for a build and a delete of %d servers, want one per poll (2 to 40)", lists, n)
	}
	if _, err := l.compute.WaitServerActive(ctx, ids[0]); !cloud.IsNotFound(err) {
		t.Errorf("waiting for a server that is gone: %v, want Nova's 404", err)
	}
}
