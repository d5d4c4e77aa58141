package cloud

import (
	"encoding/json"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

func TestPoolUpdate_ClearingPersistenceSendsNull(t *testing.T) {
	body, _ := PoolUpdate{ClearPersistence: true}.ToPoolUpdateMap()
	raw, _ := json.Marshal(body)
	if string(raw) != `{"pool":{"session_persistence":null}}` {
		t.Fatalf("body = %s: Octavia clears persistence only on an explicit null", raw)
	}
	name := "web-pool"
	body, _ = PoolUpdate{Name: &name, LBMethod: "SOURCE_IP", Persistence: &pools.SessionPersistence{Type: "APP_COOKIE", CookieName: "sid"}}.ToPoolUpdateMap()
	raw, _ = json.Marshal(body)
	want := `{"pool":{"lb_algorithm":"SOURCE_IP","name":"web-pool","session_persistence":{"cookie_name":"sid","type":"APP_COOKIE"}}}`
	if string(raw) != want {
		t.Fatalf("body = %s, want %s", raw, want)
	}
	body, _ = PoolUpdate{LBMethod: "ROUND_ROBIN"}.ToPoolUpdateMap()
	raw, _ = json.Marshal(body)
	if string(raw) != `{"pool":{"lb_algorithm":"ROUND_ROBIN"}}` {
		t.Fatalf("an unchanged persistence must not be sent: %s", raw)
	}
}

func TestSnapshotBusy_RetriesTaskStateOnly(t *testing.T) {
	conflict := func(msg string) error {
		return gophercloud.ErrUnexpectedResponseCode{Actual: 409, Body: []byte(`{"conflictingRequest":{"code":409,"message":"` + msg + `"}}`)}
	}
	if !snapshotBusy(conflict("Cannot 'createImage' instance abc while it is in task_state image_uploading")) {
		t.Error("a task in progress clears by itself: retry")
	}
	if snapshotBusy(conflict("Cannot 'createImage' instance abc while it is in vm_state error")) {
		t.Error("a server in ERROR never becomes snapshottable: do not retry")
	}
	if snapshotBusy(gophercloud.ErrUnexpectedResponseCode{Actual: 500, Body: []byte("task_state")}) {
		t.Error("only a 409 is Nova's refusal to act")
	}
}
