// Package chaos is the provider's chaos suite; its tests are the whole package.
//
// Each schedule, generated from a seed, runs an event (eventscale_event, eventscale_seed_image,
// eventscale_load_balancer, eventscale_web_pool, eventscale_database_replica) through create,
// scale-out, scale-in, the staggered destroy of the web pool and the destroy of the rest, with
// the real Terraform CLI and the provider built as a plugin binary (dev_overrides), against a
// devcloud of its own whose faults the schedule sets step by step: 5xx and 429 answers on every
// service, connections dropped before and after the cloud acted, slow answers, builds ending in
// ERROR, a load balancer slow to leave PENDING_UPDATE, replicas failing to build, tokens
// revoked, a health gate that stops a scale-in. Kill schedules SIGKILL Terraform and its
// plugin at points of scale-out, scale-in and destroy chosen from devcloud's timeline.
//
// A failed step is run again, as an operator would, a bounded number of times. After every
// Terraform run the suite reads devcloud through its OpenStack APIs and its event log and
// checks the provider's promises: the state lists exactly the cloud's objects, no name is
// created twice, no member is left drained with its server alive, a scale-in stopped half-way
// leaves the remaining nodes serving, nothing is deleted while it serves, nothing is left after
// destroy, and background traffic through the VIP loses no request.
//
// Run it with the acceptance tests (make test), or alone:
//
//	TF_ACC=1 go test ./internal/chaos/ -run TestChaos -chaos.schedules=200 -v
//
// Flags (and the environment variables CI can set instead): -chaos.schedules
// (CHAOS_SCHEDULES, default 20), -chaos.kills (CHAOS_KILLS, kill schedules, default 4 with
// 3 kill points each), -chaos.seed (CHAOS_SEED, the first schedule's seed), -chaos.only
// (CHAOS_ONLY, replay the schedule of one seed), -chaos.parallel (CHAOS_PARALLEL),
// -chaos.summary (CHAOS_SUMMARY, default bin/chaos-summary.txt), -chaos.logs (CHAOS_LOGS, keep
// every schedule's Terraform log in bin/chaos-logs/, not only the failed ones').
//
// -chaos.create-kills (CHAOS_CREATE_KILLS, default 0) adds schedules that SIGKILL the first
// apply, which creates everything. They are off by default because they fail: a load balancer
// Octavia made before the killed Terraform recorded it is not adopted by the next apply, which
// makes a second one (the web pool's servers, the replicas and a seed image still saving are
// adopted). And when Terraform is killed while it writes terraform.tfstate (it truncates, then
// writes), the first apply has no terraform.tfstate.backup to restore.
package chaos
