package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"golang.org/x/net/html"
)

// loadTarget is an HTTP server on loopback that counts the requests it answers, so that a test
// can tell whether Terraform ran the load test (and how often) from the target's side.
type loadTarget struct {
	*httptest.Server
	requests atomic.Int64
}

// newLoadTarget answers each request after delay with status(n) for the n-th request.
func newLoadTarget(t *testing.T, delay time.Duration, status func(n int64) int) *loadTarget {
	t.Helper()
	lt := &loadTarget{}
	lt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := lt.requests.Add(1)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status(n))
	}))
	t.Cleanup(lt.Close)
	return lt
}

func loadTestStatusOK(int64) int { return http.StatusOK }

const loadTestAddr = "eventscale_load_test.t"

// attrInt reads an integer attribute of the load test from state.
func loadTestAttrInt(s *terraform.State, name string) (int64, error) {
	rs, ok := s.RootModule().Resources[loadTestAddr]
	if !ok {
		return 0, fmt.Errorf("%s not in state", loadTestAddr)
	}
	return strconv.ParseInt(rs.Primary.Attributes[name], 10, 64)
}

func loadTestBetween(lo, hi float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		if f < lo || f > hi {
			return fmt.Errorf("%v is outside [%v, %v]", f, lo, hi)
		}
		return nil
	}
}

// serverSawStateRequests checks that the target answered exactly the requests recorded in state
// plus those of earlier runs.
func loadTargetSawStateRequests(lt *loadTarget, earlier *int64) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		n, err := loadTestAttrInt(s, "requests")
		if err != nil {
			return err
		}
		if got := lt.requests.Load(); got != *earlier+n {
			return fmt.Errorf("target answered %d requests, want %d earlier + %d in state", got, *earlier, n)
		}
		return nil
	}
}

