package dbreplica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxLag is the replication lag under which a replica counts as in sync.
const DefaultMaxLag = 30 * time.Second

// Replica is a connection to a replica through its monitoring account (the one the
// user data creates: MonitorUserName, privileges to read replication status and to
// stop replication, nothing else).
type Replica struct {
	db      *sql.DB
	ep      Endpoint
	version ServerVersion
}

// OpenReplica connects to a replica. A failure is a *ConnError.
func OpenReplica(ctx context.Context, ep Endpoint) (*Replica, error) {
	db, err := open(ctx, ep)
	if err != nil {
		return nil, err
	}
	version, err := queryVersion(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("replica %s: %w", ep.Address(), err)
	}
	return &Replica{db: db, ep: ep, version: version}, nil
}

// Close releases the connection.
func (r *Replica) Close() error { return r.db.Close() }

// Version is the replica's server version.
func (r *Replica) Version() ServerVersion { return r.version }

// ReplicaStatus is a replica's replication state, from SHOW SLAVE STATUS (MariaDB) or
// SHOW REPLICA STATUS (MySQL) and its server variables.
type ReplicaStatus struct {
	ServerID      uint32
	ReadOnly      bool
	SuperReadOnly bool // MySQL only
	// Configured is false when the server has no replication set up (yet, or any more).
	Configured bool
	IORunning  string // "Yes", "No" or "Connecting"
	SQLRunning bool
	// Lag is Seconds_Behind_Master; LagKnown is false when the server reports NULL
	// (a thread is stopped, or the IO thread has not connected yet).
	Lag            time.Duration
	LagKnown       bool
	SourceHost     string
	SourcePort     int
	SourceServerID uint32
	// UsingGTID is MariaDB's Using_Gtid ("Slave_Pos") or MySQL's Auto_Position ("1").
	UsingGTID string
	// GTIDPosition is what the replica has applied: gtid_slave_pos (MariaDB) or
	// Executed_Gtid_Set (MySQL).
	GTIDPosition string
	LastIOErrno  int
	LastIOError  string
	LastSQLErrno int
	LastSQLError string
}

// Replicating reports whether both replication threads run.
func (s ReplicaStatus) Replicating() bool {
	return s.Configured && s.IORunning == "Yes" && s.SQLRunning
}

// Failed reports a stop the replica does not recover from by itself: a thread that
// stopped with an error (a conflicting row, a GTID the primary no longer has, equal
// server ids, ...). A thread merely "Connecting" is retrying and not failed.
func (s ReplicaStatus) Failed() bool {
	return s.Configured && (!s.SQLRunning && s.LastSQLErrno != 0 || s.IORunning == "No" && s.LastIOErrno != 0)
}

