package cloud

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTagRecord_RoundTripsAcrossChunksWithinOctaviasLimit(t *testing.T) {
	data := `{"scale_in":{"health_check_url":"https://www.example.com/` + strings.Repeat("päth/", 120) + `"}}`
	tags := EncodeTagRecord("eventscale-settings:web:", data)
	if len(tags) < 3 {
		t.Fatalf("%d tags for %d bytes, want several chunks", len(tags), len(data))
	}
	for _, tag := range tags {
		if utf8.RuneCountInString(tag) > 255 || !utf8.ValidString(tag) {
			t.Fatalf("tag of %d characters (valid UTF-8: %v): %q", utf8.RuneCountInString(tag), utf8.ValidString(tag), tag)
		}
	}
	mixed := append([]string{"eventscale:managed-by=eventscale", "eventscale-settings:other:1/1={}"}, tags...)
	slices.Reverse(mixed)
	got, ok := DecodeTagRecord("eventscale-settings:web:", mixed)
	if !ok || got != data {
		t.Fatalf("decoded %v %q, want the record back", ok, got)
	}
}

func TestTagRecord_IncompleteRecordIsNotDecoded(t *testing.T) {
	tags := EncodeTagRecord("p:", strings.Repeat("x", 600))
	if _, ok := DecodeTagRecord("p:", tags[1:]); ok {
		t.Fatal("a record missing its first chunk was decoded")
	}
	if _, ok := DecodeTagRecord("p:", nil); ok {
		t.Fatal("no tags decoded as a record")
	}
}

func TestWithTagRecord_ReplacesOnlyTheRecordsOwnTags(t *testing.T) {
	tags := []string{"keep-me", "p:1/2=old", "p:2/2=old", "q:1/1=other"}
	got := WithTagRecord(tags, "p:", "new")
	if want := []string{"keep-me", "q:1/1=other", "p:1/1=new"}; !slices.Equal(got, want) {
		t.Fatalf("tags = %v, want %v", got, want)
	}
	if got := WithTagRecord(tags, "p:", ""); !slices.Equal(got, []string{"keep-me", "q:1/1=other"}) {
		t.Fatalf("removal left %v", got)
	}
}
