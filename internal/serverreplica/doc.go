// Package serverreplica builds MariaDB/MySQL read replicas of a primary on plain Nova
// servers, for clouds without Trove: the orchestration behind the
// eventscale_server_replica resource. It joins package dbreplica (the database side:
// checks, accounts, user data, replication status) to Nova (servers with deterministic
// names and metadata) and knows no Terraform types.
//
// # Sequence
//
// Plan: CheckPlan runs dbreplica.CheckPrimary and CheckServerIDs with the replicas the plan
// wants (those that exist marked as such). It only reads.
//
// Apply (create and grow), Set.Apply(ctx, n):
//
//  1. List the set's servers in one call (metadata eventscale_replica_set) and merge them
//     with what the caller knew: a server whose create answer was lost, or that an earlier
//     apply left, is adopted by its ordinal, never made twice.
//  2. CheckPrimary and CheckServerIDs again (the plan may be old); Primary.
//     EnsureReplicationUser with the set's password.
//  3. Per missing ordinal 1..n, in parallel: render the user data, create the server
//     (<name>-NN, metadata for adoption and import), record its id at once, wait for
//     ACTIVE, then dbreplica.WaitReplicating up to MaxLag. A create answered with an error
//     is looked for in a listing before it is sent again; a server in ERROR is deleted and
//     built again (CreateRetries). A replica that is not in sync when its wait ends is
//     reported with the last lines of its setup, read from the server's console.
//  4. Replicas that already exist are waited for as well (an earlier apply may have
//     stopped while they set up). One whose server is in ERROR, or whose setup script
//     failed (its console says so), never served: it is deleted and built again. One
//     that served and stopped replicating is reported, not replaced: that needs a look.
//
// The error of a partly failed apply comes with every replica that exists, so the caller
// keeps them (the resource saves them with a warning, and the next apply resumes).
//
// Shrink, and Destroy: one replica at a time, the highest ordinal first:
// dbreplica.StopReplication (an unreachable replica is down and streams nothing: noted,
// not fatal), delete the server, wait until Nova no longer has it, then
// dbreplica.CheckStillReplicating on the replicas that stay. A failed check stops the
// shrink. When no replica is left, Primary.DropReplicationUser.
//
// Refresh reads each replica's state: Nova's status and address, and over SQL through
// the monitoring account its replication threads, lag and GTID position.
//
// Discover reads a set back from its servers' metadata, for import: everything but the
// primary's password and the two generated passwords, which the cloud does not keep in
// a form a project member can read.
package serverreplica
