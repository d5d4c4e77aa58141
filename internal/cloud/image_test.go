package cloud

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

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