func TestAccLoadTest_ThresholdsMetRecordsResultsAndDoesNotRunAtPlanTime(t *testing.T) {
	lt := newLoadTarget(t, 0, loadTestStatusOK)
	var none int64
	config := func(extra string) string {
		return offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url      = %q
  rate     = 50
  duration = "1s"
  headers  = { "X-Rehearsal" = "baseline" }
  thresholds = {
    max_p95_ms     = 1000
    max_error_rate = 0
    min_rate       = 40
  }
  %s
}`, lt.URL+"/health", extra)
	}
	var firstID string
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config(""),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(loadTestAddr, "passed", "true"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "verdict", "PASSED"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.#", "0"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "unidentified_responses", "0"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "method", "GET"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "timeout", "10s"),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "requests", loadTestBetween(45, 55)),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "achieved_rate", loadTestBetween(45, 55)),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "throughput", loadTestBetween(40, 55)),
					tfresource.TestCheckResourceAttr(loadTestAddr, "success_ratio", "1"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "status_codes.%", "1"),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "status_codes.200", loadTestBetween(45, 55)),
					tfresource.TestCheckResourceAttr(loadTestAddr, "errors.#", "0"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "violations.#", "0"),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "latency_p50_ms", loadTestBetween(0.001, 1000)),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "latency_p95_ms", loadTestBetween(0.001, 1000)),
					tfresource.TestCheckResourceAttrSet(loadTestAddr, "latency_p90_ms"),
					tfresource.TestCheckResourceAttrSet(loadTestAddr, "latency_p99_ms"),
					tfresource.TestCheckResourceAttrSet(loadTestAddr, "latency_max_ms"),
					tfresource.TestMatchResourceAttr(loadTestAddr, "started_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)),
					tfresource.TestMatchResourceAttr(loadTestAddr, "id", regexp.MustCompile(`^[0-9a-f]{16}$`)),
					loadTargetSawStateRequests(lt, &none),
					func(s *terraform.State) error {
						firstID = s.RootModule().Resources[loadTestAddr].Primary.ID
						return nil
					},
				),
			},
			{
				// Same configuration: refresh and plan keep the results and send nothing.
				Config: config(""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(loadTestAddr, plancheck.ResourceActionNoop)},
				},
				Check: loadTargetSawStateRequests(lt, &none),
			},
			{
				// timeouts is the one argument that changes in place: the recorded run stays.
				Config: config("timeouts {\n    create = \"2m\"\n  }"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(loadTestAddr, plancheck.ResourceActionUpdate)},
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					loadTargetSawStateRequests(lt, &none),
					tfresource.TestCheckResourceAttr(loadTestAddr, "passed", "true"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "timeouts.create", "2m"),
					func(s *terraform.State) error {
						if id := s.RootModule().Resources[loadTestAddr].Primary.ID; id != firstID {
							return fmt.Errorf("id changed from %s to %s on a timeouts-only change", firstID, id)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccLoadTest_ChangedTriggersAndTaintRunTheTestAgain(t *testing.T) {
	lt := newLoadTarget(t, 0, loadTestStatusOK)
	config := func(size int) string {
		return offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url      = %q
  rate     = 40
  duration = "1s"
  triggers = { pool_size = "%d" }
}`, lt.URL, size)
	}
	var firstID string
	var before int64
	remember := func(s *terraform.State) error {
		firstID = s.RootModule().Resources[loadTestAddr].Primary.ID
		n, err := loadTestAttrInt(s, "requests")
		before = n
		return err
	}
	newRun := func(s *terraform.State) error {
		id := s.RootModule().Resources[loadTestAddr].Primary.ID
		if id == firstID {
			return fmt.Errorf("id %s unchanged: the test was not run again", id)
		}
		firstID = id
		return nil
	}
	advance := func(s *terraform.State) error {
		n, err := loadTestAttrInt(s, "requests")
		before += n
		return err
	}
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: config(2), Check: tfresource.ComposeTestCheckFunc(
				loadTargetSawStateRequests(lt, new(int64)), remember)},
			{
				Config: config(4),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(loadTestAddr, plancheck.ResourceActionReplace)},
				},
				Check: tfresource.ComposeTestCheckFunc(newRun,
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "requests", loadTestBetween(30, 50)),
					loadTargetSawStateRequests(lt, &before), advance),
			},
			{
				// What `terraform apply -replace=eventscale_load_test.t` does: a new run with the same configuration.
				Config: config(4),
				Taint:  []string{loadTestAddr},
				Check: tfresource.ComposeTestCheckFunc(newRun,
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "requests", loadTestBetween(30, 50)),
					loadTargetSawStateRequests(lt, &before)),
			},
		},
	})
}

func TestAccLoadTest_MissedThresholdsFailTheApplyNamingEachAndKeepResults(t *testing.T) {
	// Every other request fails, and every request takes at least 20 ms.
	lt := newLoadTarget(t, 20*time.Millisecond, func(n int64) int {
		if n%2 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	config := offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url      = %q
  rate     = 40
  duration = "1s"
  thresholds = {
    max_p95_ms     = 5
    max_error_rate = 0.1
  }
}`, lt.URL)
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config,
				ExpectError: regexp.MustCompile(`(?s)missed 2 threshold.*p95 latency [0-9.]+ms exceeds max_p95_ms 5.*` +
					`error rate 50%\s+\(\d+ of \d+ requests failed\) exceeds\s+max_error_rate 0.1`),
			},
			{
				// The failed run's results are in state, tainted, for `terraform state show`.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(loadTestAddr, "passed", "false"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "verdict", "FAILED"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "violations.#", "2"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "success_ratio", "0.5"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "errors.0", "503 Service Unavailable"),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "latency_p95_ms", loadTestBetween(20, 10000)),
					func(s *terraform.State) error {
						if !s.RootModule().Resources[loadTestAddr].Primary.Tainted {
							return fmt.Errorf("%s is not tainted after a failed run", loadTestAddr)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccLoadTest_WritesAWellFormedHTMLReport(t *testing.T) {
	lt := newLoadTarget(t, 0, loadTestStatusOK)
	report := filepath.Join(t.TempDir(), "reports", "baseline.html")
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url         = %q
  ramp        = { from = 10, to = 30 }
  duration    = "2s"
  report_path = %q
  thresholds  = { max_p95_ms = 1000 }
}`, lt.URL, report),
			Check: tfresource.ComposeAggregateTestCheckFunc(
				tfresource.TestCheckResourceAttr(loadTestAddr, "passed", "true"),
				tfresource.TestCheckResourceAttrWith(loadTestAddr, "requests", loadTestBetween(32, 48)),
				func(*terraform.State) error { return checkLoadTestReport(report, 2) },
			),
		}},
	})
}

