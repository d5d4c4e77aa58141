package devcloud

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// createBackup posts a createBackup action and returns the answer's headers and body;
// gophercloud has no call for it.
func createBackup(t *testing.T, cc *gophercloud.ServiceClient, serverID string, args map[string]any) (http.Header, map[string]any, error) {
	t.Helper()
	var out map[string]any
	var into any = &out
	if mv, _ := strconv.Atoi(strings.TrimPrefix(cc.Microversion, "2.")); mv < 45 {
		into = nil // before 2.45 the answer has no body
	}
	resp, err := cc.Post(testCtx(t), cc.ServiceURL("servers", serverID, "action"), map[string]any{"createBackup": args}, into, //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
	if resp == nil {
		return nil, out, err
	}
	return resp.Header, out, err
}

func waitTaskCleared(t *testing.T, cc *gophercloud.ServiceClient, id string) {
	t.Helper()
	eventually(t, 10*time.Second, "server "+id+" without a task", func() bool {
		s, err := servers.Get(testCtx(t), cc, id).Extract()
		return err == nil && s.TaskState == ""
	})
}

func backupImages(t *testing.T, ic *gophercloud.ServiceClient, serverID, backupType string) []images.Image {
	t.Helper()
	pages, err := images.List(ic, images.ListOpts{}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := images.ExtractImages(pages)
	var out []images.Image
	for _, img := range all {
		p := img.Properties
		if p["image_type"] == "backup" && p["backup_type"] == backupType && p["instance_uuid"] == serverID {
			out = append(out, img)
		}
	}
	return out
}

func imageNames(list []images.Image) []string {
	var out []string
	for _, img := range list {
		out = append(out, img.Name)
	}
	return out
}

func TestNova_CreateBackupRotatesTheOldestBackupsOfTheSameTypeCountingTheNewOne(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.45")
	ic := imageClient(t, pc)
	web01 := c.Seed().Web01ServerID
	var ids []string
	for _, name := range []string{"daily-1", "daily-2", "daily-3"} {
		_, out, err := createBackup(t, cc, web01, map[string]any{"name": name, "backup_type": "daily", "rotation": 2})
		if err != nil {
			t.Fatalf("backup %s: %v (%s)", name, err, errBody(err))
		}
		ids = append(ids, out["image_id"].(string))
		waitTaskCleared(t, cc, web01)
	}
	if _, _, err := createBackup(t, cc, web01, map[string]any{"name": "weekly-1", "backup_type": "weekly", "rotation": "1", "metadata": map[string]any{"purpose": "launch"}}); err != nil {
		t.Fatalf("weekly: %v (%s)", err, errBody(err))
	}
	waitTaskCleared(t, cc, web01)

	daily := backupImages(t, ic, web01, "daily")
	if got := strings.Join(imageNames(daily), ","); got != "daily-3,daily-2" {
		t.Fatalf("daily backups after rotation 2 = %s, want daily-3,daily-2", got)
	}
	if _, err := images.Get(testCtx(t), ic, ids[0]).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("oldest daily backup: %v, want 404", err)
	}
	weekly := backupImages(t, ic, web01, "weekly")
	if len(weekly) != 1 || weekly[0].Status != "active" || weekly[0].Properties["purpose"] != "launch" ||
		weekly[0].Properties["user_id"] != c.Seed().DemoUserID || weekly[0].Properties["base_image_ref"] == nil {
		t.Fatalf("weekly backup = %+v", weekly)
	}

	// Rotation 0 deletes every backup of the type, the new one included, as Nova does.
	_, out, err := createBackup(t, cc, web01, map[string]any{"name": "weekly-2", "backup_type": "weekly", "rotation": 0})
	if err != nil {
		t.Fatal(err)
	}
	waitTaskCleared(t, cc, web01)
	if left := backupImages(t, ic, web01, "weekly"); len(left) != 0 {
		t.Fatalf("weekly backups after rotation 0 = %v", imageNames(left))
	}
	if _, err := images.Get(testCtx(t), ic, out["image_id"].(string)).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("the rotation-0 backup itself: %v, want 404", err)
	}
}

func TestNova_CreateBackupBefore245AnswersWithLocationOnlyWhenRotationKeepsIt(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.1")
	web01 := c.Seed().Web01ServerID
	header, out, err := createBackup(t, cc, web01, map[string]any{"name": "b1", "backup_type": "daily", "rotation": 1})
	if err != nil {
		t.Fatal(err)
	}
	loc := header.Get("Location")
	if out != nil || !strings.HasPrefix(loc, c.URL()+"/compute/v2.1/images/") {
		t.Fatalf("2.1 answer: body %v, Location %q", out, loc)
	}
	waitTaskCleared(t, cc, web01)
	header, _, err = createBackup(t, cc, web01, map[string]any{"name": "b2", "backup_type": "other", "rotation": 0})
	if err != nil || header.Get("Location") != "" {
		t.Fatalf("rotation 0 at 2.1: Location %q, %v", header.Get("Location"), err)
	}
}

