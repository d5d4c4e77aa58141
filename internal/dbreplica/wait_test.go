package dbreplica_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
)

func TestWait_LagAboveMaxLagIsReportedWithTheFigure(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	if err := set.primary.Exec(ctx, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	caughtUp(ctx, t, set, set.replicas...)
	r := set.replicas[1]
	// A replica that applies events 8 s late: a slow replica, made reproducible.
	if err := r.srv.Exec(ctx, "STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY = 8", "START SLAVE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := r.srv.Exec(ctx, "STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY = 0", "START SLAVE"); err != nil {
			t.Error(err)
		}
		caughtUp(ctx, t, set, r)
	})
	writeRows(ctx, t, set, dbName, 1, 1)
	// Lag is 0 right after the write; give it time to build up.
	time.Sleep(2500 * time.Millisecond)

	var mu sync.Mutex
	var lags []time.Duration
	observe := func(o dbreplica.Observation) {
		if o.Err == nil && o.Status.LagKnown {
			mu.Lock()
			lags = append(lags, o.Status.Lag)
			mu.Unlock()
		}
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 3*time.Second)
	defer waitCancel()
	_, err := dbreplica.WaitReplicating(waitCtx, set.monitorEndpoint(r), dbreplica.WaitOptions{
		MaxLag: time.Second, PollInterval: 250 * time.Millisecond, Observe: observe})
	var we *dbreplica.WaitError
	if !errors.As(err, &we) || we.Failed || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline with the lag figure", err)
	}
	t.Logf("lag figures read while waiting: %v", lags)
	t.Logf("wait: %v", err)
	if !strings.Contains(err.Error(), "lags") || !strings.Contains(err.Error(), "max_lag 1s") {
		t.Errorf("the error should give the lag and the bound: %v", err)
	}
	if len(lags) == 0 || lags[len(lags)-1] < 2*time.Second {
		t.Errorf("want lag figures reaching 2 s or more, read %v", lags)
	}

	// The same lag is within a 30 s bound.
	st, err := dbreplica.WaitReplicating(ctx, set.monitorEndpoint(r), dbreplica.WaitOptions{PollInterval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("within max_lag %s: %s", dbreplica.DefaultMaxLag, st)
}

func TestWait_StoppedReplicationFailsAtOnceWithTheServerError(t *testing.T) {
	set := needSharedSet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbName := freshDatabase(ctx, t, set.primary)
	if err := set.primary.Exec(ctx, "CREATE TABLE `"+dbName+"`.t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	caughtUp(ctx, t, set, set.replicas...)
	r := set.replicas[1]
	// A row written on the replica behind replication's back (an administrator may
	// write despite read_only), then the same key on the primary: the SQL thread stops.
	if err := r.srv.Exec(ctx, "INSERT INTO `"+dbName+"`.t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := r.srv.Exec(ctx, "DELETE FROM `"+dbName+"`.t WHERE id = 7", "START SLAVE"); err != nil {
			t.Error(err)
		}
		caughtUp(ctx, t, set, r)
	})
	writeRows(ctx, t, set, dbName, 7, 7)
	// The replica may not have met the conflicting row yet (a loaded machine): until its SQL
	// thread stops it is healthy, and the wait rightly says so. What is tested is what the
	// wait makes of a stopped thread, so the test first waits for the stop.
	stopped := false
	for deadline := time.Now().Add(20 * time.Second); !stopped && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		rep, err := dbreplica.OpenReplica(ctx, set.monitorEndpoint(r))
		if err != nil {
			t.Fatal(err)
		}
		st, err := rep.Status(ctx)
		_ = rep.Close()
		if err != nil {
			t.Fatal(err)
		}
		stopped = !st.SQLRunning
	}
	if !stopped {
		t.Fatal("the replica's SQL thread did not stop on the duplicate key within 20 s")
	}

	start := time.Now()
	_, err := dbreplica.WaitReplicating(ctx, set.monitorEndpoint(r), dbreplica.WaitOptions{PollInterval: 100 * time.Millisecond})
	var we *dbreplica.WaitError
	if !errors.As(err, &we) || !we.Failed {
		t.Fatalf("got %v, want a failed replica", err)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to see a stopped SQL thread", time.Since(start))
	}
	if !strings.Contains(err.Error(), "1062") || !strings.Contains(err.Error(), "SQL thread No") {
		t.Errorf("the error should carry the server's error: %v", err)
	}

	// The check after a scale-in step names the broken replica and only that one.
	checkCtx, checkCancel := context.WithTimeout(ctx, 5*time.Second)
	defer checkCancel()
	health, err := dbreplica.CheckStillReplicating(checkCtx, openPrimary(ctx, t, set), set.targets(set.replicas...), dbreplica.DefaultMaxLag)
	if err == nil || !strings.Contains(err.Error(), r.name) || strings.Contains(err.Error(), set.replicas[0].name) {
		t.Fatalf("CheckStillReplicating = %v; want an error naming %s only", err, r.name)
	}
	if health[0].Err != nil || health[1].Err == nil {
		t.Errorf("health = %+v", health)
	}
	t.Logf("check: %v", err)
}