// A baseline is sent above the tier's capacity on purpose and has no thresholds: it measures.
// A third of its requests get 503, and neither the state nor the report may call that a pass.
func TestAccLoadTest_WithoutThresholdsIsMeasuredNotPassed(t *testing.T) {
	lt := newLoadTarget(t, 0, func(n int64) int {
		if n%3 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	report := filepath.Join(t.TempDir(), "baseline.html")
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url         = %q
  rate        = 60
  duration    = "1s"
  label       = "baseline"
  triggers    = { nodes_behind_vip = "3" }
  report_path = %q
}`, lt.URL, report),
			Check: tfresource.ComposeAggregateTestCheckFunc(
				tfresource.TestCheckResourceAttr(loadTestAddr, "verdict", "MEASURED"),
				tfresource.TestCheckNoResourceAttr(loadTestAddr, "passed"),
				tfresource.TestCheckResourceAttrWith(loadTestAddr, "success_ratio", loadTestBetween(0.6, 0.7)),
				func(*terraform.State) error {
					page, err := os.ReadFile(report)
					if err != nil {
						return err
					}
					for _, want := range []string{`<span class="verdict red" data-verdict="MEASURED">MEASURED</span>`,
						"<title>Load test baseline of " + lt.URL + ": MEASURED</title>",
						"<code>nodes_behind_vip</code> = <code>3</code>", "Not known. No backend header is configured"} {
						if !strings.Contains(string(page), want) {
							return fmt.Errorf("report lacks %q", want)
						}
					}
					if strings.Contains(string(page), "PASSED") {
						return fmt.Errorf("the report of a run without thresholds says PASSED")
					}
					return nil
				},
			),
		}},
	})
}

// servedBy answers as a load balancer over three backends would, each naming itself in
// X-Served-By; web01 gets three requests in five, 1.8 times its equal share.
func servedBy(t *testing.T) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n.Add(1) % 5 {
		case 0, 1, 2:
			w.Header().Set("X-Served-By", "web01")
		case 3:
			w.Header().Set("X-Served-By", "web-01")
		default:
			w.Header().Set("X-Served-By", "web-02")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAccLoadTest_BackendHeaderGivesLoadPerMemberAndFlagsTheOverloadedOne(t *testing.T) {
	srv := servedBy(t)
	config := func(extra string) string {
		return offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_load_test" "t" {
  url            = %q
  rate           = 80
  duration       = "1s"
  backend_header = "X-Served-By"
  %s
}`, srv.URL, extra)
	}
	member := func(i int, name string, overloaded bool) tfresource.TestCheckFunc {
		return tfresource.ComposeAggregateTestCheckFunc(
			tfresource.TestCheckResourceAttr(loadTestAddr, fmt.Sprintf("backends.%d.name", i), name),
			tfresource.TestCheckResourceAttr(loadTestAddr, fmt.Sprintf("backends.%d.overloaded", i), strconv.FormatBool(overloaded)),
		)
	}
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				// No weights: equal shares expected, a third each; web01 takes 60%.
				Config: config(""),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(loadTestAddr, "verdict", "MEASURED"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.#", "3"),
					member(0, "web-01", false), member(1, "web-02", false), member(2, "web01", true),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "backends.2.share", loadTestBetween(0.58, 0.62)),
					tfresource.TestCheckResourceAttrWith(loadTestAddr, "backends.2.expected_share", loadTestBetween(0.3333, 0.3334)),
					tfresource.TestCheckNoResourceAttr(loadTestAddr, "backends.2.weight"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "overloaded_backends.#", "1"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "overloaded_backends.0", "web01"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "unidentified_responses", "0"),
				),
			},
			{
				// The weights say web01 is meant to take half: 60% is under 1.6 times that, and
				// web-03, which never answered, is named silent.
				Config: config(`backend_weights = { web01 = 3, "web-01" = 1, "web-02" = 1, "web-03" = 1 }
  backend_overload_factor = 1.6`),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.#", "4"),
					member(0, "web-01", false), member(3, "web01", false),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.2.name", "web-03"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.2.silent", "true"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.2.responses", "0"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.3.weight", "3"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "backends.3.expected_share", "0.5"),
					tfresource.TestCheckResourceAttr(loadTestAddr, "overloaded_backends.#", "0"),
				),
			},
		},
	})
}

