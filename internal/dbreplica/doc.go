// Package dbreplica builds MariaDB or MySQL read replicas next to a primary that runs
// on a plain server (db01), for clouds without Trove. It holds the database side of
// the eventscale_server_replica resource: checking the primary, the replication
// account, the replica's cloud-init user data, reading replica status, and the
// scale-in steps. It knows no Terraform types and no OpenStack API: the caller
// creates and deletes the servers and keeps the state.
//
// # Sequence
//
// Plan (ModifyPlan, when the primary's address and credentials are known):
//
//  1. CheckPrimary(ctx, primary): connects with the configured account and reads
//     log_bin, server_id, binlog_format, GTID settings (MySQL: gtid_mode and
//     enforce_gtid_consistency; MariaDB always has GTIDs), the replicas already
//     connected and the account's privileges. Each finding is a Problem with the
//     Attribute to change; settings of db01 itself (AttrPrimaryServer) come with the
//     my.cnf lines to add. Nothing is changed on the primary, and it is never
//     restarted. Problems.HasErrors() stops the plan.
//  2. CheckServerIDs(info, planned): every replica's server_id must differ from the
//     primary's, from the other replicas' and from those of replicas already
//     streaming from db01 (another set, or replicas outside this provider). Existing
//     replicas of the set are marked Exists. ReplicaServerID(base, ordinal) gives
//     base+ordinal; SuggestServerIDBase derives a base from the set's name.
//
// Create (n replicas) and grow (more replicas):
//
//  1. CheckPrimary and CheckServerIDs again, as at plan time (the plan may be old).
//  2. Primary.EnsureReplicationUser with ReplicationUserName(set) and a password from
//     GeneratePassword that the caller keeps as sensitive state. A second run finds
//     the account (EnsureResult.Created false); a changed password is set again
//     (PasswordUpdated).
//  3. Per replica: RenderUserData with the replica's server_id, the primary's address
//     as the replica reaches it, both accounts, and a monitoring password from
//     GeneratePassword (sensitive state as well). Create the server with it as user
//     data, record its id in state at once.
//  4. Per replica: WaitReplicating(ctx, the replica's address as the monitoring
//     account, WaitOptions{MaxLag, ExpectServerID}) with the create timeout in ctx.
//     It waits through the boot and the setup (connection refused, account not yet
//     there), and returns when both replication threads run, the lag is at most
//     MaxLag (DefaultMaxLag, 30 s) and read_only is on. A replica whose replication
//     stopped with an error fails at once (WaitError.Failed). On any failure, fetch
//     the server's console log (Nova os-getConsoleOutput) and pass it to
//     ParseSetupLog: the setup's last step and message say what went wrong.
//
// Shrink (fewer replicas), one replica at a time, highest ordinal first:
//
//  1. StopReplication(ctx, replica): STOP SLAVE and RESET SLAVE ALL (MySQL: ...
//     REPLICA), so the server is no longer a replica, even if it reboots before it is
//     deleted. A *ConnError of kind ConnUnreachable means the server is down and
//     streams nothing: warn and go on.
//  2. The caller deletes the server and waits until it is gone.
//  3. CheckStillReplicating(ctx, primary, the remaining replicas, maxLag): each must
//     run both threads, lag at most maxLag, and apply the primary's GTID position
//     taken at the start of the check (the stream really flows). Stop the scale-in
//     and report when it fails; the error names each failing replica.
//
// Destroy: shrink to zero, then Primary.DropReplicationUser. It closes binlog streams
// still open under the account (a stopped replica's stream lingers on the primary
// until its next heartbeat, at most 5 s with the heartbeat the user data sets) and
// drops the account: call it only after StopReplication ran on every replica of the
// set. A replica removed moments ago may still be listed by the primary; CheckServerIDs
// does not count it as a clash when it reports the planned replica's own name.
//
// Read (refresh): OpenReplica + Status per replica gives the threads, lag, GTID
// position and last errors for state; a replica that stopped replicating is drift.
//
// # The user data
//
// RenderUserData renders a bash script (text/template). Every parameter is checked
// against a strict pattern (no quotes, backslashes, spaces or control characters in
// hosts, names, paths; passwords of letters and digits) and then quoted for the
// shell; SQL literals are quoted by doubling quotes, which holds under any sql_mode.
// The script:
//
//   - installs mariadb-server/mariadb-client (MySQL: mysql-server/mysql-client,
//     Ubuntu) with apt-get when no server binary is found and InstallPackages is set;
//   - writes ConfigFile: server_id, read_only (MySQL also super_read_only, gtid_mode,
//     enforce_gtid_consistency), datadir, socket, port, bind_address, report_host, a
//     fixed relay log name and relay_log_recovery; with ServiceName set it initialises
//     an empty Datadir and restarts the service so the file takes effect;
//   - sets server_id and read_only at runtime as well (so a server it does not
//     restart gets them too);
//   - dumps the primary as the replication account: MariaDB mariadb-dump
//     --single-transaction --gtid --master-data=2 of the user databases plus the
//     accounts (--system=users --insert-ignore: the application's accounts work on
//     the replica, and account changes on db01 replicate without stopping it); MySQL
//     mysqldump --single-transaction --source-data=2 --set-gtid-purged=ON
//     --all-databases. MariaDB takes the snapshot without a global read lock;
//   - loads it in one session with sql_log_bin off, then sets gtid_slave_pos to the
//     dump's position and starts replication with CHANGE MASTER TO ...
//     MASTER_USE_GTID=slave_pos (MySQL: SOURCE_AUTO_POSITION=1) and a 5 s heartbeat;
//   - creates the monitoring account in the same session.
//
// Progress goes to stdout as "eventscale-replica: step=... (Ns)" lines (cloud-init
// copies them to the console); no line contains a password, and server messages are
// scrubbed of both passwords before they are printed. The script itself holds both
// passwords: Nova keeps user data and the server can read it from the metadata
// service, so it is as secret as the replica's data, which the replica holds anyway.
// A refused account (access denied, host not allowed) fails at once; an unreachable
// primary is retried for PrimaryWaitSeconds (600 s by default).
//
// The same script runs outside a cloud: with InstallPackages false, ServiceName
// empty, and Datadir, Socket, Port and ConfigFile pointing at a server the caller
// started (the tests start mariadbd processes with an include directory and run the
// script with bash). What only a cloud exercises is the apt-get install, the datadir
// initialisation and the service restart.
//
// # Monitoring over SQL
//
// Replica status is read over SQL through a monitoring account that the user data
// creates on each replica (MonitorUserName(set), privileges SLAVE MONITOR to read
// SHOW SLAVE STATUS, REPLICATION SLAVE ADMIN and RELOAD to stop and reset
// replication; MySQL: REPLICATION CLIENT, REPLICATION_SLAVE_ADMIN, RELOAD). Not a
// status endpoint, because:
//
//   - the numbers live in the server: an endpoint would run the same SHOW SLAVE
//     STATUS and add a daemon written into user data, its own port, authentication
//     and TLS, and one more thing that can be down while replication is fine;
//   - the provider already speaks SQL to the primary with the same driver, and scale-in
//     needs a SQL session on the replica anyway (STOP SLAVE; RESET SLAVE ALL);
//   - the server's own wait functions (MASTER_GTID_WAIT, WAIT_FOR_EXECUTED_GTID_SET)
//     prove a replica has applied a given position, which a lag figure alone does not.
//
// The price: the provider must reach each replica's port (3306) over the network; a
// security group must allow it from where Terraform runs.
//
// # What the provider must arrange
//
//   - Network: replicas reach db01's port (db01's security group and bind_address);
//     the provider reaches the replicas' port; replicas reach an apt mirror when the
//     image lacks the packages.
//   - Image: Debian or Ubuntu (apt), or any image with MariaDB 10.5.9+ / MySQL 8.0.26+
//     installed. Debian 12 ships MariaDB 10.11; MySQL packages are Ubuntu's.
//   - Disk: the dump is written to DumpDir (default /var/tmp) before it loads.
//   - Secrets: both passwords as sensitive state; Endpoint.String and every error of
//     this package leave them out.
//   - Timeouts: a create timeout long enough for package installation (minutes) plus
//     dumping and loading the data.
//
// # Not done here
//
// The initial copy is a logical dump. A physical copy with mariabackup would be
// faster for large data, but mariabackup must run where db01's datadir is: the
// replica would need SSH (or another agent) on db01 with the right to read the
// datadir, an authorized key installed there by someone, and the same server version
// on both sides, then stream (mbstream) and prepare the copy. None of that can be set
// up or tested honestly from this package without a way into db01 beyond SQL, so it
// is left out.
//
// The MySQL paths (checks, user data) are written from MySQL's documented syntax;
// only MariaDB servers run in the tests. The MySQL settings checks are tested on
// MySQL's variables.
package dbreplica
