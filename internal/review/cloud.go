package review

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

// CloudRecords is what the cloud itself remembers of an event, for a review without the
// journal. The provider's cloud adapter implements it with gophercloud; no call changes
// anything.
type CloudRecords interface {
	// Servers lists the pool's servers (Nova metadata eventscale_managed_by=eventscale)
	// changed since since, deleted ones included: GET /servers/detail?changes-since=...
	// returns servers deleted since then with status DELETED.
	Servers(ctx context.Context, since time.Time) ([]CloudServer, error)
	// InstanceActions lists a server's actions, oldest first, each with the result of its
	// events: GET /servers/{id}/os-instance-actions and .../{request_id}. Deleted servers
	// need compute microversion 2.21 or later.
	InstanceActions(ctx context.Context, serverID string) ([]InstanceAction, error)
	// Backups lists the images (Glance created_at) and database backups (Trove created)
	// created since since.
	Backups(ctx context.Context, since time.Time) ([]journal.Backup, error)
	// LoadBalancerObjects lists the pool's load balancer, listeners, pools and members
	// with Octavia's created_at and updated_at.
	LoadBalancerObjects(ctx context.Context) ([]LBObject, error)
}

// CloudServer is a Nova server as the review needs it.
type CloudServer struct {
	ID      string
	Name    string // the node's name, web-07
	Pool    string // Nova metadata eventscale_pool
	Status  string // ACTIVE, ERROR, DELETED, ...
	Created time.Time
	Updated time.Time
	Fault   string
}

// InstanceAction is one Nova instance action.
type InstanceAction struct {
	Action    string // "create", "delete", "reboot", ...
	RequestID string
	Start     time.Time
	Finish    time.Time // the last event's finish_time; zero when unknown
	Result    string    // "Success", "Error", or "" when unknown
	Message   string    // Nova's message, "Error" on failure
}

// Failed reports whether Nova recorded the action as failed.
func (a InstanceAction) Failed() bool {
	return strings.EqualFold(a.Result, "Error") || strings.EqualFold(a.Message, "Error")
}

// LBObject is one Octavia object with its timestamps.
type LBObject struct {
	Kind    string // "loadbalancer", "listener", "pool", "member"
	ID      string
	Name    string // a member's name is its node's
	Address string
	Created time.Time
	Updated time.Time
	Status  string // operating status
}

// FromCloud builds the review from the cloud's records since since. why says why the
// journal is not used; it goes into the review's Source.
func FromCloud(ctx context.Context, rec CloudRecords, since time.Time, why string) (*Review, error) {
	servers, err := rec.Servers(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("listing the pool's servers since %s: %w", stamp(since), err)
	}
	var es []journal.Entry
	actions := 0
	for _, s := range servers {
		acts, err := rec.InstanceActions(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("reading the instance actions of server %s (%s): %w", s.Name, s.ID, err)
		}
		actions += len(acts)
		es = append(es, serverEntries(s, acts)...)
	}
	backups, err := rec.Backups(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("listing images and backups since %s: %w", stamp(since), err)
	}
	for _, b := range backups {
		e := journal.BackupEntry("", b)
		e.Time = b.Created
		es = append(es, e)
	}
	objs, err := rec.LoadBalancerObjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the load balancer's objects: %w", err)
	}
	pools := map[string]string{} // node name -> pool
	for _, s := range servers {
		pools[s.Name] = s.Pool
	}
	members := 0
	for _, o := range objs {
		if o.Kind != "member" || o.Created.IsZero() {
			continue
		}
		pool, ours := pools[o.Name]
		if !ours {
			continue // web01 and other members the pool does not manage
		}
		members++
		es = append(es, journal.Entry{Time: o.Created, Kind: journal.KindJoin, Pool: pool, Node: o.Name, NodeEvent: journal.NodeJoined,
			Message: fmt.Sprintf("member %s (%s) created (Octavia created_at)", o.Name, o.ID)})
	}
	// Nova keeps its instance actions to the second (DATETIME columns), so a server created
	// and another deleted within one second cannot be ordered: the creations come first, and
	// the most servers at once is what may have existed, not fewer.
	deletion := func(e journal.Entry) bool { return e.NodeEvent == journal.NodeDeleted }
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].Time.Equal(es[j].Time) {
			return es[i].Time.Before(es[j].Time)
		}
		return !deletion(es[i]) && deletion(es[j])
	})
	detail := fmt.Sprintf("the cloud's records, because %s: %s with %s (Nova), %d images and backups (Glance, Trove), %s of the pool (Octavia created_at). "+
		"Drains, member removals, load tests, the capacity plan, the quota pre-flight and the load balancer's statistics are not in those records.",
		why, count(len(servers), "server"), count(actions, "instance action"), len(backups), count(members, "member"))
	return Build(es, Source{Kind: SourceCloud, Detail: detail}), nil
}

// serverEntries turns one server's instance actions into node events: created, ERROR
// (a failed create: the scaling library deleted it and built another), ACTIVE, rebooted,
// deleted.
func serverEntries(s CloudServer, acts []InstanceAction) []journal.Entry {
	var es []journal.Entry
	ev := func(t time.Time, kind journal.Kind, ne journal.NodeEvent, msg string) {
		es = append(es, journal.Entry{Time: t, Kind: kind, Pool: s.Pool, Node: s.Name, ServerID: s.ID, NodeEvent: ne, Message: msg})
	}
	created := false
	failed := false
	for _, a := range acts {
		src := fmt.Sprintf(" (Nova instance action %s, %s)", a.Action, a.RequestID)
		switch a.Action {
		case "create":
			created = true
			ev(a.Start, journal.KindCreate, journal.NodeCreated, fmt.Sprintf("server %s created (%s)", s.Name, s.ID)+src)
			switch {
			case a.Failed() || (s.Status == "ERROR" && a.Finish.IsZero()):
				failed = true
				t := a.Finish
				if t.IsZero() {
					t = a.Start
				}
				es = append(es, journal.Entry{Time: t, Kind: journal.KindCreate, Pool: s.Pool, Node: s.Name, ServerID: s.ID,
					NodeEvent: journal.NodeError, Fault: s.Fault, Message: fmt.Sprintf("server %s (%s) went to ERROR%s", s.Name, s.ID, src)})
			case !a.Finish.IsZero():
				ev(a.Finish, journal.KindCreate, journal.NodeActive, fmt.Sprintf("server %s (%s) is ACTIVE", s.Name, s.ID)+src)
			}
		case "delete":
			if failed {
				continue // counted with its ERROR: the server went with it
			}
			t := a.Finish
			if t.IsZero() {
				t = a.Start
			}
			ev(t, journal.KindDelete, journal.NodeDeleted, fmt.Sprintf("server %s (%s) deleted", s.Name, s.ID)+src)
		}
	}
	if !created && !s.Created.IsZero() {
		ev(s.Created, journal.KindCreate, journal.NodeCreated, fmt.Sprintf("server %s created (%s) (Nova created)", s.Name, s.ID))
	}
	return es
}
