package event

import "testing"

func TestPlanCapacity_PinsTheFormula(t *testing.T) {
	base := CapacityInputs{NodeCapacityRPS: 1000, CurrentPeakRPS: 700, ExpectedMultiplier: 10, TargetUtilization: 0.7,
		MinNodes: 2, DBReadShare: 0.3, QueriesPerRequest: 1}
	with := func(f func(*CapacityInputs)) CapacityInputs { in := base; f(&in); return in }
	tests := []struct {
		name         string
		in           CapacityInputs
		peak         float64
		webNodes     int64
		dbReadQPS    float64
		replicas     int64
		headroomPerc float64
	}{
		{"exact quotient is not rounded up", base, 7000, 10, 2100, 0, 42.9},
		{"one request above the boundary buys a node", with(func(i *CapacityInputs) { i.CurrentPeakRPS = 700.1 }), 7001, 11, 2100.3, 0, 57.1},
		{"float noise on a whole quotient is not a node (300×0.7)", with(func(i *CapacityInputs) { i.NodeCapacityRPS = 300; i.CurrentPeakRPS = 210 }), 2100, 10, 630, 0, 42.9},
		{"min_nodes wins for a small peak", with(func(i *CapacityInputs) { i.CurrentPeakRPS = 10 }), 100, 2, 30, 0, 1900},
		{"full utilization", with(func(i *CapacityInputs) {
			i.TargetUtilization = 1
			i.NodeCapacityRPS = 500
			i.CurrentPeakRPS = 100
			i.MinNodes = 1
		}), 1000, 2, 300, 0, 0},
		{"replicas at an exact boundary", with(func(i *CapacityInputs) { i.ReplicaCapacityQPS = 1000 }), 7000, 10, 2100, 3, 42.9},
		{"replicas just above the boundary", with(func(i *CapacityInputs) { i.ReplicaCapacityQPS = 1000; i.CurrentPeakRPS = 700.1 }), 7001, 11, 2100.3, 4, 57.1},
		{"queries per request multiply the read rate", with(func(i *CapacityInputs) { i.ReplicaCapacityQPS = 1000; i.QueriesPerRequest = 2 }), 7000, 10, 4200, 6, 42.9},
		{"no database reads plan no replica", with(func(i *CapacityInputs) { i.ReplicaCapacityQPS = 1000; i.DBReadShare = 0 }), 7000, 10, 0, 0, 42.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanCapacity(tt.in)
			if p.ExpectedPeakRPS != tt.peak || p.WebNodes != tt.webNodes || p.DBReadQPS != tt.dbReadQPS ||
				p.Replicas != tt.replicas || p.HeadroomPercent != tt.headroomPerc {
				t.Fatalf("PlanCapacity(%+v) = peak %v, web %d, db %v, replicas %d, headroom %v; want %v, %d, %v, %d, %v",
					tt.in, p.ExpectedPeakRPS, p.WebNodes, p.DBReadQPS, p.Replicas, p.HeadroomPercent,
					tt.peak, tt.webNodes, tt.dbReadQPS, tt.replicas, tt.headroomPerc)
			}
		})
	}
}

func TestPlanCapacity_FormulaShowsTheNumbers(t *testing.T) {
	p := PlanCapacity(CapacityInputs{NodeCapacityRPS: 1000, CurrentPeakRPS: 700, ExpectedMultiplier: 10, TargetUtilization: 0.7,
		MinNodes: 2, DBReadShare: 0.3, QueriesPerRequest: 1, ReplicaCapacityQPS: 1000})
	want := "expected_peak_rps = 700 × 10 = 7000; web_nodes = max(2, ceil(7000 / (1000 × 0.7))) = 10; " +
		"db_read_qps = 7000 × 0.3 × 1 = 2100; replicas = ceil(2100 / (1000 × 0.7)) = 3; " +
		"headroom_percent = (10 × 1000 / 7000 − 1) × 100 = 42.9"
	if p.Formula != want {
		t.Fatalf("formula:\n got %s\nwant %s", p.Formula, want)
	}
}
