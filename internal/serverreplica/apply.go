package serverreplica

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dbreplica"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Apply brings the set to count replicas (ordinals 1..count): it builds the missing ones,
// waits for those still setting up, rebuilds those that never served, and removes those
// above count one at a time. It returns every replica that exists, error or not.
func (s *Set) Apply(ctx context.Context, count int) ([]Replica, error) {
	if count < 0 {
		return s.Replicas(), fmt.Errorf("replica count %d: it must not be negative", count)
	}
	if err := s.list(ctx); err != nil {
		return s.Replicas(), err
	}
	p, info, problems := dbreplica.CheckPrimary(ctx, s.spec.Primary)
	if p != nil {
		defer p.Close()
	}
	if err := s.grow(ctx, p, info, problems, count); err != nil {
		if s.createdAccount && len(s.Replicas()) == 0 && p != nil {
			// Nothing was built: the account this run created would be left with no state
			// that knows it.
			u := s.ReplicationUser()
			if _, derr := p.DropReplicationUser(context.WithoutCancel(ctx), u.Name, u.Host); derr == nil {
				s.say("", "no replica was built: the replication account %s this run created was dropped again", u)
			}
		}
		// Removing replicas while the wanted ones are not all serving would shrink the
		// tier further: the next apply resumes both.
		return s.Replicas(), err
	}
	err := s.shrink(ctx, p, problems, count)
	return s.Replicas(), err
}

// Destroy removes every replica, one at a time, and then the replication account.
func (s *Set) Destroy(ctx context.Context) ([]Replica, error) { return s.Apply(ctx, 0) }

// grow makes replicas 1..count exist and replicate.
func (s *Set) grow(ctx context.Context, p *dbreplica.Primary, info dbreplica.PrimaryInfo, problems dbreplica.Problems, count int) error {
	var build, replace, wait []int
	var existing []int
	for o := 1; o <= count; o++ {
		r, ok := s.replica(o)
		switch {
		case !ok:
			build = append(build, o)
		case r.ServerStatus == "ERROR":
			existing = append(existing, o)
			replace = append(replace, o)
		default:
			existing = append(existing, o)
			wait = append(wait, o)
		}
	}
	if len(build)+len(replace)+len(wait) == 0 {
		return nil
	}
	if p == nil || (len(build)+len(replace) > 0 && problems.HasErrors()) {
		return fmt.Errorf("the primary %s is not ready for replicas: %w", s.spec.Primary.Address(), problems.Err())
	}
	// A replica waited for may turn out to need building again (its setup failed), so the
	// account is ensured whenever the primary allows it.
	if len(build)+len(replace) > 0 || !problems.HasErrors() && s.secrets.ReplicationPassword != "" {
		if ps := dbreplica.CheckServerIDs(info, planned(s.spec, count, existing)); ps.HasErrors() {
			return ps.Err()
		}
		if s.secrets.ReplicationPassword == "" || s.secrets.MonitorPassword == "" {
			return errors.New("building replicas needs the replication and monitoring passwords: the set's state has none (an import without replication_password and monitor_password)")
		}
		res, err := p.EnsureReplicationUser(ctx, s.ReplicationUser())
		if err != nil {
			return err
		}
		switch {
		case res.Created:
			s.createdAccount = true
			s.say("", "replication account %s created on the primary %s", s.ReplicationUser(), s.spec.Primary.Address())
		case res.PasswordUpdated:
			s.warn("the replication account %s had another password on the primary %s: it was set to the set's; replicas using the old one fail at their next reconnect",
				s.ReplicationUser(), s.spec.Primary.Address())
		}
	}
	flavor := p.Version().Flavor
	type job struct {
		ordinal int
		run     func(context.Context, int) error
	}
	var jobs []job
	for _, o := range build {
		jobs = append(jobs, job{o, func(ctx context.Context, o int) error { return s.buildReplica(ctx, flavor, o) }})
	}
	for _, o := range replace {
		jobs = append(jobs, job{o, func(ctx context.Context, o int) error { return s.rebuild(ctx, flavor, o, "its server is in ERROR") }})
	}
	for _, o := range wait {
		jobs = append(jobs, job{o, func(ctx context.Context, o int) error { return s.resume(ctx, flavor, o) }})
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].ordinal < jobs[j].ordinal })
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, s.opts.MaxParallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = fmt.Errorf("%s: %w", scaling.NodeName(s.spec.Name, j.ordinal), ctx.Err())
				return
			}
			defer func() { <-sem }()
			errs[i] = j.run(ctx, j.ordinal)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// userData renders replica o's setup script.
