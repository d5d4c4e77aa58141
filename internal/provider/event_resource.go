package provider

import (
	"context"
	"fmt"
	"strings"
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
	Name types.String `tfsdk:"name"`
	Size types.Int64  `tfsdk:"size"`
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
		MarkdownDescription: "A high-traffic event: its time window, who to call, and a generated Markdown runbook. " +
			"It lives only in Terraform state and makes no cloud call.\n\n" +
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
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the event, e.g. `Black Friday 2026`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"starts_at": schema.StringAttribute{Required: true,
				MarkdownDescription: "Start of the event window, RFC 3339 (`2026-11-27T08:00:00+01:00`).",
				Validators:          []validator.String{rfc3339Validator{}}},
			"ends_at": schema.StringAttribute{Required: true,
				MarkdownDescription: "End of the event window, RFC 3339; must be after `starts_at`.",
				Validators:          []validator.String{rfc3339Validator{}}},
			"contacts": schema.ListNestedAttribute{Optional: true, MarkdownDescription: "People on call during the event.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name.",
						Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
					"role":  optStr("Role, e.g. `incident commander`, `DBA`."),
					"phone": optStr("Phone number."),
					"email": optStr("E-mail address."),
				}}},
			"expected_peak_multiplier": schema.Float64Attribute{Optional: true, Computed: true,
				Default:             float64default.StaticFloat64(10),
				MarkdownDescription: "Expected peak as a multiple of the normal peak. Default `10`.",
				Validators:          []validator.Float64{float64validator.AtLeast(1)}},
			"notes": optStr("Free text added to the runbook."),
			"load_balancer": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "The event's load balancer, for the runbook (e.g. from `eventscale_load_balancer`).",
				Attributes: map[string]schema.Attribute{
					"name":        optStr("Load balancer name."),
					"vip_address": optStr("Its VIP address."),
				}},
			"pools": schema.ListNestedAttribute{Optional: true, MarkdownDescription: "Web pools and their event sizes, for the runbook.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Pool name."},
					"size": schema.Int64Attribute{Required: true, MarkdownDescription: "Nodes during the event.",
						Validators: []validator.Int64{int64validator.AtLeast(0)}},
				}}},
			"replicas": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Database read replicas running for the event, for the runbook.",
				Validators:          []validator.List{listvalidator.UniqueValues()}},
			"backups":        eventBackupsAttribute(),
			"max_backup_age": eventMaxBackupAgeAttribute(),
			"runbook": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Markdown runbook: time window in UTC, contacts, configuration summary and the scale-back plan."},
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
	if rb, ok := eventRunbook(m); ok {
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

// eventRunbook renders the runbook; ok is false while any input is unknown.
func eventRunbook(m eventModel) (string, bool) {
	known := func(vs ...interface{ IsUnknown() bool }) bool {
		for _, v := range vs {
			if v.IsUnknown() {
				return false
			}
		}
		return true
	}
	if !known(m.Name, m.StartsAt, m.EndsAt, m.ExpectedPeakMultiplier, m.Notes) {
		return "", false
	}
	for _, c := range m.Contacts {
		if !known(c.Name, c.Role, c.Phone, c.Email) {
			return "", false
		}
	}
	if m.LoadBalancer != nil && !known(m.LoadBalancer.Name, m.LoadBalancer.VIPAddress) {
		return "", false
	}
	for _, p := range m.Pools {
		if !known(p.Name, p.Size) {
			return "", false
		}
	}
	for _, r := range m.Replicas {
		if !known(r) {
			return "", false
		}
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Runbook: %s\n\n", mdEscape(m.Name.ValueString()))

	w("## Time window (UTC)\n\n")
	s, e, ok := parseEventWindow(m.StartsAt.ValueString(), m.EndsAt.ValueString())
	if ok {
		const layout = "Mon 2006-01-02 15:04 MST"
		w("- Starts: %s\n- Ends: %s\n- Duration: %s\n", s.UTC().Format(layout), e.UTC().Format(layout), e.Sub(s))
	} else {
		w("- Starts: %s\n- Ends: %s\n", m.StartsAt.ValueString(), m.EndsAt.ValueString())
	}
	w("- Expected peak: %s× the normal peak\n", capNum(m.ExpectedPeakMultiplier.ValueFloat64()))
	w("- Freeze: during the window, pools and replicas that reference this event refuse to shrink or be destroyed " +
		"unless they set `allow_during_event = true`.\n\n")

	w("## Contacts\n\n")
	if len(m.Contacts) == 0 {
		w("No contacts listed.\n\n")
	} else {
		w("| Name | Role | Phone | Email |\n|---|---|---|---|\n")
		for _, c := range m.Contacts {
			w("| %s | %s | %s | %s |\n", mdCell(c.Name), mdCell(c.Role), mdCell(c.Phone), mdCell(c.Email))
		}
		w("\n")
	}

	w("## Configuration\n\n")
	if lb := m.LoadBalancer; lb != nil {
		name := lb.Name.ValueString()
		if name == "" {
			name = "(unnamed)"
		}
		vip := lb.VIPAddress.ValueString()
		if vip == "" {
			vip = "unknown"
		}
		w("- Load balancer: %s, VIP `%s`\n", mdEscape(name), vip)
	} else {
		w("- Load balancer: not listed\n")
	}
	if len(m.Pools) == 0 {
		w("- Web pools: not listed\n")
	} else {
		w("- Web pools:\n")
		for _, p := range m.Pools {
			w("  - %s: %d nodes\n", mdEscape(p.Name.ValueString()), p.Size.ValueInt64())
		}
	}
	if len(m.Replicas) == 0 {
		w("- Database replicas: none listed\n\n")
	} else {
		names := make([]string, 0, len(m.Replicas))
		for _, r := range m.Replicas {
			names = append(names, mdEscape(r.ValueString()))
		}
		w("- Database replicas: %s\n\n", strings.Join(names, ", "))
	}

	w("## Scale-back plan\n\n")
	if ok {
		w("After %s, once traffic is back to normal, lower each pool's size to its normal value "+
			"(the freeze no longer applies). The provider then removes nodes one at a time, in the pool's scale-in order:\n\n", e.UTC().Format(time.RFC3339))
	} else {
		w("After the event, lower each pool's size to its normal value. The provider then removes nodes one at a time, in the pool's scale-in order:\n\n")
	}
	w("1. Drain: set the node's load balancer member weight to 0, so it takes no new connections and finishes the ones it has.\n")
	w("2. Wait the full drain timeout; a member is never removed before it has drained that long.\n")
	w("3. Remove the member from the pool.\n")
	w("4. Delete the server.\n")
	w("5. Check the pool's health through the VIP before the next node; stop and investigate if it fails.\n")
	w("6. Repeat until the pool has its normal size; then remove the read replicas one at a time.\n\n")
	w("Static members (servers such as web01 that existed before the event) are never drained or removed.\n")

	if n := strings.TrimSpace(m.Notes.ValueString()); n != "" {
		w("\n## Notes\n\n%s\n", n)
	}
	return b.String(), true
}

func mdCell(v types.String) string {
	s := strings.TrimSpace(v.ValueString())
	if s == "" {
		return "-"
	}
	return mdEscape(s)
}

// mdEscape keeps user text from breaking a table row or a list item.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