// String summarises the status for messages.
func (s ReplicaStatus) String() string {
	if !s.Configured {
		return fmt.Sprintf("server_id %d, no replication configured", s.ServerID)
	}
	lag := "lag unknown"
	if s.LagKnown {
		lag = fmt.Sprintf("lag %ds", int64(s.Lag/time.Second))
	}
	out := fmt.Sprintf("server_id %d, source %s:%d, IO thread %s, SQL thread %s, %s, GTID position %q, read_only %v",
		s.ServerID, s.SourceHost, s.SourcePort, s.IORunning, yesNo(s.SQLRunning), lag, s.GTIDPosition, s.ReadOnly)
	if s.LastIOErrno != 0 {
		out += fmt.Sprintf(", last IO error %d: %s", s.LastIOErrno, s.LastIOError)
	}
	if s.LastSQLErrno != 0 {
		out += fmt.Sprintf(", last SQL error %d: %s", s.LastSQLErrno, s.LastSQLError)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// Status reads the replica's replication state.
func (r *Replica) Status(ctx context.Context) (ReplicaStatus, error) {
	var st ReplicaStatus
	var serverID uint64
	var readOnly int
	vars := "SELECT @@GLOBAL.server_id, @@GLOBAL.read_only, 0, @@GLOBAL.gtid_slave_pos"
	if r.version.Flavor == MySQL {
		vars = "SELECT @@GLOBAL.server_id, @@GLOBAL.read_only, @@GLOBAL.super_read_only, @@GLOBAL.gtid_executed"
	}
	var superReadOnly int
	var pos sql.NullString
	if err := r.db.QueryRowContext(ctx, vars).Scan(&serverID, &readOnly, &superReadOnly, &pos); err != nil {
		return st, fmt.Errorf("reading server variables of the replica %s: %w", r.ep.Address(), err)
	}
	st.ServerID = uint32(serverID)
	st.ReadOnly = readOnly == 1
	st.SuperReadOnly = superReadOnly == 1
	st.GTIDPosition = normalizeGTIDSet(pos.String)

	query := "SHOW SLAVE STATUS"
	if r.version.Flavor == MySQL && r.version.AtLeast(8, 0, 22) {
		query = "SHOW REPLICA STATUS"
	}
	rows, err := queryMaps(ctx, r.db, query)
	if err != nil {
		return st, fmt.Errorf("reading the replication status of the replica %s (%s): %w", r.ep.Address(), query, err)
	}
	if len(rows) == 0 {
		return st, nil
	}
	row := rows[0]
	st.Configured = row.get("Master_Host", "Source_Host") != ""
	st.IORunning = row.get("Slave_IO_Running", "Replica_IO_Running")
	st.SQLRunning = row.get("Slave_SQL_Running", "Replica_SQL_Running") == "Yes"
	if row.has("Seconds_Behind_Master", "Seconds_Behind_Source") {
		secs, err := strconv.ParseInt(row.get("Seconds_Behind_Master", "Seconds_Behind_Source"), 10, 64)
		if err == nil && secs >= 0 && secs < math.MaxInt64/int64(time.Second) {
			st.Lag = time.Duration(secs) * time.Second
			st.LagKnown = true
		}
	}
	st.SourceHost = row.get("Master_Host", "Source_Host")
	st.SourcePort, _ = strconv.Atoi(row.get("Master_Port", "Source_Port"))
	sid, _ := strconv.ParseUint(row.get("Master_Server_Id", "Source_Server_Id"), 10, 32)
	st.SourceServerID = uint32(sid)
	st.UsingGTID = row.get("Using_Gtid", "Auto_Position")
	if r.version.Flavor == MySQL {
		st.GTIDPosition = normalizeGTIDSet(row.get("Executed_Gtid_Set"))
	}
	st.LastIOErrno, _ = strconv.Atoi(row.get("Last_IO_Errno"))
	st.LastIOError = row.get("Last_IO_Error")
	st.LastSQLErrno, _ = strconv.Atoi(row.get("Last_SQL_Errno"))
	st.LastSQLError = row.get("Last_SQL_Error")
	return st, nil
}

// StopReplication makes the server stop being a replica: it stops both threads and
// forgets the source (RESET ... ALL), so a reboot before the server is deleted does not
// resume streaming. It is idempotent.
func (r *Replica) StopReplication(ctx context.Context) error {
	stmts := []string{"STOP SLAVE", "RESET SLAVE ALL"}
	if r.version.Flavor == MySQL && r.version.AtLeast(8, 0, 22) {
		stmts = []string{"STOP REPLICA", "RESET REPLICA ALL"}
	}
	for _, s := range stmts {
		if _, err := r.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s on the replica %s: %w", s, r.ep.Address(), err)
		}
	}
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if st.Configured {
		return fmt.Errorf("the replica %s still has replication configured after %s: %s", r.ep.Address(), strings.Join(stmts, "; "), st)
	}
	return nil
}

// StopReplication connects to the replica and stops replication on it. When the replica
// cannot be reached the error is a *ConnError of kind ConnUnreachable: a replica that
// is down streams nothing, and the caller may go on deleting the server (the primary
// closes the stream when DropReplicationUser runs, or at its next heartbeat).
func StopReplication(ctx context.Context, ep Endpoint) error {
	r, err := OpenReplica(ctx, ep)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.StopReplication(ctx)
}

// WaitForPosition waits until the replica has applied the primary's GTID position pos
// (from Primary.Position), using the server's own wait function (MASTER_GTID_WAIT or
// WAIT_FOR_EXECUTED_GTID_SET), up to ctx's deadline or 60 s without one.
func (r *Replica) WaitForPosition(ctx context.Context, pos string) error {
	if pos == "" {
		return nil
	}
	timeout := 60 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl)-500*time.Millisecond, time.Second)
	}
	secs := float64(timeout) / float64(time.Second)
	var rc sql.NullInt64
	query := "SELECT MASTER_GTID_WAIT(?, ?)"
	if r.version.Flavor == MySQL {
		query = "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)"
	}
	if err := r.db.QueryRowContext(ctx, query, pos, secs).Scan(&rc); err != nil {
		return fmt.Errorf("waiting for the replica %s to apply GTID position %s: %w", r.ep.Address(), pos, err)
	}
	if !rc.Valid || rc.Int64 != 0 {
		return fmt.Errorf("the replica %s did not apply the primary's GTID position %s within %s", r.ep.Address(), pos, timeout.Round(time.Second))
	}
	return nil
}