func (s *Set) userData(flavor dbreplica.Flavor, o int, mysqlID uint32) (string, error) {
	ud := dbreplica.CloudUserData(flavor)
	ud.Port = s.spec.replicaPort()
	ud.ServerID, ud.ReportHost = mysqlID, scaling.NodeName(s.spec.Name, o)
	ud.PrimaryHost, ud.PrimaryPort = s.spec.sourceHost(), s.spec.sourcePort()
	ud.ReplicationUser, ud.ReplicationPassword = dbreplica.ReplicationUserName(s.spec.Name), s.secrets.ReplicationPassword
	ud.MonitorUser, ud.MonitorPassword = dbreplica.MonitorUserName(s.spec.Name), s.secrets.MonitorPassword
	return dbreplica.RenderUserData(ud)
}

// buildReplica creates replica o's server and waits until it replicates. A create whose
// answer was lost is looked for before it is sent again; a server that ends in ERROR is
// deleted and created again, up to CreateRetries times.
func (s *Set) buildReplica(ctx context.Context, flavor dbreplica.Flavor, o int) error {
	name := scaling.NodeName(s.spec.Name, o)
	mysqlID, err := dbreplica.ReplicaServerID(s.spec.ServerIDBase, o)
	if err != nil {
		return fmt.Errorf("replica %s: %w", name, err)
	}
	script, err := s.userData(flavor, o, mysqlID)
	if err != nil {
		return fmt.Errorf("replica %s: %w", name, err)
	}
	spec := scaling.ServerSpec{Name: name, ImageID: s.spec.ImageID, FlavorID: s.spec.FlavorID, Networks: s.spec.Networks,
		KeyPair: s.spec.KeyPair, SecurityGroups: s.spec.SecurityGroups, UserData: script,
		Metadata: s.serverMetadata(o, mysqlID), Tags: serverTags(s.spec.Name, o)}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		srv, err := s.compute.CreateServer(ctx, spec)
		if err != nil || srv.ID == "" {
			if err == nil {
				err = errors.New("no server id in Nova's answer")
			}
			err = fmt.Errorf("creating server %s: %w", name, err)
			if ctx.Err() != nil || errors.Is(err, scaling.ErrRefused) {
				return err
			}
			found, lerr := s.findServer(ctx, o)
			switch {
			case lerr != nil:
				return errors.Join(err, fmt.Errorf("looking for server %s after a create whose answer was lost: %w", name, lerr))
			case found.ID != "":
				s.say(name, "create of %s answered with an error but the server exists (%s): adopting it", name, found.ID)
				srv = found
			case attempt < s.opts.CreateRetries:
				s.say(name, "create of %s failed (%v) and no such server exists: creating it again", name, err)
				continue
			default:
				return err
			}
		}
		r := Replica{Ordinal: o, Name: name, ServerID: srv.ID, MySQLServerID: mysqlID, ServerStatus: srv.Status, Status: srv.Status}
		s.record(r)
		s.say(name, "server %s created (%s), building", name, srv.ID)
		active, err := s.compute.WaitServerActive(ctx, srv.ID)
		var fault *scaling.ServerFaultError
		if errors.As(err, &fault) {
			r.ServerStatus, r.Status, r.Detail = "ERROR", "ERROR", fault.Message
			s.record(r)
			if attempt >= s.opts.CreateRetries || ctx.Err() != nil {
				return fmt.Errorf("replica %s: %w", name, err)
			}
			s.say(name, "server %s went to ERROR (%s): deleting it and creating it again", name, fault.Message)
			if err := s.deleteServer(ctx, r); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("replica %s: waiting for server %s to become ACTIVE: %w", name, srv.ID, err)
		}
		r.Address, r.ServerStatus, r.Status = active.Address, "ACTIVE", StatusSettingUp
		s.record(r)
		return s.waitInSync(ctx, r, start)
	}
}

