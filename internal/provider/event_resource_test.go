package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"golang.org/x/net/html"
)

func sampleEvent() eventModel {
	return eventModel{
		Name:                   types.StringValue("Launch | day"),
		StartsAt:               types.StringValue("2026-12-01T20:00:00+01:00"),
		EndsAt:                 types.StringValue("2026-12-02T00:00:00+01:00"),
		ExpectedPeakMultiplier: types.Float64Value(12.5),
		Notes:                  types.StringValue("Marketing sends the mail at 19:05 UTC."),
		Contacts: []eventContactModel{
			{Name: types.StringValue("Ana"), Role: types.StringValue("incident commander"), Phone: types.StringValue("+33 1 23"), Email: types.StringNull()},
			{Name: types.StringValue("Bo|b"), Role: types.StringNull(), Phone: types.StringNull(), Email: types.StringValue("bob@example.com")},
		},
		LoadBalancer: &eventLoadBalancerModel{Name: types.StringValue("event-lb"), VIPAddress: types.StringValue("10.0.0.50")},
		Pools:        []eventPoolModel{{Name: types.StringValue("web"), Size: types.Int64Value(12)}},
		Replicas:     []types.String{types.StringValue("db01-replica-1"), types.StringValue("db01-replica-2")},
	}
}

func TestEventRunbook_DescribesWindowContactsConfigurationAndScaleBack(t *testing.T) {
	rb, ok := eventRunbook(sampleEvent())
	if !ok {
		t.Fatal("runbook not rendered for known inputs")
	}
	for _, want := range []string{
		"# Runbook: Launch \\| day",
		"- Starts: Tue 2026-12-01 19:00 UTC", // converted from +01:00
		"- Ends: Tue 2026-12-01 23:00 UTC",
		"- Duration: 4h0m0s",
		"- Expected peak: 12.5× the normal peak",
		"| Name | Role | Phone | Email |",
		"| Ana | incident commander | +33 1 23 | - |",
		"| Bo\\|b | - | - | bob@example.com |",
		"Load balancer: event-lb, VIP `10.0.0.50`",
		"| web | 12 nodes | not given | ? | 1 node (default) | weight 0 (default) | 1m (default) | newest-first (default) |",
		"Database replicas: db01-replica-1, db01-replica-2",
		"## Scale-back",
		"After 2026-12-01T23:00:00Z",
		"1. Drain",
		"3. Remove the members from the pool.",
		"4. Delete the servers.",
		"eventscale watch",
		"## Notes\n\nMarketing sends the mail at 19:05 UTC.",
	} {
		if !strings.Contains(rb, want) {
			t.Errorf("runbook lacks %q:\n%s", want, rb)
		}
	}
}

// Every scale-back setting of a pool entry, and every load test figure, reaches the runbook.
func TestEventRunbook_CarriesThePoolsScaleBackAndTheLoadTests(t *testing.T) {
	m := sampleEvent()
	m.Pools = []eventPoolModel{{Name: types.StringValue("web"), Size: types.Int64Value(12), NormalSize: types.Int64Value(4),
		BatchSize: types.Int64Value(2), DrainTimeout: types.StringValue("90s"), DrainMethod: types.StringValue("disable"),
		Order: types.StringValue("oldest-first"), Resource: types.StringValue("eventscale_web_pool.web"), SizeVariable: types.StringValue("web_pool_size")}}
	m.LoadTests = []eventLoadTestModel{{Label: types.StringValue("peak"), Verdict: types.StringValue("PASSED"), Rate: types.Float64Value(400),
		Requests: types.Int64Value(24000), SuccessRatio: types.Float64Value(0.9995), P95MS: types.Float64Value(61.2)}}
	rb, ok := eventRunbook(m)
	if !ok {
		t.Fatal("not rendered")
	}
	for _, want := range []string{
		"| web | 12 nodes | 4 nodes | 8 | 2 nodes | admin_state_up = false | 1m30s | oldest-first |",
		"terraform apply -var 'web_pool_size=4'",
		"| peak | PASSED | 400 | 24000 | 99.95% | 61.2 |",
	} {
		if !strings.Contains(rb, want) {
			t.Errorf("runbook lacks %q:\n%s", want, rb)
		}
	}
	m.LoadTests[0].P95MS = types.Float64Unknown() // from a load test in the same plan
	if _, ok := eventRunbook(m); ok {
		t.Error("rendered while a load test figure is unknown")
	}
}