// WaitOptions tune WaitReplicating.
type WaitOptions struct {
	MaxLag       time.Duration // DefaultMaxLag when 0
	PollInterval time.Duration // 2 s when 0
	// ExpectServerID, when not 0, is the server_id the user data gave the replica; a
	// replica reporting another one is an error.
	ExpectServerID uint32
	// Observe, when set, is called after every poll (progress for the caller's log).
	Observe func(Observation)
}

// Observation is one poll of WaitReplicating: a status, or why there was none yet.
type Observation struct {
	At     time.Time
	Status ReplicaStatus
	Err    error // the replica could not be reached or read (still booting, setup not done)
}

func (o Observation) String() string {
	if o.Err != nil {
		return o.Err.Error()
	}
	return o.Status.String()
}

// WaitError is returned when a replica does not get in sync: Failed says the replica
// stopped for good (no point waiting longer), otherwise ctx ended first.
type WaitError struct {
	Endpoint string
	Last     Observation
	Failed   bool
	MaxLag   time.Duration
	Err      error // ctx.Err() when the wait timed out
}

func (e *WaitError) Error() string {
	st := e.Last.Status
	switch {
	case e.Failed:
		return fmt.Sprintf("replica %s stopped replicating: %s", e.Endpoint, st)
	case e.Last.Err != nil:
		var ce *ConnError
		if errors.As(e.Last.Err, &ce) && (ce.Kind == ConnAccessDenied || ce.Kind == ConnUnreachable) {
			return fmt.Sprintf("replica %s not in sync before the deadline: its setup has not finished (%v). "+
				"The server's console log shows the setup's progress in lines starting with %q", e.Endpoint, e.Last.Err, setupLogPrefix)
		}
		return fmt.Sprintf("replica %s not in sync before the deadline: %v", e.Endpoint, e.Last.Err)
	case !st.Configured:
		return fmt.Sprintf("replica %s not in sync before the deadline: replication is not configured on it (%s). "+
			"The server's console log shows the setup's progress in lines starting with %q", e.Endpoint, st, setupLogPrefix)
	case st.Replicating() && st.LagKnown && st.Lag > e.MaxLag:
		return fmt.Sprintf("replica %s replicates but lags %s behind the primary, more than max_lag %s: raise max_lag or the timeout, or give the replica a bigger flavor (%s)",
			e.Endpoint, st.Lag, e.MaxLag, st)
	case st.Replicating() && !st.ReadOnly:
		return fmt.Sprintf("replica %s replicates but is not read-only: %s", e.Endpoint, st)
	default:
		return fmt.Sprintf("replica %s not in sync before the deadline: %s", e.Endpoint, st)
	}
}

func (e *WaitError) Unwrap() error { return e.Err }

