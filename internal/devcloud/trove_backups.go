package devcloud

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// dbBackup is a Trove backup: NEW when the API accepts it, BUILDING once the guest agent
// runs it, then COMPLETED (with its size and location) or FAILED.
type dbBackup struct {
	ID, Name, ProjectID, InstanceID, ParentID string
	Description                               *string
	Status                                    string
	Location                                  string
	SizeGB                                    float64
	Datastore, Version, VersionID             string
	Created, Updated                          time.Time
	Deleting                                  bool
}

func (b *dbBackup) running() bool {
	return b.Status == "NEW" || b.Status == "BUILDING" || b.Status == "SAVING"
}

// troveUUID is apischema.uuid's pattern.
var troveUUID = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

const troveUUIDPattern = `^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`

func (t *troveReq) backupView(b *dbBackup) map[string]any {
	m := map[string]any{
		"id": b.ID, "name": b.Name, "description": nullableStr(b.Description), "locationRef": nullStr(b.Location),
		"instance_id": nullStr(b.InstanceID), "created": isoNoZ(b.Created), "updated": isoNoZ(b.Updated),
		"size": nil, "status": b.Status, "parent_id": nullStr(b.ParentID), "project_id": b.ProjectID,
	}
	if b.Status == "COMPLETED" {
		m["size"] = b.SizeGB
	}
	if b.VersionID != "" {
		m["datastore"] = map[string]any{"type": b.Datastore, "version": b.Version, "version_id": b.VersionID}
	}
	return m
}

