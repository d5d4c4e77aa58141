package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serverActions are the actions of POST /servers/{id}/action, by the body's one key. Each runs
// with c.mu held on a server the caller may see, and releases c.mu before it answers: some
// answer after work that must run outside the lock.
var serverActions = map[string]func(n *novaReq, s *server, args map[string]any){
	"reboot":              (*novaReq).rebootServer,
	"createImage":         (*novaReq).createImage,
	"createBackup":        (*novaReq).createBackup,
	"os-stop":             (*novaReq).stopServer,
	"os-start":            (*novaReq).startServer,
	"os-getConsoleOutput": (*novaReq).consoleOutput,
}

func (n *novaReq) serverAction(id string) {
	var body map[string]map[string]any
	if err := readJSON(n.r, &body); err != nil || len(body) != 1 {
		novaError(n.w, http.StatusBadRequest, "Malformed request body")
		return
	}
	s := n.lockServer(id)
	if s == nil {
		return
	}
	for action, args := range body { // exactly one
		run, ok := serverActions[action]
		if !ok {
			n.c.mu.Unlock()
			novaError(n.w, http.StatusBadRequest, "There is no such action: %s", action)
			return
		}
		run(n, s, args)
	}
}

// stateConflictLocked answers 409 and releases c.mu when the server's state refuses action.
// Nova's check_instance_state looks at vm_state first (allowed lists the vm_states the
// action accepts; none means active only), then task_state.
func (n *novaReq) stateConflictLocked(s *server, action string, allowed ...string) bool {
	if len(allowed) == 0 {
		allowed = []string{"active"}
	}
	state, val := "", ""
	switch {
	case !contains(allowed, s.VMState):
		state, val = "vm_state", s.VMState
	case s.Deleting:
		state, val = "task_state", "deleting"
	case s.TaskState != "":
		state, val = "task_state", s.TaskState
	}
	if state == "" {
		return false
	}
	n.c.mu.Unlock()
	novaError(n.w, http.StatusConflict, "Cannot '%s' instance %s while it is in %s %s", action, s.ID, state, val)
	return true
}

func (n *novaReq) rebootServer(s *server, args map[string]any) {
	c := n.c
	if n.stateConflictLocked(s, "reboot") {
		return
	}
	typ, _ := args["type"].(string)
	typ = strings.ToUpper(typ)
	if typ != "SOFT" && typ != "HARD" {
		c.mu.Unlock()
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute type. Value: %s. '%s' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", typ, typ)
		return
	}
	s.Status, s.TaskState = "REBOOT", "reboot_started"
	if typ == "HARD" {
		s.Status, s.TaskState = "HARD_REBOOT", "reboot_started_hard"
	}
	s.Updated = time.Now().UTC()
	action := c.startActionLocked(s, "reboot", n.reqID, n.tok.UserID, n.tok.ProjectID)
	ev := action.startEvent(eventReboot, s.Host)
	down := c.nodeDownLocked(s)
	gen := c.gen
	c.Event("server.rebooting", map[string]any{"server_id": s.ID, "name": s.Name, "type": typ})
	c.mu.Unlock()
	down()
	c.afterGen(gen, c.Delay("server_reboot"), func() func() {
		if s.Deleted || s.Deleting || (s.Status != "REBOOT" && s.Status != "HARD_REBOOT") {
			return nil
		}
		action.finish(ev, "", "")
		s.Status, s.TaskState, s.PowerState, s.Updated = "ACTIVE", "", 1, time.Now().UTC()
		return c.nodeUpLocked(s, "server.active")
	})
	n.w.WriteHeader(http.StatusAccepted)
}

