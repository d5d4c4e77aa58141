package loadtest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func sampleResult(seconds int) Result {
	r := Result{StartedAt: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), Elapsed: time.Duration(seconds) * time.Second,
		Requests: uint64(seconds * 100), Successes: uint64(seconds * 95), Rate: 100, Throughput: 95, Success: 0.95,
		Latencies:   Latencies{P50: 12 * time.Millisecond, P90: 30 * time.Millisecond, P95: 41 * time.Millisecond, P99: 90 * time.Millisecond, Max: 120 * time.Millisecond, Mean: 15 * time.Millisecond},
		StatusCodes: map[string]int{"200": seconds * 95, "503": seconds * 5},
		FirstErrors: []string{"503 Service Unavailable"}}
	for i := range seconds {
		r.Series = append(r.Series, Point{Second: i, Requests: 100, Successes: 95,
			P50: time.Duration(10+i) * time.Millisecond, P95: time.Duration(40+i) * time.Millisecond, Max: time.Duration(100+i) * time.Millisecond})
	}
	return r
}

func render(t *testing.T, spec Spec, res Result) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, spec, res); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("report does not parse as HTML: %v", err)
	}
	return buf.String(), doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func elem(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == name }
}

// chartLines returns, for the svg with the given id, the number of points of each polyline by its
// data-series attribute.
func chartLines(t *testing.T, doc *html.Node, id string) map[string]int {
	t.Helper()
	svgs := findAll(doc, func(n *html.Node) bool { return elem("svg")(n) && attr(n, "id") == id })
	if len(svgs) != 1 {
		t.Fatalf("found %d svg#%s", len(svgs), id)
	}
	out := map[string]int{}
	for _, pl := range findAll(svgs[0], elem("polyline")) {
		out[attr(pl, "data-series")] = len(strings.Fields(attr(pl, "points")))
	}
	return out
}

// svgParts checks that every inline SVG is well-formed XML on its own, as an SVG file would be.
func svgParts(t *testing.T, page string) int {
	t.Helper()
	n := 0
	for rest := page; ; {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			return n
		}
		j := strings.Index(rest[i:], "</svg>")
		if j < 0 {
			t.Fatal("unterminated <svg>")
		}
		part := rest[i : i+j+len("</svg>")]
		dec := xml.NewDecoder(strings.NewReader(part))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("svg %d is not well-formed XML: %v", n, err)
			}
		}
		n++
		rest = rest[i+j:]
	}
}

func TestWriteHTML_ChartsHaveOnePointPerSecondAndAreWellFormedSVG(t *testing.T) {
	spec := Spec{URL: "http://127.0.0.1:8080/health", Rate: 100, Duration: 7 * time.Second,
		Thresholds: Thresholds{MaxP95: 250 * time.Millisecond, MinRate: 90}}
	page, doc := render(t, spec, sampleResult(7))

	lat := chartLines(t, doc, "chart-latency")
	for _, s := range []string{"p50", "p95", "max", "limit-p95"} {
		if lat[s] != 7 {
			t.Errorf("latency chart line %q has %d points, want 7 (lines: %v)", s, lat[s], lat)
		}
	}
	rate := chartLines(t, doc, "chart-rate")
	for _, s := range []string{"requests", "successes", "target", "limit-rate"} {
		if rate[s] != 7 {
			t.Errorf("rate chart line %q has %d points, want 7 (lines: %v)", s, rate[s], rate)
		}
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return elem("circle")(n) && attr(n, "data-series") == "p95" })); n != 7 {
		t.Errorf("%d p95 markers, want 7", n)
	}
	if n := svgParts(t, page); n != 2 {
		t.Errorf("%d inline svg charts, want 2", n)
	}
	for _, want := range []string{"PASSED", "Requests", "700", "95%", "41ms", "503 Service Unavailable", "max_p95_ms", "min_rate"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if rows := findAll(doc, func(n *html.Node) bool { return elem("table")(n) && attr(n, "class") == "series" }); len(rows) != 1 ||
		len(findAll(rows[0], elem("tr"))) != 8 {
		t.Error("per-second table should have a header row and 7 rows")
	}
}

func TestWriteHTML_IsSelfContained(t *testing.T) {
	page, doc := render(t, Spec{URL: "https://shop.example/", RampFrom: 10, RampTo: 50, Duration: 3 * time.Second}, sampleResult(3))
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			if (a.Key == "src" || a.Key == "href") && a.Val != "" {
				t.Errorf("<%s %s=%q> loads something from outside the file", n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "script" || n.Data == "link" {
			t.Errorf("report contains <%s>", n.Data)
		}
	}
	if strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Error("the stylesheet loads something from outside the file")
	}
	if !strings.Contains(page, "linear ramp from 10 to 50 req/s") {
		t.Error("report does not describe the ramp")
	}
}

func TestWriteHTML_EscapesEverythingAndHidesHeaderValuesAndBody(t *testing.T) {
	res := sampleResult(2)
	res.FirstErrors = []string{`<script>alert("err")</script>`}
	res.StatusCodes = map[string]int{"200": 1}
	spec := Spec{URL: `http://127.0.0.1/?q="><script>alert(1)</script>`, Rate: 5, Duration: 2 * time.Second,
		Headers: map[string]string{"Authorization": "Bearer s3cret-token"}, Body: []byte("password=hunter2"),
		Thresholds: Thresholds{MaxErrorRate: ptr(0.01)}}
	page, doc := render(t, spec, res)
	if n := findAll(doc, elem("script")); len(n) != 0 {
		t.Errorf("report contains %d <script> elements built from the input", len(n))
	}
	for _, secret := range []string{"s3cret-token", "hunter2"} {
		if strings.Contains(page, secret) {
			t.Errorf("report shows %q", secret)
		}
	}
	if !strings.Contains(page, "Authorization") || !strings.Contains(page, "16 bytes") {
		t.Error("report should name the headers and the body size")
	}
	if !strings.Contains(page, "FAILED") || !strings.Contains(page, "exceeds max_error_rate 0.01") {
		t.Error("a missed threshold should make the report FAILED with the violation")
	}
	if strings.Contains(page, "ZgotmplZ") {
		t.Error("html/template rejected a value (ZgotmplZ in the output)")
	}
}

func TestWriteHTML_EmptyRunSaysThereIsNothingToChart(t *testing.T) {
	res := Result{StatusCodes: map[string]int{}, Stopped: true}
	page, doc := render(t, Spec{URL: "http://h/", Rate: 1, Duration: time.Second}, res)
	if n := len(findAll(doc, elem("svg"))); n != 0 {
		t.Errorf("%d charts for a run without requests", n)
	}
	if !strings.Contains(page, "nothing to chart") || !strings.Contains(page, "stopped before the end") || !strings.Contains(page, "FAILED") {
		t.Error("an empty, stopped run should say so and fail")
	}
}

func TestWriteHTML_FromARealRun(t *testing.T) {
	srv := newCountingServer(t, 0, always(http.StatusOK))
	spec := Spec{URL: srv.URL, Rate: 20, Duration: 2 * time.Second}
	res, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	page, doc := render(t, spec, res)
	if lines := chartLines(t, doc, "chart-latency"); lines["p95"] != 2 {
		t.Errorf("latency lines %v, want 2 points each", lines)
	}
	if lines := chartLines(t, doc, "chart-rate"); lines["requests"] != 2 {
		t.Errorf("rate lines %v, want 2 points each", lines)
	}
	svgParts(t, page)
}

func TestNiceCeil_RoundsUpToOneTwoOrFive(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.1: 2, 3: 5, 7: 10, 41: 50, 120: 200, 5000: 5000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
