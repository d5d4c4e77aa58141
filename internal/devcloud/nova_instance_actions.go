package devcloud

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// instanceAction is a Nova instance action: one per API request that acts on a server (its
// request id names it), with the events the conductor and compute host record for it.
type instanceAction struct {
	Action, ServerID, RequestID, UserID, ProjectID string
	Start, Updated                                 time.Time
	// Message is "Error" once one of its events failed, as Nova's action_event_finish sets it.
	Message string
	Events  []*actionEvent
}

type actionEvent struct {
	Name          string
	Host          string
	Start, Finish time.Time
	// Result is "Success" or "Error"; empty while the event runs.
	Result             string
	Traceback, Details string
}

// Event names: the decorated Nova methods (wrap_instance_event prefixes the service).
const (
	eventBuild     = "compute__do_build_and_run_instance"
	eventSchedule  = "conductor_schedule_and_build_instances"
	eventTerminate = "compute_terminate_instance"
	eventReboot    = "compute_reboot_instance"
	eventSnapshot  = "compute_snapshot_instance"
	eventBackup    = "compute_backup_instance"
	eventStop      = "compute_stop_instance"
	eventStart     = "compute_start_instance"
)

// startActionLocked records the action the API starts for a request (action_start).
func (c *Cloud) startActionLocked(s *server, action, requestID, userID, projectID string) *instanceAction {
	now := time.Now().UTC()
	a := &instanceAction{Action: action, ServerID: s.ID, RequestID: requestID, UserID: userID, ProjectID: projectID, Start: now, Updated: now}
	c.st.actions[s.ID] = append(c.st.actions[s.ID], a)
	return a
}

// startEvent records an event's start on the host that runs it; nil-safe so that work
// without a recorded action (the seed's servers) needs no checks.
func (a *instanceAction) startEvent(name, host string) *actionEvent {
	if a == nil {
		return nil
	}
	now := time.Now().UTC()
	ev := &actionEvent{Name: name, Host: host, Start: now}
	a.Events = append(a.Events, ev)
	a.Updated = now
	return ev
}

// finish ends the event; a non-empty failure makes it an Error with that message as its
// details and a traceback naming the exception, and marks the action's message "Error".
func (a *instanceAction) finish(ev *actionEvent, exception, failure string) {
	if a == nil || ev == nil {
		return
	}
	now := time.Now().UTC()
	ev.Finish, ev.Result = now, "Success"
	if failure != "" {
		ev.Result, ev.Details = "Error", failure
		ev.Traceback = fmt.Sprintf("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/nova/compute/utils.py\", line 1440, in decorated_function\n    return function(self, context, *args, **kwargs)\n%s: %s\n", exception, failure)
		a.Message = "Error"
	}
	a.Updated = now
}

// lastActionLocked is the server's newest action of a kind, or nil.
func (c *Cloud) lastActionLocked(serverID, action string) *instanceAction {
	list := c.st.actions[serverID]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Action == action {
			return list[i]
		}
	}
	return nil
}

// actionTime is how Nova renders instance action times: its database keeps whole seconds.
func actionTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") + ".000000" }

// novaHostID is nova.utils.generate_hostid: sha224 of the project id and the host name.
func novaHostID(host, projectID string) string {
	if host == "" {
		return ""
	}
	return fmt.Sprintf("%x", sha256.Sum224([]byte(projectID+host)))
}

