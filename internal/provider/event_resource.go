package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/runbook"
)

var (
	_ resource.Resource                   = (*eventResource)(nil)
	_ resource.ResourceWithImportState    = (*eventResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*eventResource)(nil)
	_ resource.ResourceWithValidateConfig = (*eventResource)(nil)
)

// NewEventResource is the factory registered in the provider.
func NewEventResource() resource.Resource { return &eventResource{} }

// eventResource lives only in Terraform state: it makes no cloud call. The runbook is derived
// from configuration at plan time so that a plan shows the runbook that will be applied.
type eventResource struct{}

type eventContactModel struct {
	Name  types.String `tfsdk:"name"`
	Role  types.String `tfsdk:"role"`
	Phone types.String `tfsdk:"phone"`
	Email types.String `tfsdk:"email"`
}

type eventLoadBalancerModel struct {
	Name       types.String `tfsdk:"name"`
	VIPAddress types.String `tfsdk:"vip_address"`
}

type eventPoolModel struct {
	Name         types.String `tfsdk:"name"`
	Size         types.Int64  `tfsdk:"size"`
	NormalSize   types.Int64  `tfsdk:"normal_size"`
	BatchSize    types.Int64  `tfsdk:"batch_size"`
	DrainTimeout types.String `tfsdk:"drain_timeout"`
	DrainMethod  types.String `tfsdk:"drain_method"`
	Order        types.String `tfsdk:"order"`
	Resource     types.String `tfsdk:"resource"`
	SizeVariable types.String `tfsdk:"size_variable"`
}

type eventLoadTestModel struct {
	Label        types.String  `tfsdk:"label"`
	Verdict      types.String  `tfsdk:"verdict"`
	Rate         types.Float64 `tfsdk:"rate"`
	Requests     types.Int64   `tfsdk:"requests"`
	SuccessRatio types.Float64 `tfsdk:"success_ratio"`
	P95MS        types.Float64 `tfsdk:"p95_ms"`
}

type eventModel struct {
	ID                     types.String            `tfsdk:"id"`
	Name                   types.String            `tfsdk:"name"`
	StartsAt               types.String            `tfsdk:"starts_at"`
	EndsAt                 types.String            `tfsdk:"ends_at"`
	Contacts               []eventContactModel     `tfsdk:"contacts"`
	ExpectedPeakMultiplier types.Float64           `tfsdk:"expected_peak_multiplier"`
	Notes                  types.String            `tfsdk:"notes"`
	LoadBalancer           *eventLoadBalancerModel `tfsdk:"load_balancer"`
	Pools                  []eventPoolModel        `tfsdk:"pools"`
	Replicas               []types.String          `tfsdk:"replicas"`
	LoadTests              []eventLoadTestModel    `tfsdk:"load_tests"`
	RunbookPath            types.String            `tfsdk:"runbook_path"`
	RunbookHTMLPath        types.String            `tfsdk:"runbook_html_path"`
	Backups                types.List              `tfsdk:"backups"`
	MaxBackupAge           types.String            `tfsdk:"max_backup_age"`
	Runbook                types.String            `tfsdk:"runbook"`
}

func (r *eventResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_event"
}