func TestEventRunbook_SaysWhatIsNotListed(t *testing.T) {
	m := eventModel{Name: types.StringValue("x"), StartsAt: types.StringValue("2026-12-01T19:00:00Z"),
		EndsAt: types.StringValue("2026-12-01T20:00:00Z"), ExpectedPeakMultiplier: types.Float64Value(10), Notes: types.StringNull()}
	rb, ok := eventRunbook(m)
	if !ok {
		t.Fatal("not rendered")
	}
	for _, want := range []string{"No contacts listed.", "Load balancer: not listed", "Web pools: not listed", "Database replicas: none listed",
		"No load test figures were given"} {
		if !strings.Contains(rb, want) {
			t.Errorf("runbook lacks %q", want)
		}
	}
	if strings.Contains(rb, "## Notes") {
		t.Error("empty notes must not add a Notes section")
	}
}

func TestEventRunbook_UnknownInputDefersTheRunbook(t *testing.T) {
	m := sampleEvent()
	m.LoadBalancer.VIPAddress = types.StringUnknown() // e.g. from a load balancer created in the same apply
	if _, ok := eventRunbook(m); ok {
		t.Fatal("runbook rendered while the VIP is unknown; the plan must show it as known after apply")
	}
}

func TestEventComputeID_IsTheFreezeWindowID(t *testing.T) {
	m := sampleEvent()
	id := m.computeID()
	if id.ValueString() != "Launch | day@2026-12-01T19:00:00Z/2026-12-01T23:00:00Z" {
		t.Fatalf("id = %s", id)
	}
	starts := time.Date(2026, 12, 1, 19, 30, 0, 0, time.UTC)
	if err := checkFreeze(id, types.BoolValue(false), starts); err == nil {
		t.Fatal("the pool's freeze check does not see the event window through the event id")
	}
	m.EndsAt = types.StringUnknown()
	if !m.computeID().IsUnknown() {
		t.Fatal("id must be unknown while the window is")
	}
}

func TestEventValidateConfig_RejectsEndBeforeStart(t *testing.T) {
	r := NewEventResource().(*eventResource)
	s := resourceSchema(t, r)
	for _, tc := range []struct {
		starts, ends string
		wantErr      bool
	}{
		{"2026-12-01T19:00:00Z", "2026-12-01T23:00:00Z", false},
		{"2026-12-01T19:00:00Z", "2026-12-01T19:00:00Z", true},
		{"2026-12-01T20:00:00+01:00", "2026-12-01T19:30:00Z", false}, // 19:00Z to 19:30Z
		{"2026-12-01T19:00:00Z", "2026-12-01T19:30:00+01:00", true},  // ends 18:30Z
	} {
		cfg := eventConfig(t, s, tc.starts, tc.ends)
		var resp resource.ValidateConfigResponse
		r.ValidateConfig(context.Background(), resource.ValidateConfigRequest{Config: cfg}, &resp)
		if resp.Diagnostics.HasError() != tc.wantErr {
			t.Errorf("%s → %s: errors %v, want error %v", tc.starts, tc.ends, resp.Diagnostics, tc.wantErr)
		}
	}
}