// createImage snapshots the server into a queued Glance image that goes saving, then active.
func (n *novaReq) createImage(s *server, args map[string]any) {
	c := n.c
	if n.stateConflictLocked(s, "createImage", "active", "stopped") {
		return
	}
	name, _ := args["name"].(string)
	if strings.TrimSpace(name) == "" {
		c.mu.Unlock()
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute createImage. 'name' is a required property")
		return
	}
	meta, _ := args["metadata"].(map[string]any)
	if c.faults.objectFault("server_snapshot", name) == "race" {
		n.loseTaskStateRace(s, name, "snapshot", meta)
		return
	}
	img := c.snapshotLocked(s, name, "snapshot", meta)
	s.TaskState = "image_snapshot"
	action := c.startActionLocked(s, "createImage", n.reqID, n.tok.UserID, n.tok.ProjectID)
	ev := action.startEvent(eventSnapshot, s.Host)
	gen := c.gen
	c.Event("image.created", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
	imageID := img.ID
	c.mu.Unlock()
	c.afterGen(gen, c.Delay("image_save")/5, func() func() {
		if img.Status == "queued" {
			img.Status, img.Updated = "saving", time.Now().UTC()
			s.TaskState = "image_uploading"
		}
		return nil
	})
	c.afterGen(gen, c.Delay("image_save"), func() func() {
		action.finish(ev, "", "")
		if c.st.images[img.ID] == nil {
			// Nova's snapshot task fails when its image is deleted mid-upload and
			// clears the task state, so the server accepts the next action.
			if s.TaskState == "image_uploading" || s.TaskState == "image_snapshot" {
				s.TaskState = ""
			}
			return nil
		}
		img.Status, img.Updated, img.Size = "active", time.Now().UTC(), 1<<30
		img.Checksum = fmt.Sprintf("%032x", uint64(len(img.ID))*0x9e3779b97f4a7c15)
		if s.TaskState == "image_uploading" || s.TaskState == "image_snapshot" {
			s.TaskState = ""
		}
		c.Event("image.saved", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
		return nil
	})
	if n.mv >= 45 {
		writeJSON(n.w, http.StatusAccepted, map[string]any{"image_id": imageID})
		return
	}
	n.w.Header().Set("Location", n.base+"/image/v2/images/"+imageID)
	n.w.WriteHeader(http.StatusAccepted)
}

// loseTaskStateRace answers a createImage or createBackup that another task beat to the server
// as Nova Zed does: compute.API creates the queued image before it saves the task state, the
// save finds the task state taken, and the API turns the UnexpectedTaskStateError it does not
// catch into a 500. No upload follows: the image stays queued until it is deleted.
func (n *novaReq) loseTaskStateRace(s *server, name, imageType string, meta map[string]any) {
	c := n.c
	img := c.snapshotLocked(s, name, imageType, meta)
	c.Event("image.created", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
	c.mu.Unlock()
	novaError(n.w, http.StatusInternalServerError, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'nova.exception.UnexpectedTaskStateError'>")
}

func (n *novaReq) consoleOutput(s *server, args map[string]any) {
	name, id := s.Name, s.ID
	n.c.mu.Unlock()
	lines, ok := consoleLength(args["length"])
	if !ok {
		novaError(n.w, http.StatusBadRequest, "Invalid input for field/attribute length. Value: %v. %v is not valid under any of the given schemas", args["length"], args["length"])
		return
	}
	if out, ok := n.c.dp.machines.console(id, lines); ok {
		writeJSON(n.w, http.StatusOK, map[string]any{"output": out})
		return
	}
	writeJSON(n.w, http.StatusOK, map[string]any{"output": "devcloud: " + name + " login:\n"})
}

// consoleLength reads os-getConsoleOutput's length: absent, null or -1 (returned as -1) for
// the whole log, else a number of lines (an integer, or a string of digits, as Nova's schema allows).
func consoleLength(v any) (int, bool) {
	switch x := v.(type) {
	case nil:
		return -1, true
	case float64:
		if x != float64(int(x)) || x < -1 {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		if err != nil || n < -1 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// snapshotLocked creates the queued Glance image of a createImage ("snapshot") or
// createBackup ("backup") action.
func (c *Cloud) snapshotLocked(s *server, name, imageType string, meta map[string]any) *image {
	now := time.Now().UTC()
	base := c.st.images[s.ImageID]
	props := map[string]any{}
	if base != nil {
		for k, v := range base.Properties {
			props[k] = v
		}
	}
	for k, v := range meta {
		props[k] = v
	}
	props["image_type"] = imageType
	props["instance_uuid"] = s.ID
	props["base_image_ref"] = s.ImageID
	props["user_id"] = s.UserID
	props["owner_project_name"] = c.st.projects[s.ProjectID].Name
	props["image_location"] = "snapshot"
	props["boot_roles"] = "member,reader"
	img := &image{ID: c.newID(), Name: name, Status: "queued", Visibility: "private", Owner: s.ProjectID,
		ContainerFormat: "bare", DiskFormat: "qcow2", Properties: props, Created: now, Updated: now, Tags: []string{}}
	if base != nil {
		img.MinDisk, img.MinRAM, img.ContainerFormat, img.DiskFormat = base.MinDisk, base.MinRAM, base.ContainerFormat, base.DiskFormat
	}
	if f := c.st.flavors[s.FlavorID]; f != nil && f.Disk > img.MinDisk {
		img.MinDisk = f.Disk
	}
	c.st.images[img.ID] = img
	c.st.imageOrder = append(c.st.imageOrder, img.ID)
	return img
}

// stopServer is os-stop: powering-off, then SHUTOFF with vm_state stopped; the web node stops
// answering at once.
func (n *novaReq) stopServer(s *server, _ map[string]any) {
	n.powerAction(s, "stop", []string{"active", "error"}, "powering-off", eventStop, "server_stop", func(s *server) func() {
		s.Status, s.VMState, s.PowerState = "SHUTOFF", "stopped", 4
		return nil
	})
}

// startServer is os-start: powering-on, then ACTIVE; the web node comes back.
func (n *novaReq) startServer(s *server, _ map[string]any) {
	n.powerAction(s, "start", []string{"stopped"}, "powering-on", eventStart, "server_start", func(s *server) func() {
		s.Status, s.VMState, s.PowerState = "ACTIVE", "active", 1
		return n.c.nodeUpLocked(s, "server.active")
	})
}

// powerAction runs a stop or start: the task state at once, the end state after the delay.
func (n *novaReq) powerAction(s *server, action string, allowed []string, task, event, delay string, done func(*server) func()) {
	c := n.c
	if n.stateConflictLocked(s, action, allowed...) {
		return
	}
	s.TaskState, s.Updated = task, time.Now().UTC()
	a := c.startActionLocked(s, action, n.reqID, n.tok.UserID, n.tok.ProjectID)
	ev := a.startEvent(event, s.Host)
	var down func()
	if action == "stop" {
		down = c.nodeDownLocked(s)
	}
	gen := c.gen
	c.Event(map[string]string{"stop": "server.stopping", "start": "server.starting"}[action], map[string]any{"server_id": s.ID, "name": s.Name})
	c.mu.Unlock()
	if down != nil {
		down()
	}
	c.afterGen(gen, c.Delay(delay), func() func() {
		if s.Deleted || s.Deleting || s.TaskState != task {
			return nil
		}
		a.finish(ev, "", "")
		s.TaskState, s.Updated = "", time.Now().UTC()
		post := done(s)
		if action == "stop" {
			c.Event("server.stopped", map[string]any{"server_id": s.ID, "name": s.Name})
		}
		return post
	})
	n.w.WriteHeader(http.StatusAccepted)
}
