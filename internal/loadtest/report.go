package loadtest

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Parse(reportTemplateText))

// WriteHTML writes a self-contained HTML report of a run (no external scripts, styles or fonts, so
// it can be archived with the change ticket): verdict, what the run was for (label and triggers),
// configuration, summary table, thresholds, how the responses spread over the backends, and SVG
// charts of latency and achieved rate per second. It reads on a phone: the charts scale to the
// screen's width. Header values and the body are left out because they often carry
// credentials; their names and size are shown.
func WriteHTML(w io.Writer, spec Spec, res Result) error {
	j := Judge(spec, res)
	data := reportData{
		Spec:       spec,
		Result:     res,
		Judgement:  j,
		Method:     spec.method(),
		Load:       describeLoad(spec),
		Duration:   spec.Duration.String(),
		Timeout:    spec.timeout().String(),
		Workers:    "as many as the rate needs",
		Started:    res.StartedAt.UTC().Format(time.RFC3339),
		Elapsed:    res.Elapsed.Round(time.Millisecond).String(),
		Rate:       strconv.FormatFloat(round(res.Rate, 2), 'f', -1, 64),
		Throughput: strconv.FormatFloat(round(res.Throughput, 2), 'f', -1, 64),
		Success:    pct(res.Success),
		ErrorRatio: pct(j.ErrorRatio),
		Latency: []namedValue{
			{"p50", FormatMS(res.Latencies.P50)}, {"p90", FormatMS(res.Latencies.P90)},
			{"p95", FormatMS(res.Latencies.P95)}, {"p99", FormatMS(res.Latencies.P99)},
			{"max", FormatMS(res.Latencies.Max)}, {"mean", FormatMS(res.Latencies.Mean)},
		},
		Thresholds:   thresholdRows(spec.Thresholds, j.Violations),
		Distribution: distributionView(spec.Backends, res),
		LatencyChart: latencyChart(spec, res),
		RateChart:    rateChart(spec, res),
		AmberFrom:    pct(MeasuredAmberFrom),
		RedFrom:      pct(MeasuredRedFrom),
	}
	if spec.MaxWorkers > 0 {
		data.Workers = strconv.Itoa(spec.MaxWorkers)
	}
	for k := range spec.Headers {
		data.HeaderNames = append(data.HeaderNames, k)
	}
	slices.Sort(data.HeaderNames)
	for _, k := range sortedKeys(spec.Triggers) {
		data.Triggers = append(data.Triggers, namedValue{k, spec.Triggers[k]})
	}
	codes := make([]string, 0, len(res.StatusCodes))
	for c := range res.StatusCodes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		label := c
		if c == "0" {
			label = "0 (no HTTP response)"
		}
		data.StatusCodes = append(data.StatusCodes, namedValue{label, strconv.Itoa(res.StatusCodes[c])})
	}
	for _, p := range res.Series {
		data.Rows = append(data.Rows, seriesRow{Second: p.Second, Requests: p.Requests, Successes: p.Successes,
			P50: FormatMS(p.P50), P95: FormatMS(p.P95), Max: FormatMS(p.Max)})
	}
	if err := reportTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("writing the load test report: %w", err)
	}
	return nil
}

type reportData struct {
	Spec         Spec
	Result       Result
	Judgement    Judgement
	Method       string
	Load         string
	Duration     string
	Timeout      string
	Workers      string
	HeaderNames  []string
	Triggers     []namedValue
	Started      string
	Elapsed      string
	Rate         string
	Throughput   string
	Success      string
	ErrorRatio   string
	Latency      []namedValue
	StatusCodes  []namedValue
	Thresholds   []thresholdRow
	Distribution distributionData
	Rows         []seriesRow
	LatencyChart,
	RateChart chart
	AmberFrom, RedFrom string
}

// distributionData is the per-backend table, formatted.
type distributionData struct {
	Distribution
	Rows                     []distributionRow
	Factor                   string
	Overloaded               []string
	Identified, Unidentified string
	NoResponse               string
}

type distributionRow struct {
	Name, Responses, Share, Expected, Failed, Note string
	Overloaded, Silent                             bool
}

