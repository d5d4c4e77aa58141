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
				Config: config(`timeouts = { create = "2m" }`),
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
		{url + `rate = 10` + "\n" + `duration = "30s"` + "\n" + `timeouts = { create = "10s" }`, `timeouts.create is 10s but the test runs for\s+30s`},
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
