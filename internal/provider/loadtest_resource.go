package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal/fromloadtest"
	"github.com/eventscale/terraform-provider-eventscale/internal/loadtest"
)

var (
	_ resource.Resource                     = (*loadTestResource)(nil)
	_ resource.ResourceWithConfigValidators = (*loadTestResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*loadTestResource)(nil)
)

// NewLoadTestResource is the eventscale_load_test factory.
func NewLoadTestResource() resource.Resource { return &loadTestResource{} }

// loadTestResource needs no cloud client: it only sends HTTP requests to the URL it is given.
type loadTestResource struct{ data *providerData }

var _ resource.ResourceWithConfigure = (*loadTestResource)(nil)

// Configure takes the provider's journal; a load test calls no cloud API.
func (r *loadTestResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

type loadTestModel struct {
	ID         types.String   `tfsdk:"id"`
	URL        types.String   `tfsdk:"url"`
	Method     types.String   `tfsdk:"method"`
	Headers    types.Map      `tfsdk:"headers"`
	Body       types.String   `tfsdk:"body"`
	Rate       types.Int64    `tfsdk:"rate"`
	Ramp       types.Object   `tfsdk:"ramp"`
	Duration   types.String   `tfsdk:"duration"`
	Timeout    types.String   `tfsdk:"timeout"`
	MaxWorkers types.Int64    `tfsdk:"max_workers"`
	Thresholds types.Object   `tfsdk:"thresholds"`
	Triggers   types.Map      `tfsdk:"triggers"`
	ReportPath types.String   `tfsdk:"report_path"`
	Label      types.String   `tfsdk:"label"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`

	BackendHeader         types.String  `tfsdk:"backend_header"`
	BackendWeights        types.Map     `tfsdk:"backend_weights"`
	BackendOverloadFactor types.Float64 `tfsdk:"backend_overload_factor"`

	StartedAt    types.String  `tfsdk:"started_at"`
	Requests     types.Int64   `tfsdk:"requests"`
	AchievedRate types.Float64 `tfsdk:"achieved_rate"`
	Throughput   types.Float64 `tfsdk:"throughput"`
	SuccessRatio types.Float64 `tfsdk:"success_ratio"`
	LatencyP50   types.Float64 `tfsdk:"latency_p50_ms"`
	LatencyP90   types.Float64 `tfsdk:"latency_p90_ms"`
	LatencyP95   types.Float64 `tfsdk:"latency_p95_ms"`
	LatencyP99   types.Float64 `tfsdk:"latency_p99_ms"`
	LatencyMax   types.Float64 `tfsdk:"latency_max_ms"`
	StatusCodes  types.Map     `tfsdk:"status_codes"`
	Errors       types.List    `tfsdk:"errors"`
	Passed       types.Bool    `tfsdk:"passed"`
	Verdict      types.String  `tfsdk:"verdict"`
	Violations   types.List    `tfsdk:"violations"`

	Backends              types.List  `tfsdk:"backends"`
	OverloadedBackends    types.List  `tfsdk:"overloaded_backends"`
	UnidentifiedResponses types.Int64 `tfsdk:"unidentified_responses"`
}

// backendResultType is one element of `backends`.
var backendResultType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "responses": types.Int64Type, "successes": types.Int64Type, "share": types.Float64Type,
	"expected_share": types.Float64Type, "weight": types.Float64Type, "overloaded": types.BoolType, "silent": types.BoolType,
}}

type rampModel struct {
	From types.Int64 `tfsdk:"from"`
	To   types.Int64 `tfsdk:"to"`
}

type thresholdsModel struct {
	MaxP95Ms     types.Int64   `tfsdk:"max_p95_ms"`
	MaxErrorRate types.Float64 `tfsdk:"max_error_rate"`
	MinRate      types.Float64 `tfsdk:"min_rate"`
}

func (r *loadTestResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_load_test"
}

