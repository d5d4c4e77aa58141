package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

func listActions(t *testing.T, cc *gophercloud.ServiceClient, serverID string, opts instanceactions.ListOptsBuilder) []instanceactions.InstanceAction {
	t.Helper()
	pages, err := instanceactions.List(cc, serverID, opts).AllPages(testCtx(t))
	if err != nil {
		t.Fatalf("instance actions of %s: %v (%s)", serverID, err, errBody(err))
	}
	list, err := instanceactions.ExtractInstanceActions(pages)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func actionNames(list []instanceactions.InstanceAction) string {
	var out []string
	for _, a := range list {
		out = append(out, a.Action)
	}
	return strings.Join(out, ",")
}

// rawAction reads one action as JSON with the client's token and microversion, to see
// which fields the microversion and the role show.
func rawAction(t *testing.T, cc *gophercloud.ServiceClient, serverID, requestID string) map[string]any {
	t.Helper()
	r := rawDo(t, http.MethodGet, cc.ServiceURL("servers", serverID, "os-instance-actions", requestID), cc.TokenID, nil,
		map[string]string{"OpenStack-API-Version": "compute " + cc.Microversion})
	action, ok := r.body["instanceAction"].(map[string]any)
	if r.status != http.StatusOK || !ok {
		t.Fatalf("action %s: %d %s", requestID, r.status, r.text)
	}
	return action
}

func TestNova_InstanceActionsRecordTheServersLifeAndOutliveIt(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.1")
	cc62 := computeClient(t, pc, "2.62")
	admin := computeClient(t, provider(t, adminAuth(c)), "2.62")

	srv := createServer(t, c, cc, "acted", nil, nil)
	waitStatus(t, cc, srv.ID, "ACTIVE")
	if err := servers.Stop(testCtx(t), cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.Stop(testCtx(t), cc, srv.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("stop while stopping: %v", err)
	}
	stopped := waitStatus(t, cc, srv.ID, "SHUTOFF")
	if stopped.PowerState != servers.SHUTDOWN {
		t.Fatalf("stopped server power state = %v", stopped.PowerState)
	}
	err := servers.Stop(testCtx(t), cc, srv.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) || !strings.Contains(errBody(err), "Cannot 'stop' instance "+srv.ID+" while it is in vm_state stopped") {
		t.Fatalf("stop a stopped server: %v %s", err, errBody(err))
	}
	if _, _, err := createBackup(t, cc, srv.ID, map[string]any{"name": "cold", "backup_type": "daily", "rotation": 1}); err != nil {
		t.Fatalf("backup of a stopped server: %v (%s)", err, errBody(err))
	}
	waitTaskCleared(t, cc, srv.ID)
	if err := servers.Start(testCtx(t), cc, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cc, srv.ID, "ACTIVE")
	if err := servers.Reboot(testCtx(t), cc, srv.ID, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cc, srv.ID, "ACTIVE")
	if _, err := servers.CreateImage(testCtx(t), cc, srv.ID, servers.CreateImageOpts{Name: "snap"}).ExtractImageID(); err != nil {
		t.Fatal(err)
	}
	waitTaskCleared(t, cc, srv.ID)

	list := listActions(t, cc, srv.ID, nil)
	if got := actionNames(list); got != "createImage,reboot,start,createBackup,stop,create" {
		t.Fatalf("actions = %s", got)
	}
	for _, a := range list {
		if a.InstanceUUID != srv.ID || a.UserID != c.Seed().DemoUserID || a.ProjectID != c.Seed().ProjectID || !strings.HasPrefix(a.RequestID, "req-") {
			t.Fatalf("action = %+v", a)
		}
	}
	create := list[len(list)-1]

	// Before 2.51 a member sees no events; from 2.51 without traceback; from 2.62 with hostId.
	if a := rawAction(t, cc, srv.ID, create.RequestID); a["events"] != nil || a["updated_at"] != nil {
		t.Fatalf("2.1 member view = %v", a)
	}
	a := rawAction(t, cc62, srv.ID, create.RequestID)
	events := a["events"].([]any)
	ev := events[0].(map[string]any)
	server, _ := servers.Get(testCtx(t), cc62, srv.ID).Extract()
	if len(events) != 1 || ev["event"] != "compute__do_build_and_run_instance" || ev["result"] != "Success" || ev["hostId"] != server.HostID ||
		ev["finish_time"] == nil || a["updated_at"] == nil {
		t.Fatalf("2.62 member view = %v", a)
	}
	if _, has := ev["traceback"]; has {
		t.Fatalf("member sees a traceback: %v", ev)
	}
	if _, has := ev["host"]; has {
		t.Fatalf("member sees the host: %v", ev)
	}
	aev := rawAction(t, admin, srv.ID, create.RequestID)["events"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(aev["host"].(string), "devcloud-compute-") || aev["traceback"] != nil {
		t.Fatalf("admin 2.62 view = %v", aev)
	}
	wantEvents := map[string]string{"stop": "compute_stop_instance", "start": "compute_start_instance", "reboot": "compute_reboot_instance",
		"createImage": "compute_snapshot_instance", "createBackup": "compute_backup_instance"}
	for _, act := range list[:len(list)-1] {
		evs := rawAction(t, cc62, srv.ID, act.RequestID)["events"].([]any)
		if len(evs) != 1 || evs[0].(map[string]any)["event"] != wantEvents[act.Action] || evs[0].(map[string]any)["result"] != "Success" {
			t.Errorf("%s events = %v", act.Action, evs)
		}
	}

	// 2.58 pages by request id and filters on updated_at.
	cc58 := computeClient(t, pc, "2.58")
	r := rawDo(t, http.MethodGet, cc58.ServiceURL("servers", srv.ID, "os-instance-actions")+"?limit=2", pc.TokenID, nil,
		map[string]string{"OpenStack-API-Version": "compute 2.58"})
	links, _ := r.body["links"].([]any)
	if r.status != 200 || len(r.body["instanceActions"].([]any)) != 2 || len(links) != 1 ||
		!strings.Contains(links[0].(map[string]any)["href"].(string), "marker="+list[1].RequestID) {
		t.Fatalf("limit=2 = %d %s", r.status, r.text)
	}
	if got := actionNames(listActions(t, cc58, srv.ID, instanceactions.ListOpts{Marker: list[3].RequestID})); got != "stop,create" {
		t.Fatalf("after marker = %s", got)
	}
	future := time.Now().Add(time.Hour)
	if got := listActions(t, cc58, srv.ID, instanceactions.ListOpts{ChangesSince: &future}); len(got) != 0 {
		t.Fatalf("changes-since in the future = %s", actionNames(got))
	}
	r = rawDo(t, http.MethodGet, cc58.ServiceURL("servers", srv.ID, "os-instance-actions")+"?marker=req-nope", pc.TokenID, nil,
		map[string]string{"OpenStack-API-Version": "compute 2.58"})
	if r.status != 400 || !strings.Contains(r.text, "Marker None could not be found.") {
		t.Fatalf("bad marker = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodGet, cc58.ServiceURL("servers", srv.ID, "os-instance-actions")+"?changes-before=2026-01-01T00:00:00Z", pc.TokenID, nil,
		map[string]string{"OpenStack-API-Version": "compute 2.58"})
	if r.status != 400 || !strings.Contains(r.text, "Additional properties are not allowed ('changes-before' was unexpected)") {
		t.Fatalf("changes-before at 2.58 = %d %s", r.status, r.text)
	}
	if _, err := instanceactions.Get(testCtx(t), cc, srv.ID, "req-nope").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) ||
		!strings.Contains(errBody(err), "Action req-nope not found") {
		t.Fatalf("unknown action: %v %s", err, errBody(err))
	}

	// Deleted: the actions stay readable from 2.21 on.
	delResp, err := cc.Delete(testCtx(t), cc.ServiceURL("servers", srv.ID), nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if err != nil {
		t.Fatal(err)
	}
	deleteRequest := delResp.Header.Get("X-Compute-Request-Id")
	eventually(t, 10*time.Second, "server gone", func() bool {
		_, err := servers.Get(testCtx(t), cc, srv.ID).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	if _, err := instanceactions.List(computeClient(t, pc, "2.20"), srv.ID, nil).AllPages(testCtx(t)); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("deleted server's actions at 2.20: %v", err)
	}
	after := listActions(t, computeClient(t, pc, "2.21"), srv.ID, nil)
	if after[0].Action != "delete" || after[0].RequestID != deleteRequest {
		t.Fatalf("deleted server's newest action = %+v (delete request %s)", after[0], deleteRequest)
	}
	dev := rawAction(t, cc62, srv.ID, deleteRequest)["events"].([]any)[0].(map[string]any)
	if dev["event"] != "compute_terminate_instance" || dev["result"] != "Success" {
		t.Fatalf("delete event = %v", dev)
	}
}

func TestNova_FailedBuildsInInstanceActionsAsNovaRecordsThem(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.84")
	admin := computeClient(t, provider(t, adminAuth(c)), "2.84")

	// Scheduling failures are the conductor's: an Error event with the message as details.
	control(t, c, http.MethodPost, "/faults", map[string]any{"server_errors": map[string]any{"next": 1, "stage": "schedule"}}, nil)
	srv := createServer(t, c, cc, "unplaced", nil, nil)
	failed := waitStatus(t, cc, srv.ID, "ERROR")
	if failed.Fault.Message != "No valid host was found. There are not enough hosts available." {
		t.Fatalf("fault = %+v", failed.Fault)
	}
	create := listActions(t, cc, srv.ID, nil)[0]
	if create.Action != "create" || create.Message != "Error" {
		t.Fatalf("create action = %+v", create)
	}
	ev := rawAction(t, admin, srv.ID, create.RequestID)["events"].([]any)[0].(map[string]any)
	if ev["event"] != "conductor_schedule_and_build_instances" || ev["result"] != "Error" || ev["details"] != failed.Fault.Message ||
		!strings.Contains(ev["traceback"].(string), "nova.exception.NoValidHost") {
		t.Fatalf("admin's schedule event = %v", ev)
	}
	mev := rawAction(t, cc, srv.ID, create.RequestID)["events"].([]any)[0].(map[string]any)
	if _, has := mev["details"]; has {
		t.Fatalf("member sees details: %v", mev)
	}

	// A build that fails on the compute host leaves Zed's event as Success; the fault is the server's.
	control(t, c, http.MethodPost, "/faults", map[string]any{"server_errors": map[string]any{"next": 1, "message": "Build of instance aborted: disk"}}, nil)
	srv = createServer(t, c, cc, "broken", nil, nil)
	waitStatus(t, cc, srv.ID, "ERROR")
	create = listActions(t, cc, srv.ID, nil)[0]
	ev = rawAction(t, admin, srv.ID, create.RequestID)["events"].([]any)[0].(map[string]any)
	if create.Message != "" || ev["event"] != "compute__do_build_and_run_instance" || ev["result"] != "Success" {
		t.Fatalf("compute-side failure: action %+v, event %v", create, ev)
	}
}

func TestNova_EveryAnswerCarriesItsRequestID(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	cc := computeClient(t, pc, "2.1")
	resp, err := cc.Get(testCtx(t), cc.ServiceURL("flavors"), nil, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Compute-Request-Id")
	if !strings.HasPrefix(id, "req-") || resp.Header.Get("X-Openstack-Request-Id") != id {
		t.Fatalf("request id headers = %v", resp.Header)
	}
}