func distributionView(b BackendCheck, res Result) distributionData {
	d := b.Distribution(res)
	v := distributionData{Distribution: d, Factor: num(d.OverloadFactor), Overloaded: d.Overloaded(),
		Identified: strconv.FormatUint(d.Identified, 10), Unidentified: strconv.FormatUint(d.Unidentified, 10),
		NoResponse: strconv.FormatUint(d.NoResponse, 10)}
	for _, s := range d.Backends {
		row := distributionRow{Name: s.Name, Responses: strconv.FormatUint(s.Responses, 10), Share: pct(s.Share),
			Expected: "not in " + AttrBackendWeights, Overloaded: s.Overloaded, Silent: s.Silent,
			Failed: fmt.Sprintf("%d (%s)", s.Responses-min(s.Successes, s.Responses), pct(s.ErrorRatio()))}
		if s.Expected {
			row.Expected = pct(s.ExpectedShare)
			if d.ExpectedFrom == ExpectedFromWeights {
				row.Expected += " (weight " + num(s.Weight) + ")"
			}
		}
		switch {
		case s.Overloaded && s.ExpectedShare == 0:
			row.Note = "OVERLOADED: answers although its weight is 0"
		case s.Overloaded:
			row.Note = "OVERLOADED: " + num(round(s.Share/s.ExpectedShare, 2)) + "× its expected share"
		case s.Silent:
			row.Note = "no responses: down, drained, or not in the pool"
		case !s.Expected:
			row.Note = "answered but has no weight in " + AttrBackendWeights
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

type namedValue struct{ Name, Value string }

type thresholdRow struct {
	Name, Limit, Measured string
	Passed                bool
}

type seriesRow struct {
	Second, Requests, Successes int
	P50, P95, Max               string
}

func describeLoad(s Spec) string {
	if s.IsRamp() {
		return fmt.Sprintf("linear ramp from %d to %d req/s", s.RampFrom, s.RampTo)
	}
	return fmt.Sprintf("constant %d req/s", s.Rate)
}

func thresholdRows(t Thresholds, vs []Violation) []thresholdRow {
	missed := map[string]bool{}
	for _, v := range vs {
		missed[v.Threshold] = true
	}
	var rows []thresholdRow
	if t.MaxP95 > 0 {
		rows = append(rows, thresholdRow{Name: ThresholdMaxP95, Limit: num(ms(t.MaxP95)), Passed: !missed[ThresholdMaxP95]})
	}
	if t.MaxErrorRate != nil {
		rows = append(rows, thresholdRow{Name: ThresholdMaxErrorRate, Limit: num(*t.MaxErrorRate), Passed: !missed[ThresholdMaxErrorRate]})
	}
	if t.MinRate > 0 {
		rows = append(rows, thresholdRow{Name: ThresholdMinRate, Limit: num(t.MinRate), Passed: !missed[ThresholdMinRate]})
	}
	return rows
}

// The charts are computed here rather than in the template so that the template only places
// already-formatted numbers, which html/template then escapes like any other value.

const (
	chartW, chartH                  = 880.0, 300.0
	padL, padR, padT, padB          = 64.0, 16.0, 28.0, 40.0
	plotW, plotH                    = chartW - padL - padR, chartH - padT - padB
	colourP50, colourP95, colourMax = "#2b7bb9", "#e08a00", "#c0392b"
	colourSent, colourOK, colourAim = "#2b7bb9", "#2e8b57", "#777777"
	colourLimit                     = "#8e44ad"
)

type chart struct {
	ID, Title, YLabel string
	W, H              float64
	PlotX, PlotY      float64
	PlotW, PlotH      float64
	PlotRight         float64
	Lines             []line
	XTicks, YTicks    []tick
	Empty             bool
}

type line struct {
	Series string // data-series attribute: what the line plots
	Name   string // legend
	Colour string
	Dash   string
	Points string // SVG polyline points, one per second
	Dots   []dot
}

type dot struct {
	X, Y  string
	Title string
}

type tick struct {
	Pos   string
	Label string
}

type seriesDef struct {
	series, name, colour, dash string
	values                     []float64
	unit                       string
	dots                       bool
}

func latencyChart(spec Spec, res Result) chart {
	n := len(res.Series)
	p50, p95, mx := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range res.Series {
		p50[i], p95[i], mx[i] = ms(p.P50), ms(p.P95), ms(p.Max)
	}
	defs := []seriesDef{
		{"p50", "p50", colourP50, "", p50, "ms", true},
		{"p95", "p95", colourP95, "", p95, "ms", true},
		{"max", "max", colourMax, "", mx, "ms", true},
	}
	if spec.Thresholds.MaxP95 > 0 {
		defs = append(defs, seriesDef{"limit-p95", "max_p95_ms " + num(ms(spec.Thresholds.MaxP95)), colourLimit, "6 4",
			constant(n, ms(spec.Thresholds.MaxP95)), "ms", false})
	}
	return buildChart("latency", "Latency per second (ms)", "ms", n, defs)
}

func rateChart(spec Spec, res Result) chart {
	n := len(res.Series)
	sent, ok, aim := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range res.Series {
		sent[i], ok[i] = float64(p.Requests), float64(p.Successes)
		aim[i] = targetRate(spec, i)
	}
	defs := []seriesDef{
		{"requests", "sent", colourSent, "", sent, "req/s", true},
		{"successes", "successful", colourOK, "", ok, "req/s", true},
		{"target", "target rate", colourAim, "3 3", aim, "req/s", false},
	}
	if spec.Thresholds.MinRate > 0 {
		defs = append(defs, seriesDef{"limit-rate", "min_rate " + num(spec.Thresholds.MinRate), colourLimit, "6 4",
			constant(n, spec.Thresholds.MinRate), "req/s", false})
	}
	return buildChart("rate", "Achieved rate per second (req/s)", "req/s", n, defs)
}

// targetRate is the rate the pacer aims at over second i: for a ramp, its value mid-second.
func targetRate(spec Spec, i int) float64 {
	if !spec.IsRamp() {
		return float64(spec.Rate)
	}
	slope := float64(spec.RampTo-spec.RampFrom) / spec.Duration.Seconds()
	return float64(spec.RampFrom) + slope*(float64(i)+0.5)
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func buildChart(id, title, unit string, n int, defs []seriesDef) chart {
	c := chart{ID: id, Title: title, YLabel: unit, W: chartW, H: chartH, PlotX: padL, PlotY: padT, PlotW: plotW, PlotH: plotH, PlotRight: padL + plotW,
		Empty: n == 0}
	if n == 0 {
		return c
	}
	top := 0.0
	for _, d := range defs {
		for _, v := range d.values {
			top = math.Max(top, v)
		}
	}
	top = niceCeil(top)
	xOf := func(i int) float64 {
		if n == 1 {
			return padL + plotW/2
		}
		return padL + plotW*float64(i)/float64(n-1)
	}
	yOf := func(v float64) float64 { return padT + plotH*(1-v/top) }

	for _, d := range defs {
		l := line{Series: d.series, Name: d.name, Colour: d.colour, Dash: d.dash}
		pts := make([]string, n)
		for i, v := range d.values {
			x, y := f1(xOf(i)), f1(yOf(v))
			pts[i] = x + "," + y
			if d.dots {
				l.Dots = append(l.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("%ds: %s %s %s", i, d.name, num(round(v, 2)), d.unit)})
			}
		}
		l.Points = strings.Join(pts, " ")
		c.Lines = append(c.Lines, l)
	}
	for k := 0; k <= 5; k++ {
		v := top * float64(k) / 5
		c.YTicks = append(c.YTicks, tick{Pos: f1(yOf(v)), Label: num(round(v, 2))})
	}
	step := xStep(n)
	for i := 0; i < n; i += step {
		c.XTicks = append(c.XTicks, tick{Pos: f1(xOf(i)), Label: strconv.Itoa(i) + "s"})
	}
	return c
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so the axis reads in round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// xStep picks a tick spacing in seconds giving at most about ten labels.
func xStep(n int) int {
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120} {
		if n/s <= 10 {
			return s
		}
	}
	return 120
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
