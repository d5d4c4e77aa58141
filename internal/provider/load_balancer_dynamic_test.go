package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A dynamic "listener" block over a value terraform validate does not know yet arrives as an
// unknown list: the checks wait for the plan that knows it, instead of failing to decode it.
func TestUnknownBlocks_SeesADynamicBlockNotKnownYet(t *testing.T) {
	listener := tftypes.List{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"protocol": tftypes.String}}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"name": tftypes.String, "listener": listener}}
	unknown := tftypes.NewValue(typ, map[string]tftypes.Value{
		"name":     tftypes.NewValue(tftypes.String, "front"),
		"listener": tftypes.NewValue(listener, tftypes.UnknownValue),
	})
	if !unknownBlocks(unknown, "listener", "pool") {
		t.Error("an unknown listener block is not reported")
	}
	known := tftypes.NewValue(typ, map[string]tftypes.Value{
		"name":     tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"listener": tftypes.NewValue(listener, []tftypes.Value{}),
	})
	if unknownBlocks(known, "listener", "pool") {
		t.Error("a known listener block (with an unknown name beside it) is reported unknown")
	}
}
