// Package scaling prepares a pool of web nodes behind an Octavia load balancer for a
// traffic spike and scales it back staggered afterwards. It knows no Terraform types:
// the provider builds a Pool from its configuration and state and calls Apply.
//
// # Use
//
//	p, err := scaling.New(scaling.Config{Spec: spec, Options: opts, Compute: nova, LB: octavia, Known: nodesFromState})
//	nodes, err := p.Apply(ctx, 20)   // scale out (or in, or replace the image) to 20 nodes
//	nodes, err = p.Destroy(ctx)      // staggered scale-in to zero
//	steps, err := p.PlanApply(ctx, 5) // what Apply(5) would do, for a plan-time warning
//
// The nodes returned are always the servers and members that exist, error or not, and
// Options.OnChange sees every change as it happens, so no server is ever forgotten.
//
// # Naming
//
// A node is "<name_prefix>-<ordinal>" (ordinal from 1, zero-padded to two digits). Its
// server carries the metadata eventscale_managed_by=eventscale, eventscale_pool=<key>,
// eventscale_ordinal=<n> and the tags eventscale:managed-by=eventscale,
// eventscale:pool=<key>, eventscale:ordinal=<n>; its member is named like the server and
// tagged eventscale:managed-by=eventscale, eventscale:pool=<key>. Discovery lists the
// pool's servers in one call by that metadata, so a server whose create response was lost
// or that an interrupted apply left behind is adopted, not created twice. A member is the
// pool's when it has the pool tag, is a known member id, or has the name and address of
// one of the pool's servers (for clouds that drop tags); every other member (web01) and
// server is never changed.
//
// # Steps
//
// Plan computes the ordered steps (see Step and Plan); Apply discovers, plans and executes
// them. Scale-out creates the missing servers in parallel (MaxParallel), records each id
// the moment Nova returns it, replaces a server that ends in ERROR (CreateRetries), joins
// all new nodes in one batch member update that keeps every other member as it is, waits
// for them to be healthy (all, or MinHealthyPercent) and optionally reboots each once.
// Scale-in runs drain.go's sequence batch by batch: drain, drain timeout and webhook,
// remove member, delete server, health gate.
//
// # Cancellation
//
// Steps check ctx between them. When a run stops (cancellation or error) in the middle of
// a scale-in batch, a node drained but still a member is put back in service, and a node
// whose member is already removed has its server deleted, both under a fresh context
// bounded by CleanupTimeout: afterwards every node is fully in service or fully gone.
// Restoring a drained node is preferred over finishing it because finishing means either
// cutting its open connections or waiting out the drain after the user asked to stop.
// Servers still building when a scale-out stops are returned (with their ids) and adopted
// by the next Apply.
package scaling
