package provider

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestCheckFreeze_NoEventNoFreeze(t *testing.T) {
	if err := checkFreeze(types.StringNull(), types.BoolNull(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := checkFreeze(types.StringValue("garbage"), types.BoolNull(), time.Now()); err == nil {
		t.Fatal("a malformed event_id must be reported")
	}
}
