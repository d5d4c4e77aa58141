// Package bench measures how close the web pool comes to what the cloud itself needs, on
// devcloud with a realistic timing model, and compares it with terraform-provider-openstack.
//
// Every scenario reports its floor (model seconds the cloud needs, from Model: see
// ScaleOutFloor, ScaleInFloor, RollingFloor), the measured model seconds, their ratio, the API
// calls devcloud counted (/_devcloud/metrics) by service and method, the load balancer's update
// cycles (PENDING_UPDATE transitions in devcloud's timeline), the most calls within any 10 model
// seconds (a recording proxy in front of devcloud notes each arrival) and the peak RSS of the
// process doing the work.
//
// The library scenarios (RunBench) drive internal/scaling with the real adapters of
// internal/cloud, gophercloud over HTTP, in a child process of the benchmark command, at a fast
// time scale: the adapters poll as the provider does (a short first poll, closer near a
// transition's expected end, at most 2 model seconds apart) and the library's clock runs in model
// time, exactly as the provider does with EVENTSCALE_POLL_INTERVAL and drain_timeout scaled.
// The Terraform scenarios run the provider plugins through the Terraform CLI with
// dev_overrides, behind a wrapper that reads the plugin's peak memory (RunPluginWrapper).
//
// Model time is wall time divided by the time scale, so CPU time stolen on a loaded machine
// counts 1/scale times: counts of calls and cycles are the steadier figures.
package bench

import "fmt"

// docIntro is the fixed part of docs/benchmarks.md: how the figures are made.
func docIntro() string {
	m := Realistic
	return fmt.Sprintf(`# Benchmarks

What an operator weighs before an event announced at short notice: the scale-out is the window of risk,
the scale-back is paid by the hour, and API calls count against the cloud's rate limits at the busiest
moment. These figures are measured on devcloud (internal/devcloud) by `+"`make bench`"+` and
`+"`make bench-compare`"+` (internal/bench, tools/bench); this file is rewritten by them.

## Timing model

%s. Every figure is in model seconds: devcloud runs the model faster than wall time by its time
scale, and model time is wall time divided by it. The pool has web01 as an unmanaged member, a 5 s
HTTP health monitor, and the nodes on a network of their own.

Settings: `+"`max_parallel`"+` %d (the default; Terraform's parallelism for the peer), `+"`drain_timeout`"+` %s,
`+"`batch_size`"+` as named, `+"`health_check_url`"+` the VIP as in examples/event (with the default three answers in a
row), the provider's polling (a first look after 0.25 s, then closer towards the expected end of each transition,
at most 2 s apart, the servers' waits one list of the pool's servers per poll).

## Floors

The floor is what the cloud itself needs for the operator's sequence, computed from the timing model; a
tool at the floor loses no time to polling, to waiting on itself, or to sequencing the cloud does not
impose.

- **Scale-out 0→N**: ⌈N ÷ max_parallel⌉ × build (%s) + the update cycle joining the last nodes built (%s) + one
  health monitor delay until the last member is ONLINE (%s). With max_parallel ≥ N: %s. Earlier waves can join
  while later ones build, at no time of their own.
- **Scale-in N→0, batch b**: ⌈N ÷ b⌉ × (update cycle setting the batch's weight to 0 + drain_timeout +
  update cycle removing the batch's members + server delete) = ⌈N ÷ b⌉ × (%s + drain + %s + %s). Batches never
  overlap, and the health check of the remaining tier answers at once in the model.
- **Rolling replacement of N nodes, batch b**: per batch, the scale-out floor of b new nodes followed by the
  scale-in floor of the b old ones.
- **Refresh**: no state transition, so no floor; its figures are the calls, the time and the memory.

Measured is from the tool's start (`+"`Pool.Apply`"+` called, or the Terraform command started) to its end, or to
the end of what it asked of the cloud when that comes later: the last new member ONLINE (its update cycle
plus the monitor delay) and the last deleted server gone. First serving is from the same start to the first
new member ONLINE: when added capacity begins to carry traffic (its floor is one build, one update cycle and one
monitor delay).

## Method

- The library scenarios drive internal/scaling with the real adapters of internal/cloud (gophercloud over
  HTTP, the retrying client, the waiters) in a child process, so that the RSS is the library's and not
  devcloud's. That is what the web pool resource runs: its Create, Update and Delete call `+"`Pool.Apply`"+`
  with these adapters and the client's poll interval. What the resource adds around it costs no waiting: the
  plan-time checks and the quota pre-flight (reads), the image check, and the configuration record on the
  Octavia pool (one more update cycle, sent while the servers build). Driving the library lets the
  benchmarks run at a fast time scale without Terraform's own start-up and state handling being counted
  1/scale times; the comparison runs the provider through Terraform at time scale 1, where they count once.
- The refresh at 500 nodes is a `+"`terraform plan`"+` of the web pool: the refresh is the provider's Read
  and Terraform's handling of 500 nodes in state, which only the CLI exercises. The pool is built through
  Terraform first; the plan then runs at time scale 1.
- The comparison runs both providers through the Terraform CLI with dev_overrides, at time scale 1:
  terraform-provider-openstack waits in wall-clock time (3 s between server polls, 1 s between load balancer
  polls, growing), so a faster cloud would stretch its figures, not shrink them.
- Calls are devcloud's request counts (/_devcloud/metrics), Keystone's token request included; cycles are the
  load balancer's PENDING_UPDATE transitions in devcloud's timeline; peak is the most calls within any 10
  model seconds; RSS is the peak resident set of the library's process or of the provider plugin.
- On a loaded machine CPU time stolen from the tools counts 1/scale times in model time; the counts of calls
  and cycles do not depend on it.

## Guard

`+"`make test`"+` runs a short version (internal/bench, TestScaleOutAndBack_StayWithinTheirBoundsOfFloorCallsAndCycles):
scale-out 0→4, scale-in 4→0 and scale-in 4→0 with batch_size 2, with the real adapters at time scale %g. It fails
when the scale-out takes more than %.2f times its floor, %d calls or %d update cycle, the scale-in more than %.2f
times its floor, %d calls or %d cycles, or the batched scale-in more than %.2f times its floor, %d calls or %d cycles
(two per batch); a run over a time bound alone is repeated once, since a busy machine stretches model time.
`, m, benchParallel, secs(benchDrain), secs(m.ServerReady()), secs(m.LBUpdate), secs(m.MonitorDelay),
		secs(m.ScaleOutFloor(1, 1)), secs(m.LBUpdate), secs(m.LBUpdate), secs(m.ServerDelete),
		guardScale, guardScaleOut.maxRatio, guardScaleOut.maxCalls, guardScaleOut.maxCycles,
		guardScaleIn.maxRatio, guardScaleIn.maxCalls, guardScaleIn.maxCycles,
		guardScaleInBatch.maxRatio, guardScaleInBatch.maxCalls, guardScaleInBatch.maxCycles)
}
