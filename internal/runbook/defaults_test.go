package runbook_test

import (
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/runbook"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

// The runbook states the scale-back's defaults; they must be the ones the scaling library
// applies, or the runbook would describe a drain that does not happen.
func TestDefaults_AreTheScalingLibrarys(t *testing.T) {
	c := scalingtest.NewCloud()
	p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-1"), Compute: c.Compute, LB: c.LB, Clock: c.Clock})
	if err != nil {
		t.Fatal(err)
	}
	o := p.Options()
	if o.BatchSize != runbook.DefaultBatchSize || o.DrainTimeout != runbook.DefaultDrainTimeout ||
		string(o.DrainMethod) != runbook.DefaultDrainMethod || string(o.Order) != runbook.DefaultOrder {
		t.Errorf("scaling defaults: batch %d, drain %s by %s, %s; the runbook says %d, %s by %s, %s",
			o.BatchSize, o.DrainTimeout, o.DrainMethod, o.Order,
			runbook.DefaultBatchSize, runbook.DefaultDrainTimeout, runbook.DefaultDrainMethod, runbook.DefaultOrder)
	}
}
