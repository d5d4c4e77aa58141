package devcloud

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// createBackup is Nova's createBackup action: a Glance image of the server with
// image_type=backup and backup_type, then the rotation of that server's backups of the same
// type (compute manager's backup_instance and _rotate_backups).
func (n *novaReq) createBackup(s *server, args map[string]any) {
	c := n.c
	fail := func(status int, format string, a ...any) {
		c.mu.Unlock()
		novaError(n.w, status, format, a...)
	}
	name, backupType, rotation, meta, msg := parseCreateBackup(args)
	if msg != "" {
		fail(http.StatusBadRequest, "%s", msg)
		return
	}
	// os_compute_api:os-create-backup is PROJECT_MEMBER_OR_ADMIN: a reader may not back up.
	if !n.isAdmin() && !contains(n.tok.Roles, "member") {
		fail(http.StatusForbidden, "Policy doesn't allow os_compute_api:os-create-backup to be performed.")
		return
	}
	// Until 2.39 Nova counts the metadata against the metadata_items quota.
	if n.mv < 39 && len(meta) > c.st.quotas[s.ProjectID]["metadata_items"] {
		fail(http.StatusForbidden, "Image metadata limit exceeded")
		return
	}
	if n.stateConflictLocked(s, "createBackup", "active", "stopped") {
		return
	}
	props := map[string]any{}
	for k, v := range meta {
		props[k] = v
	}
	props["backup_type"] = backupType
	outcome := c.faults.objectFault("server_backup", name)
	if outcome == "race" {
		n.loseTaskStateRace(s, name, "backup", props)
		return
	}
	img := c.snapshotLocked(s, name, "backup", props)
	s.TaskState = "image_backup"
	action := c.startActionLocked(s, "createBackup", n.reqID, n.tok.UserID, n.tok.ProjectID)
	ev := action.startEvent(eventBackup, s.Host)
	gen := c.gen
	c.Event("image.created", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID, "backup_type": backupType})
	imageID := img.ID
	requester := n.tok.ProjectID
	admin := n.isAdmin()
	c.mu.Unlock()

	c.afterGen(gen, c.Delay("image_save")/5, func() func() {
		if img.Status == "queued" {
			img.Status, img.Updated = "saving", time.Now().UTC()
			s.TaskState = "image_uploading"
		}
		return nil
	})
	if outcome != "stuck" {
		c.afterGen(gen, c.Delay("image_save"), func() func() {
			c.finishBackupLocked(s, img, action, ev, outcome, backupType, rotation, requester, admin)
			return nil
		})
	}
	if n.mv >= 45 {
		writeJSON(n.w, http.StatusAccepted, map[string]any{"image_id": imageID})
		return
	}
	// Before 2.45 the Location header names the image, and only when rotation keeps it.
	if rotation > 0 {
		n.w.Header().Set("Location", n.base+"/compute/v2.1/images/"+imageID)
	}
	n.w.WriteHeader(http.StatusAccepted)
}

// finishBackupLocked ends the upload: an active image and the rotation, or a killed image
// (deleted too when the fault says so, as Nova's delete_image_on_error does) and a failed
// event. Runs with c.mu held.
func (c *Cloud) finishBackupLocked(s *server, img *image, action *instanceAction, ev *actionEvent, outcome, backupType string, rotation int, requester string, admin bool) {
	if s.TaskState == "image_uploading" || s.TaskState == "image_backup" {
		s.TaskState = ""
	}
	now := time.Now().UTC()
	if c.st.images[img.ID] == nil {
		// Deleted mid-upload: Nova's snapshot gives up quietly, as for createImage.
		action.finish(ev, "", "")
		return
	}
	if outcome != "" {
		img.Status, img.Updated = "killed", now
		action.finish(ev, "nova.exception.ImageNotFound", fmt.Sprintf("Image %s could not be uploaded: Glance marked it killed.", img.ID))
		c.Event("image.killed", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID})
		if outcome == "deleted" {
			c.deleteImageLocked(img, "backup failed")
		}
		return
	}
	img.Status, img.Updated, img.Size = "active", now, 1<<30
	img.Checksum = fmt.Sprintf("%032x", uint64(len(img.ID))*0x9e3779b97f4a7c15)
	c.Event("image.saved", map[string]any{"image_id": img.ID, "name": img.Name, "server_id": s.ID, "backup_type": backupType})
	c.rotateBackupsLocked(s, backupType, rotation, requester, admin)
	action.finish(ev, "", "")
}