func (t *troveReq) backups(rest []string) {
	switch {
	case len(rest) == 0 && t.r.Method == http.MethodGet:
		t.listBackups()
	case len(rest) == 0 && t.r.Method == http.MethodPost:
		t.createBackup()
	case len(rest) == 1 && t.r.Method == http.MethodGet:
		t.c.mu.Lock()
		defer t.c.mu.Unlock()
		if b := t.visibleBackup(rest[0]); b != nil {
			writeJSON(t.w, http.StatusOK, map[string]any{"backup": t.backupView(b)})
		}
	case len(rest) == 1 && t.r.Method == http.MethodDelete:
		t.deleteBackup(rest[0])
	case len(rest) <= 1:
		troveError(t.w, http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
	default:
		troveError(t.w, http.StatusNotFound, "The resource could not be found.")
	}
}

// visibleBackup finds a live backup of the URL's project (Trove's find_by adds the tenant for
// non-admins), or answers 404. Callers hold c.mu.
func (t *troveReq) visibleBackup(id string) *dbBackup {
	b := t.c.st.dbBackups[id]
	if b == nil || (b.ProjectID != t.project && !contains(t.tok.Roles, "admin")) {
		troveError(t.w, http.StatusNotFound, "Resource %s cannot be found.", id)
		return nil
	}
	return b
}

// runningBackupLocked is Backup.running: the instance's first backup still in progress.
func (c *Cloud) runningBackupLocked(instanceID string) *dbBackup {
	for _, id := range c.st.backupOrder {
		if b := c.st.dbBackups[id]; b != nil && b.InstanceID == instanceID && b.running() {
			return b
		}
	}
	return nil
}

// createBackup is POST /backups: the schema, the instance's readiness, the parent (given, or
// the last completed backup for incremental=1), the backups quota, then NEW.
func (t *troveReq) createBackup() {
	var body map[string]any
	if err := readJSON(t.r, &body); err != nil {
		troveError(t.w, http.StatusBadRequest, "%s", err.Error())
		return
	}
	in, ok := body["backup"].(map[string]any)
	if !ok {
		troveError(t.w, http.StatusBadRequest, "Validation error: 'backup' is a required property")
		return
	}
	if msg := validateBackupBody(in); msg != "" {
		troveError(t.w, http.StatusBadRequest, "Validation error: %s", msg)
		return
	}
	if _, ok := in["restore_from"]; ok {
		// Restoring a backup from another region needs Swift, which devcloud does not have.
		troveError(t.w, http.StatusNotImplemented, "devcloud has no object storage to restore a backup from another region.")
		return
	}
	name := in["name"].(string)
	instanceID, _ := in["instance"].(string)
	parentID, _ := in["parent_id"].(string)
	incremental := in["incremental"] == float64(1)
	var desc *string
	if v, ok := in["description"].(string); ok {
		desc = &v
	}
	if instanceID == "" {
		troveError(t.w, http.StatusBadRequest, "instance is missing.")
		return
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	db := t.visible(instanceID)
	if db == nil {
		return
	}
	if msg := c.dbActionBlockedLocked(db); msg != "" {
		troveError(t.w, http.StatusUnprocessableEntity, "Instance %s is not currently available for an action to be performed (%s).", db.ID, msg)
		return
	}
	if parentID != "" {
		if t.visibleBackup(parentID) == nil {
			return
		}
	} else if incremental {
		if last := c.lastCompletedBackupLocked(db.ID); last != nil {
			parentID = last.ID
		}
	}
	if msg := c.troveQuotaCheck(t.project, map[string]int{"backups": 1}); msg != "" {
		troveError(t.w, http.StatusRequestEntityTooLarge, "%s", msg)
		return
	}
	now := time.Now().UTC()
	b := &dbBackup{ID: c.newID(), Name: name, Description: desc, ProjectID: t.project, InstanceID: db.ID, ParentID: parentID,
		Status: "NEW", Datastore: db.Datastore, Version: db.Version, Created: now, Updated: now}
	if ds := c.findDatastore(db.Datastore); ds != nil {
		for _, v := range ds.Versions {
			if v.Name == db.Version {
				b.VersionID = v.ID
			}
		}
	}
	c.st.dbBackups[b.ID] = b
	c.st.backupOrder = append(c.st.backupOrder, b.ID)
	c.Event("db.backup.created", map[string]any{"backup_id": b.ID, "name": b.Name, "instance_id": db.ID, "parent_id": parentID})
	c.runBackupLocked(b, t.base)
	writeJSON(t.w, http.StatusAccepted, map[string]any{"backup": t.backupView(b)})
}

// runBackupLocked moves the backup to BUILDING when the guest picks it up and ends it after
// the db_backup delay, as the object fault decides.
func (c *Cloud) runBackupLocked(b *dbBackup, troveBase string) {
	outcome := c.faults.objectFault("db_backup", b.Name)
	gen, total := c.gen, c.Delay("db_backup")
	c.afterGen(gen, total/10, func() func() {
		if c.st.dbBackups[b.ID] == b && b.Status == "NEW" {
			b.Status, b.Updated = "BUILDING", time.Now().UTC()
		}
		return nil
	})
	if outcome == "stuck" {
		return
	}
	c.afterGen(gen, total, func() func() {
		if c.st.dbBackups[b.ID] != b || !b.running() {
			return nil
		}
		b.Updated = time.Now().UTC()
		if outcome == "error" {
			b.Status = "FAILED"
			c.Event("db.backup.failed", map[string]any{"backup_id": b.ID, "name": b.Name, "instance_id": b.InstanceID})
			return nil
		}
		b.Status, b.SizeGB = "COMPLETED", 0.12
		// Trove stores backups in Swift under database_backups/; devcloud names the same place.
		b.Location = strings.Replace(troveBase, "/database/v1.0/", "/object-store/v1/AUTH_", 1) + "/database_backups/" + b.ID + ".xbstream"
		c.Event("db.backup.completed", map[string]any{"backup_id": b.ID, "name": b.Name, "instance_id": b.InstanceID})
		return nil
	})
}

// dbActionBlockedLocked is Instance.validate_can_perform_action: "" when the instance may
// act, else the status Trove names in its 422.
func (c *Cloud) dbActionBlockedLocked(db *dbInstance) string {
	switch {
	case db.Deleting:
		return "task status was DELETING"
	case db.Status == "DETACH":
		return "task status was DETACHING"
	case db.Status != "ACTIVE":
		return "instance status was " + db.Status
	case c.runningBackupLocked(db.ID) != nil:
		return "instance status was BACKUP"
	}
	return ""
}

func (c *Cloud) lastCompletedBackupLocked(instanceID string) *dbBackup {
	var last *dbBackup
	for _, id := range c.st.backupOrder {
		b := c.st.dbBackups[id]
		if b != nil && b.InstanceID == instanceID && b.Status == "COMPLETED" && (last == nil || !b.Updated.Before(last.Updated)) {
			last = b
		}
	}
	return last
}

// validateBackupBody checks apischema.backup["create"] and returns the message Trove's
// format_validation_msg builds, or "".
func validateBackupBody(in map[string]any) string {
	if _, ok := in["name"]; !ok {
		return "backup 'name' is a required property"
	}
	for _, k := range []string{"name", "description"} {
		v, present := in[k]
		if !present {
			continue
		}
		s, ok := v.(string)
		switch {
		case !ok:
			return fmt.Sprintf("backup['%s'] %s is not of type 'string'", k, pyRepr(v))
		case s == "":
			return fmt.Sprintf("backup['%s'] '' is too short", k)
		case len(s) > 255:
			return fmt.Sprintf("backup['%s'] '%s' is too long", k, s)
		case !regexp.MustCompile(`[0-9a-zA-Z]`).MatchString(s):
			return fmt.Sprintf("backup['%s'] '%s' does not match '^.*[0-9a-zA-Z]+.*$'", k, s)
		}
	}
	for _, k := range []string{"instance", "parent_id"} {
		v, present := in[k]
		if !present {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("backup['%s'] %s is not of type 'string'", k, pyRepr(v))
		}
		if !troveUUID.MatchString(s) {
			return fmt.Sprintf("backup['%s'] '%s' does not match '%s'", k, s, troveUUIDPattern)
		}
	}
	if v, present := in["incremental"]; present {
		n, ok := v.(float64)
		switch {
		case !ok || n != float64(int(n)):
			return fmt.Sprintf("backup['incremental'] %s is not of type 'integer'", pyRepr(v))
		case n < 0:
			return fmt.Sprintf("backup['incremental'] %s is less than the minimum of 0", pyRepr(v))
		case n > 1:
			return fmt.Sprintf("backup['incremental'] %s is greater than the maximum of 1", pyRepr(v))
		}
	}
	return ""
}

// listBackups is GET /backups: the project's live backups, newest update first, with
// Trove's instance_id, datastore, project_id and all_projects filters and its offset paging.
func (t *troveReq) listBackups() {
	q := t.r.URL.Query()
	admin := contains(t.tok.Roles, "admin")
	allProjects := parseBoolish(q.Get("all_projects"))
	if (q.Get("project_id") != "" || allProjects) && !admin {
		troveError(t.w, http.StatusForbidden, "Policy doesn't allow backup:index:all_projects to be performed.")
		return
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds *datastore
	if v := q.Get("datastore"); v != "" {
		if ds = c.findDatastore(v); ds == nil {
			troveError(t.w, http.StatusNotFound, "Datastore '%s' cannot be found.", v)
			return
		}
	}
	project := t.project
	if v := q.Get("project_id"); v != "" {
		project = v
	}
	var list []*dbBackup
	for _, id := range c.st.backupOrder {
		b := c.st.dbBackups[id]
		switch {
		case b == nil:
		case !allProjects && b.ProjectID != project:
		case q.Get("instance_id") != "" && b.InstanceID != q.Get("instance_id"):
		case ds != nil && b.Datastore != ds.Name:
		default:
			list = append(list, b)
		}
	}
	t.writeBackupPage(list)
}

// instanceBackups is GET /instances/{id}/backups (list_for_instance).
func (t *troveReq) instanceBackups(id string) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.visible(id) == nil {
		return
	}
	var list []*dbBackup
	for _, bid := range c.st.backupOrder {
		if b := c.st.dbBackups[bid]; b != nil && b.InstanceID == id && (b.ProjectID == t.project || contains(t.tok.Roles, "admin")) {
			list = append(list, b)
		}
	}
	t.writeBackupPage(list)
}

// writeBackupPage sorts by updated desc and pages as Backup._paginate: the marker is an
// offset; a full page gets a next link, which Trove's AppUrl forces to https.
func (t *troveReq) writeBackupPage(list []*dbBackup) {
	sort.SliceStable(list, func(i, j int) bool { return list[i].Updated.After(list[j].Updated) })
	q := t.r.URL.Query()
	offset, limit := 0, 20
	if v := q.Get("marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			troveError(t.w, http.StatusBadRequest, "Invalid marker %s.", v)
			return
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			troveError(t.w, http.StatusBadRequest, "Invalid limit %s.", v)
			return
		}
		limit = n
	}
	page := []*dbBackup{}
	if offset < len(list) {
		page = list[offset:min(len(list), offset+limit)]
	}
	out := make([]any, 0, len(page))
	for _, b := range page {
		out = append(out, t.backupView(b))
	}
	body := map[string]any{"backups": out}
	if len(page) == limit {
		nq := t.r.URL.Query()
		nq.Set("marker", strconv.Itoa(offset+limit))
		next := strings.Replace(baseURL(t.r), "http://", "https://", 1) + t.r.URL.Path + "?" + nq.Encode()
		body["links"] = []any{map[string]any{"rel": "next", "href": next}}
	}
	writeJSON(t.w, http.StatusOK, body)
}

// deleteBackup is DELETE /backups/{id}: children first (Trove deletes incremental children
// recursively), refused while running; the backup goes after the db_backup_delete delay.
func (t *troveReq) deleteBackup(id string) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	b := t.visibleBackup(id)
	if b == nil {
		return
	}
	if msg := c.deleteBackupTreeLocked(b); msg != "" {
		troveError(t.w, http.StatusUnprocessableEntity, "%s", msg)
		return
	}
	t.w.WriteHeader(http.StatusAccepted)
}