func (r *eventResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	optStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A high-traffic event: its time window, who to call, and a generated runbook. " +
			"It lives only in Terraform state and makes no cloud call.\n\n" +
			"The **runbook** says what the configuration really does: each pool's size during the event and its normal " +
			"size, how its scale-back drains (batch, drain method, drain timeout, order, defaults stated), the replicas, " +
			"the last load tests' figures, and the commands to run for the scale-back (`terraform plan`/`apply -var ...` " +
			"or `destroy -target=...`, with `eventscale watch` in a second terminal, then `eventscale review`). It is " +
			"computed at plan time, so the plan shows it, and can be written to files at apply as Markdown and as HTML.\n\n" +
			"The pools reference the event (`event_id`), so the event cannot reference them, nor load tests that measure " +
			"them: Terraform would report a cycle. Give `pools` the same values (locals shared with the pools' " +
			"`scale_in`), and `load_tests` figures from an earlier run (see `load_tests`).\n\n" +
			"Between `starts_at` and `ends_at` the event is a **freeze window**: a web pool or replica set that " +
			"references the event (`event_id = eventscale_event.x.id`) refuses to shrink or be destroyed unless it sets " +
			"`allow_during_event = true`. Whether the window is active is not stored (it changes with time); it is " +
			"evaluated on every plan and apply.\n\n" +
			"Import with the id: `terraform import eventscale_event.launch 'launch@2026-12-01T19:00:00Z/2026-12-01T23:00:00Z'`; " +
			"name and window come from the id, the other attributes from configuration on the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true,
				MarkdownDescription: "`<name>@<starts_at>/<ends_at>` with both times in UTC, e.g. " +
					"`launch@2026-12-01T19:00:00Z/2026-12-01T23:00:00Z`. Pools and replicas take it as `event_id`: the window " +
					"travels in the id because a resource cannot read another resource's state. It changes when the name " +
					"or the window changes, so that every resource referencing the event is planned again."},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the event, e.g. `Black Friday 2026`; at least 1 character.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"starts_at": schema.StringAttribute{Required: true,
				MarkdownDescription: "Start of the event window, RFC 3339 (`2026-11-27T08:00:00+01:00`).",
				Validators:          []validator.String{rfc3339Validator{}}},
			"ends_at": schema.StringAttribute{Required: true,
				MarkdownDescription: "End of the event window, RFC 3339; must be after `starts_at`.",
				Validators:          []validator.String{rfc3339Validator{}}},
			"contacts": schema.ListNestedAttribute{Optional: true, MarkdownDescription: "People on call during the event.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name, at least 1 character.",
						Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
					"role":  optStr("Role, e.g. `incident commander`, `DBA`."),
					"phone": optStr("Phone number."),
					"email": optStr("E-mail address."),
				}}},
			"expected_peak_multiplier": schema.Float64Attribute{Optional: true, Computed: true,
				Default:             float64default.StaticFloat64(10),
				MarkdownDescription: "Expected peak as a multiple of the normal peak, at least 1. Default `10`.",
				Validators:          []validator.Float64{float64validator.AtLeast(1)}},
			"notes": optStr("Free text added to the runbook."),
			"load_balancer": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "The event's load balancer, for the runbook (e.g. from `eventscale_load_balancer`).",
				Attributes: map[string]schema.Attribute{
					"name":        optStr("Load balancer name."),
					"vip_address": optStr("Its VIP address."),
				}},
			"pools": schema.ListNestedAttribute{Optional: true,
				MarkdownDescription: "Web pools, their sizes and how they scale back, for the runbook. Give the values the pools " +
					"are configured with (the same locals as their `scale_in`): the event cannot read them from the pools, which " +
					"reference it.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Pool name."},
					"size": schema.Int64Attribute{Required: true, MarkdownDescription: "Nodes during the event, at least 0.",
						Validators: []validator.Int64{int64validator.AtLeast(0)}},
					"normal_size": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "Nodes after the scale-back, from 0 to `size`. Without it the runbook cannot say how many " +
							"nodes go, nor give the command.",
						Validators: []validator.Int64{int64validator.AtLeast(0)}},
					"batch_size": schema.Int64Attribute{Optional: true,
						MarkdownDescription: fmt.Sprintf("The pool's `scale_in.batch_size`: nodes drained per step, 1 to 100 (default `%d`).", runbook.DefaultBatchSize),
						Validators:          []validator.Int64{int64validator.Between(1, 100)}},
					"drain_timeout": schema.StringAttribute{Optional: true,
						MarkdownDescription: fmt.Sprintf("The pool's `scale_in.drain_timeout`, `0s` to `1h` (default `%s`).", formatDuration(runbook.DefaultDrainTimeout)),
						Validators:          []validator.String{durationBetween(0, maxDrainTimeout)}},
					"drain_method": schema.StringAttribute{Optional: true,
						MarkdownDescription: "The pool's `scale_in.drain_method`: `weight` or `disable` (default `" + runbook.DefaultDrainMethod + "`).",
						Validators:          []validator.String{stringvalidator.OneOf("weight", "disable")}},
					"order": schema.StringAttribute{Optional: true,
						MarkdownDescription: "The pool's `scale_in.order`: `newest-first` or `oldest-first` (default `" + runbook.DefaultOrder + "`).",
						Validators:          []validator.String{stringvalidator.OneOf("newest-first", "oldest-first")}},
					"resource": schema.StringAttribute{Optional: true,
						MarkdownDescription: "The pool's Terraform address, e.g. `eventscale_web_pool.web`: with `normal_size = 0` the " +
							"runbook gives `terraform destroy -target=<resource>`.",
						Validators: []validator.String{stringvalidator.RegexMatches(terraformAddress, "must be a resource address such as eventscale_web_pool.web or module.event.eventscale_web_pool.web")}},
					"size_variable": schema.StringAttribute{Optional: true,
						MarkdownDescription: "The input variable the pool's `size` comes from, e.g. `web_pool_size`: the runbook gives " +
							"`terraform apply -var 'web_pool_size=<normal_size>'`.",
						Validators: []validator.String{stringvalidator.RegexMatches(terraformIdentifier, "must be a Terraform variable name: a letter or underscore, then letters, digits, '_' or '-'")}},
				}}},
			"replicas": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Database read replicas running for the event, for the runbook.",
				Validators:          []validator.List{listvalidator.UniqueValues()}},
			"load_tests": schema.ListNestedAttribute{Optional: true,
				MarkdownDescription: "The last load tests' figures, for the runbook: from `eventscale_load_test` results " +
					"(`label`, `verdict`, `achieved_rate`, `requests`, `success_ratio`, `latency_p95_ms`). A load test of a pool " +
					"that references this event cannot be referenced here (a cycle): pass the figures of the previous apply, " +
					"e.g. from `terraform output -json` into a variable.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"label": schema.StringAttribute{Required: true, MarkdownDescription: "What the test was: `baseline`, `peak`, ..."},
					"verdict": schema.StringAttribute{Optional: true, MarkdownDescription: "`PASSED`, `FAILED` or `MEASURED`.",
						Validators: []validator.String{stringvalidator.OneOf("PASSED", "FAILED", "MEASURED")}},
					"rate": schema.Float64Attribute{Optional: true, MarkdownDescription: "Requests per second achieved, at least 0.",
						Validators: []validator.Float64{float64validator.AtLeast(0)}},
					"requests": schema.Int64Attribute{Optional: true, MarkdownDescription: "Requests sent, at least 0.",
						Validators: []validator.Int64{int64validator.AtLeast(0)}},
					"success_ratio": schema.Float64Attribute{Optional: true, MarkdownDescription: "Share of successful requests, 0 to 1.",
						Validators: []validator.Float64{float64validator.Between(0, 1)}},
					"p95_ms": schema.Float64Attribute{Optional: true, MarkdownDescription: "95th percentile latency in milliseconds, at least 0.",
						Validators: []validator.Float64{float64validator.AtLeast(0)}},
				}}},
			"runbook_path": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Where to write the runbook as Markdown at apply; missing directories are created. The file " +
					"is rewritten whenever the runbook changes, and a plan that finds it missing or different plans an update " +
					"that writes it again."},
			"runbook_html_path": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Where to write the runbook as a self-contained HTML page (reads on a phone, prints), like `runbook_path`."},
			"backups":        eventBackupsAttribute(),
			"max_backup_age": eventMaxBackupAgeAttribute(),
			"runbook": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Markdown runbook: time window in UTC, contacts, what each pool's scale-back does, the replicas, " +
					"the last load tests, and the commands of the scale-back."},
		},
	}
}