// rotateBackupsLocked is _rotate_backups: the server's images with image_type=backup and this
// backup_type, newest first, including the one just made; those beyond rotation are
// deleted, oldest first. An image the caller may not delete (protected, or not visible to
// the request's project) is skipped, as Nova logs the failure and carries on.
func (c *Cloud) rotateBackupsLocked(s *server, backupType string, rotation int, requester string, admin bool) {
	type entry struct {
		img *image
		pos int
	}
	var backups []entry
	for i, id := range c.st.imageOrder {
		img := c.st.images[id]
		if img == nil || !c.imageVisible(img, requester, admin) {
			continue
		}
		p := img.Properties
		if fmt.Sprint(p["image_type"]) == "backup" && fmt.Sprint(p["backup_type"]) == backupType && fmt.Sprint(p["instance_uuid"]) == s.ID {
			backups = append(backups, entry{img, i})
		}
	}
	sort.SliceStable(backups, func(i, j int) bool {
		a, b := backups[i], backups[j]
		if !a.img.Created.Equal(b.img.Created) {
			return a.img.Created.After(b.img.Created)
		}
		return a.pos > b.pos
	})
	for i := len(backups) - 1; i >= rotation; i-- {
		img := backups[i].img
		if img.Protected || (img.Owner != requester && !admin) {
			continue
		}
		c.deleteImageLocked(img, "rotation")
	}
}

// deleteImageLocked removes an image as Glance's DELETE does.
func (c *Cloud) deleteImageLocked(img *image, reason string) {
	delete(c.st.images, img.ID)
	c.st.imageOrder = removeString(c.st.imageOrder, img.ID)
	c.Event("image.deleted", map[string]any{"image_id": img.ID, "name": img.Name, "reason": reason})
}

// parseCreateBackup validates the createBackup body as Nova's create_backup schema does and
// returns Nova's message for the first error.
func parseCreateBackup(args map[string]any) (name, backupType string, rotation int, meta map[string]string, msg string) {
	bad := func(format string, a ...any) (string, string, int, map[string]string, string) {
		return "", "", 0, nil, fmt.Sprintf(format, a...)
	}
	if args == nil {
		return bad("Invalid input for field/attribute createBackup. Value: None. None is not of type 'object'")
	}
	for k := range args {
		if k != "name" && k != "backup_type" && k != "rotation" && k != "metadata" {
			return bad("Invalid input for field/attribute createBackup. Value: %s. Additional properties are not allowed ('%s' was unexpected)", pyRepr(args), k)
		}
	}
	for _, k := range []string{"name", "backup_type", "rotation"} {
		if _, ok := args[k]; !ok {
			return bad("Invalid input for field/attribute createBackup. Value: %s. '%s' is a required property", pyRepr(args), k)
		}
	}
	name, ok := args["name"].(string)
	if !ok {
		return bad("Invalid input for field/attribute name. Value: %s. %s is not of type 'string'", pyRepr(args["name"]), pyRepr(args["name"]))
	}
	if name == "" || strings.TrimSpace(name) != name || len(name) > 255 {
		return bad("Invalid input for field/attribute name. Value: %s. '%s' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'", name, name)
	}
	backupType, ok = args["backup_type"].(string)
	if !ok {
		return bad("Invalid input for field/attribute backup_type. Value: %s. %s is not of type 'string'", pyRepr(args["backup_type"]), pyRepr(args["backup_type"]))
	}
	switch r := args["rotation"].(type) {
	case float64:
		if r != float64(int(r)) {
			return bad("Invalid input for field/attribute rotation. Value: %v. %v is not of type 'integer', 'string'", r, r)
		}
		if r < 0 {
			return bad("Invalid input for field/attribute rotation. Value: %d. %d is less than the minimum of 0", int(r), int(r))
		}
		rotation = int(r)
	case string:
		i, err := strconv.Atoi(r)
		if err != nil || strings.ContainsAny(r, "+- ") {
			return bad("Invalid input for field/attribute rotation. Value: %s. '%s' does not match '^[0-9]*$'", r, r)
		}
		rotation = i
	default:
		return bad("Invalid input for field/attribute rotation. Value: %s. %s is not of type 'integer', 'string'", pyRepr(r), pyRepr(r))
	}
	meta = map[string]string{}
	if raw, present := args["metadata"]; present {
		m, ok := raw.(map[string]any)
		if !ok {
			return bad("Invalid input for field/attribute metadata. Value: %s. %s is not of type 'object'", pyRepr(raw), pyRepr(raw))
		}
		for k, v := range m {
			sv, ok := v.(string)
			if !ok || len(sv) > 255 || !validMetadataKey(k) {
				return bad("Invalid input for field/attribute metadata. Value: %s. Additional properties are not allowed ('%s' was unexpected)", pyRepr(m), k)
			}
			meta[k] = sv
		}
	}
	return name, backupType, rotation, meta, ""
}

func validMetadataKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for _, ch := range k {
		if !isAlnum(ch) && !strings.ContainsRune("-_:. ", ch) {
			return false
		}
	}
	return true
}