func (r *loadTestResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replaceString := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceInt := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	replaceMap := []planmodifier.Map{mapplanmodifier.RequiresReplace()}
	replaceObject := []planmodifier.Object{objectplanmodifier.RequiresReplace()}
	// Results are kept when only `timeouts` changes (the one in-place update); any other change
	// replaces the resource, and Terraform then plans them as unknown again.
	keepFloat := []planmodifier.Float64{float64planmodifier.UseStateForUnknown()}
	replaceFloat := []planmodifier.Float64{float64planmodifier.RequiresReplace()}
	resultFloat := func(desc string) schema.Float64Attribute {
		return schema.Float64Attribute{Computed: true, MarkdownDescription: desc, PlanModifiers: keepFloat}
	}
	rateRange := []validator.Int64{int64validator.Between(1, loadtest.MaxRate)}

	resp.Schema = schema.Schema{
		MarkdownDescription: "Runs a bounded HTTP load test against a URL (typically the load balancer VIP in front of a web " +
			"pool) and records the results in state: the baseline → tune → test-again loop operators run before an event, " +
			"as part of the plan that builds the tier.\n\n" +
			"A load test is a **run, not an object**: it runs once, when the resource is created, and never at plan " +
			"time. Every argument forces a new run when it changes; so do changes to `triggers` (for instance the web " +
			"pool's size) and `terraform apply -replace=eventscale_load_test.NAME`. Reading the resource keeps the " +
			"recorded results; destroying it only forgets them (the HTML report, if any, stays on disk).\n\n" +
			"When a threshold is missed, the apply fails with one error line per missed threshold and the measured " +
			"value. The results are nevertheless saved, so `terraform state show` shows them, and Terraform marks the " +
			"resource tainted: the next apply runs the test again. Without thresholds a run is **measured, not judged**: " +
			"`verdict` is `MEASURED`, `passed` is null, the apply never fails (it warns when requests failed), and the " +
			fmt.Sprintf("report's badge is coloured by the share of failed requests: green below %s, amber from %s, red from %s.\n\n",
				loadtest.FormatPercent(loadtest.MeasuredAmberFrom), loadtest.FormatPercent(loadtest.MeasuredAmberFrom), loadtest.FormatPercent(loadtest.MeasuredRedFrom)) +
			"**Load per member.** Octavia keeps statistics per load balancer and per listener, not per member. To see " +
			"how the load spread over the pool (is `web01`, the original server, taking more than its share?), have " +
			"each web server name itself in a response header (nginx: `add_header X-Served-By $server_addr always;`) " +
			"and set `backend_header`. The run counts the responses per value; `backends`, the report and the journal " +
			"show each member's share, its expected share (from `backend_weights`, or equal shares without them) and " +
			"flag a member taking more than `backend_overload_factor` times its expected share. The load test makes " +
			"no cloud call: the weights are given, not read from Octavia.\n\n" +
			fmt.Sprintf("Limits: at most %d req/s, %s per run, %s per request. Requests are generated by the "+
				"[vegeta](https://github.com/tsenart/vegeta) library, from the machine running Terraform: make sure its "+
				"network and CPU can produce the rate, or the test measures the client rather than the tier.",
				loadtest.MaxRate, loadtest.MaxDuration, loadtest.MaxTimeout),
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Random identifier of the run.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"url": schema.StringAttribute{Required: true, PlanModifiers: replaceString,
				MarkdownDescription: "The `http://` or `https://` URL to send requests to.",
				Validators:          []validator.String{checkString(loadtest.ValidateURL)}},
			"method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("GET"),
				PlanModifiers:       replaceString,
				MarkdownDescription: "HTTP method: one of `" + strings.Join(loadtest.Methods(), "`, `") + "` (default `GET`).",
				Validators:          []validator.String{stringvalidator.OneOf(loadtest.Methods()...)}},
			"headers": schema.MapAttribute{Optional: true, ElementType: types.StringType, Sensitive: true, PlanModifiers: replaceMap,
				MarkdownDescription: "Request headers (sensitive: they often carry tokens). `Host` sets the virtual host, " +
					"for testing a VIP by address before DNS points at it."},
			"body": schema.StringAttribute{Optional: true, Sensitive: true, PlanModifiers: replaceString,
				MarkdownDescription: "Request body, sent with every request (sensitive)."},
			"rate": schema.Int64Attribute{Optional: true, PlanModifiers: replaceInt, Validators: rateRange,
				MarkdownDescription: fmt.Sprintf("Constant request rate, in requests per second (1 to %d). Exactly one of "+
					"`rate` and `ramp` must be set.", loadtest.MaxRate)},
			"ramp": schema.SingleNestedAttribute{Optional: true, PlanModifiers: replaceObject,
				MarkdownDescription: "A linear ramp of the request rate over `duration`, instead of `rate`: finds the rate at " +
					"which latency starts to climb.",
				Attributes: map[string]schema.Attribute{
					"from": schema.Int64Attribute{Required: true, Validators: rateRange,
						MarkdownDescription: fmt.Sprintf("Requests per second at the start, 1 to %d.", loadtest.MaxRate)},
					"to": schema.Int64Attribute{Required: true, Validators: rateRange,
						MarkdownDescription: fmt.Sprintf("Requests per second at the end, 1 to %d.", loadtest.MaxRate)},
				}},
			"duration": schema.StringAttribute{Required: true, PlanModifiers: replaceString,
				MarkdownDescription: fmt.Sprintf("Length of the run as a Go duration (`30s`, `2m`): whole seconds, 1s to %s.",
					loadtest.MaxDuration),
				Validators: []validator.String{checkDuration(loadtest.ValidateDuration)}},
			"timeout": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replaceString,
				Default: stringdefault.StaticString(loadtest.DefaultTimeout.String()),
				MarkdownDescription: fmt.Sprintf("Per-request timeout, including reading the response (default `%s`, at most "+
					"`%s`). A request that times out counts as failed, with status code `0`.", loadtest.DefaultTimeout,
					loadtest.MaxTimeout),
				Validators: []validator.String{checkDuration(loadtest.ValidateTimeout)}},
			"max_workers": schema.Int64Attribute{Optional: true, PlanModifiers: replaceInt,
				Validators: []validator.Int64{int64validator.Between(1, loadtest.MaxWorkersCap)},
				MarkdownDescription: fmt.Sprintf("Cap on concurrent requests in flight, 1 to %d. By default as many as the rate "+
					"needs; with a cap, a slow tier shows up as a lower achieved rate instead of ever more open connections.",
					loadtest.MaxWorkersCap)},
			"thresholds": schema.SingleNestedAttribute{Optional: true, PlanModifiers: replaceObject,
				MarkdownDescription: "Pass criteria. A missed threshold fails the apply (see above). Unset ones are not checked.",
				Attributes: map[string]schema.Attribute{
					"max_p95_ms": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.AtLeast(1)},
						MarkdownDescription: "Highest acceptable 95th percentile latency, in milliseconds (at least 1)."},
					"max_error_rate": schema.Float64Attribute{Optional: true, Validators: []validator.Float64{float64validator.Between(0, 1)},
						MarkdownDescription: "Highest acceptable share of failed requests, 0 to 1 (`0.01` is 1%). A request " +
							"fails on a status outside 2xx/3xx, a timeout or a connection error."},
					"min_rate": schema.Float64Attribute{Optional: true,
						Validators: []validator.Float64{float64validator.Between(0, loadtest.MaxRate)},
						MarkdownDescription: fmt.Sprintf("Lowest acceptable throughput: successful responses per second over the "+
							"run, 0 to %d. Set it a little below `rate`: the last responses' wait counts in the run's length.", loadtest.MaxRate)},
				}},
			"triggers": schema.MapAttribute{Optional: true, ElementType: types.StringType, PlanModifiers: replaceMap,
				MarkdownDescription: "Arbitrary values that re-run the test when they change, e.g. " +
					"`{ pool_size = eventscale_web_pool.web.size }`. The report lists them: they say what the run measured."},
			"label": schema.StringAttribute{Optional: true, PlanModifiers: replaceString,
				MarkdownDescription: "What the test is in the event's story: `baseline`, `tuned`, `peak`, or `steady` for background " +
					"traffic during a scale-back; 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit. The report, " +
					"the journal and the review after the event name the test by it (default: the host of `url`); `steady` is left out " +
					"of the capacity findings.",
				Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`), "must be 1-63 letters, digits, '.', '_' or '-'")}},
			"report_path": schema.StringAttribute{Optional: true, PlanModifiers: replaceString,
				MarkdownDescription: "Where to write a self-contained HTML report (verdict, label and triggers, charts of latency " +
					"and rate per second, summary, thresholds, load per member). Written whether the test passes or not; missing " +
					"directories are created. Header values and the body are not included. It reads on a phone."},
			"backend_header": schema.StringAttribute{Optional: true, PlanModifiers: replaceString,
				MarkdownDescription: "Response header in which each backend names itself, e.g. `X-Served-By`: responses are " +
					"counted per value, giving the load per member (see above). Responses without it (the load balancer's own " +
					"503 when no member is up, or backends that do not send it) are counted in `unidentified_responses`.",
				Validators: []validator.String{checkString(func(h string) error {
					return loadtest.BackendCheck{Header: h}.Validate()
				})}},
			"backend_weights": schema.MapAttribute{Optional: true, ElementType: types.Float64Type, PlanModifiers: replaceMap,
				MarkdownDescription: "Each backend's load balancer weight, 0 to 256, keyed by the value it sends in `backend_header` " +
					"(for devcloud's web nodes and `$server_addr`, the member address): `{ (var.web01_address) = 1, ... }`. " +
					"A member's expected share is its weight over the sum. Without it every member that answered is expected " +
					"to take an equal share (Octavia's default weight is 1). Needs `backend_header`. Like every argument, a change " +
					"re-runs the test; weights computed from a web pool's nodes are unknown while the pool changes, which re-runs " +
					"it too (`ignore_changes` does not hold an unknown value).",
				Validators: []validator.Map{mapvalidator.ValueFloat64sAre(float64validator.Between(0, 256)),
					mapvalidator.AlsoRequires(path.MatchRoot("backend_header"))}},
			"backend_overload_factor": schema.Float64Attribute{Optional: true, PlanModifiers: replaceFloat,
				MarkdownDescription: fmt.Sprintf("A member taking more than this many times its expected share is flagged as "+
					"overloaded, in `overloaded_backends`, the report and a warning; 1 to %g (default `%g`). Needs `backend_header`.",
					loadtest.MaxOverloadFactor, loadtest.DefaultOverloadFactor),
				Validators: []validator.Float64{float64validator.Between(1, loadtest.MaxOverloadFactor),
					float64validator.AlsoRequires(path.MatchRoot("backend_header"))}},

			"started_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the run started (RFC 3339, UTC).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"requests": schema.Int64Attribute{Computed: true, MarkdownDescription: "Requests sent.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"achieved_rate": resultFloat("Requests attempted per second, as achieved (`rate` is what was asked for)."),
			"throughput":    resultFloat("Successful responses per second."),
			"success_ratio": resultFloat("Share of requests that got a 2xx or 3xx response, 0 to 1."),
			"latency_p50_ms": resultFloat("Median latency in milliseconds, over all requests (failed ones " +
				"included: a timeout is a latency too)."),
			"latency_p90_ms": resultFloat("90th percentile latency in milliseconds."),
			"latency_p95_ms": resultFloat("95th percentile latency in milliseconds."),
			"latency_p99_ms": resultFloat("99th percentile latency in milliseconds."),
			"latency_max_ms": resultFloat("Highest latency in milliseconds."),
			"status_codes": schema.MapAttribute{Computed: true, ElementType: types.Int64Type,
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Responses by HTTP status code; `0` counts requests without a response (timeouts, refused or reset connections)."},
			"errors": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "The first distinct errors (at most 5), in the order they occurred."},
			"passed": schema.BoolAttribute{Computed: true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Whether the run completed and met every threshold; false when it did not complete; null " +
					"when it completed without thresholds (nothing was judged: see `verdict`)."},
			"verdict": schema.StringAttribute{Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "`PASSED` (completed, every threshold met), `FAILED` (a threshold missed, or the run did " +
					"not complete) or `MEASURED` (completed without thresholds: the figures are the result)."},
			"backends": schema.ListNestedAttribute{Computed: true,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "The load per member, by name (empty without `backend_header`, or when no response carried it).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":      schema.StringAttribute{Computed: true, MarkdownDescription: "The value the member sent in `backend_header`."},
					"responses": schema.Int64Attribute{Computed: true, MarkdownDescription: "Responses it gave."},
					"successes": schema.Int64Attribute{Computed: true, MarkdownDescription: "Of which 2xx or 3xx."},
					"share": schema.Float64Attribute{Computed: true,
						MarkdownDescription: "Its share of the responses that named a member, 0 to 1."},
					"expected_share": schema.Float64Attribute{Computed: true,
						MarkdownDescription: "Its share by weight, 0 to 1; null for a member missing from `backend_weights`."},
					"weight": schema.Float64Attribute{Computed: true,
						MarkdownDescription: "Its weight in `backend_weights`; null without one."},
					"overloaded": schema.BoolAttribute{Computed: true,
						MarkdownDescription: "`share` exceeds `backend_overload_factor` × `expected_share`."},
					"silent": schema.BoolAttribute{Computed: true,
						MarkdownDescription: "It has a positive weight but gave no response: down, drained or not in the pool."},
				}}},
			"overloaded_backends": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Names of the overloaded members, for a `check` block or an output."},
			"unidentified_responses": schema.Int64Attribute{Computed: true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				MarkdownDescription: "HTTP responses without `backend_header` (0 without `backend_header`)."},
			"violations": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "One message per missed threshold, naming the threshold, its limit and the measured value."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, timeoutsDoc{Create: "Bound on the whole run (default: `duration` plus `timeout` " +
				"plus one minute). When it expires the test stops and the apply fails."}),
		},
	}
}

func (r *loadTestResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(path.MatchRoot("rate"), path.MatchRoot("ramp"))}
}

// ValidateConfig catches at plan time what single-attribute validators cannot see.
func (r *loadTestResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m loadTestModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Headers.IsNull() && !m.Headers.IsUnknown() {
		var h map[string]types.String
		resp.Diagnostics.Append(m.Headers.ElementsAs(ctx, &h, false)...)
		known := map[string]string{}
		for k, v := range h {
			if !v.IsUnknown() {
				known[k] = v.ValueString()
			}
		}
		if err := loadtest.ValidateHeaders(known); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("headers"), "Invalid header", err.Error())
		}
	}
	// Without backend_header the schema's AlsoRequires already says what is missing.
	if !m.BackendWeights.IsNull() && !m.BackendWeights.IsUnknown() && !m.BackendHeader.IsNull() && !m.BackendHeader.IsUnknown() {
		var weights map[string]types.Float64
		resp.Diagnostics.Append(m.BackendWeights.ElementsAs(ctx, &weights, false)...)
		check := loadtest.BackendCheck{Header: m.BackendHeader.ValueString(), Weights: map[string]float64{}}
		known := true
		for k, v := range weights {
			known = known && !v.IsUnknown()
			check.Weights[k] = v.ValueFloat64()
		}
		if err := check.Validate(); known && err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("backend_weights"), "Invalid backend weights", err.Error())
		}
	}
	// A create timeout shorter than the run would stop every run before its end: a certain failure.
	if d, err := time.ParseDuration(m.Duration.ValueString()); err == nil && !m.Timeouts.IsNull() && !m.Timeouts.IsUnknown() {
		limit, diags := m.Timeouts.Create(ctx, 0)
		if !diags.HasError() && limit > 0 && limit <= d {
			resp.Diagnostics.AddAttributeError(path.Root("timeouts").AtName("create"), "Create timeout shorter than the run",
				fmt.Sprintf("timeouts.create is %s but the test runs for %s; the run would always be cut short. Allow at "+
					"least duration plus the request timeout.", limit, d))
		}
	}
}

// specFromModel builds the run's spec from a plan whose values are all known (Create only runs
// then); the plan-time validators have already checked each value.
func specFromModel(ctx context.Context, m *loadTestModel, diags *diag.Diagnostics) loadtest.Spec {
	spec := loadtest.Spec{
		URL:        m.URL.ValueString(),
		Method:     m.Method.ValueString(),
		Body:       []byte(m.Body.ValueString()),
		Rate:       int(m.Rate.ValueInt64()),
		MaxWorkers: int(m.MaxWorkers.ValueInt64()),
	}
	if !m.Headers.IsNull() {
		spec.Headers = map[string]string{}
		diags.Append(m.Headers.ElementsAs(ctx, &spec.Headers, false)...)
	}
	if !m.Ramp.IsNull() {
		var rm rampModel
		diags.Append(m.Ramp.As(ctx, &rm, basetypes.ObjectAsOptions{})...)
		spec.RampFrom, spec.RampTo = int(rm.From.ValueInt64()), int(rm.To.ValueInt64())
	}
	var err error
	if spec.Duration, err = time.ParseDuration(m.Duration.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("duration"), "Invalid duration", err.Error())
	}
	if spec.Timeout, err = time.ParseDuration(m.Timeout.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("timeout"), "Invalid timeout", err.Error())
	}
	if !m.Thresholds.IsNull() {
		var tm thresholdsModel
		diags.Append(m.Thresholds.As(ctx, &tm, basetypes.ObjectAsOptions{})...)
		spec.Thresholds.MaxP95 = time.Duration(tm.MaxP95Ms.ValueInt64()) * time.Millisecond
		if !tm.MaxErrorRate.IsNull() {
			v := tm.MaxErrorRate.ValueFloat64()
			spec.Thresholds.MaxErrorRate = &v
		}
		spec.Thresholds.MinRate = tm.MinRate.ValueFloat64()
	}
	spec.Label = m.Label.ValueString()
	if !m.Triggers.IsNull() {
		spec.Triggers = map[string]string{}
		diags.Append(m.Triggers.ElementsAs(ctx, &spec.Triggers, false)...)
	}
	spec.Backends.Header = m.BackendHeader.ValueString()
	if !m.BackendWeights.IsNull() {
		spec.Backends.Weights = map[string]float64{}
		diags.Append(m.BackendWeights.ElementsAs(ctx, &spec.Backends.Weights, false)...)
	}
	spec.Backends.OverloadFactor = m.BackendOverloadFactor.ValueFloat64()
	if err := spec.Validate(); err != nil && !diags.HasError() {
		diags.AddError("Invalid load test", err.Error())
	}
	return spec
}

func (r *loadTestResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m loadTestModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec := specFromModel(ctx, &m, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	limit, d := m.Timeouts.Create(ctx, spec.Duration+spec.Timeout+time.Minute)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	fields := map[string]any{"url": spec.URL, "method": m.Method.ValueString(), "duration": spec.Duration.String()}
	if spec.IsRamp() {
		fields["ramp_from"], fields["ramp_to"] = spec.RampFrom, spec.RampTo
	} else {
		fields["rate"] = spec.Rate
	}
	tflog.Info(ctx, "load test starting", fields)
	spec.Progress = func(p loadtest.Progress) {
		f := map[string]any{"url": spec.URL, "elapsed": p.Elapsed.Round(time.Second).String(), "responses": p.Requests,
			"successful": p.Successes, "duration": spec.Duration.String()}
		// A line every ten seconds at INFO is enough to see a long run progress; DEBUG gets every second.
		if s := int(p.Elapsed.Round(time.Second) / time.Second); s%10 == 0 {
			tflog.Info(ctx, "load test progress", f)
		} else {
			tflog.Debug(ctx, "load test progress", f)
		}
	}

	var rec *fromloadtest.Recorder
	if r.data != nil && r.data.journal != nil {
		label := m.Label.ValueString()
		if label == "" {
			label = journal.Target(spec.URL)
		}
		rec = fromloadtest.NewRecorder(r.data.journal, "eventscale_load_test."+label, label, spec, 0)
		logProgress := spec.Progress
		spec.Progress = func(p loadtest.Progress) {
			logProgress(p)
			rec.Progress(p)
		}
	}
	res, runErr := loadtest.Run(runCtx, spec)
	if rec != nil {
		rec.Result(spec, res, runErr)
	}
	judgement := loadtest.Judge(spec, res)
	if runErr != nil && judgement.Verdict != loadtest.VerdictFailed {
		// A run cut short by the create timeout is not a measurement of the whole duration.
		judgement.Verdict = loadtest.VerdictFailed
	}
	violations := judgement.Violations
	distribution := spec.Backends.Distribution(res)
	m.ID = types.StringValue(newRunID())
	setResults(&m, res, judgement, distribution)
	tflog.Info(ctx, "load test finished", map[string]any{"url": spec.URL, "requests": res.Requests,
		"achieved_rate": res.Rate, "success_ratio": res.Success, "p95_ms": msFloat(res.Latencies.P95), "verdict": string(judgement.Verdict),
		"overloaded_backends": distribution.Overloaded()})

	if p := m.ReportPath.ValueString(); p != "" {
		if err := writeReport(p, spec, res); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("report_path"), "Cannot write the load test report", err.Error())
		} else {
			tflog.Info(ctx, "load test report written", map[string]any{"path": p})
		}
	}

	// The results are saved even when the run failed: they are what the operator needs to look at.
	// Terraform marks a resource whose create returned an error as tainted, so the next apply runs
	// the test again.
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)

	summary := fmt.Sprintf("%d requests at %.1f req/s attempted, %.1f req/s successful; success ratio %.4g; latency p50 %s, p95 %s, max %s.",
		res.Requests, res.Rate, res.Throughput, res.Success, loadtest.FormatMS(res.Latencies.P50),
		loadtest.FormatMS(res.Latencies.P95), loadtest.FormatMS(res.Latencies.Max))
	if spec.Backends.Header != "" {
		summary += "\nLoad per member: " + distribution.Sentence()
	}
	if len(res.FirstErrors) > 0 {
		summary += "\nFirst errors:\n  " + strings.Join(res.FirstErrors, "\n  ")
	}
	if p := m.ReportPath.ValueString(); p != "" {
		summary += "\nReport: " + p
	}
	const tainted = "\n\nThe results are saved in state and the resource is tainted: the next apply runs the test again."
	switch {
	case runErr != nil:
		detail := runErr.Error()
		if errors.Is(runErr, context.DeadlineExceeded) {
			detail += fmt.Sprintf(" (timeouts.create is %s)", limit)
		}
		resp.Diagnostics.AddError(fmt.Sprintf("Load test of %s did not complete", spec.URL), detail+"\n\n"+summary+tainted)
	case len(violations) > 0:
		lines := make([]string, len(violations))
		for i, v := range violations {
			lines[i] = "- " + v.Message
		}
		resp.Diagnostics.AddError(fmt.Sprintf("Load test of %s missed %d threshold(s)", spec.URL, len(violations)),
			strings.Join(lines, "\n")+"\n\n"+summary+tainted)
	case res.Success < 1 && spec.Thresholds.MaxErrorRate == nil:
		resp.Diagnostics.AddWarning(fmt.Sprintf("Load test of %s: %d of %d requests failed", spec.URL, res.Requests-res.Successes, res.Requests),
			"thresholds.max_error_rate is not set, so failed requests do not fail the test. Set it to make them fail the apply.\n\n"+summary)
	}
	if over := distribution.Overloaded(); len(over) > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("backend_overload_factor"),
			fmt.Sprintf("Load test of %s: %d member(s) took more than %g× their expected share", spec.URL, len(over), distribution.OverloadFactor),
			fmt.Sprintf("Overloaded: %s. A member taking more than its share saturates first; check its weight in the "+
				"load balancer, the pool's lb_method (SOURCE_IP sends one client's traffic to one member) and backend_weights.\n\n%s",
				strings.Join(over, ", "), summary))
	}
	if spec.Backends.Header != "" && !distribution.Known && res.Requests > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("backend_header"), fmt.Sprintf("Load test of %s: load per member not known", spec.URL),
			distribution.Reason)
	}
}

func setResults(m *loadTestModel, res loadtest.Result, j loadtest.Judgement, d loadtest.Distribution) {
	m.StartedAt = types.StringValue(res.StartedAt.UTC().Format(time.RFC3339))
	m.Requests = types.Int64Value(int64(res.Requests))
	m.AchievedRate = types.Float64Value(roundTo(res.Rate, 3))
	m.Throughput = types.Float64Value(roundTo(res.Throughput, 3))
	m.SuccessRatio = types.Float64Value(roundTo(res.Success, 6))
	m.LatencyP50 = types.Float64Value(msFloat(res.Latencies.P50))
	m.LatencyP90 = types.Float64Value(msFloat(res.Latencies.P90))
	m.LatencyP95 = types.Float64Value(msFloat(res.Latencies.P95))
	m.LatencyP99 = types.Float64Value(msFloat(res.Latencies.P99))
	m.LatencyMax = types.Float64Value(msFloat(res.Latencies.Max))
	codes := make(map[string]attr.Value, len(res.StatusCodes))
	for c, n := range res.StatusCodes {
		codes[c] = types.Int64Value(int64(n))
	}
	m.StatusCodes = types.MapValueMust(types.Int64Type, codes)
	errs := make([]attr.Value, len(res.FirstErrors))
	for i, e := range res.FirstErrors {
		errs[i] = types.StringValue(e)
	}
	m.Errors = types.ListValueMust(types.StringType, errs)
	vs := make([]attr.Value, len(j.Violations))
	for i, v := range j.Violations {
		vs[i] = types.StringValue(v.Message)
	}
	m.Violations = types.ListValueMust(types.StringType, vs)
	m.Verdict = types.StringValue(string(j.Verdict))
	m.Passed = types.BoolNull()
	if j.Verdict != loadtest.VerdictMeasured {
		m.Passed = types.BoolValue(j.Verdict == loadtest.VerdictPassed)
	}

	backends := make([]attr.Value, 0, len(d.Backends))
	for _, b := range d.Backends {
		expected, weight := types.Float64Null(), types.Float64Null()
		if b.Expected {
			expected = types.Float64Value(roundTo(b.ExpectedShare, 6))
			if d.ExpectedFrom == loadtest.ExpectedFromWeights {
				weight = types.Float64Value(b.Weight)
			}
		}
		backends = append(backends, types.ObjectValueMust(backendResultType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(b.Name), "responses": types.Int64Value(int64(b.Responses)),
			"successes": types.Int64Value(int64(b.Successes)), "share": types.Float64Value(roundTo(b.Share, 6)),
			"expected_share": expected, "weight": weight, "overloaded": types.BoolValue(b.Overloaded), "silent": types.BoolValue(b.Silent),
		}))
	}
	m.Backends = types.ListValueMust(backendResultType, backends)
	over := []attr.Value{}
	for _, n := range d.Overloaded() {
		over = append(over, types.StringValue(n))
	}
	m.OverloadedBackends = types.ListValueMust(types.StringType, over)
	m.UnidentifiedResponses = types.Int64Value(int64(d.Unidentified))
}

// writeReport writes the run's HTML report at p.
func writeReport(p string, spec loadtest.Spec, res loadtest.Result) error {
	var buf bytes.Buffer
	if err := loadtest.WriteHTML(&buf, spec, res); err != nil {
		return err
	}
	return writeFileAtomically(p, buf.Bytes(), ".load-test-report-*")
}

// Read keeps the recorded results: there is no remote object whose drift could be observed.
func (r *loadTestResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Update happens only when `timeouts` changes (everything else forces a new run); the results stay.
func (r *loadTestResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m loadTestModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete forgets the results; the framework removes the resource from state.
func (r *loadTestResource) Delete(ctx context.Context, _ resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Debug(ctx, "forgetting load test results (the report file, if any, is kept)")
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	return hex.EncodeToString(b)
}

func msFloat(d time.Duration) float64 { return roundTo(float64(d)/float64(time.Millisecond), 3) }

func roundTo(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}
