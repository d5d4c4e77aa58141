package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func vegetaResult(code uint16, header, value string) *vegeta.Result {
	return &vegeta.Result{Code: code, Timestamp: time.Now(), Headers: http.Header{http.CanonicalHeaderKey(header): {value}}}
}

func counts(kv ...any) map[string]BackendCount {
	out := map[string]BackendCount{}
	for i := 0; i < len(kv); i += 2 {
		n := uint64(kv[i+1].(int))
		out[kv[i].(string)] = BackendCount{Responses: n, Successes: n}
	}
	return out
}

func share(t *testing.T, d Distribution, name string) BackendShare {
	t.Helper()
	for _, b := range d.Backends {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no backend %q in %+v", name, d.Backends)
	return BackendShare{}
}

func TestDistribution_FlagsTheMemberTakingMoreThanItsWeightsShareByTheFactor(t *testing.T) {
	// web01 has weight 1 among four members of weight 1 (25% expected) but takes 40%.
	res := Result{Backends: counts("10.0.0.5", 400, "10.0.0.11", 200, "10.0.0.12", 200, "10.0.0.13", 200)}
	b := BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"10.0.0.5": 1, "10.0.0.11": 1, "10.0.0.12": 1, "10.0.0.13": 1}}
	d := b.Distribution(res)
	if !d.Known || d.Identified != 1000 || d.ExpectedFrom != ExpectedFromWeights || d.OverloadFactor != DefaultOverloadFactor {
		t.Fatalf("distribution %+v", d)
	}
	web01 := share(t, d, "10.0.0.5")
	if web01.Share != 0.4 || web01.ExpectedShare != 0.25 || !web01.Overloaded {
		t.Errorf("web01 %+v: 40%% against 25%% expected is over 1.5×", web01)
	}
	if n := share(t, d, "10.0.0.11"); n.Overloaded || n.Share != 0.2 {
		t.Errorf("node %+v", n)
	}
	if got := d.Overloaded(); len(got) != 1 || got[0] != "10.0.0.5" {
		t.Errorf("Overloaded() = %v", got)
	}
	if s := d.Sentence(); !strings.Contains(s, "10.0.0.5 40% (expected 25%) OVERLOADED") {
		t.Errorf("sentence %q", s)
	}

	// The same spread with a factor of 2 is tolerated.
	b.OverloadFactor = 2
	if d := b.Distribution(res); len(d.Overloaded()) != 0 {
		t.Errorf("factor 2 flags %v", d.Overloaded())
	}
}

func TestDistribution_WeightsGiveExpectedSharesAndNameSilentAndUnlistedMembers(t *testing.T) {
	// web01 weighted 1, the nodes 3 each: web01 should take 1/7. A node that never answered and
	// a backend missing from the weights are both named.
	res := Result{Backends: counts("web01", 100, "web-01", 400, "stray", 10), WithoutBackend: 7, StatusCodes: map[string]int{"0": 3}}
	d := BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"web01": 1, "web-01": 3, "web-02": 3}}.Distribution(res)
	if d.Identified != 510 || d.Unidentified != 7 || d.NoResponse != 3 || len(d.Backends) != 4 {
		t.Fatalf("distribution %+v", d)
	}
	if w := share(t, d, "web01"); !w.Expected || w.Weight != 1 || w.ExpectedShare != 1.0/7 || w.Overloaded {
		t.Errorf("web01 %+v: 20%% against 14%% expected is under 1.5×", w)
	}
	if s := share(t, d, "web-02"); !s.Silent || s.Responses != 0 || s.Overloaded {
		t.Errorf("web-02 %+v should be silent", s)
	}
	if s := share(t, d, "stray"); s.Expected || s.Overloaded {
		t.Errorf("stray %+v has no weight: no expectation, no flag", s)
	}
}

func TestDistribution_WithoutWeightsExpectsAnEqualShareOfTheMembersThatAnswered(t *testing.T) {
	// SOURCE_IP persistence from one load generator: everything on one member of three.
	d := BackendCheck{Header: "X-Served-By"}.Distribution(Result{Backends: counts("a", 900, "b", 50, "c", 50)})
	if d.ExpectedFrom != ExpectedEqual || !share(t, d, "a").Overloaded || share(t, d, "b").Overloaded {
		t.Errorf("distribution %+v", d)
	}
	if a := share(t, d, "a"); a.ExpectedShare != 1.0/3 {
		t.Errorf("expected share %v", a.ExpectedShare)
	}
	// One member alone takes everything and is not over its (whole) share.
	if d := (BackendCheck{Header: "X-Served-By"}).Distribution(Result{Backends: counts("a", 10)}); len(d.Overloaded()) != 0 {
		t.Errorf("a single member flagged: %+v", d)
	}
}