// checkReport parses the report as HTML and checks that both charts plot one point per second.
func checkLoadTestReport(p string, seconds int) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // opened read-only: closing cannot lose data
	doc, err := html.Parse(f)
	if err != nil {
		return fmt.Errorf("report %s does not parse: %w", p, err)
	}
	lines := map[string]int{}
	var walk func(*html.Node, string)
	walk = func(n *html.Node, svgID string) {
		if n.Type == html.ElementNode && n.Data == "svg" {
			for _, a := range n.Attr {
				if a.Key == "id" {
					svgID = a.Val
				}
			}
		}
		if n.Type == html.ElementNode && n.Data == "polyline" {
			var series, points string
			for _, a := range n.Attr {
				switch a.Key {
				case "data-series":
					series = a.Val
				case "points":
					points = a.Val
				}
			}
			lines[svgID+"/"+series] = len(strings.Fields(points))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, svgID)
		}
	}
	walk(doc, "")
	for _, l := range []string{"chart-latency/p50", "chart-latency/p95", "chart-latency/max", "chart-rate/requests", "chart-rate/target"} {
		if lines[l] != seconds {
			return fmt.Errorf("report line %s has %d points, want %d (lines: %v)", l, lines[l], seconds, lines)
		}
	}
	return nil
}

func TestAccLoadTest_PlanTimeValidationSendsNothing(t *testing.T) {
	lt := newLoadTarget(t, 0, loadTestStatusOK)
	cfg := func(body string) string {
		return offlineProviderHCL + "\nresource \"eventscale_load_test\" \"t\" {\n" + body + "\n}"
	}
	url := fmt.Sprintf("url = %q\n", lt.URL)
	steps := []struct {
		body string
		want string
	}{
		{url + `rate = 10` + "\n" + `duration = "11m"`, `duration 11m0s must be between 1s and 10m0s`},
		{`url = "ftp://files.example/big.iso"` + "\n" + `rate = 10` + "\n" + `duration = "5s"`, `scheme "ftp" is not\s+supported`},
		{url + `rate = 10` + "\n" + `ramp = { from = 1, to = 100 }` + "\n" + `duration = "5s"`, `Exactly one of these attributes must be\s+configured: \[rate,ramp\]`},
		{url + `duration = "5s"`, `Exactly one of these attributes must be\s+configured: \[rate,ramp\]`},
		{url + `rate = 6000` + "\n" + `duration = "5s"`, `value must be between 1 and 5000, got: 6000`},
		{url + `rate = 10` + "\n" + `duration = "2.5s"`, `whole number of seconds`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `method = "FETCH"`, `method`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `headers = { "Bad Header" = "x" }`, `header name "Bad Header"`},
		{url + `rate = 10` + "\n" + `duration = "30s"` + "\n" + "timeouts {\n  create = \"10s\"\n}", `timeouts.create is 10s but the test runs for\s+30s`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `backend_weights = { web01 = 1 }`, `Attribute "backend_header" must be specified when "backend_weights" is\s+specified`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `backend_header = "X Served"`, `backend_header "X Served" is not a valid HTTP header name`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `backend_header = "X-Served-By"` + "\n" + `backend_weights = { web01 = 0 }`, `backend_weights are all 0`},
		{url + `rate = 10` + "\n" + `duration = "5s"` + "\n" + `backend_header = "X-Served-By"` + "\n" + `backend_overload_factor = 0.5`, `value must be between 1.000000 and\s+10.000000, got: 0.500000`},
	}
	var ts []tfresource.TestStep
	for _, s := range steps {
		ts = append(ts, tfresource.TestStep{Config: cfg(s.body), PlanOnly: true, ExpectError: regexp.MustCompile(s.want)})
	}
	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    ts,
		CheckDestroy: func(*terraform.State) error {
			if n := lt.requests.Load(); n != 0 {
				return fmt.Errorf("the target got %d requests from configurations rejected at plan time", n)
			}
			return nil
		},
	})
}