// findServer looks for replica o's server in one listing; a zero Server when there is none.
func (s *Set) findServer(ctx context.Context, o int) (scaling.Server, error) {
	servers, err := s.compute.ListServers(ctx, SetMatch(s.spec.Name))
	if err != nil {
		return scaling.Server{}, err
	}
	for _, srv := range servers {
		if got, ok := ordinalOf(s.spec.Name, srv); ok && got == o && srv.Status != "DELETED" && srv.Status != "SOFT_DELETED" {
			return srv, nil
		}
	}
	return scaling.Server{}, nil
}

// errSetupFailed marks a replica whose setup script failed: it never served.
var errSetupFailed = errors.New("its setup failed")

// waitInSync waits until replica r replicates within MaxLag. When it does not, the
// error carries the setup's last step from the server's console.
func (s *Set) waitInSync(ctx context.Context, r Replica, start time.Time) error {
	ep := s.monitorEndpoint(r)
	// The setup prints its progress to the console: a setup that failed ends the wait at
	// once rather than at the deadline.
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	consoleEvery := max(5*s.opts.PollInterval, time.Second)
	lastSaid, lastConsole := time.Now(), time.Now()
	var failed dbreplica.SetupProgress
	st, err := dbreplica.WaitReplicating(waitCtx, ep, dbreplica.WaitOptions{MaxLag: s.spec.maxLag(), PollInterval: s.opts.PollInterval,
		ExpectServerID: r.MySQLServerID, Observe: func(o dbreplica.Observation) {
			if time.Since(lastSaid) >= 30*time.Second {
				lastSaid = time.Now()
				s.say(r.Name, "replica %s not in sync yet: %s", r.Name, o)
			}
			if o.Err != nil || !o.Status.Configured {
				if time.Since(lastConsole) >= consoleEvery {
					lastConsole = time.Now()
					if progress := s.setupProgress(ctx, r); progress.Failed {
						failed = progress
						cancel()
					}
				}
			}
		}})
	if err == nil {
		s.applyStatus(&r, st)
		if !start.IsZero() {
			r.SyncedAfter = time.Since(start)
		}
		s.record(r)
		s.say(r.Name, "replica %s (%s) in sync%s: %s", r.Name, r.Address, after(r.SyncedAfter), st)
		return nil
	}
	if failed.Failed && ctx.Err() == nil {
		r.Status, r.Detail = StatusFailed, failed.Message
		s.record(r)
		return fmt.Errorf("replica %s (%s): %w; the last progress line on the server's console: %q", r.Name, r.ServerID, errSetupFailed, failed.Message)
	}
	progress := s.setupProgress(ctx, r)
	var we *dbreplica.WaitError
	switch {
	case progress.Failed:
		r.Status, r.Detail = StatusFailed, progress.Message
	case errors.As(err, &we) && we.Failed:
		r.Status, r.Detail = StatusFailed, err.Error()
	case errors.As(err, &we) && we.Last.Err == nil && we.Last.Status.Replicating():
		s.applyStatus(&r, we.Last.Status)
		if r.Status == StatusReplicating {
			r.Status = StatusLagging // not read-only, or the wait ended between two polls
		}
	default:
		r.Status, r.Detail = StatusSettingUp, err.Error()
	}
	s.record(r)
	if progress.Failed {
		return fmt.Errorf("replica %s (%s): %w; the last progress line on the server's console: %q", r.Name, r.ServerID, errSetupFailed, progress.Message)
	}
	msg := fmt.Errorf("replica %s (%s): %w", r.Name, r.ServerID, err)
	if progress.Message != "" {
		msg = fmt.Errorf("%w. The setup's last progress line on the server's console: %q", msg, progress.Message)
	}
	return msg
}

