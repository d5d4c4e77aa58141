package devcloud

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/recordsets"
	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/zones"
)

func dnsClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewDNSV2(pc, eo)
	if err != nil {
		t.Fatalf("NewDNSV2: %v", err)
	}
	return sc
}

// rawResp is an answer read without a client library, to check bodies and headers exactly.
type rawResp struct {
	status int
	header http.Header
	body   map[string]any
	text   string
}

func rawDo(t *testing.T, method, url, token string, body any, headers map[string]string) rawResp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(testCtx(t), method, url, rd)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	out := rawResp{status: resp.StatusCode, header: resp.Header, text: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func createZone(t *testing.T, dc *gophercloud.ServiceClient, name string) *zones.Zone {
	t.Helper()
	z, err := zones.Create(testCtx(t), dc, zones.CreateOpts{Name: name, Email: "ops@example.com", TTL: 600}).Extract()
	if err != nil {
		t.Fatalf("creating zone %s: %v (%s)", name, err, errBody(err))
	}
	return z
}

func waitZone(t *testing.T, dc *gophercloud.ServiceClient, id, status string) *zones.Zone {
	t.Helper()
	var z *zones.Zone
	eventually(t, 10*time.Second, "zone "+id+" "+status, func() bool {
		var err error
		z, err = zones.Get(testCtx(t), dc, id).Extract()
		if err != nil {
			t.Fatalf("get zone %s: %v", id, err)
		}
		return z.Status == status
	})
	return z
}

func waitRecordset(t *testing.T, dc *gophercloud.ServiceClient, zoneID, id, status string) *recordsets.RecordSet {
	t.Helper()
	var rs *recordsets.RecordSet
	eventually(t, 10*time.Second, "recordset "+id+" "+status, func() bool {
		var err error
		rs, err = recordsets.Get(testCtx(t), dc, zoneID, id).Extract()
		if err != nil {
			t.Fatalf("get recordset %s: %v", id, err)
		}
		return rs.Status == status
	})
	return rs
}

func TestDesignate_VersionDocumentIsPublicAndCatalogNamesTheUnversionedRoot(t *testing.T) {
	c := startCloud(t)
	r := rawDo(t, http.MethodGet, c.URL()+"/dns", "", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /dns without a token = %d %s", r.status, r.text)
	}
	versions, _ := r.body["versions"].([]any)
	if len(versions) != 2 {
		t.Fatalf("versions = %v", r.body)
	}
	cur := versions[1].(map[string]any)
	if cur["id"] != "v2.0" || cur["status"] != "CURRENT" || !strings.HasSuffix(cur["links"].([]any)[0].(map[string]any)["href"].(string), "/dns/v2") {
		t.Fatalf("current version = %v", cur)
	}
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	if dc.Endpoint != c.URL()+"/dns/" {
		t.Fatalf("dns endpoint = %q", dc.Endpoint)
	}
	// /v2 itself is no resource on Designate.
	r = rawDo(t, http.MethodGet, c.URL()+"/dns/v2", pc.TokenID, nil, nil)
	if r.status != http.StatusNotFound || r.body["type"] != "not_found" || r.body["message"] != "resource not found" ||
		!strings.HasPrefix(r.body["request_id"].(string), "req-") {
		t.Fatalf("GET /dns/v2 = %d %s", r.status, r.text)
	}
}

func TestDesignate_ZoneCreateIsPendingThenActiveWithSOAAndNSRecordsets(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	before := time.Now().Unix()
	r := rawDo(t, http.MethodPost, dc.ServiceURL("zones"), pc.TokenID, map[string]any{"name": "event.example.com.", "email": "ops@example.com"}, nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("create = %d %s", r.status, r.text)
	}
	z := r.body
	id := z["id"].(string)
	if r.header.Get("Location") != dc.ServiceURL("zones", id) {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	want := map[string]any{"status": "PENDING", "action": "CREATE", "version": float64(1), "ttl": float64(3600), "type": "PRIMARY",
		"pool_id": designateDefaultPoolID, "description": nil, "updated_at": nil, "transferred_at": nil, "email": "ops@example.com"}
	for k, v := range want {
		if z[k] != v {
			t.Errorf("%s = %v, want %v", k, z[k], v)
		}
	}
	if serial := int64(z["serial"].(float64)); serial < before || serial > time.Now().Unix() {
		t.Errorf("serial %d is not the creation time", serial)
	}
	active := waitZone(t, dc, id, "ACTIVE")
	if active.Action != "NONE" || active.Version < 2 || active.UpdatedAt.IsZero() {
		t.Fatalf("active zone = %+v", active)
	}
	pages, err := recordsets.ListByZone(dc, id, nil).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	rss, _ := recordsets.ExtractRecordSets(pages)
	if len(rss) != 2 || rss[0].Type != "SOA" || rss[1].Type != "NS" {
		t.Fatalf("recordsets = %+v", rss)
	}
	soa := strings.Fields(rss[0].Records[0])
	if len(soa) != 7 || soa[0] != designateNameserver || soa[1] != "ops.example.com." || soa[2] != strconv.FormatInt(int64(z["serial"].(float64)), 10) {
		t.Fatalf("SOA = %q", rss[0].Records[0])
	}
	if rss[1].Records[0] != designateNameserver || rss[0].Status != "ACTIVE" || rss[0].TTL != 0 {
		t.Fatalf("NS = %+v, SOA = %+v", rss[1], rss[0])
	}
}

func TestDesignate_RecordsetChangesBumpTheSerialAndPropagate(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	z := createZone(t, dc, "site.example.com.")
	z = waitZone(t, dc, z.ID, "ACTIVE")
	serial0 := zoneSerial(t, dc, z.ID)

	rs, err := recordsets.Create(testCtx(t), dc, z.ID, recordsets.CreateOpts{Name: "www.site.example.com.", Type: "A",
		Records: []string{"203.0.113.10"}, TTL: 300, Description: "site"}).Extract()
	if err != nil {
		t.Fatalf("create recordset: %v (%s)", err, errBody(err))
	}
	if rs.Status != "PENDING" || rs.Action != "CREATE" || rs.ZoneName != "site.example.com." || rs.TTL != 300 || rs.Version != 1 {
		t.Fatalf("created recordset = %+v", rs)
	}
	zz, _ := zones.Get(testCtx(t), dc, z.ID).Extract()
	if zz.Status != "PENDING" || zz.Action != "UPDATE" || zoneSerial(t, dc, z.ID) <= serial0 {
		t.Fatalf("zone after a recordset create = %s/%s serial %d (was %d)", zz.Status, zz.Action, zoneSerial(t, dc, z.ID), serial0)
	}
	waitRecordset(t, dc, z.ID, rs.ID, "ACTIVE")
	waitZone(t, dc, z.ID, "ACTIVE")

	ttl := 60
	up, err := recordsets.Update(testCtx(t), dc, z.ID, rs.ID, recordsets.UpdateOpts{Records: []string{"203.0.113.20", "203.0.113.21"}, TTL: &ttl}).Extract()
	if err != nil {
		t.Fatalf("update: %v (%s)", err, errBody(err))
	}
	if up.Status != "PENDING" || up.Action != "UPDATE" || up.Version != 2 || len(up.Records) != 2 || up.TTL != 60 {
		t.Fatalf("updated = %+v", up)
	}
	got := waitRecordset(t, dc, z.ID, rs.ID, "ACTIVE")
	if got.Action != "NONE" || got.Description != "site" {
		t.Fatalf("after update = %+v", got)
	}

	r := rawDo(t, http.MethodDelete, dc.ServiceURL("zones", z.ID, "recordsets", rs.ID), pc.TokenID, nil, nil)
	if r.status != http.StatusAccepted || r.body["status"] != "PENDING" || r.body["action"] != "DELETE" {
		t.Fatalf("delete = %d %s", r.status, r.text)
	}
	// The recordset leaves at once; the zone stays PENDING until the serial propagates.
	if _, err := recordsets.Get(testCtx(t), dc, z.ID, rs.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	waitZone(t, dc, z.ID, "ACTIVE")

	// A recordset without records changes nothing in DNS: 201, ACTIVE at once.
	r = rawDo(t, http.MethodPost, dc.ServiceURL("zones", z.ID, "recordsets"), pc.TokenID,
		map[string]any{"name": "empty.site.example.com.", "type": "A", "records": []string{}}, nil)
	if r.status != http.StatusCreated || r.body["status"] != "ACTIVE" || r.body["action"] != "NONE" || r.body["ttl"] != nil {
		t.Fatalf("empty recordset = %d %s", r.status, r.text)
	}
}

func zoneSerial(t *testing.T, dc *gophercloud.ServiceClient, id string) int64 {
	t.Helper()
	var body struct {
		Serial int64 `json:"serial"`
	}
	if err := zones.Get(testCtx(t), dc, id).ExtractInto(&body); err != nil {
		t.Fatal(err)
	}
	return body.Serial
}

func TestDesignate_RecordsetErrorsAreDesignates(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	z := createZone(t, dc, "rules.example.com.")
	url := dc.ServiceURL("zones", z.ID, "recordsets")
	post := func(body map[string]any) rawResp { return rawDo(t, http.MethodPost, url, pc.TokenID, body, nil) }
	if r := post(map[string]any{"name": "www.rules.example.com.", "type": "A", "records": []string{"192.0.2.1"}}); r.status != http.StatusAccepted {
		t.Fatalf("first create = %d %s", r.status, r.text)
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		typ    string
		msg    string
	}{
		{"duplicate", map[string]any{"name": "www.rules.example.com.", "type": "A", "records": []string{"192.0.2.2"}}, 409, "duplicate_recordset", "Duplicate RecordSet"},
		{"no trailing dot", map[string]any{"name": "a.rules.example.com", "type": "A", "records": []string{"192.0.2.2"}}, 400, "invalid_object",
			"Provided object is not valid. Got a ValueError error with message Host name a.rules.example.com does not end with a dot"},
		{"outside the zone", map[string]any{"name": "www.other.com.", "type": "A", "records": []string{"192.0.2.2"}}, 400, "invalid_recordset_location",
			"RecordSet is not contained within it's parent zone"},
		{"SOA", map[string]any{"name": "rules.example.com.", "type": "SOA", "records": []string{"a. b. 1 2 3 4 5"}}, 400, "bad_request", "Creating a SOA recordset is not allowed"},
		{"CNAME at the apex", map[string]any{"name": "rules.example.com.", "type": "CNAME", "records": []string{"x.example.org."}}, 400, "invalid_recordset_location",
			"CNAME recordsets may not be created at the zone apex"},
		{"CNAME beside an A", map[string]any{"name": "www.rules.example.com.", "type": "CNAME", "records": []string{"x.example.org."}}, 400, "invalid_recordset_location",
			"CNAME recordsets may not share a name with any other records"},
		{"two CNAME records", map[string]any{"name": "c.rules.example.com.", "type": "CNAME", "records": []string{"x.example.org.", "y.example.org."}}, 400, "bad_request",
			"CNAME recordsets may not have more than 1 record"},
		{"unknown key", map[string]any{"name": "k.rules.example.com.", "type": "A", "bogus": 1}, 400, "invalid_object",
			"Provided object does not match schema. Keys ['bogus'] are not valid for recordset"},
		{"bad ttl", map[string]any{"name": "t.rules.example.com.", "type": "A", "records": []string{"192.0.2.2"}, "ttl": "abc"}, 400, "invalid_object",
			"Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10: 'abc'"},
	}
	for _, tc := range cases {
		r := post(tc.body)
		if r.status != tc.status || r.body["type"] != tc.typ || r.body["message"] != tc.msg || r.body["code"] != float64(tc.status) {
			t.Errorf("%s: %d %s, want %d %s %q", tc.name, r.status, r.text, tc.status, tc.typ, tc.msg)
		}
	}
	// Schema errors carry a list instead of a message.
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"name": "b.rules.example.com.", "type": "A", "records": []string{"not-an-ip"}}, "'not-an-ip' is not a 'A' Record"},
		{map[string]any{"name": "b.rules.example.com.", "type": "BOGUS", "records": []string{"192.0.2.1"}}, "'BOGUS' is not a valid record type"},
		{map[string]any{"name": "b.rules.example.com.", "type": "TXT", "records": []string{"hello world"}}, "'hello world' is not a 'TXT' Record"},
		{map[string]any{"name": "b.rules.example.com.", "type": "A", "records": "192.0.2.1"}, "'192.0.2.1' is not a valid list of records"},
	} {
		r := post(tc.body)
		errs, _ := r.body["errors"].(map[string]any)
		list, _ := errs["errors"].([]any)
		if r.status != 400 || r.body["type"] != "invalid_object" || len(list) != 1 || list[0].(map[string]any)["message"] != tc.msg {
			t.Errorf("%v: %d %s, want errors[0].message %q", tc.body, r.status, r.text, tc.msg)
		}
	}
	// Managed recordsets are the cloud's.
	pages, _ := recordsets.ListByZone(dc, z.ID, recordsets.ListOpts{Type: "NS"}).AllPages(testCtx(t))
	ns, _ := recordsets.ExtractRecordSets(pages)
	if len(ns) != 1 {
		t.Fatalf("NS recordsets = %+v", ns)
	}
	r := rawDo(t, http.MethodDelete, dc.ServiceURL("zones", z.ID, "recordsets", ns[0].ID), pc.TokenID, nil, nil)
	if r.status != 400 || r.body["message"] != "Managed records may not be deleted" {
		t.Errorf("delete NS = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPut, dc.ServiceURL("zones", z.ID, "recordsets", ns[0].ID), pc.TokenID, map[string]any{"ttl": 5}, nil)
	if r.status != 400 || r.body["message"] != "Managed records may not be updated" {
		t.Errorf("update NS = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodGet, dc.ServiceURL("zones", z.ID, "recordsets", "not-a-uuid"), pc.TokenID, nil, nil)
	if r.status != 400 || r.body["type"] != "invalid_uuid" || r.body["message"] != "Invalid UUID recordset_id: not-a-uuid" {
		t.Errorf("bad uuid = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodGet, dc.ServiceURL("zones", z.ID, "recordsets", "00000000-0000-0000-0000-000000000000"), pc.TokenID, nil, nil)
	if r.status != 404 || r.body["type"] != "recordset_not_found" || r.body["message"] != "Could not find RecordSet" {
		t.Errorf("missing recordset = %d %s", r.status, r.text)
	}
}

func TestDesignate_ZoneErrorsAndUpdate(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	z := createZone(t, dc, "zone.example.com.")
	url := dc.ServiceURL("zones")
	for _, tc := range []struct {
		body   map[string]any
		status int
		typ    string
		msg    string
	}{
		{map[string]any{"name": "zone.example.com.", "email": "a@b.com"}, 409, "duplicate_zone", "Duplicate Zone"},
		{map[string]any{"name": "nodot.example.com", "email": "a@b.com"}, 400, "invalid_object",
			"Provided object is not valid. Got a ValueError error with message Domain nodot.example.com does not end with a dot"},
		{map[string]any{"name": "com.", "email": "a@b.com"}, 400, "invalid_zone_name", "More than one label is required"},
		{map[string]any{"name": "x.example.com.", "email": "notanemail"}, 400, "invalid_object",
			"Provided object is not valid. Got a ValueError error with message notanemail is not an email"},
		{map[string]any{"name": "x.example.com.", "email": "a@b.com", "ttl": -1}, 400, "invalid_object",
			"Provided object is not valid. Got a ValueError error with message Value must be >= 0 for field ttl"},
		{map[string]any{"name": "x.example.com.", "email": "a@b.com", "status": "ACTIVE"}, 400, "invalid_object",
			"Provided object does not match schema. Keys ['status'] are not valid for zone"},
	} {
		r := rawDo(t, http.MethodPost, url, pc.TokenID, tc.body, nil)
		if r.status != tc.status || r.body["type"] != tc.typ || r.body["message"] != tc.msg {
			t.Errorf("%v: %d %s, want %d %s %q", tc.body, r.status, r.text, tc.status, tc.typ, tc.msg)
		}
	}
	r := rawDo(t, http.MethodPost, url, pc.TokenID, map[string]any{"name": "x.example.com."}, nil)
	if errs, _ := r.body["errors"].(map[string]any); r.status != 400 || errs == nil || !strings.Contains(r.text, "'email' is a required property") {
		t.Errorf("no email = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPost, url, pc.TokenID, nil, map[string]string{"Content-Type": "application/json"})
	if r.status != 400 || r.body["type"] != "empty_request_body" || r.body["message"] != "Request Body is empty" {
		t.Errorf("empty body = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPost, url, pc.TokenID, map[string]any{"name": "y.example.com.", "email": "a@b.com"}, map[string]string{"Content-Type": "text/plain"})
	if r.status != http.StatusUnsupportedMediaType || r.body["type"] != "unsupported_content_type" {
		t.Errorf("text/plain = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodGet, dc.ServiceURL("zones", "not-a-uuid"), pc.TokenID, nil, nil)
	if r.status != 400 || r.body["message"] != "Invalid UUID zone_id: not-a-uuid" {
		t.Errorf("bad zone id = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPut, dc.ServiceURL("zones", z.ID), pc.TokenID, map[string]any{}, nil)
	if r.status != http.StatusMethodNotAllowed || r.body["type"] != "method_not_allowed" {
		t.Errorf("PUT zone = %d %s", r.status, r.text)
	}

	waitZone(t, dc, z.ID, "ACTIVE")
	serial := zoneSerial(t, dc, z.ID)
	desc := "event night"
	up, err := zones.Update(testCtx(t), dc, z.ID, zones.UpdateOpts{TTL: 300, Description: &desc}).Extract()
	if err != nil {
		t.Fatalf("update: %v (%s)", err, errBody(err))
	}
	if up.Status != "PENDING" || up.Action != "UPDATE" || up.TTL != 300 || up.Description != desc || zoneSerial(t, dc, z.ID) <= serial {
		t.Fatalf("updated zone = %+v", up)
	}
	r = rawDo(t, http.MethodPatch, dc.ServiceURL("zones", z.ID), pc.TokenID, map[string]any{"name": "other.example.com."}, nil)
	if r.status != 400 || r.body["message"] != "Provided object does not match schema. Keys ['name'] are not valid for zone" {
		t.Errorf("rename = %d %s", r.status, r.text)
	}
	// Sending an immutable field back unchanged is accepted.
	r = rawDo(t, http.MethodPatch, dc.ServiceURL("zones", z.ID), pc.TokenID, map[string]any{"name": "zone.example.com.", "ttl": 400}, nil)
	if r.status != http.StatusAccepted || r.body["ttl"] != float64(400) {
		t.Errorf("patch with the same name = %d %s", r.status, r.text)
	}
	waitZone(t, dc, z.ID, "ACTIVE")

	del, err := zones.Delete(testCtx(t), dc, z.ID).Extract()
	if err != nil || del.Status != "PENDING" || del.Action != "DELETE" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	r = rawDo(t, http.MethodPatch, dc.ServiceURL("zones", z.ID), pc.TokenID, map[string]any{"ttl": 100}, nil)
	if r.status != 400 || r.body["message"] != "Can not update a deleting zone" {
		t.Errorf("update while deleting = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPost, dc.ServiceURL("zones", z.ID, "recordsets"), pc.TokenID, map[string]any{"name": "a.zone.example.com.", "type": "A", "records": []string{"192.0.2.1"}}, nil)
	if r.status != 400 || r.body["message"] != "Can not update a deleting zone" {
		t.Errorf("recordset while deleting = %d %s", r.status, r.text)
	}
	eventually(t, 10*time.Second, "zone gone", func() bool {
		_, err := zones.Get(testCtx(t), dc, z.ID).Extract()
		return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
	})
	r = rawDo(t, http.MethodGet, dc.ServiceURL("zones", z.ID, "recordsets"), pc.TokenID, nil, nil)
	if r.status != 404 || r.body["type"] != "zone_not_found" || r.body["message"] != "Could not find Zone" {
		t.Errorf("recordsets of a deleted zone = %d %s", r.status, r.text)
	}
}

func TestDesignate_ListFiltersPagingAndTheCrossZoneView(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	for _, n := range []string{"a.example.com.", "b.example.com.", "c.example.org."} {
		createZone(t, dc, n)
	}
	pages, err := zones.List(dc, zones.ListOpts{Name: "*.example.com."}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	zs, _ := zones.ExtractZones(pages)
	if len(zs) != 2 || zs[0].Name != "a.example.com." || zs[1].Name != "b.example.com." {
		t.Fatalf("wildcard filter = %+v", zs)
	}
	r := rawDo(t, http.MethodGet, dc.ServiceURL("zones")+"?limit=2", pc.TokenID, nil, nil)
	links, _ := r.body["links"].(map[string]any)
	meta, _ := r.body["metadata"].(map[string]any)
	if r.status != 200 || len(r.body["zones"].([]any)) != 2 || meta["total_count"] != float64(3) || !strings.Contains(links["next"].(string), "marker=") {
		t.Fatalf("limit=2 = %d %s", r.status, r.text)
	}
	// gophercloud follows the next links to the end.
	pages, err = zones.List(dc, zones.ListOpts{Limit: 1}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	zs, _ = zones.ExtractZones(pages)
	if len(zs) != 3 {
		t.Fatalf("paged list = %d zones", len(zs))
	}
	for q, want := range map[string]string{
		"?foo=bar": "Invalid filters foo", "?limit=0": "limit should be an integer between 1 and 1000",
		"?sort_key=bogus": "sort key must be one of ['created_at', 'id', 'updated_at', 'name', 'tenant_id', 'serial', 'ttl', 'status']",
		"?marker=00000000-0000-0000-0000-000000000000": "Marker None could not be found",
	} {
		r := rawDo(t, http.MethodGet, dc.ServiceURL("zones")+q, pc.TokenID, nil, nil)
		if r.status != 400 || r.body["message"] != want {
			t.Errorf("%s = %d %s, want %q", q, r.status, r.text, want)
		}
	}
	for _, z := range zs {
		if _, err := recordsets.Create(testCtx(t), dc, z.ID, recordsets.CreateOpts{Name: "www." + z.Name, Type: "A", Records: []string{"192.0.2.7"}}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	pages, err = recordsets.ListAll(dc, recordsets.ListOpts{Type: "A", Data: "192.0.2.7"}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := recordsets.ExtractRecordSets(pages)
	if len(all) != 3 {
		t.Fatalf("recordsets across zones = %d", len(all))
	}
	r = rawDo(t, http.MethodGet, dc.ServiceURL("recordsets", all[0].ID), pc.TokenID, nil, nil)
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != dc.ServiceURL("zones", all[0].ZoneID, "recordsets", all[0].ID) {
		t.Fatalf("/v2/recordsets/{id} = %d %v", r.status, r.header)
	}
}

func TestDesignate_ProjectsQuotasAndPrivilegeHeaders(t *testing.T) {
	c := startCloud(t)
	demo := provider(t, demoAuth(c))
	admin := provider(t, adminAuth(c))
	dc, ac := dnsClient(t, demo), dnsClient(t, admin)
	z := createZone(t, dc, "demo.example.com.")
	demoProject := c.Seed().ProjectID

	q, err := quotas.Get(testCtx(t), dc, demoProject).Extract()
	if err != nil || q.Zones != 10 || q.ZoneRecordsets != 500 || q.ZoneRecords != 500 || q.RecordsetRecords != 20 || q.APIExporterSize != 1000 {
		t.Fatalf("quotas = %+v, %v", q, err)
	}
	// An admin sees only its own project's zones unless it asks for all of them.
	if _, err := zones.Get(testCtx(t), ac, z.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("admin get without all-projects: %v", err)
	}
	pages, err := zones.List(ac, zones.ListOpts{AllProjects: true}).AllPages(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if zs, _ := zones.ExtractZones(pages); len(zs) != 1 || zs[0].ProjectID != demoProject {
		t.Fatalf("admin all-projects list = %+v", zs)
	}
	// Privilege headers from a member get the context middleware's empty 403.
	for _, h := range []map[string]string{{"X-Auth-All-Projects": "true"}, {"X-Auth-Sudo-Project-ID": "someone"}} {
		r := rawDo(t, http.MethodGet, dc.ServiceURL("zones"), demo.TokenID, nil, h)
		if r.status != http.StatusForbidden || r.text != "" {
			t.Errorf("demo with %v = %d %q", h, r.status, r.text)
		}
	}
	for _, tc := range []struct {
		method, project string
		body            any
	}{{http.MethodGet, "someone-else", nil}, {http.MethodPatch, demoProject, map[string]any{"zones": 20}}} {
		r := rawDo(t, tc.method, dc.ServiceURL("quotas", tc.project), demo.TokenID, tc.body, nil)
		if r.status != http.StatusForbidden || r.body["type"] != "forbidden" || r.body["message"] != nil {
			t.Errorf("demo %s quotas of %s = %d %s", tc.method, tc.project, r.status, r.text)
		}
	}
	// The admin lowers demo's quotas (all-projects), demo runs into them.
	one, two := 1, 2
	ac.MoreHeaders = map[string]string{"X-Auth-All-Projects": "true"}
	if _, err := quotas.Update(testCtx(t), ac, demoProject, quotas.UpdateOpts{Zones: &one, RecordsetRecords: &two}).Extract(); err != nil {
		t.Fatalf("admin quota update: %v (%s)", err, errBody(err))
	}
	ac.MoreHeaders = nil
	r := rawDo(t, http.MethodPost, dc.ServiceURL("zones"), demo.TokenID, map[string]any{"name": "second.example.com.", "email": "a@b.com"}, nil)
	if r.status != http.StatusRequestEntityTooLarge || r.body["type"] != "over_quota" || r.body["message"] != "Quota exceeded for zones." {
		t.Errorf("second zone = %d %s", r.status, r.text)
	}
	r = rawDo(t, http.MethodPost, dc.ServiceURL("zones", z.ID, "recordsets"), demo.TokenID,
		map[string]any{"name": "q.demo.example.com.", "type": "A", "records": []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}, nil)
	if r.status != http.StatusRequestEntityTooLarge || r.body["message"] != "Quota exceeded for recordset_records." {
		t.Errorf("three records = %d %s", r.status, r.text)
	}
	// Sudo creates in the named project.
	ac.MoreHeaders = map[string]string{"X-Auth-Sudo-Tenant-ID": demoProject}
	r = rawDo(t, http.MethodDelete, ac.ServiceURL("quotas", demoProject), admin.TokenID, nil, map[string]string{"X-Auth-All-Projects": "true"})
	if r.status != http.StatusNoContent {
		t.Fatalf("quota reset = %d %s", r.status, r.text)
	}
	sz, err := zones.Create(testCtx(t), ac, zones.CreateOpts{Name: "sudo.example.com.", Email: "a@b.com"}).Extract()
	if err != nil || sz.ProjectID != demoProject {
		t.Fatalf("sudo create = %+v, %v (%s)", sz, err, errBody(err))
	}
}

func TestDesignate_ObjectFaultsLeaveChangesPendingOrInError(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	if code := control(t, c, http.MethodPost, "/faults", map[string]any{"object_faults": []any{
		map[string]any{"kind": "zone", "outcome": "stuck", "name": "stuck.example.com."},
		map[string]any{"kind": "recordset", "outcome": "error", "next": 1},
	}}, nil); code != http.StatusOK {
		t.Fatalf("inject = %d", code)
	}
	stuck := createZone(t, dc, "stuck.example.com.")
	ok := createZone(t, dc, "fine.example.com.")
	waitZone(t, dc, ok.ID, "ACTIVE")
	time.Sleep(10 * c.Delay("zone_update"))
	if z, _ := zones.Get(testCtx(t), dc, stuck.ID).Extract(); z.Status != "PENDING" || z.Action != "CREATE" {
		t.Fatalf("stuck zone = %s/%s", z.Status, z.Action)
	}

	rs, err := recordsets.Create(testCtx(t), dc, ok.ID, recordsets.CreateOpts{Name: "www.fine.example.com.", Type: "A", Records: []string{"192.0.2.1"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	failed := waitRecordset(t, dc, ok.ID, rs.ID, "ERROR")
	if failed.Action != "CREATE" {
		t.Fatalf("failed recordset action = %s", failed.Action)
	}
	if z := waitZone(t, dc, ok.ID, "ERROR"); z.Action != "UPDATE" {
		t.Fatalf("zone of the failed recordset = %s/%s", z.Status, z.Action)
	}
	// The fault fired once; sending the recordset again propagates and heals both.
	ttl := 120
	if _, err := recordsets.Update(testCtx(t), dc, ok.ID, rs.ID, recordsets.UpdateOpts{TTL: &ttl}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitRecordset(t, dc, ok.ID, rs.ID, "ACTIVE")
	waitZone(t, dc, ok.ID, "ACTIVE")

	var events struct{ Events []Event }
	control(t, c, http.MethodGet, "/events?kind=dns.", nil, &events)
	kinds := map[string]int{}
	for _, e := range events.Events {
		kinds[e.Kind]++
	}
	for _, k := range []string{"dns.zone.created", "dns.zone.active", "dns.zone.error", "dns.recordset.created", "dns.recordset.error", "dns.recordset.active", "dns.recordset.updated"} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
}

func TestDesignate_ObjectFaultSpecIsValidated(t *testing.T) {
	c := startCloud(t)
	for _, bad := range []map[string]any{
		{"kind": "zone", "outcome": "deleted"},
		{"kind": "volume", "outcome": "error"},
		{"kind": "zone", "outcome": "error", "probability": 2},
	} {
		var out map[string]any
		if code := control(t, c, http.MethodPost, "/faults", map[string]any{"object_faults": []any{bad}}, &out); code != http.StatusBadRequest {
			t.Errorf("%v accepted (%d)", bad, code)
		}
	}
}

func TestDesignate_InjectedServiceErrorHasDesignatesBody(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	dc := dnsClient(t, pc)
	control(t, c, http.MethodPost, "/faults", map[string]any{"rules": []any{map[string]any{"service": "dns", "status": 503, "times": 1}}}, nil)
	r := rawDo(t, http.MethodGet, dc.ServiceURL("zones"), pc.TokenID, nil, nil)
	if r.status != 503 || r.body["code"] != float64(503) || r.body["type"] != "unknown" || !strings.HasPrefix(r.body["request_id"].(string), "req-") {
		t.Fatalf("injected 503 = %d %s", r.status, r.text)
	}
}
