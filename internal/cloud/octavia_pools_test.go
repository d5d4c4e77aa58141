package cloud

import (
	"encoding/json"
	"testing"
)

func TestPoolUpdate_ClearingPersistenceSendsNull(t *testing.T) {
	body, _ := PoolUpdate{ClearPersistence: true}.ToPoolUpdateMap()
	raw, _ := json.Marshal(body)
	if string(raw) != `{"pool":{"session_persistence":null}}` {
		t.Fatalf("body = %s: Octavia clears persistence only on an explicit null", raw)
	}
	name := "web-pool"
	body, _ = PoolUpdate{Name: &name, LBMethod: "SOURCE_IP", Persistence: &SessionPersistence{Type: "APP_COOKIE", CookieName: "sid"}}.ToPoolUpdateMap()
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