// instanceActions serves GET /servers/{id}/os-instance-actions[/{request_id}].
func (n *novaReq) instanceActions(id string, rest []string) {
	if n.r.Method != http.MethodGet {
		n.methodNotAllowed()
		return
	}
	if len(rest) > 1 {
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st.servers[id]
	// Since 2.21 the actions of a deleted server stay readable.
	if s == nil || (s.Deleted && n.mv < 21) || (s.ProjectID != n.tok.ProjectID && !n.isAdmin()) {
		novaError(n.w, http.StatusNotFound, "Instance %s could not be found.", id)
		return
	}
	if len(rest) == 1 {
		n.showInstanceAction(s, rest[0])
		return
	}
	n.listInstanceActions(s)
}

func (n *novaReq) actionView(a *instanceAction) map[string]any {
	m := map[string]any{"action": a.Action, "instance_uuid": a.ServerID, "request_id": a.RequestID, "user_id": a.UserID,
		"project_id": a.ProjectID, "start_time": actionTime(a.Start), "message": nullStr(a.Message)}
	if n.mv >= 58 {
		m["updated_at"] = actionTime(a.Updated)
	}
	return m
}

func (n *novaReq) listInstanceActions(s *server) {
	q := n.r.URL.Query()
	var since, before time.Time
	limit, marker := -1, ""
	if n.mv >= 58 {
		allowed := map[string]bool{"limit": true, "marker": true, "changes-since": true}
		if n.mv >= 66 {
			allowed["changes-before"] = true
		}
		for k := range q {
			if !allowed[k] {
				novaError(n.w, http.StatusBadRequest, "Additional properties are not allowed ('%s' was unexpected)", k)
				return
			}
		}
		for _, p := range []struct {
			key string
			dst *time.Time
		}{{"changes-since", &since}, {"changes-before", &before}} {
			if v := q.Get(p.key); v != "" {
				t, err := parseKeystoneTime(v)
				if err != nil {
					novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters %s. Value: %s. '%s' is not a 'date-time'", p.key, v, v)
					return
				}
				*p.dst = t
			}
		}
		if !since.IsZero() && !before.IsZero() && before.Before(since) {
			novaError(n.w, http.StatusBadRequest, "The value of changes-since must be less than or equal to changes-before.")
			return
		}
		if v := q.Get("limit"); v != "" {
			l, err := strconv.Atoi(v)
			if err != nil || l < 0 {
				novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters limit. Value: %s. '%s' does not match '^[0-9]*$'", v, v)
				return
			}
			limit = l
		}
		marker = q.Get("marker")
	}
	all := n.c.st.actions[s.ID]
	var matched []*instanceAction
	for i := len(all) - 1; i >= 0; i-- { // newest first: created_at desc
		a := all[i]
		if !since.IsZero() && a.Updated.Before(since) || !before.IsZero() && a.Updated.After(before) {
			continue
		}
		matched = append(matched, a)
	}
	if marker != "" {
		idx := -1
		for i, a := range all {
			if a.RequestID == marker {
				idx = i
			}
		}
		if idx < 0 {
			// Nova formats the marker after failing to load it, so the text says None.
			novaError(n.w, http.StatusBadRequest, "Marker None could not be found.")
			return
		}
		// Actions are kept in creation order, so "after the marker" in Nova's created_at desc
		// order means created before it.
		cut := matched[:0:0]
		for _, a := range matched {
			if indexOf(all, a) < idx {
				cut = append(cut, a)
			}
		}
		matched = cut
	}
	const maxLimit = 1000
	if limit < 0 || limit > maxLimit {
		limit = maxLimit
	}
	if limit == 0 {
		matched = nil
	} else if len(matched) > limit {
		matched = matched[:limit]
	}
	out := make([]any, 0, len(matched))
	for _, a := range matched {
		out = append(out, n.actionView(a))
	}
	body := map[string]any{"instanceActions": out}
	if n.mv >= 58 && len(matched) > 0 && len(matched) == limit {
		nq := n.r.URL.Query()
		nq.Set("marker", matched[len(matched)-1].RequestID)
		body["links"] = []any{map[string]any{"rel": "next",
			"href": n.base + "/compute/v2.1/servers/" + s.ID + "/os-instance-actions?" + nq.Encode()}}
	}
	writeJSON(n.w, http.StatusOK, body)
}

func indexOf(list []*instanceAction, a *instanceAction) int {
	for i, o := range list {
		if o == a {
			return i
		}
	}
	return -1
}

func (n *novaReq) showInstanceAction(s *server, requestID string) {
	var found *instanceAction
	for _, a := range n.c.st.actions[s.ID] {
		if a.RequestID == requestID {
			found = a
		}
	}
	if found == nil {
		novaError(n.w, http.StatusNotFound, "Action %s not found", requestID)
		return
	}
	m := n.actionView(found)
	// Admins see events with tracebacks at every microversion (and the host since 2.62);
	// since 2.51 the project sees events without tracebacks; everyone sees hostId since 2.62
	// and admins the details since 2.84.
	admin := n.isAdmin()
	if admin || n.mv >= 51 {
		events := []any{}
		for i := len(found.Events) - 1; i >= 0; i-- {
			ev := found.Events[i]
			e := map[string]any{"event": ev.Name, "start_time": actionTime(ev.Start), "finish_time": nil, "result": nullStr(ev.Result)}
			if !ev.Finish.IsZero() {
				e["finish_time"] = actionTime(ev.Finish)
			}
			if admin {
				e["traceback"] = nullStr(ev.Traceback)
				if n.mv >= 62 {
					e["host"] = ev.Host
				}
			}
			if n.mv >= 62 {
				project := found.ProjectID
				if project == "" {
					project = s.ProjectID
				}
				e["hostId"] = novaHostID(ev.Host, project)
			}
			if admin && n.mv >= 84 {
				e["details"] = nullStr(ev.Details)
			}
			events = append(events, e)
		}
		m["events"] = events
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"instanceAction": m})
}