func after(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return " " + d.Round(100*time.Millisecond).String() + " after its create request"
}

// setupProgress reads the setup's progress from the server's console, with a context of
// its own: it explains a wait that ran out of time.
func (s *Set) setupProgress(ctx context.Context, r Replica) dbreplica.SetupProgress {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	out, err := s.compute.ConsoleOutput(cctx, r.ServerID, 200)
	if err != nil {
		s.say(r.Name, "reading the console of %s: %v", r.Name, err)
		return dbreplica.SetupProgress{}
	}
	return dbreplica.ParseSetupLog(out)
}

// resume brings an existing replica of the wanted range into service: it waits for one
// still building or setting up, and rebuilds one whose setup failed (it never served).
func (s *Set) resume(ctx context.Context, flavor dbreplica.Flavor, o int) error {
	r, _ := s.replica(o)
	if r.ServerStatus != "ACTIVE" {
		active, err := s.compute.WaitServerActive(ctx, r.ServerID)
		var fault *scaling.ServerFaultError
		if errors.As(err, &fault) {
			r.ServerStatus, r.Status, r.Detail = "ERROR", "ERROR", fault.Message
			s.record(r)
			return s.rebuild(ctx, flavor, o, "its server went to ERROR: "+fault.Message)
		}
		if err != nil {
			return fmt.Errorf("replica %s: waiting for server %s to become ACTIVE: %w", r.Name, r.ServerID, err)
		}
		r.Address, r.ServerStatus, r.Status = active.Address, "ACTIVE", StatusSettingUp
		s.record(r)
	}
	s.readStatus(ctx, &r)
	s.record(r)
	switch r.Status {
	case StatusReplicating, StatusUnknown:
		return nil
	case StatusLagging:
	default:
		if progress := s.setupProgress(ctx, r); progress.Failed {
			return s.rebuild(ctx, flavor, o, "its setup failed: "+progress.Message)
		}
		if r.Status == StatusFailed {
			return fmt.Errorf("replica %s (%s) stopped replicating: %s. It is not replaced automatically: look at it, then fix it or replace it "+
				"(lower replica_count and raise it again)", r.Name, r.Address, r.Detail)
		}
	}
	err := s.waitInSync(ctx, r, time.Time{})
	if errors.Is(err, errSetupFailed) && ctx.Err() == nil {
		return s.rebuild(ctx, flavor, o, "its setup failed")
	}
	return err
}

// rebuild deletes the server of a replica that never served and builds it again.
func (s *Set) rebuild(ctx context.Context, flavor dbreplica.Flavor, o int, why string) error {
	r, _ := s.replica(o)
	s.say(r.Name, "replica %s is built again: %s", r.Name, why)
	if err := s.deleteServer(ctx, r); err != nil {
		return err
	}
	return s.buildReplica(ctx, flavor, o)
}

// deleteServer deletes a replica's server, waits until Nova no longer has it, and forgets it.
func (s *Set) deleteServer(ctx context.Context, r Replica) error {
	if err := s.compute.DeleteServer(ctx, r.ServerID); err != nil {
		return fmt.Errorf("deleting server %s (%s): %w", r.Name, r.ServerID, err)
	}
	if err := s.compute.WaitServerGone(ctx, r.ServerID); err != nil {
		return fmt.Errorf("waiting for server %s (%s) to be deleted: %w", r.Name, r.ServerID, err)
	}
	s.forget(r.Ordinal)
	return nil
}

