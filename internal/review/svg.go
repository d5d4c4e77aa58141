package review

import (
	"strconv"
	"strings"
	"time"
)

// The timeline chart's geometry: a viewBox the browser scales to the screen's width.
const (
	svgW                 = 720.0
	plotL, plotR, plotT  = 40.0, 14.0, 22.0
	plotH                = 170.0
	laneTop, laneH       = plotT + plotH + 30, 14.0
	colourServers        = "#7a8794"
	colourServing        = "#1f6fb2"
	colourPass, colourNo = "#2e8b57", "#c0392b"
	colourScaleBack      = "#f0e6c8"
)

// chart is the timeline with every coordinate computed: the template only places them.
type chart struct {
	W, H       string
	PlotX      string
	PlotY      string
	PlotW      string
	PlotH      string
	PlotBottom string
	PlotRight  string
	Lines      []chartLine
	Bands      []chartBand
	Marks      []chartMark
	XTicks     []chartTick
	YTicks     []chartTick
	Empty      bool
}

type chartLine struct {
	Name, Colour, Dash, Points string
}

type chartBand struct {
	X, Y, W, H, Label, Title string
	LabelX, Anchor           string
}

type chartMark struct {
	X, Y, W, H, TextX, TextY, Colour, Label, Title string
	Anchor                                         string // text-anchor of the label, "" for start
	Inside                                         bool   // the label sits on the bar, in white
}

type chartTick struct {
	Pos, Label string
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func buildChart(tl Timeline) chart {
	plotW := svgW - plotL - plotR
	c := chart{W: f1(svgW), H: f1(laneTop + laneH + 10), PlotX: f1(plotL), PlotY: f1(plotT), PlotW: f1(plotW), PlotH: f1(plotH),
		PlotBottom: f1(plotT + plotH), PlotRight: f1(plotL + plotW)}
	start, end := tl.Start, tl.End
	if !end.After(start) {
		c.Empty = true
		return c
	}
	span := end.Sub(start)
	x := func(t time.Time) float64 {
		if t.Before(start) {
			t = start
		}
		if t.After(end) {
			t = end
		}
		return plotL + plotW*float64(t.Sub(start))/float64(span)
	}
	top := 1
	for _, s := range [][]Point{tl.Servers, tl.Serving} {
		for _, p := range s {
			top = max(top, p.N)
		}
	}
	yStep := niceStep(top, 5)
	top = (top + yStep - 1) / yStep * yStep
	y := func(n int) float64 { return plotT + plotH - plotH*float64(n)/float64(top) }
	for n := 0; n <= top; n += yStep {
		c.YTicks = append(c.YTicks, chartTick{Pos: f1(y(n)), Label: strconv.Itoa(n)})
	}
	step := timeStep(span)
	layout := "15:04"
	if span > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	for t := start.UTC().Truncate(step).Add(step); t.Before(end); t = t.Add(step) {
		c.XTicks = append(c.XTicks, chartTick{Pos: f1(x(t)), Label: t.UTC().Format(layout)})
	}
	for _, sb := range tl.ScaleBacks {
		b := chartBand{X: f1(x(sb.Start)), Y: f1(plotT), W: f1(max(1, x(sb.End)-x(sb.Start))), H: f1(plotH),
			Label: sb.Label, Title: sb.Label + ": " + clock(sb.Start) + " to " + clock(sb.End), LabelX: f1(x(sb.Start))}
		if x(sb.Start)+6.5*float64(len(sb.Label)) > svgW {
			b.LabelX, b.Anchor = f1(x(sb.End)), "end" // near the right edge: the label ends where the band does
		}
		c.Bands = append(c.Bands, b)
	}
	if hasData(tl.Servers) {
		c.Lines = append(c.Lines, chartLine{Name: "servers", Colour: colourServers, Dash: "6 3", Points: stepPoints(tl.Servers, end, x, y)})
	}
	if hasData(tl.Serving) {
		c.Lines = append(c.Lines, chartLine{Name: "in service", Colour: colourServing, Points: stepPoints(tl.Serving, end, x, y)})
	}
	// Load tests in lanes under the plot, so that overlapping ones stay readable.
	var laneEnds []float64
	for _, t := range tl.Tests {
		x0, x1 := x(t.Start), max(x(t.End), x(t.Start)+3)
		lane := 0
		for lane < len(laneEnds) && laneEnds[lane] > x0 {
			lane++
		}
		if lane == len(laneEnds) {
			laneEnds = append(laneEnds, 0)
		}
		laneEnds[lane] = x1 + 6*float64(len(t.Label)) + 8
		colour, verdict := colourPass, "held"
		if t.Failed {
			colour, verdict = colourNo, "did not hold"
		}
		yl := laneTop + float64(lane)*(laneH+4)
		m := chartMark{X: f1(x0), Y: f1(yl), W: f1(x1 - x0), H: f1(laneH), TextX: f1(x1 + 4), TextY: f1(yl + laneH - 3),
			Colour: colour, Label: t.Label, Title: "load test " + t.Label + ", " + clock(t.Start) + " to " + clock(t.End) + ": " + verdict}
		textW := 6.5 * float64(len(t.Label))
		switch {
		case x1+4+textW <= svgW:
		case x1-x0 >= textW+8: // no room on the right: inside the bar
			m.TextX, m.Inside = f1(x0+4), true
		default: // on the left
			m.TextX, m.Anchor = f1(x0-4), "end"
		}
		c.Marks = append(c.Marks, m)
	}
	c.H = f1(laneTop + float64(max(1, len(laneEnds)))*(laneH+4) + 6)
	return c
}

func hasData(ps []Point) bool {
	for _, p := range ps {
		if p.N > 0 {
			return true
		}
	}
	return false
}

// stepPoints draws a count that holds until the next change.
func stepPoints(ps []Point, end time.Time, x func(time.Time) float64, y func(int) float64) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(f1(x(p.At)) + "," + f1(y(ps[i-1].N)) + " ")
		}
		b.WriteString(f1(x(p.At)) + "," + f1(y(p.N)) + " ")
	}
	b.WriteString(f1(x(end)) + "," + f1(y(ps[len(ps)-1].N)))
	return b.String()
}

// niceStep is 1, 2, 5, 10, 20, ... so that max/step stays within ticks.
func niceStep(top, ticks int) int {
	for mag := 1; ; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			if top/(m*mag) <= ticks {
				return m * mag
			}
		}
	}
}

func timeStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if span/s <= 8 {
			return s
		}
	}
	return 7 * 24 * time.Hour
}

// clock writes a time of day in UTC.
func clock(t time.Time) string { return t.UTC().Format("15:04:05") }
