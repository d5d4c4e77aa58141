package dnsrecord_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/dnsrecord"
)

func TestMarker_RoundTripsWhatTheNamePointedAtBefore(t *testing.T) {
	key := dnsrecord.Key("zone-1", "www.example.com.", "A")
	for _, prev := range []dnsrecord.Previous{
		{},
		{Existed: true, Records: []string{"203.0.113.10", "203.0.113.11"}, TTL: 3600},
		{Existed: true, Records: []string{"2001:db8::1"}},
		{Existed: true, Records: []string{"203.0.113.10"}, TTL: 60, Description: "front door | main site"},
	} {
		m := dnsrecord.Marker(key, prev)
		if len(m) > dnsrecord.MaxDescription {
			t.Fatalf("marker %q longer than Designate takes", m)
		}
		got, ok := dnsrecord.ParseMarker(m, key)
		if !ok || !reflect.DeepEqual(got, prev) {
			t.Errorf("%+v → %q → %+v (%v)", prev, m, got, ok)
		}
	}
}

func TestMarker_TooManyRecordsAreMarkedUnrecorded(t *testing.T) {
	key := dnsrecord.Key("z", "www.example.com.", "A")
	var many []string
	for i := 0; i < 20; i++ {
		many = append(many, "198.51.100.1"+strings.Repeat("0", i%2))
	}
	m := dnsrecord.Marker(key, dnsrecord.Previous{Existed: true, Records: many, TTL: 300})
	got, ok := dnsrecord.ParseMarker(m, key)
	if !ok || !got.Unrecorded || !got.Existed || len(m) > dnsrecord.MaxDescription {
		t.Fatalf("marker %q parsed %+v %v: want an unrecorded previous that fits", m, got, ok)
	}
}

func TestParseMarker_IgnoresOtherKeysAndUserDescriptions(t *testing.T) {
	key := dnsrecord.Key("z", "www.example.com.", "A")
	other := dnsrecord.Marker(dnsrecord.Key("z", "api.example.com.", "A"), dnsrecord.Previous{})
	for _, desc := range []string{"", "web front door", other, "eventscale:" + key + " was ttl=abc 1.2.3.4", "eventscale:" + key + " was ttl=60"} {
		if _, ok := dnsrecord.ParseMarker(desc, key); ok {
			t.Errorf("%q read as this record's marker", desc)
		}
	}
	if !dnsrecord.IsMarker(other) || dnsrecord.IsMarker("web front door") {
		t.Error("IsMarker")
	}
}

func TestCheckName_WantsAFullyQualifiedNameInsideTheZone(t *testing.T) {
	for _, c := range []struct{ name, zone, want string }{
		{"www.example.com", "example.com.", "ending with a dot"},
		{"www.example.org.", "example.com.", "not inside the zone"},
		{"www.badexample.com.", "example.com.", "not inside the zone"},
		{"www..example.com.", "example.com.", "empty label"},
	} {
		err := dnsrecord.CheckName(c.name, c.zone)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckName(%q, %q) = %v, want %q", c.name, c.zone, err, c.want)
		}
	}
	for _, name := range []string{"www.example.com.", "example.com.", "WWW.Example.com."} {
		if err := dnsrecord.CheckName(name, "example.com."); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}

func TestCheckRecords_RefusesAddressesOfTheOtherFamily(t *testing.T) {
	if err := dnsrecord.CheckRecords("A", []string{"203.0.113.7", "2001:db8::1"}); err == nil || !strings.Contains(err.Error(), "IPv4") {
		t.Errorf("A with an IPv6 address: %v", err)
	}
	if err := dnsrecord.CheckRecords("AAAA", []string{"::ffff:203.0.113.7"}); err == nil {
		t.Error("AAAA with an IPv4-mapped address accepted")
	}
	if err := dnsrecord.CheckRecords("A", []string{"www.example.com."}); err == nil {
		t.Error("a name accepted as an A record")
	}
	if err := dnsrecord.CheckRecords("AAAA", []string{"2001:db8::1"}); err != nil {
		t.Error(err)
	}
}

func TestSameRecords_ComparesAsSetsOfAddresses(t *testing.T) {
	if !dnsrecord.SameRecords([]string{"2001:DB8::1", "10.0.0.1"}, []string{"10.0.0.1", "2001:db8::1"}) {
		t.Error("order and case must not matter")
	}
	if dnsrecord.SameRecords([]string{"10.0.0.1"}, []string{"10.0.0.2"}) {
		t.Error("different addresses compared equal")
	}
}

var starts = time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)

func TestTiming_TheTwoMoments(t *testing.T) {
	tm := dnsrecord.Timing{StartsAt: starts, PreviousTTL: time.Hour, LowTTL: time.Minute}
	by, ok := tm.LowerBy()
	if !ok || !by.Equal(starts.Add(-time.Hour)) {
		t.Errorf("LowerBy = %s %v, want one TTL before the start", by, ok)
	}
	if got := tm.SwitchBy(); !got.Equal(starts.Add(-time.Minute)) {
		t.Errorf("SwitchBy = %s, want the lowered TTL before the start", got)
	}
	noLowering := dnsrecord.Timing{StartsAt: starts, PreviousTTL: time.Hour, LowTTL: time.Hour}
	if _, ok := noLowering.LowerBy(); ok {
		t.Error("no lowering planned, no lowering moment")
	}
}