// WaitReplicating polls the replica through its monitoring account until both
// replication threads run, its lag is at most MaxLag and it is read-only. Until the
// user data has finished, connecting fails or replication is not configured: that is
// waiting, not failure. A replica whose replication stopped with an error fails at
// once. The wait ends with ctx: give it the provider's create timeout.
func WaitReplicating(ctx context.Context, ep Endpoint, opts WaitOptions) (ReplicaStatus, error) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = DefaultMaxLag
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	var r *Replica
	defer func() {
		if r != nil {
			_ = r.Close()
		}
	}()
	var last Observation
	for {
		last = Observation{At: time.Now()}
		if r == nil {
			r, last.Err = OpenReplica(ctx, ep)
		}
		if r != nil {
			last.Status, last.Err = r.Status(ctx)
			if last.Err != nil {
				_ = r.Close()
				r = nil
			}
		}
		if opts.Observe != nil && ctx.Err() == nil {
			opts.Observe(last)
		}
		if last.Err == nil {
			st := last.Status
			if opts.ExpectServerID != 0 && st.Configured && st.ServerID != opts.ExpectServerID {
				return st, &WaitError{Endpoint: ep.Address(), Last: last, Failed: true, MaxLag: opts.MaxLag,
					Err: fmt.Errorf("replica %s runs with server_id %d, not the %d its user data sets: is this the right server?", ep.Address(), st.ServerID, opts.ExpectServerID)}
			}
			if st.Failed() {
				return st, &WaitError{Endpoint: ep.Address(), Last: last, Failed: true, MaxLag: opts.MaxLag}
			}
			readOnly := st.ReadOnly && (r == nil || r.version.Flavor != MySQL || st.SuperReadOnly)
			if st.Replicating() && st.LagKnown && st.Lag <= opts.MaxLag && readOnly {
				return st, nil
			}
		}
		select {
		case <-ctx.Done():
			return last.Status, &WaitError{Endpoint: ep.Address(), Last: last, MaxLag: opts.MaxLag, Err: ctx.Err()}
		case <-time.After(opts.PollInterval):
		}
	}
}

// ReplicaTarget names a replica for the checks across a set.
type ReplicaTarget struct {
	Name     string
	Endpoint Endpoint
}

// ReplicaHealth is one replica's result in CheckStillReplicating.
type ReplicaHealth struct {
	Name   string
	Status ReplicaStatus
	Err    error // nil when it replicates, lags at most maxLag and has caught up
}

// CheckStillReplicating is the check after each scale-in step: every remaining replica
// must run both threads, lag at most maxLag, and apply everything the primary had
// written when the check began (so its stream really flows). It checks the replicas in
// parallel and waits for them up to ctx's deadline; the error names each failing one.
func CheckStillReplicating(ctx context.Context, primary *Primary, replicas []ReplicaTarget, maxLag time.Duration) ([]ReplicaHealth, error) {
	if maxLag <= 0 {
		maxLag = DefaultMaxLag
	}
	pos, err := primary.Position(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ReplicaHealth, len(replicas))
	var wg sync.WaitGroup
	for i, t := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = checkOne(ctx, t, pos, maxLag)
		}()
	}
	wg.Wait()
	var errs []error
	for _, h := range out {
		if h.Err != nil {
			errs = append(errs, h.Err)
		}
	}
	return out, errors.Join(errs...)
}

func checkOne(ctx context.Context, t ReplicaTarget, pos string, maxLag time.Duration) ReplicaHealth {
	h := ReplicaHealth{Name: t.Name}
	name := fmt.Sprintf("%s (%s)", t.Name, t.Endpoint.Address())
	r, err := OpenReplica(ctx, t.Endpoint)
	if err != nil {
		h.Err = fmt.Errorf("replica %s: %w", name, err)
		return h
	}
	defer r.Close()
	h.Status, err = r.Status(ctx)
	switch {
	case err != nil:
		h.Err = fmt.Errorf("replica %s: %w", name, err)
	case !h.Status.Replicating():
		h.Err = fmt.Errorf("replica %s is not replicating: %s", name, h.Status)
	case !h.Status.LagKnown || h.Status.Lag > maxLag:
		h.Err = fmt.Errorf("replica %s lags more than %s: %s", name, maxLag, h.Status)
	default:
		if err := r.WaitForPosition(ctx, pos); err != nil {
			h.Err = fmt.Errorf("replica %s: %w", name, err)
		} else if st, err := r.Status(ctx); err == nil {
			h.Status = st
		}
	}
	return h
}
