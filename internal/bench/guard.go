package bench

// The guard: a short scale-out and scale-back with the real adapters over devcloud that fails
// when the time to the floor, the API calls or the load balancer's update cycles regress.
//
// Figures at the time the bounds were set (N = 4, time scale 0.1, go test -race on a 2-core
// machine with a load average of 20): scale-out 0→4 took 41.9-43.5 s for a 40 s floor (ratio
// 1.05-1.09), 74-80 calls, 1 cycle; scale-in 4→0 (batch 1, drain 1 s, health check) took
// 96-99 s for a 64 s floor (ratio 1.50-1.55), 70 calls, 8 cycles.
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