func TestDistribution_SaysWhyItIsNotKnown(t *testing.T) {
	if d := (BackendCheck{}).Distribution(Result{Requests: 10}); d.Known || !strings.Contains(d.Reason, "No backend header is configured (backend_header)") {
		t.Errorf("no header: %+v", d)
	}
	d := BackendCheck{Header: "X-Served-By"}.Distribution(Result{Requests: 10, Backends: map[string]BackendCount{}, WithoutBackend: 10})
	if d.Known || !strings.Contains(d.Reason, "None of the 10 HTTP responses carried the X-Served-By header") {
		t.Errorf("header never sent: %+v", d)
	}
	d = BackendCheck{Header: "X-Served-By"}.Distribution(Result{Requests: 10, Backends: map[string]BackendCount{}, StatusCodes: map[string]int{"0": 10}})
	if d.Known || !strings.Contains(d.Reason, "No HTTP response arrived") {
		t.Errorf("no response: %+v", d)
	}
}

func TestBackendCheck_ValidateNamesTheAttribute(t *testing.T) {
	for _, tc := range []struct {
		b    BackendCheck
		want string
	}{
		{BackendCheck{Header: "X Served"}, `backend_header "X Served" is not a valid HTTP header name`},
		{BackendCheck{Weights: map[string]float64{"a": 1}}, "need backend_header"},
		{BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"a": 300}}, `backend_weights["a"] 300 must be between 0 and 256`},
		{BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"a": 0}}, "are all 0"},
		{BackendCheck{Header: "X-Served-By", OverloadFactor: 0.5}, "backend_overload_factor 0.5 must be between 1 and 10"},
	} {
		if err := tc.b.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.b, err, tc.want)
		}
	}
	if err := (BackendCheck{Header: "X-Served-By", Weights: map[string]float64{"a": 0, "b": 1}, OverloadFactor: 2}).Validate(); err != nil {
		t.Errorf("valid check refused: %v", err)
	}
}

// Two backends behind one URL, as a load balancer would alternate them: the run counts each
// one's responses by the header it sends, and leaves answers without it unattributed.
func TestRun_CountsResponsesPerBackendFromTheHeader(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch i := n.Add(1); i % 4 {
		case 0:
			w.WriteHeader(http.StatusServiceUnavailable) // the load balancer's own answer: no header
		case 1:
			w.Header().Set("X-Served-By", "web01")
			w.WriteHeader(http.StatusServiceUnavailable) // web01 saturated
		default:
			w.Header().Set("X-Served-By", "web-01")
		}
	}))
	t.Cleanup(srv.Close)
	spec := Spec{URL: srv.URL, Rate: 40, Duration: 2 * time.Second, Backends: BackendCheck{Header: "x-served-by"}}
	res, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	total := res.WithoutBackend
	for _, c := range res.Backends {
		total += c.Responses
	}
	if total != res.Requests || res.Requests == 0 {
		t.Fatalf("%d responses counted of %d requests: %+v without %d", total, res.Requests, res.Backends, res.WithoutBackend)
	}
	web01, node := res.Backends["web01"], res.Backends["web-01"]
	if web01.Successes != 0 || web01.Responses == 0 || node.Successes != node.Responses || node.Responses < 2*web01.Responses-2 {
		t.Errorf("per backend %+v, without header %d", res.Backends, res.WithoutBackend)
	}
	if res.WithoutBackend == 0 {
		t.Error("the answers without the header were not counted apart")
	}

	// Without a header configured nothing is counted.
	res, err = Run(context.Background(), Spec{URL: srv.URL, Rate: 10, Duration: time.Second})
	if err != nil || res.Backends != nil || res.WithoutBackend != 0 {
		t.Errorf("no header configured: %+v %d %v", res.Backends, res.WithoutBackend, err)
	}
}

func TestRun_KeepsABoundedNumberOfBackendNames(t *testing.T) {
	a := newAggregator(time.Now(), time.Second, "X-Request-Id")
	for i := range maxBackends + 50 {
		a.add(vegetaResult(200, "X-Request-Id", "req-"+strconv.Itoa(i)))
	}
	res := a.result(time.Second)
	if len(res.Backends) != maxBackends+1 || res.Backends[OtherBackends].Responses != 50 {
		t.Errorf("%d names kept, %d under %q", len(res.Backends), res.Backends[OtherBackends].Responses, OtherBackends)
	}
}
