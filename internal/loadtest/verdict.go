package loadtest

import "fmt"

// Verdict is what a run's report and the Terraform resource say about it.
type Verdict string

const (
	// VerdictPassed: the run completed and met every threshold it had.
	VerdictPassed Verdict = "PASSED"
	// VerdictFailed: a threshold was missed, or the run did not complete.
	VerdictFailed Verdict = "FAILED"
	// VerdictMeasured: the run completed without thresholds. Nothing was judged; the figures
	// are the result (a baseline sent above the tier's capacity on purpose, say).
	VerdictMeasured Verdict = "MEASURED"
)

// Bounds of the colour a MEASURED run gets from its error ratio: green below
// MeasuredAmberFrom, amber from it to below MeasuredRedFrom, red from MeasuredRedFrom on.
const (
	MeasuredAmberFrom = 0.01
	MeasuredRedFrom   = 0.05
)

// Colours of a verdict.
const (
	ColourGreen = "green"
	ColourAmber = "amber"
	ColourRed   = "red"
)

// Judgement is the verdict of a run and what it rests on.
type Judgement struct {
	Verdict    Verdict
	Violations []Violation
	// ErrorRatio is the share of failed requests, 0 to 1; 1 for a run that sent nothing.
	ErrorRatio float64
	// Colour is green for PASSED, red for FAILED, and for MEASURED set by ErrorRatio.
	Colour string
	// Summary says it in one line: "MEASURED: 31.2% of requests failed (no thresholds set)".
	Summary string
}

// IsSet reports whether any threshold is set.
func (t Thresholds) IsSet() bool { return t.MaxP95 > 0 || t.MaxErrorRate != nil || t.MinRate > 0 }

// Judge gives the verdict of res: PASSED or FAILED against the spec's thresholds, MEASURED
// when it has none. A run stopped before its end is FAILED whatever its thresholds.
func Judge(spec Spec, res Result) Judgement {
	j := Judgement{Violations: spec.Thresholds.Evaluate(res), ErrorRatio: 1}
	if res.Requests > 0 {
		j.ErrorRatio = 1 - res.Success
	}
	errors := fmt.Sprintf("%s of requests failed", pct(j.ErrorRatio))
	switch {
	case res.Stopped:
		j.Verdict, j.Colour = VerdictFailed, ColourRed
		j.Summary = "FAILED: the run was stopped before the end of its duration; " + errors
	case len(j.Violations) > 0:
		j.Verdict, j.Colour = VerdictFailed, ColourRed
		j.Summary = fmt.Sprintf("FAILED: %d threshold(s) missed; %s", len(j.Violations), errors)
	case spec.Thresholds.IsSet():
		j.Verdict, j.Colour = VerdictPassed, ColourGreen
		j.Summary = "PASSED: every threshold met; " + errors
	default:
		j.Verdict, j.Colour = VerdictMeasured, MeasuredColour(j.ErrorRatio)
		j.Summary = "MEASURED: " + errors + " (no thresholds set, nothing judged)"
	}
	return j
}

// MeasuredColour is the colour of a MEASURED run with the given error ratio.
func MeasuredColour(errorRatio float64) string {
	switch {
	case errorRatio >= MeasuredRedFrom:
		return ColourRed
	case errorRatio >= MeasuredAmberFrom:
		return ColourAmber
	default:
		return ColourGreen
	}
}
