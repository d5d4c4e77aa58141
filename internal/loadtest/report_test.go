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

// verdictBadge returns the class and text of the report's verdict badge.
func verdictBadge(t *testing.T, doc *html.Node) (class, text string) {
	t.Helper()
	badges := findAll(doc, func(n *html.Node) bool { return elem("span")(n) && attr(n, "data-verdict") != "" })
	if len(badges) != 1 {
		t.Fatalf("%d verdict badges", len(badges))
	}
	return attr(badges[0], "class"), badges[0].FirstChild.Data
}

// The baseline is sent above the tier's capacity on purpose and has no thresholds: a third of
// its requests get 503. Its report must not show a green PASSED.
func TestWriteHTML_BaselineWithoutThresholdsIsMeasuredRedNotPassed(t *testing.T) {
	res := sampleResult(5)
	res.Successes, res.Success = 345, 0.69
	res.StatusCodes = map[string]int{"200": 345, "503": 155}
	page, doc := render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 5 * time.Second, Label: "baseline"}, res)
	class, text := verdictBadge(t, doc)
	if text != "MEASURED" || class != "verdict red" {
		t.Errorf("badge %q class %q, want MEASURED in red", text, class)
	}
	if strings.Contains(page, "PASSED") {
		t.Error("a run without thresholds says PASSED")
	}
	for _, want := range []string{"31% of requests failed", "green below 1%", "amber from 1%", "red from 5%", "None set"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}

	res = sampleResult(5)
	res.Successes, res.Success = 500, 1
	if _, doc := render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 5 * time.Second}, res); true {
		if class, text := verdictBadge(t, doc); text != "MEASURED" || class != "verdict green" {
			t.Errorf("error-free measured run: badge %q class %q", text, class)
		}
	}
	res.Success = 0.98
	if _, doc := render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 5 * time.Second}, res); true {
		if class, _ := verdictBadge(t, doc); class != "verdict amber" {
			t.Errorf("2%% errors: class %q, want amber", class)
		}
	}
}

func TestWriteHTML_NamesTheTestAndWhatItWasRunFor(t *testing.T) {
	spec := Spec{URL: "http://vip/", Rate: 100, Duration: 3 * time.Second, Label: "peak",
		Triggers: map[string]string{"pool_size": "12", "image": "img-7"}, Thresholds: Thresholds{MaxP95: time.Second}}
	page, doc := render(t, spec, sampleResult(3))
	// The first <title> is the page's; the others are the charts' tooltips.
	if title := findAll(doc, elem("title"))[0].FirstChild.Data; title != "Load test peak of http://vip/: PASSED" {
		t.Errorf("title %q", title)
	}
	about := findAll(doc, func(n *html.Node) bool { return elem("table")(n) && attr(n, "class") == "about" })
	if len(about) != 1 {
		t.Fatal("no table of what was tested")
	}
	var text strings.Builder
	for _, n := range findAll(about[0], func(n *html.Node) bool { return n.Type == html.TextNode }) {
		text.WriteString(n.Data)
	}
	if got := text.String(); !strings.Contains(got, "Testpeak") || !strings.Contains(got, "image = img-7pool_size = 12") {
		t.Errorf("what was tested: %q", got)
	}
	if !strings.Contains(page, "PASSED") {
		t.Error("met thresholds should pass")
	}
}

func TestWriteHTML_ReadsOnANarrowScreen(t *testing.T) {
	page, doc := render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 4 * time.Second}, sampleResult(4))
	metas := findAll(doc, func(n *html.Node) bool { return elem("meta")(n) && attr(n, "name") == "viewport" })
	if len(metas) != 1 || !strings.Contains(attr(metas[0], "content"), "width=device-width") {
		t.Error("no viewport meta: a phone would render the page at desktop width")
	}
	for _, svg := range findAll(doc, elem("svg")) {
		if attr(svg, "viewBox") == "" || attr(svg, "width") != "" || attr(svg, "height") != "" {
			t.Errorf("svg#%s: viewBox %q width %q height %q; it must scale with the page", attr(svg, "id"), attr(svg, "viewBox"), attr(svg, "width"), attr(svg, "height"))
		}
	}
	if !strings.Contains(page, "svg.chart { display: block; margin: .5em 0; width: 100%;") || !strings.Contains(page, ".scroll { overflow-x: auto; }") {
		t.Error("charts should take the page's width and wide tables scroll on their own")
	}
	for _, table := range findAll(doc, elem("table")) {
		if table.Parent == nil || attr(table.Parent, "class") != "scroll" {
			t.Errorf("table.%s is not in a scrolling container", attr(table, "class"))
		}
	}
}

func TestWriteHTML_ShowsLoadPerMemberAndFlagsTheOverloadedOne(t *testing.T) {
	res := sampleResult(5)
	res.Backends = map[string]BackendCount{"10.0.0.5": {Responses: 300, Successes: 250}, "10.0.0.11": {Responses: 100, Successes: 100},
		"10.0.0.12": {Responses: 75, Successes: 75}}
	res.WithoutBackend = 25
	spec := Spec{URL: "http://vip/", Rate: 100, Duration: 5 * time.Second,
		Backends: BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"10.0.0.5": 1, "10.0.0.11": 1, "10.0.0.12": 1, "10.0.0.13": 1}}}
	page, doc := render(t, spec, res)
	tables := findAll(doc, func(n *html.Node) bool { return elem("table")(n) && attr(n, "class") == "backends" })
	if len(tables) != 1 {
		t.Fatal("no per-member table")
	}
	rows := findAll(tables[0], elem("tr"))
	if len(rows) != 5 { // header and four members, the silent one included
		t.Fatalf("%d rows", len(rows))
	}
	over := findAll(tables[0], func(n *html.Node) bool { return elem("tr")(n) && attr(n, "class") == "overloaded" })
	if len(over) != 1 || !strings.Contains(nodeText(over[0]), "10.0.0.5") || !strings.Contains(nodeText(over[0]), "63.16%") ||
		!strings.Contains(nodeText(over[0]), "25% (weight 1)") || !strings.Contains(nodeText(over[0]), "50 (16.67%)") {
		t.Errorf("overloaded rows: %d, first %q", len(over), nodeText(over[0]))
	}
	silent := findAll(tables[0], func(n *html.Node) bool { return elem("tr")(n) && attr(n, "class") == "silent" })
	if len(silent) != 1 || !strings.Contains(nodeText(silent[0]), "10.0.0.13") {
		t.Error("the member that answered nothing is not marked")
	}
	for _, want := range []string{"Overloaded member: <code>10.0.0.5</code>", "of the 475 responses that named a backend", "25 HTTP responses did not carry the header", "more than 1.5×"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestWriteHTML_SaysWhenTheLoadPerMemberIsNotKnown(t *testing.T) {
	page, _ := render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 2 * time.Second}, sampleResult(2))
	if !strings.Contains(page, "Not known. No backend header is configured (backend_header)") {
		t.Error("a run without backend_header should say the spread is not known and why")
	}
	res := sampleResult(2)
	res.Backends, res.WithoutBackend = map[string]BackendCount{}, 200
	page, _ = render(t, Spec{URL: "http://vip/", Rate: 100, Duration: 2 * time.Second, Backends: BackendCheck{Header: "X-Served-By"}}, res)
	if !strings.Contains(page, "None of the 200 HTTP responses carried the X-Served-By header") {
		t.Error("backends that do not send the header should be named as the reason")
	}
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data)
	}
	return b.String()
}
