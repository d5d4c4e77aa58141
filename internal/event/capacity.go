package event

import (
	"fmt"
	"math"
	"strconv"
)

// Defaults of the capacity plan's optional inputs; the provider's schema descriptions quote them.
const (
	DefaultExpectedMultiplier = 10.0
	DefaultTargetUtilization  = 0.7
	DefaultMinNodes           = 2
	DefaultDBReadShare        = 0.3
	DefaultQueriesPerRequest  = 1.0
)

// CapacityFormulaMarkdown states PlanCapacity's arithmetic, for the data source's documentation.
const CapacityFormulaMarkdown = "Sizes the web pool and the database read replicas for an expected peak.\n\n" +
	"The arithmetic, exactly as computed:\n\n" +
	"```\n" +
	"expected_peak_rps = current_peak_rps × expected_multiplier\n" +
	"web_nodes         = max(min_nodes, ceil(expected_peak_rps / (node_capacity_rps × target_utilization)))\n" +
	"db_read_qps       = expected_peak_rps × db_read_share × queries_per_request\n" +
	"replicas          = ceil(db_read_qps / (replica_capacity_qps × target_utilization))   (0 without replica_capacity_qps)\n" +
	"headroom_percent  = (web_nodes × node_capacity_rps / expected_peak_rps − 1) × 100\n" +
	"```\n\n" +
	"`node_capacity_rps` is what one web node sustains at the target latency, measured by a load test; " +
	"`target_utilization` keeps each node below that rate so that losing a node or a burst above the forecast " +
	"does not push latency over the target. A quotient that is a whole number up to floating-point noise " +
	"(nine decimal places) is not rounded up: 7000 / (1000 × 0.7) plans 10 nodes, not 11. " +
	"`headroom_percent` is how far above the expected peak the planned nodes could go at their full " +
	"sustainable rate, rounded to one decimal."

// CapacityInputs are the capacity plan's inputs, defaults applied.
type CapacityInputs struct {
	NodeCapacityRPS    float64
	CurrentPeakRPS     float64
	ExpectedMultiplier float64
	TargetUtilization  float64
	MinNodes           int64
	DBReadShare        float64
	ReplicaCapacityQPS float64 // 0: no replicas planned
	QueriesPerRequest  float64
}

// CapacityPlan is the plan and the computation with its numbers.
type CapacityPlan struct {
	ExpectedPeakRPS float64
	WebNodes        int64
	DBReadQPS       float64
	Replicas        int64
	HeadroomPercent float64
	Formula         string
}

// ceilQuotient rounds a quotient up, except that floating-point noise on a whole number
// (700.0000000000001 for 1000 × 0.7) must not buy a whole extra node.
// It saturates at MaxPlanned: a quotient beyond what int64 holds is an input mistake, not a plan.
func ceilQuotient(num, den float64) int64 {
	q := math.Round(num/den*1e9) / 1e9
	if q >= MaxPlanned || math.IsNaN(q) {
		return MaxPlanned
	}
	return int64(math.Ceil(q))
}

// MaxPlanned bounds a planned count: far beyond any pool, well within int64.
const MaxPlanned = 1e12

func capNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// capRound cuts float noise from derived rates and percentages (3000.0000000000005 rps).
func capRound(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// PlanCapacity is the whole computation; CapacityFormulaMarkdown and the tests pin it.
func PlanCapacity(in CapacityInputs) CapacityPlan {
	var p CapacityPlan
	p.ExpectedPeakRPS = capRound(in.CurrentPeakRPS*in.ExpectedMultiplier, 6)
	p.WebNodes = max(in.MinNodes, ceilQuotient(p.ExpectedPeakRPS, in.NodeCapacityRPS*in.TargetUtilization))
	p.DBReadQPS = capRound(p.ExpectedPeakRPS*in.DBReadShare*in.QueriesPerRequest, 6)
	replicaPart := "replicas = 0 (no replica_capacity_qps)"
	if in.ReplicaCapacityQPS > 0 && p.DBReadQPS > 0 {
		p.Replicas = ceilQuotient(p.DBReadQPS, in.ReplicaCapacityQPS*in.TargetUtilization)
		replicaPart = fmt.Sprintf("replicas = ceil(%s / (%s × %s)) = %d",
			capNum(p.DBReadQPS), capNum(in.ReplicaCapacityQPS), capNum(in.TargetUtilization), p.Replicas)
	} else if in.ReplicaCapacityQPS > 0 {
		replicaPart = "replicas = 0 (no database reads)"
	}
	if p.ExpectedPeakRPS > 0 {
		p.HeadroomPercent = capRound((float64(p.WebNodes)*in.NodeCapacityRPS/p.ExpectedPeakRPS-1)*100, 1)
	}
	p.Formula = fmt.Sprintf("expected_peak_rps = %s × %s = %s; "+
		"web_nodes = max(%d, ceil(%s / (%s × %s))) = %d; "+
		"db_read_qps = %s × %s × %s = %s; %s; "+
		"headroom_percent = (%d × %s / %s − 1) × 100 = %s",
		capNum(in.CurrentPeakRPS), capNum(in.ExpectedMultiplier), capNum(p.ExpectedPeakRPS),
		in.MinNodes, capNum(p.ExpectedPeakRPS), capNum(in.NodeCapacityRPS), capNum(in.TargetUtilization), p.WebNodes,
		capNum(p.ExpectedPeakRPS), capNum(in.DBReadShare), capNum(in.QueriesPerRequest), capNum(p.DBReadQPS), replicaPart,
		p.WebNodes, capNum(in.NodeCapacityRPS), capNum(p.ExpectedPeakRPS), capNum(p.HeadroomPercent))
	return p
}