func TestRFC3339Validator_NamesTheExpectedFormat(t *testing.T) {
	for _, v := range []string{"2026-12-01 19:00", "tomorrow", "2026-12-01"} {
		if !validatorFails(rfc3339Validator{}, v) {
			t.Errorf("%q accepted", v)
		}
	}
	for _, v := range []string{"2026-12-01T19:00:00Z", "2026-12-01T19:00:00.5+05:30"} {
		if validatorFails(rfc3339Validator{}, v) {
			t.Errorf("%q refused", v)
		}
	}
}

const eventHCL = `
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "2030-01-10T22:00:00Z"
  notes     = %q
  contacts = [
    { name = "Ana", role = "incident commander", phone = "+33 1 23 45 67 89" },
  ]
  load_balancer = { name = "event-lb", vip_address = "10.0.0.50" }
  pools         = [{ name = "web", size = 12 }]
  replicas      = ["db01-replica-1"]
}
`

func TestAccEventResource_RunbookFollowsConfiguration(t *testing.T) {
	const addr = "eventscale_event.launch"
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: offlineProviderHCL + `
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "2030-01-10T17:00:00Z"
}`,
				ExpectError: regexp.MustCompile(`must be after starts_at`),
			},
			{
				Config: offlineProviderHCL + `
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "10 Jan 2030 18:00"
  ends_at   = "2030-01-10T22:00:00Z"
}`,
				ExpectError: regexp.MustCompile(`is not an RFC 3339 timestamp`),
			},
			{
				Config: offlineProviderHCL + fmt.Sprintf(eventHCL, "first notes"),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(addr, "id", "launch@2030-01-10T18:00:00Z/2030-01-10T22:00:00Z"),
					tfresource.TestCheckResourceAttr(addr, "expected_peak_multiplier", "10"),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(`\| Ana \| incident commander \| \+33 1 23 45 67 89 \| - \|`)),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile("VIP `10.0.0.50`")),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(`first notes`)),
				),
			},
			{
				Config: offlineProviderHCL + fmt.Sprintf(eventHCL, "second notes"),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(addr, "id", "launch@2030-01-10T18:00:00Z/2030-01-10T22:00:00Z"),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(`second notes`)),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The id carries name and window only; the rest comes from configuration.
				ImportStateVerifyIgnore: []string{"notes", "contacts", "load_balancer", "pools", "replicas", "load_tests", "runbook"},
			},
			{
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "not-an-event-id",
				ExpectError:   regexp.MustCompile(`is not an eventscale_event id`),
			},
		},
	})
}

// TestAccEventResource_WindowChangeChangesID proves that pools referencing the event see a
// new window: the id, which carries it, changes in the same apply.
func TestAccEventResource_WindowChangeChangesID(t *testing.T) {
	const addr = "eventscale_event.launch"
	cfg := func(ends string) string {
		return offlineProviderHCL + `
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "` + ends + `"
}
output "event_id" { value = eventscale_event.launch.id }`
	}
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: cfg("2030-01-10T22:00:00Z"), Check: tfresource.TestCheckOutput("event_id", "launch@2030-01-10T18:00:00Z/2030-01-10T22:00:00Z")},
			{Config: cfg("2030-01-11T02:00:00Z"), Check: tfresource.ComposeAggregateTestCheckFunc(
				tfresource.TestCheckOutput("event_id", "launch@2030-01-10T18:00:00Z/2030-01-11T02:00:00Z"),
				func(s *terraform.State) error {
					rs := s.RootModule().Resources[addr]
					if !strings.Contains(rs.Primary.Attributes["runbook"], "Duration: 8h0m0s") {
						return fmt.Errorf("runbook not updated with the new window: %s", rs.Primary.Attributes["runbook"])
					}
					return nil
				},
			)},
		},
	})
}