func (c *Cloud) deleteBackupTreeLocked(b *dbBackup) string {
	for _, id := range append([]string(nil), c.st.backupOrder...) {
		if child := c.st.dbBackups[id]; child != nil && child.ParentID == b.ID {
			if msg := c.deleteBackupTreeLocked(child); msg != "" {
				return msg
			}
		}
	}
	if b.running() {
		return fmt.Sprintf("Backup %s cannot be deleted because it is running.", b.ID)
	}
	if b.Deleting {
		return ""
	}
	b.Deleting = true
	gen := c.gen
	c.afterGen(gen, c.Delay("db_backup_delete"), func() func() {
		if c.st.dbBackups[b.ID] != b {
			return nil
		}
		delete(c.st.dbBackups, b.ID)
		c.st.backupOrder = removeString(c.st.backupOrder, b.ID)
		c.Event("db.backup.deleted", map[string]any{"backup_id": b.ID, "name": b.Name})
		return nil
	})
	return ""
}

// failBackupsLocked is Backup.fail_for_instance: running backups of a deleted instance end
// FAILED, since their guest is gone.
func (c *Cloud) failBackupsLocked(instanceID string) {
	for _, id := range c.st.backupOrder {
		if b := c.st.dbBackups[id]; b != nil && b.InstanceID == instanceID && b.running() {
			b.Status, b.Updated = "FAILED", time.Now().UTC()
			c.Event("db.backup.failed", map[string]any{"backup_id": b.ID, "name": b.Name, "instance_id": instanceID})
		}
	}
}
