package event

import (
	"fmt"
	"math"
	"testing"
)

// `go test` runs the seed corpora; `go test -fuzz=FuzzX ./internal/event/` explores further.

func FuzzCapacityPlan_GivesEnoughNodesAndStaysFinite(f *testing.F) {
	f.Add(100.0, 400.0, 10.0, 0.7, int64(2), 0.3, 50.0, 3.0)
	f.Add(1.0, 0.0, 1.0, 1.0, int64(0), 0.0, 0.0, 0.0)
	f.Add(0.001, 1e9, 1000.0, 0.01, int64(500), 1.0, 1e-6, 100.0)
	f.Fuzz(func(t *testing.T, nodeCap, peak, mult, util float64, minNodes int64, share, replicaCap, qpr float64) {
		in := CapacityInputs{NodeCapacityRPS: nodeCap, CurrentPeakRPS: peak, ExpectedMultiplier: mult, TargetUtilization: util,
			MinNodes: minNodes, DBReadShare: share, ReplicaCapacityQPS: replicaCap, QueriesPerRequest: qpr}
		// What the schema's validators let through: finite, positive divisors, bounded magnitudes.
		for _, v := range []float64{nodeCap, peak, mult, util, share, replicaCap, qpr} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e9 {
				return
			}
		}
		if nodeCap <= 0 || util <= 0 || util > 1 || mult < 1 || share > 1 || minNodes < 0 || minNodes > 500 {
			return
		}
		p := PlanCapacity(in)
		if p.WebNodes < minNodes || p.Replicas < 0 || math.IsNaN(p.HeadroomPercent) || math.IsInf(p.HeadroomPercent, 0) {
			t.Fatalf("plan %+v for %+v", p, in)
		}
		if need := p.ExpectedPeakRPS / (nodeCap * util); float64(p.WebNodes) < need-1e-6 && p.WebNodes < MaxPlanned {
			t.Fatalf("web_nodes %d cannot carry %s req/s at %s req/s per node and %s utilisation (%s needed)",
				p.WebNodes, fmt.Sprint(p.ExpectedPeakRPS), fmt.Sprint(nodeCap), fmt.Sprint(util), fmt.Sprint(need))
		}
	})
}