// TestLoadTestSchema_EveryArgumentForcesANewRun guards the rule that a load test is a run, not an
// object: an argument that could change in place would leave results that no longer match it.
func TestLoadTestSchema_EveryArgumentForcesANewRun(t *testing.T) {
	s := resourceSchema(t, NewLoadTestResource())
	for name, a := range s.Attributes {
		if name == "timeouts" || (a.IsComputed() && !a.IsOptional() && !a.IsRequired()) {
			continue
		}
		replaces := false
		desc := func(d interface{ Description(context.Context) string }) {
			replaces = replaces || strings.Contains(d.Description(context.Background()), "destroy and recreate")
		}
		switch a := a.(type) {
		case rschema.StringAttribute:
			for _, m := range a.PlanModifiers {
				desc(m)
			}
		case rschema.Int64Attribute:
			for _, m := range a.PlanModifiers {
				desc(m)
			}
		case rschema.MapAttribute:
			for _, m := range a.PlanModifiers {
				desc(m)
			}
		case rschema.SingleNestedAttribute:
			for _, m := range a.PlanModifiers {
				desc(m)
			}
		case rschema.Float64Attribute:
			for _, m := range a.PlanModifiers {
				desc(m)
			}
		default:
			t.Errorf("argument %q has a type (%T) this test does not know", name, a)
		}
		if !replaces {
			t.Errorf("argument %q does not force a new run when it changes", name)
		}
	}
}

func TestLoadTestSpecFromModel_TranslatesEveryArgument(t *testing.T) {
	ctx := context.Background()
	m := loadTestModel{
		URL: types.StringValue("http://127.0.0.1:8080/x"), Method: types.StringValue("POST"),
		Headers: types.MapValueMust(types.StringType, map[string]attr.Value{"Host": types.StringValue("shop.example")}),
		Body:    types.StringValue("{}"), Rate: types.Int64Null(),
		Ramp: types.ObjectValueMust(map[string]attr.Type{"from": types.Int64Type, "to": types.Int64Type},
			map[string]attr.Value{"from": types.Int64Value(5), "to": types.Int64Value(50)}),
		Duration: types.StringValue("2m"), Timeout: types.StringValue("3s"), MaxWorkers: types.Int64Value(8),
		Thresholds: types.ObjectValueMust(map[string]attr.Type{"max_p95_ms": types.Int64Type, "max_error_rate": types.Float64Type, "min_rate": types.Float64Type},
			map[string]attr.Value{"max_p95_ms": types.Int64Value(250), "max_error_rate": types.Float64Value(0), "min_rate": types.Float64Null()}),
	}
	var diags diag.Diagnostics
	spec := specFromModel(ctx, &m, &diags)
	if diags.HasError() {
		t.Fatalf("diagnostics: %v", diags)
	}
	if spec.URL != "http://127.0.0.1:8080/x" || spec.Method != http.MethodPost || spec.Headers["Host"] != "shop.example" || string(spec.Body) != "{}" ||
		spec.Rate != 0 || spec.RampFrom != 5 || spec.RampTo != 50 || spec.Duration != 2*time.Minute || spec.Timeout != 3*time.Second ||
		spec.MaxWorkers != 8 {
		t.Errorf("spec = %+v", spec)
	}
	th := spec.Thresholds
	if th.MaxP95 != 250*time.Millisecond || th.MaxErrorRate == nil || *th.MaxErrorRate != 0 || th.MinRate != 0 {
		t.Errorf("thresholds = %+v (max_error_rate 0 must be kept as a limit, not dropped)", th)
	}
}