// eventConfig is a configuration with only name and the window set.
func eventConfig(t *testing.T, s rschema.Schema, starts, ends string) tfsdk.Config {
	t.Helper()
	ctx := context.Background()
	plan := tfsdk.Plan{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	for name, v := range map[string]string{"name": "launch", "starts_at": starts, "ends_at": ends} {
		if d := plan.SetAttribute(ctx, path.Root(name), v); d.HasError() {
			t.Fatalf("building config: %v", d)
		}
	}
	return tfsdk.Config{Schema: s, Raw: plan.Raw}
}

func validatorFails(v validator.String, value string) bool {
	var resp validator.StringResponse
	v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(value)}, &resp)
	return resp.Diagnostics.HasError()
}

func TestAccEventResource_WritesTheRunbookAsMarkdownAndHTMLAndAgainWhenTheFileIsGone(t *testing.T) {
	const addr = "eventscale_event.launch"
	dir := t.TempDir()
	md, page := filepath.Join(dir, "runbook", "launch.md"), filepath.Join(dir, "runbook", "launch.html")
	cfg := func(normalSize int) string {
		return offlineProviderHCL + fmt.Sprintf(`
resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2030-01-10T18:00:00Z"
  ends_at   = "2030-01-10T22:00:00Z"
  pools = [{
    name          = "shop-web"
    size          = 12
    normal_size   = %d
    batch_size    = 2
    drain_timeout = "90s"
    resource      = "eventscale_web_pool.web"
    size_variable = "web_pool_size"
  }]
  replicas = ["shop-db-01"]
  load_tests = [
    { label = "baseline", verdict = "MEASURED", rate = 380.5, requests = 22830, success_ratio = 0.6912, p95_ms = 1400 },
    { label = "peak", verdict = "PASSED", rate = 400, requests = 24000, success_ratio = 1, p95_ms = 61.2 },
  ]
  runbook_path      = %q
  runbook_html_path = %q
}`, normalSize, md, page)
	}
	filesMatchState := func(s *terraform.State) error {
		state := s.RootModule().Resources[addr].Primary.Attributes["runbook"]
		got, err := os.ReadFile(md)
		if err != nil {
			return err
		}
		if string(got) != state {
			return fmt.Errorf("%s differs from the runbook in state", md)
		}
		h, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		if _, err := html.Parse(bytes.NewReader(h)); err != nil {
			return err
		}
		for _, want := range []string{"<title>Runbook: launch</title>", "terraform apply -var &#39;web_pool_size=4&#39;",
			"<td>baseline</td><td>MEASURED</td><td>380.5</td><td>22830</td><td>69.12%</td><td>1400</td>", "eventscale watch"} {
			if !strings.Contains(string(h), want) {
				return fmt.Errorf("%s lacks %q", page, want)
			}
		}
		return nil
	}
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: cfg(4),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(
						`\| shop-web \| 12 nodes \| 4 nodes \| 8 \| 2 nodes \| weight 0 \(default\) \| 1m30s \| newest-first \(default\) \|`)),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(
						"terraform plan -var 'web_pool_size=4'\nterraform apply -var 'web_pool_size=4'")),
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(`\| peak \| PASSED \| 400 \| 24000 \| 100% \| 61.2 \|`)),
					filesMatchState,
				),
			},
			{
				// The Markdown file was deleted: the plan updates the event, and the apply writes it again.
				PreConfig: func() {
					if err := os.Remove(md); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(4),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: filesMatchState,
			},
			{
				Config:      cfg(13),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`normal_size \(13\) is larger than size \(12\)`),
			},
			{
				// Going to nothing: the pool is destroyed by its address.
				Config: cfg(0),
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestMatchResourceAttr(addr, "runbook", regexp.MustCompile(
						"terraform plan -destroy -target=eventscale_web_pool.web\nterraform destroy -target=eventscale_web_pool.web")),
					func(s *terraform.State) error {
						got, err := os.ReadFile(md)
						if err != nil || !strings.Contains(string(got), "terraform destroy -target=eventscale_web_pool.web") {
							return fmt.Errorf("the file was not rewritten with the new runbook: %v", err)
						}
						return nil
					},
				),
			},
		},
	})
}