func TestCheck_SwitchingWhileOldRecordsStayCachedPastTheStartWarnsWithTheTime(t *testing.T) {
	tm := dnsrecord.Timing{StartsAt: starts, PreviousTTL: time.Hour, LowTTL: time.Hour}
	advice := tm.Check(dnsrecord.Now{At: starts.Add(-20 * time.Minute), CurrentTTL: time.Hour, Switching: true, Name: "www.example.com."})
	if len(advice) != 1 || !strings.Contains(advice[0].Detail, "until 2026-12-01T19:40:00Z, 40m after the event starts") {
		t.Fatalf("advice %+v", advice)
	}
	early := tm.Check(dnsrecord.Now{At: starts.Add(-2 * time.Hour), CurrentTTL: time.Hour, Switching: true})
	if len(early) != 0 {
		t.Fatalf("a switch two TTLs early is in time: %+v", early)
	}
}

func TestCheck_TTLNotLoweredYetSaysByWhen(t *testing.T) {
	tm := dnsrecord.Timing{StartsAt: starts, PreviousTTL: 24 * time.Hour, LowTTL: time.Minute}
	advice := tm.Check(dnsrecord.Now{At: starts.Add(-72 * time.Hour), CurrentTTL: 24 * time.Hour, Name: "www."})
	if len(advice) != 1 || !strings.Contains(advice[0].Summary, "2026-11-30T19:00:00Z") || !strings.Contains(advice[0].Detail, "lower_ttl_to = 60") {
		t.Fatalf("advice %+v", advice)
	}
	// The plan that lowers it says nothing more.
	if a := tm.Check(dnsrecord.Now{At: starts.Add(-72 * time.Hour), CurrentTTL: 24 * time.Hour, Lowering: true}); len(a) != 0 {
		t.Fatalf("lowering in time: %+v", a)
	}
	late := tm.Check(dnsrecord.Now{At: starts.Add(-2 * time.Hour), CurrentTTL: 24 * time.Hour, Lowering: true, Name: "www."})
	if len(late) != 1 || !strings.Contains(late[0].Summary, "Too late") || !strings.Contains(late[0].Detail, "lowered by 2026-11-30T19:00:00Z") {
		t.Fatalf("late lowering: %+v", late)
	}
}

func TestCheck_LoweredTooLateIsSaidEvenBeforeTheSwitch(t *testing.T) {
	tm := dnsrecord.Timing{StartsAt: starts, PreviousTTL: 4 * time.Hour, LowTTL: time.Minute}
	lowered := starts.Add(-time.Hour)
	advice := tm.Check(dnsrecord.Now{At: starts.Add(-30 * time.Minute), CurrentTTL: time.Minute, LoweredAt: lowered, Name: "www."})
	if len(advice) != 1 || !strings.Contains(advice[0].Detail, "until 2026-12-01T22:00:00Z") {
		t.Fatalf("advice %+v", advice)
	}
	inTime := tm.Check(dnsrecord.Now{At: starts.Add(-30 * time.Minute), CurrentTTL: time.Minute, LoweredAt: starts.Add(-5 * time.Hour)})
	if len(inTime) != 0 {
		t.Fatalf("lowered in time: %+v", inTime)
	}
	// Switching after a lowering in time: nothing cached past the start.
	if a := tm.Check(dnsrecord.Now{At: starts.Add(-30 * time.Minute), CurrentTTL: time.Minute, LoweredAt: starts.Add(-5 * time.Hour), Switching: true}); len(a) != 0 {
		t.Fatalf("switch after a timely lowering: %+v", a)
	}
}

func TestCheck_SaysNothingAfterTheStartOrWithoutOne(t *testing.T) {
	tm := dnsrecord.Timing{StartsAt: starts, PreviousTTL: time.Hour, LowTTL: time.Hour}
	if a := tm.Check(dnsrecord.Now{At: starts.Add(time.Minute), CurrentTTL: time.Hour, Switching: true}); len(a) != 0 {
		t.Fatalf("after the start: %+v", a)
	}
	if a := (dnsrecord.Timing{}).Check(dnsrecord.Now{At: starts, CurrentTTL: time.Hour, Switching: true}); len(a) != 0 {
		t.Fatalf("without a start: %+v", a)
	}
}

func TestMarker_ADescriptionWithoutRoomIsMarkedLost(t *testing.T) {
	key := dnsrecord.Key("z", "www.example.com.", "A")
	m := dnsrecord.Marker(key, dnsrecord.Previous{Existed: true, Records: []string{"203.0.113.10"}, TTL: 60, Description: strings.Repeat("x", 150)})
	got, ok := dnsrecord.ParseMarker(m, key)
	if !ok || !got.DescriptionLost || got.Description != "" || got.TTL != 60 || got.Records[0] != "203.0.113.10" || len(m) > dnsrecord.MaxDescription {
		t.Fatalf("marker %q parsed %+v %v", m, got, ok)
	}
}