// rfc3339Validator accepts the timestamps time.RFC3339 parses (with or without fractions).
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string {
	return "must be an RFC 3339 timestamp such as 2026-11-27T08:00:00Z"
}
func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timestamp",
			fmt.Sprintf("%q is not an RFC 3339 timestamp (e.g. 2026-11-27T08:00:00Z or 2026-11-27T09:00:00+01:00): %v",
				req.ConfigValue.ValueString(), err))
	}
}

// parseEventWindow parses both ends; ok is false when either is unknown or unparsable, in
// which case the attribute validators have already said why.
func parseEventWindow(starts, ends string) (time.Time, time.Time, bool) {
	s, err1 := time.Parse(time.RFC3339, starts)
	e, err2 := time.Parse(time.RFC3339, ends)
	return s, e, err1 == nil && err2 == nil
}

func (r *eventResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var starts, ends types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("starts_at"), &starts)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("ends_at"), &ends)...)
	if resp.Diagnostics.HasError() || starts.IsUnknown() || ends.IsUnknown() || starts.IsNull() || ends.IsNull() {
		return
	}
	s, e, ok := parseEventWindow(starts.ValueString(), ends.ValueString())
	if ok && !e.After(s) {
		resp.Diagnostics.AddAttributeError(path.Root("ends_at"), "Event ends before it starts",
			fmt.Sprintf("ends_at (%s) must be after starts_at (%s).", e.UTC().Format(time.RFC3339), s.UTC().Format(time.RFC3339)))
	}
	var pools []eventPoolModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("pools"), &pools)...)
	for i, p := range pools {
		if p.Size.IsUnknown() || p.NormalSize.IsUnknown() || p.Size.IsNull() || p.NormalSize.IsNull() {
			continue
		}
		if n, size := p.NormalSize.ValueInt64(), p.Size.ValueInt64(); n > size {
			resp.Diagnostics.AddAttributeError(path.Root("pools").AtListIndex(i).AtName("normal_size"), "Normal size above the event size",
				fmt.Sprintf("pool %q: normal_size (%d) is larger than size (%d); the scale-back returns a pool to its normal size "+
					"after the event, so it cannot grow it.", p.Name.ValueString(), n, size))
		}
	}
}