func TestNova_CreateBackupErrorsAreNovas(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.45")
	web01 := c.Seed().Web01ServerID
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "b", "backup_type": "daily", "rotation": -1}, "Invalid input for field/attribute rotation. Value: -1. -1 is less than the minimum of 0"},
		{map[string]any{"name": "b", "backup_type": "daily", "rotation": "two"}, "Invalid input for field/attribute rotation. Value: two. 'two' does not match '^[0-9]*$'"},
		{map[string]any{"name": "b", "backup_type": "daily"}, "'rotation' is a required property"},
		{map[string]any{"name": "b", "backup_type": "daily", "rotation": 1, "extra": 1}, "Additional properties are not allowed ('extra' was unexpected)"},
	} {
		_, _, err := createBackup(t, cc, web01, tc.args)
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(errBody(err), tc.want) {
			t.Errorf("%v: %v %s, want 400 with %q", tc.args, err, errBody(err), tc.want)
		}
	}
	if _, _, err := createBackup(t, cc, web01, map[string]any{"name": "first", "backup_type": "daily", "rotation": 1}); err != nil {
		t.Fatal(err)
	}
	_, _, err := createBackup(t, cc, web01, map[string]any{"name": "second", "backup_type": "daily", "rotation": 1})
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) ||
		!strings.Contains(errBody(err), "Cannot 'createBackup' instance "+web01+" while it is in task_state image_backup") {
		t.Fatalf("backup during a backup: %v %s", err, errBody(err))
	}

	// A reader-only application credential may not back up (os-create-backup is member-only).
	ac, err := applicationcredentials.Create(testCtx(t), identityClient(t, pc), c.Seed().DemoUserID, applicationcredentials.CreateOpts{
		Name: "reader-only", Roles: []applicationcredentials.Role{{Name: "reader"}}}).Extract()
	if err != nil {
		t.Fatalf("app credential: %v (%s)", err, errBody(err))
	}
	reader := provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret})
	_, _, err = createBackup(t, computeClient(t, reader, "2.45"), web01, map[string]any{"name": "r", "backup_type": "daily", "rotation": 1})
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(errBody(err), "Policy doesn't allow os_compute_api:os-create-backup to be performed.") {
		t.Fatalf("reader backup: %v %s", err, errBody(err))
	}
}

func TestNova_BackupFaultKillsTheImageAndTheActionRecordsTheError(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.45")
	ic := imageClient(t, pc)
	web01 := c.Seed().Web01ServerID
	control(t, c, http.MethodPost, "/faults", map[string]any{"object_faults": []any{
		map[string]any{"kind": "server_backup", "outcome": "error", "name": "killed"},
		map[string]any{"kind": "server_backup", "outcome": "deleted", "name": "vanished"},
	}}, nil)
	header, out, err := createBackup(t, cc, web01, map[string]any{"name": "killed-1", "backup_type": "daily", "rotation": 5})
	if err != nil {
		t.Fatal(err)
	}
	requestID := header.Get("X-Compute-Request-Id")
	imageID := out["image_id"].(string)
	eventually(t, 10*time.Second, "image killed", func() bool {
		img, err := images.Get(testCtx(t), ic, imageID).Extract()
		return err == nil && img.Status == "killed"
	})
	waitTaskCleared(t, cc, web01)

	act, err := instanceactions.Get(testCtx(t), computeClient(t, pc, "2.51"), web01, requestID).Extract()
	if err != nil {
		t.Fatalf("action %s: %v", requestID, err)
	}
	if act.Action != "createBackup" || act.Message != "Error" || act.Events == nil || len(*act.Events) != 1 {
		t.Fatalf("action = %+v", act)
	}
	ev := (*act.Events)[0]
	if ev.Event != "compute_backup_instance" || ev.Result != "Error" || ev.Traceback != "" {
		t.Fatalf("member's view of the event = %+v", ev)
	}
	admin := computeClient(t, provider(t, adminAuth(c)), "2.84")
	aev := rawAction(t, admin, web01, requestID)["events"].([]any)[0].(map[string]any)
	if !strings.Contains(aev["details"].(string), imageID) || !strings.Contains(aev["traceback"].(string), "Traceback") || aev["host"] == "" {
		t.Fatalf("admin's view of the event = %v", aev)
	}

	// Nova's delete_image_on_error: the killed image may also vanish.
	_, out, err = createBackup(t, cc, web01, map[string]any{"name": "vanished-1", "backup_type": "daily", "rotation": 5})
	if err != nil {
		t.Fatal(err)
	}
	waitTaskCleared(t, cc, web01)
	if _, err := images.Get(testCtx(t), ic, out["image_id"].(string)).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("vanished backup image: %v, want 404", err)
	}
}