// shrink removes the replicas above count, the highest ordinal first, one at a time,
// checking after each removal that the replicas in service still replicate. With no
// replica left it drops the replication account.
func (s *Set) shrink(ctx context.Context, p *dbreplica.Primary, problems dbreplica.Problems, count int) error {
	var remove []Replica
	for _, r := range s.Replicas() {
		if r.Ordinal > count {
			remove = append(remove, r)
		}
	}
	if len(remove) == 0 && (count > 0 || len(s.Replicas()) > 0) {
		return nil
	}
	if p == nil {
		if count > 0 {
			return fmt.Errorf("removing replicas needs the primary, to check the replicas that stay: %w", problems.Err())
		}
		s.warn("the primary %s cannot be reached (%v): the replicas are removed without checking the others, and the replication account %s stays on it",
			s.spec.Primary.Address(), problems.Err(), s.ReplicationUser())
	}
	// The replicas serving now are the ones each removal must leave serving.
	s.refreshStatuses(ctx)
	sort.Slice(remove, func(i, j int) bool { return remove[i].Ordinal > remove[j].Ordinal })
	for _, r := range remove {
		if err := s.removeReplica(ctx, r); err != nil {
			return err
		}
		if p == nil {
			continue
		}
		var targets []dbreplica.ReplicaTarget
		for _, o := range s.Replicas() {
			if o.InService() && o.Status != StatusUnknown {
				targets = append(targets, dbreplica.ReplicaTarget{Name: o.Name, Endpoint: s.monitorEndpoint(o)})
			}
		}
		if len(targets) == 0 {
			continue
		}
		checkCtx, cancel := context.WithTimeout(ctx, s.opts.CheckTimeout)
		start := time.Now()
		health, err := dbreplica.CheckStillReplicating(checkCtx, p, targets, s.spec.maxLag())
		cancel()
		for _, h := range health {
			for _, o := range s.Replicas() {
				if o.Name == h.Name && h.Status.ServerID != 0 {
					s.applyStatus(&o, h.Status)
					s.record(o)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("after removing %s, the replicas that stay are not all replicating; the scale-in stopped: %w", r.Name, err)
		}
		s.say(r.Name, "after removing %s, %d replica(s) still replicate and caught up with the primary (checked in %s)",
			r.Name, len(targets), time.Since(start).Round(time.Millisecond))
	}
	if count > 0 || len(s.Replicas()) > 0 || p == nil {
		return nil
	}
	u := s.ReplicationUser()
	res, err := p.DropReplicationUser(ctx, u.Name, u.Host)
	if err != nil {
		return err
	}
	if res.Existed {
		s.say("", "replication account %s dropped from the primary %s (streams closed: %d)", u, s.spec.Primary.Address(), len(res.ClosedStreams))
	}
	return nil
}

// refreshStatuses reads the replication of every ACTIVE replica.
func (s *Set) refreshStatuses(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range s.Replicas() {
		if r.ServerStatus != "ACTIVE" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readStatus(ctx, &r)
			s.record(r)
		}()
	}
	wg.Wait()
}

// removeReplica stops replication on r, then deletes its server and waits until it is gone.
func (s *Set) removeReplica(ctx context.Context, r Replica) error {
	if r.ServerStatus == "ACTIVE" && r.Address != "" {
		s.say(r.Name, "removing replica %s (%s): stopping replication on it", r.Name, r.Address)
		err := dbreplica.StopReplication(ctx, s.monitorEndpoint(r))
		var ce *dbreplica.ConnError
		switch {
		case err == nil:
		case errors.As(err, &ce) && ce.Kind == dbreplica.ConnUnreachable:
			s.warn("replica %s (%s) did not answer when its replication was to be stopped (%v): it is down and streams nothing; deleting it", r.Name, r.Address, err)
		case errors.As(err, &ce) && ce.Kind == dbreplica.ConnAccessDenied && !r.InService() && r.Status != StatusUnknown:
			// Its setup never created the monitoring account: it never replicated.
			s.warn("replica %s never finished its setup (%v); deleting it", r.Name, err)
		default:
			return fmt.Errorf("stopping replication on %s (%s) before deleting it: %w. Nothing was deleted", r.Name, r.Address, err)
		}
	}
	s.say(r.Name, "deleting server %s (%s)", r.Name, r.ServerID)
	if err := s.deleteServer(ctx, r); err != nil {
		return err
	}
	s.say(r.Name, "server %s deleted", r.Name)
	return nil
}

// Summary is a line about the set for logs: each replica's name, status and lag.
func Summary(rs []Replica) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		p := r.Name + " " + r.Status
		if r.LagKnown {
			p += fmt.Sprintf(" (lag %s)", r.Lag)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