func (r *eventResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var m eventModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	warnBackupAges(ctx, m, time.Now(), &resp.Diagnostics)
	rb, ok := eventRunbook(m)
	if ok && !req.State.Raw.IsNull() {
		// A runbook file deleted or edited since the last apply: plan an update that writes it
		// again. The runbook then shows as known after apply, which is what makes the update.
		if files, known := m.runbookFiles(); known {
			for _, f := range files {
				if !f.upToDate() {
					tflog.Info(ctx, "runbook file missing or different: planning an update that writes it", map[string]any{"path": f.path})
					ok = false
				}
			}
		}
	}
	if ok {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("runbook"), rb)...)
	} else {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("runbook"), types.StringUnknown())...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), m.computeID())...)
}

// computeID is eventID of the configured name and window, unknown until all three are known.
func (m eventModel) computeID() types.String {
	if m.Name.IsUnknown() || m.StartsAt.IsUnknown() || m.EndsAt.IsUnknown() {
		return types.StringUnknown()
	}
	s, e, ok := parseEventWindow(m.StartsAt.ValueString(), m.EndsAt.ValueString())
	if !ok {
		return types.StringUnknown()
	}
	return types.StringValue(eventID(m.Name.ValueString(), s, e))
}

func (r *eventResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m eventModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(m.finish()...)
	if !resp.Diagnostics.HasError() {
		m.writeRunbookFiles(ctx, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *eventResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m eventModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// After an import only the name and the window are known; the next apply fills the rest.
	if m.ExpectedPeakMultiplier.IsNull() {
		m.ExpectedPeakMultiplier = types.Float64Value(10)
	}
	if rb, ok := eventRunbook(m); ok {
		m.Runbook = types.StringValue(rb)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *eventResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m eventModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(m.finish()...)
	if !resp.Diagnostics.HasError() {
		m.writeRunbookFiles(ctx, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// finish fills the id and the runbook once every input is known (after apply they all are).
func (m *eventModel) finish() diag.Diagnostics {
	var diags diag.Diagnostics
	rb, ok := eventRunbook(*m)
	m.ID = m.computeID()
	if !ok || m.ID.IsUnknown() {
		diags.AddError("Cannot render the event", "Some inputs of the event are still unknown or invalid after apply; this is a bug in the provider.")
		return diags
	}
	m.Runbook = types.StringValue(rb)
	return diags
}

func (r *eventResource) Delete(ctx context.Context, _ resource.DeleteRequest, _ *resource.DeleteResponse) {
	tflog.Debug(ctx, "eventscale_event lives only in state; nothing to delete in the cloud")
}

func (r *eventResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name, starts, ends, err := parseEventID(req.ID)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Invalid event id", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("starts_at"), starts.UTC().Format(time.RFC3339))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ends_at"), ends.UTC().Format(time.RFC3339))...)
}

// eventRunbook renders the runbook as Markdown; ok is false while any input is unknown.
func eventRunbook(m eventModel) (string, bool) {
	rb, ok := m.runbook()
	if !ok {
		return "", false
	}
	return rb.Markdown(), true
}

// runbook translates the configuration into the runbook package's terms; ok is false while any
// input is unknown (or the window does not parse, which the validators report).
func (m eventModel) runbook() (runbook.Runbook, bool) {
	known := func(vs ...interface{ IsUnknown() bool }) bool {
		for _, v := range vs {
			if v.IsUnknown() {
				return false
			}
		}
		return true
	}
	if !known(m.Name, m.StartsAt, m.EndsAt, m.ExpectedPeakMultiplier, m.Notes) {
		return runbook.Runbook{}, false
	}
	starts, ends, ok := parseEventWindow(m.StartsAt.ValueString(), m.EndsAt.ValueString())
	if !ok {
		return runbook.Runbook{}, false
	}
	rb := runbook.Runbook{Name: m.Name.ValueString(), StartsAt: starts, EndsAt: ends,
		ExpectedPeakMultiplier: m.ExpectedPeakMultiplier.ValueFloat64(), Notes: m.Notes.ValueString()}
	for _, c := range m.Contacts {
		if !known(c.Name, c.Role, c.Phone, c.Email) {
			return runbook.Runbook{}, false
		}
		rb.Contacts = append(rb.Contacts, runbook.Contact{Name: c.Name.ValueString(), Role: c.Role.ValueString(),
			Phone: c.Phone.ValueString(), Email: c.Email.ValueString()})
	}
	if lb := m.LoadBalancer; lb != nil {
		if !known(lb.Name, lb.VIPAddress) {
			return runbook.Runbook{}, false
		}
		rb.LoadBalancer = &runbook.LoadBalancer{Name: lb.Name.ValueString(), VIPAddress: lb.VIPAddress.ValueString()}
	}
	for _, p := range m.Pools {
		if !known(p.Name, p.Size, p.NormalSize, p.BatchSize, p.DrainTimeout, p.DrainMethod, p.Order, p.Resource, p.SizeVariable) {
			return runbook.Runbook{}, false
		}
		pool := runbook.Pool{Name: p.Name.ValueString(), Size: int(p.Size.ValueInt64()), DrainMethod: p.DrainMethod.ValueString(),
			Order: p.Order.ValueString(), Resource: p.Resource.ValueString(), SizeVariable: p.SizeVariable.ValueString()}
		if !p.NormalSize.IsNull() {
			pool.NormalSize = ptrTo(int(p.NormalSize.ValueInt64()))
		}
		if !p.BatchSize.IsNull() {
			pool.BatchSize = ptrTo(int(p.BatchSize.ValueInt64()))
		}
		if !p.DrainTimeout.IsNull() {
			d, err := time.ParseDuration(p.DrainTimeout.ValueString())
			if err != nil {
				return runbook.Runbook{}, false
			}
			pool.DrainTimeout = &d
		}
		rb.Pools = append(rb.Pools, pool)
	}
	for _, r := range m.Replicas {
		if !known(r) {
			return runbook.Runbook{}, false
		}
		rb.Replicas = append(rb.Replicas, r.ValueString())
	}
	for _, lt := range m.LoadTests {
		if !known(lt.Label, lt.Verdict, lt.Rate, lt.Requests, lt.SuccessRatio, lt.P95MS) {
			return runbook.Runbook{}, false
		}
		t := runbook.LoadTest{Label: lt.Label.ValueString(), Verdict: lt.Verdict.ValueString()}
		if !lt.Rate.IsNull() {
			t.Rate = ptrTo(lt.Rate.ValueFloat64())
		}
		if !lt.Requests.IsNull() {
			t.Requests = ptrTo(lt.Requests.ValueInt64())
		}
		if !lt.SuccessRatio.IsNull() {
			t.SuccessRatio = ptrTo(lt.SuccessRatio.ValueFloat64())
		}
		if !lt.P95MS.IsNull() {
			t.P95MS = ptrTo(lt.P95MS.ValueFloat64())
		}
		rb.LoadTests = append(rb.LoadTests, t)
	}
	ages, maxAge, ok := eventBackupAges(context.Background(), m)
	if !ok {
		return runbook.Runbook{}, false
	}
	for _, a := range ages {
		rb.Backups = append(rb.Backups, runbook.Backup{Name: a.Name, ID: a.ID, TakenAt: a.CreatedAt, Age: a.Age,
			Missing: a.Missing, TooOld: a.TooOld, Warning: a.Warning})
	}
	rb.MaxBackupAge = maxAge
	return rb, true
}

func ptrTo[T any](v T) *T { return &v }

type runbookFile struct {
	path    string
	content []byte
}

// upToDate reports whether the file on disk already holds the content.
func (f runbookFile) upToDate() bool {
	got, err := os.ReadFile(f.path)
	return err == nil && bytes.Equal(got, f.content)
}

// runbookFiles are the files the configuration asks for, by the attribute that names each,
// with the content each must hold; ok is false while that is not known yet.
func (m eventModel) runbookFiles() (map[string]runbookFile, bool) {
	if m.RunbookPath.IsUnknown() || m.RunbookHTMLPath.IsUnknown() {
		return nil, false
	}
	files := map[string]runbookFile{}
	if m.RunbookPath.ValueString() == "" && m.RunbookHTMLPath.ValueString() == "" {
		return files, true
	}
	rb, ok := m.runbook()
	if !ok {
		return nil, false
	}
	if p := m.RunbookPath.ValueString(); p != "" {
		files["runbook_path"] = runbookFile{path: p, content: []byte(rb.Markdown())}
	}
	if p := m.RunbookHTMLPath.ValueString(); p != "" {
		var buf bytes.Buffer
		if err := rb.WriteHTML(&buf); err != nil {
			return nil, false
		}
		files["runbook_html_path"] = runbookFile{path: p, content: buf.Bytes()}
	}
	return files, true
}

// writeRunbookFiles writes each requested file, naming the attribute of any that fails.
func (m eventModel) writeRunbookFiles(ctx context.Context, diags *diag.Diagnostics) {
	files, ok := m.runbookFiles()
	if !ok {
		diags.AddError("Cannot render the runbook", "Some inputs of the event are still unknown after apply; this is a bug in the provider.")
		return
	}
	for attr, f := range files {
		if err := writeFileAtomically(f.path, f.content, ".runbook-*"); err != nil {
			diags.AddAttributeError(path.Root(attr), "Cannot write the runbook", err.Error())
			continue
		}
		tflog.Info(ctx, "runbook written", map[string]any{"path": f.path})
	}
}

// terraformAddress matches a resource address, inside modules or not: eventscale_web_pool.web,
// module.event.eventscale_web_pool.web["eu"].
var terraformAddress = regexp.MustCompile(`^(module\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]+\])?\.)*[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*(\[[^\]]+\])?$`)

// terraformIdentifier matches a variable name.
var terraformIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
