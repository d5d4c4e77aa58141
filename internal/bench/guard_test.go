package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The guard: a short scale-out and scale-back with the real adapters over devcloud that fails
// when the time to the floor, the API calls or the load balancer's update cycles regress.
//
// Figures at the time the bounds were set (N = 4, time scale 0.1, go test -race on a 2-core
// machine with a load average of 20): scale-out 0→4 took 41.9-43.5 s for a 40 s floor (ratio
// 1.05-1.09), 74-78 calls, 1 cycle; scale-in 4→0 (batch 1, drain 1 s, health check) took
// 97-99 s for a 64 s floor (ratio 1.52-1.55), 70 calls, 8 cycles.
//
// Cycles are exact: a second cycle in the scale-out, or a third per node in the scale-in, is a
// regression whatever the machine does. Calls leave a quarter of headroom: they come from
// polling at fixed intervals, so a loaded machine makes fewer of them, not more, and halving a
// poll interval doubles them. Time leaves about a quarter as well, since model time is wall
// time divided by the scale and stolen CPU counts ten times over; a run that breaks only a time
// bound is run once more before failing, so that one load spike does not fail the build while a
// real slow-down fails both runs. The next change to the scaling path tightens these.
const guardScale = 0.1

type guardBounds struct {
	maxRatio  float64
	maxCalls  int
	maxCycles int
}

var (
	guardScaleOut = guardBounds{maxRatio: 1.35, maxCalls: 100, maxCycles: 1}
	guardScaleIn  = guardBounds{maxRatio: 1.9, maxCalls: 90, maxCycles: 8}
)

func TestScaleOutAndBack_StayWithinTheirBoundsOfFloorCallsAndCycles(t *testing.T) {
	const n = 4
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lab, err := StartLab(ctx, Realistic, guardScale)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	s := &suite{lab: lab}
	run := func(desired int) PoolRun {
		return PoolRun{Key: "guard-web", Desired: desired, MaxParallel: benchParallel, BatchSize: 1, Drain: benchDrain,
			Poll: benchPoll, HealthCheck: true}
	}
	scenarios := []struct {
		name   string
		floor  time.Duration
		from   int
		run    PoolRun
		bounds guardBounds
	}{
		{fmt.Sprintf("scale-out 0→%d", n), Realistic.ScaleOutFloor(n, benchParallel), 0, run(n), guardScaleOut},
		{fmt.Sprintf("scale-in %d→0", n), Realistic.ScaleInFloor(n, 1, benchDrain), n, run(0), guardScaleIn},
	}
	for _, sc := range scenarios {
		for attempt := 1; ; attempt++ {
			row := s.library(ctx, sc.name, sc.floor, sc.from, sc.run)
			t.Log(row.summary())
			if row.Err != "" {
				t.Fatalf("%s failed: %s", sc.name, row.Err)
			}
			if row.Usage.Calls > sc.bounds.maxCalls {
				t.Errorf("%s made %d API calls, more than the %d allowed", sc.name, row.Usage.Calls, sc.bounds.maxCalls)
			}
			if row.Usage.Cycles > sc.bounds.maxCycles {
				t.Errorf("%s took %d load balancer update cycles, more than the %d allowed", sc.name, row.Usage.Cycles, sc.bounds.maxCycles)
			}
			if t.Failed() {
				t.FailNow()
			}
			if row.Ratio() <= sc.bounds.maxRatio {
				break
			}
			if attempt == 2 {
				t.Fatalf("%s took %.1f model seconds, %.2f times its %s floor, twice in a row; at most %.2f is allowed",
					sc.name, row.Measured.Seconds(), row.Ratio(), secs(sc.floor), sc.bounds.maxRatio)
			}
			// library sets the pool up again: the scale-out from none, the scale-back from n.
			t.Logf("%s: ratio %.2f above %.2f, running it once more in case the machine was busy", sc.name, row.Ratio(), sc.bounds.maxRatio)
		}
	}
}
