package devcloud

import (
	"net/http"
	"strings"
	"time"
)

func (n *novaReq) servers(rest []string) {
	switch {
	case len(rest) == 0 && n.r.Method == http.MethodGet:
		n.listServers(false)
	case len(rest) == 0 && n.r.Method == http.MethodPost:
		n.createServer()
	case len(rest) == 1 && rest[0] == "detail" && n.r.Method == http.MethodGet:
		n.listServers(true)
	case len(rest) == 1:
		switch n.r.Method {
		case http.MethodGet:
			n.getServer(rest[0])
		case http.MethodPut:
			n.updateServer(rest[0])
		case http.MethodDelete:
			n.deleteServer(rest[0])
		default:
			n.methodNotAllowed()
		}
	case len(rest) == 2 && rest[1] == "action" && n.r.Method == http.MethodPost:
		n.serverAction(rest[0])
	case len(rest) >= 2 && rest[1] == "metadata":
		n.serverMetadata(rest[0], rest[2:])
	case len(rest) >= 2 && rest[1] == "tags":
		n.serverTags(rest[0], rest[2:])
	case len(rest) >= 2 && rest[1] == "ips" && n.r.Method == http.MethodGet:
		n.serverIPs(rest[0], rest[2:])
	case len(rest) >= 2 && rest[1] == "os-instance-actions":
		n.instanceActions(rest[0], rest[2:])
	default:
		novaError(n.w, http.StatusNotFound, "The resource could not be found.")
	}
}

// visibleServer returns the server if it exists and the caller may see it. Callers hold c.mu.
func (n *novaReq) visibleServer(id string) *server {
	s := n.c.st.servers[id]
	if s == nil || s.Deleted || (s.ProjectID != n.tok.ProjectID && !n.isAdmin()) {
		novaError(n.w, http.StatusNotFound, "Instance %s could not be found.", id)
		return nil
	}
	return s
}

// withServer runs fn under c.mu on the server id names, once the caller is known to see it;
// otherwise the caller gets Nova's 404.
func (n *novaReq) withServer(id string, fn func(s *server)) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if s := n.visibleServer(id); s != nil {
		fn(s)
	}
}

// lockServer takes c.mu and returns the server as visibleServer does; when there is none it
// releases c.mu. Handlers that answer after work outside the lock use it.
func (n *novaReq) lockServer(id string) *server {
	n.c.mu.Lock()
	s := n.visibleServer(id)
	if s == nil {
		n.c.mu.Unlock()
	}
	return s
}

func (n *novaReq) getServer(id string) {
	n.withServer(id, func(s *server) {
		writeJSON(n.w, http.StatusOK, map[string]any{"server": n.c.serverView(s, n.mv, n.base, n.isAdmin())})
	})
}

func (n *novaReq) updateServer(id string) {
	var req struct {
		Server map[string]any `json:"server"`
	}
	if err := readJSON(n.r, &req); err != nil || req.Server == nil {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute server.")
		return
	}
	n.withServer(id, func(s *server) {
		if name, ok := req.Server["name"].(string); ok {
			if strings.TrimSpace(name) == "" {
				novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute name. Value: %s. '%s' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'", name, name)
				return
			}
			s.Name = name
		}
		s.Updated = time.Now().UTC()
		writeJSON(n.w, http.StatusOK, map[string]any{"server": n.c.serverView(s, n.mv, n.base, n.isAdmin())})
	})
}

func (n *novaReq) deleteServer(id string) {
	c := n.c
	s := n.lockServer(id)
	if s == nil {
		return
	}
	if s.Deleting {
		c.mu.Unlock()
		n.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.Deleting, s.TaskState, s.Updated = true, "deleting", time.Now().UTC()
	action := c.startActionLocked(s, "delete", n.reqID, n.tok.UserID, n.tok.ProjectID)
	var ev *actionEvent
	if s.Host != "" {
		ev = action.startEvent(eventTerminate, s.Host)
	}
	attrs := map[string]any{"server_id": s.ID, "name": s.Name}
	if addr := c.serverAddress(s); addr != "" {
		attrs["address"] = addr
	}
	down := c.nodeDownLocked(s)
	gen := c.gen
	c.Event("server.deleting", attrs)
	c.mu.Unlock()
	down()
	c.afterGen(gen, c.Delay("server_delete"), func() func() {
		action.finish(ev, "", "")
		return c.finishDelete(id)
	})
	n.w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) finishDelete(id string) func() {
	s := c.st.servers[id]
	if s == nil || s.Deleted {
		return nil
	}
	// The record stays as a tombstone: Nova lists deleted servers (status DELETED) to
	// changes-since queries, and nothing else sees them.
	s.Deleted, s.Status, s.VMState, s.TaskState, s.PowerState, s.Updated = true, "DELETED", "deleted", "", 0, time.Now().UTC()
	attrs := map[string]any{"server_id": id, "name": s.Name}
	if addr := c.serverAddress(s); addr != "" {
		attrs["address"] = addr
	}
	c.releaseServerPortsLocked(s)
	s.Ports = nil
	if g := c.st.groups[s.GroupID]; g != nil {
		g.Members = removeString(g.Members, s.ID)
	}
	c.Event("server.deleted", attrs)
	return nil
}

// releaseServerPortsLocked deletes the ports Nova created and unbinds the ones the user gave.
func (c *Cloud) releaseServerPortsLocked(s *server) {
	for _, pid := range s.Ports {
		p := c.st.ports[pid]
		if p == nil {
			continue
		}
		if s.OwnedPorts[pid] {
			c.deletePortLocked(pid)
			continue
		}
		p.DeviceID, p.DeviceOwner, p.Updated = "", "", time.Now().UTC()
	}
}

func (n *novaReq) serverIPs(id string, rest []string) {
	n.withServer(id, func(s *server) {
		addrs := n.c.serverAddresses(s)
		if len(rest) == 1 {
			v, ok := addrs[rest[0]]
			if !ok {
				novaError(n.w, http.StatusNotFound, "Instance is not a member of specified network")
				return
			}
			writeJSON(n.w, http.StatusOK, map[string]any{rest[0]: v})
			return
		}
		writeJSON(n.w, http.StatusOK, map[string]any{"addresses": addrs})
	})
}
