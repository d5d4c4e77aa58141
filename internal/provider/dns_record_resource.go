package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/dnsrecord"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

var (
	_ resource.Resource                   = (*dnsRecordResource)(nil)
	_ resource.ResourceWithConfigure      = (*dnsRecordResource)(nil)
	_ resource.ResourceWithImportState    = (*dnsRecordResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*dnsRecordResource)(nil)
	_ resource.ResourceWithValidateConfig = (*dnsRecordResource)(nil)
)

// NewDNSRecordResource is the factory registered in the provider.
func NewDNSRecordResource() resource.Resource { return &dnsRecordResource{} }

type dnsRecordResource struct {
	data *providerData
}

const (
	dnsCreateTimeout = 10 * time.Minute
	dnsUpdateTimeout = 10 * time.Minute
	dnsDeleteTimeout = 10 * time.Minute

	// dnsStatusGone is the status of a record set deleted outside Terraform: state keeps what
	// to restore, and the next apply creates the record set again.
	dnsStatusGone = "gone"
)

type dnsRecordModel struct {
	ID                  types.String   `tfsdk:"id"`
	ZoneName            types.String   `tfsdk:"zone_name"`
	ZoneID              types.String   `tfsdk:"zone_id"`
	Name                types.String   `tfsdk:"name"`
	Type                types.String   `tfsdk:"type"`
	Records             types.Set      `tfsdk:"records"`
	TTL                 types.Int64    `tfsdk:"ttl"`
	LowerTTLTo          types.Int64    `tfsdk:"lower_ttl_to"`
	StartsAt            types.String   `tfsdk:"starts_at"`
	RestoreOnDestroy    types.Bool     `tfsdk:"restore_on_destroy"`
	PreviousRecords     types.List     `tfsdk:"previous_records"`
	PreviousTTL         types.Int64    `tfsdk:"previous_ttl"`
	PreviousTTLFromZone types.Bool     `tfsdk:"previous_ttl_from_zone"`
	PreviousDescription types.String   `tfsdk:"previous_description"`
	Status              types.String   `tfsdk:"status"`
	ZoneSerial          types.Int64    `tfsdk:"zone_serial"`
	TTLLoweredAt        types.String   `tfsdk:"ttl_lowered_at"`
	LowerTTLBy          types.String   `tfsdk:"lower_ttl_by"`
	SwitchBy            types.String   `tfsdk:"switch_by"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

func (r *dnsRecordResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dns_record"
}

func (r *dnsRecordResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Points the site's name at the event's tier: takes over the `A` (or `AAAA`) record set of `name` in a " +
			"Designate zone, records what it pointed at before (records and TTL, in state and in the record set's description), " +
			"sets `records` (e.g. `[eventscale_load_balancer.front.public_address]`), and on destroy puts the previous records and " +
			"TTL back (or deletes the record set if the name had none), unless `restore_on_destroy = false`.\n\n" +
			"**Two moments.** Resolvers keep what they fetched for the TTL they were given. For every resolver to answer the " +
			"new address when the event starts (`starts_at`), the TTL must be lowered at least the old TTL before the start " +
			"(`lower_ttl_by` = `starts_at` − `previous_ttl`), and the records switched at least the lowered TTL before it " +
			"(`switch_by` = `starts_at` − `lower_ttl_to`). So the switch is two applies:\n\n" +
			"1. Days before, without `records`: `lower_ttl_to = 60` sets the TTL of the existing records, which stay as they are. " +
			"The plan shows `lower_ttl_by` and `switch_by`.\n" +
			"2. Before `switch_by`, add `records`: the name now points at the tier, with `ttl` (default: `lower_ttl_to`).\n\n" +
			"With `starts_at` set, the plan warns when resolvers could still hold the old address at the start: a switch " +
			"planned now whose old records stay cached past `starts_at`, a TTL not yet lowered with the time by which it " +
			"must be, a lowering that came too late. A name that had no record set may still be cached as non-existent for " +
			"the zone's negative-caching TTL (the SOA's minimum): create it early.\n\n" +
			"**Waiting.** Every change waits until Designate has published it: the record set `ACTIVE` and the zone's serial " +
			"past its value before the change. A record set still `PENDING` (or in `ERROR`) when the timeout runs out is " +
			"recorded with its `status` and a warning: the next apply sends the change again and waits in place.\n\n" +
			"**Plan-time checks** (read-only, before anything is changed): the zone exists, is visible to and owned by the " +
			"project, is not being deleted and is a primary zone; `name` is inside it; no CNAME holds the name; without " +
			"`records`, there is a record set to lower the TTL of. What cannot be checked without writing: whether the " +
			"project's role may change record sets (Designate's policy) and the zone's record quotas.\n\n" +
			"**Partial failure.** The record set's description carries a key (`eventscale:<key> was ttl=... <records>`): an " +
			"apply whose answer was lost, or that was interrupted, finds the record set it took over and reads from the " +
			"description what to restore. The previous description itself is only in state.\n\n" +
			"Import with `<zone_id>/<recordset_id>`: everything is read back from the record set and its description. " +
			"`lower_ttl_to`, `starts_at` and `timeouts` exist only in configuration, and import sets `restore_on_destroy = true`: " +
			"when the configuration sets them otherwise, the first plan after an import shows them as an in-place update that " +
			"changes nothing in Designate.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Designate record set id.", PlanModifiers: keep},
			"zone_name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "The Designate zone, fully qualified: `example.com.` (at least 2 characters, ending with a dot).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(2), stringvalidator.RegexMatches(dnsFQDN, "must be fully qualified, ending with a dot")}},
			"zone_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The zone's id.", PlanModifiers: keep},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "The name, fully qualified and inside the zone: `www.example.com.`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(dnsFQDN, "must be fully qualified, ending with a dot")}},
			"type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("A"), PlanModifiers: replace,
				MarkdownDescription: "`A` (default) or `AAAA`.", Validators: []validator.String{stringvalidator.OneOf("A", "AAAA")}},
			"records": schema.SetAttribute{Optional: true, Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The addresses the name points at during the event (at least 1), e.g. the load balancer's `public_address`. " +
					"Unset, the records stay as they were (only the TTL is lowered, with `lower_ttl_to`); state then shows them.",
				Validators:    []validator.Set{setvalidator.SizeAtLeast(1)},
				PlanModifiers: []planmodifier.Set{setplanmodifier.UseStateForUnknown()}},
			"ttl": schema.Int64Attribute{Optional: true, Computed: true,
				MarkdownDescription: "TTL in seconds of the records once switched, 1 to 2147483647. Default: `lower_ttl_to`, else the TTL they have.",
				Validators:          []validator.Int64{int64validator.Between(1, 2147483647)}},
			"lower_ttl_to": schema.Int64Attribute{Optional: true,
				MarkdownDescription: "Before the switch (while `records` is unset), sets the TTL of the existing records to this (1 to 86400 seconds), " +
					"without changing them. Apply it at the latest by `lower_ttl_by`.",
				Validators: []validator.Int64{int64validator.Between(1, 86400)}},
			"starts_at": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Start of the event, RFC 3339 (e.g. `eventscale_event.launch.starts_at`): the plan-time TTL check " +
					"and `lower_ttl_by` / `switch_by` need it.",
				Validators: []validator.String{rfc3339Validator{}}},
			"restore_on_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "When `true` (default), destroy puts back the previous records, TTL and description, or deletes the " +
					"record set when the name had none. When `false`, destroy leaves the records pointing at the tier and only gives " +
					"the record set its previous description back."},
			"previous_records": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "What the name pointed at before it was taken over; empty when it had no record set of the type.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
			"previous_ttl": schema.Int64Attribute{Computed: true,
				MarkdownDescription: "The TTL resolvers were given before the takeover; null when the name had no record set.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"previous_ttl_from_zone": schema.BoolAttribute{Computed: true,
				MarkdownDescription: "The record set had no TTL of its own and used the zone's: restoring gives it back to the zone's.",
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}},
			"previous_description": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The record set's description before the takeover.", PlanModifiers: keep},
			"status": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Designate status: `ACTIVE` once published, `PENDING`, `ERROR`; `gone` when deleted outside Terraform.",
				PlanModifiers:       keep},
			"zone_serial": schema.Int64Attribute{Computed: true, MarkdownDescription: "The zone's serial after the last change.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"ttl_lowered_at": schema.StringAttribute{Computed: true,
				MarkdownDescription: "When an apply lowered the TTL without switching the records, RFC 3339 UTC.", PlanModifiers: keep},
			"lower_ttl_by": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The last moment to lower the TTL (`starts_at` − `previous_ttl`), when `lower_ttl_to` is below it."},
			"switch_by": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The last moment to switch the records (`starts_at` − `lower_ttl_to`, or − `previous_ttl` without it)."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, dnsRecordTimeouts),
		},
	}
}

func (r *dnsRecordResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *dnsRecordResource) dns(ctx context.Context) (*cloud.DNS, error) {
	if r.data == nil || r.data.client == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	return r.data.client.DNS(ctx)
}

func (r *dnsRecordResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m dnsRecordModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Name.IsUnknown() && !m.ZoneName.IsUnknown() && !m.Name.IsNull() && !m.ZoneName.IsNull() {
		if err := dnsrecord.CheckName(m.Name.ValueString(), m.ZoneName.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Invalid name", err.Error())
		}
	}
	if m.Records.IsNull() || m.Records.IsUnknown() || m.Type.IsUnknown() {
		return
	}
	typ := m.Type.ValueString()
	if typ == "" {
		typ = "A"
	}
	records, known := setStrings(ctx, m.Records, &resp.Diagnostics)
	if !known {
		return
	}
	if err := dnsrecord.CheckRecords(typ, records); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("records"), "Invalid records", err.Error())
		return
	}
	for _, rec := range records {
		if c := canonicalAddress(rec); c != rec {
			resp.Diagnostics.AddAttributeError(path.Root("records"), "Address not in canonical form",
				fmt.Sprintf("write %q as %q, the form Designate and the state keep, or every plan would show a change", rec, c))
		}
	}
}

// setStrings reads a set of strings; known is false while it or an element is unknown.
func setStrings(ctx context.Context, s types.Set, diags *diag.Diagnostics) ([]string, bool) {
	if s.IsNull() {
		return nil, true
	}
	if s.IsUnknown() {
		return nil, false
	}
	for _, e := range s.Elements() {
		if e.IsUnknown() {
			return nil, false
		}
	}
	var out []string
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	slices.Sort(out)
	return out, true
}

func stringSet(records []string) types.Set {
	sorted := slices.Clone(records)
	slices.Sort(sorted)
	v, _ := types.SetValueFrom(context.Background(), types.StringType, sorted)
	return v
}

// recordList is a list of records that is never null: an empty list says "none".
func recordList(items []string) types.List {
	if items == nil {
		items = []string{}
	}
	v, _ := types.ListValueFrom(context.Background(), types.StringType, items)
	return v
}

// wanted is what the configuration asks of the record set, given what it has.
type wanted struct {
	records []string
	ttl     int
}

// desired works out the records and TTL an apply sets. Without records in the configuration
// the records stay and the TTL is lower_ttl_to; with them, the TTL is ttl, else lower_ttl_to,
// else the one the record set has.
func desired(configRecords []string, ttl, lowerTo types.Int64, currentRecords []string, currentTTL int) wanted {
	w := wanted{records: currentRecords, ttl: currentTTL}
	pick := func(vs ...types.Int64) {
		for _, v := range vs {
			if !v.IsNull() && !v.IsUnknown() {
				w.ttl = int(v.ValueInt64())
				return
			}
		}
	}
	if configRecords == nil {
		pick(lowerTo, ttl)
		return w
	}
	w.records = configRecords
	pick(ttl, lowerTo)
	return w
}

// previous reads the takeover record from the model.
func (m *dnsRecordModel) previous(ctx context.Context) dnsrecord.Previous {
	var recs []string
	if !m.PreviousRecords.IsNull() && !m.PreviousRecords.IsUnknown() {
		_ = m.PreviousRecords.ElementsAs(ctx, &recs, false)
	}
	p := dnsrecord.Previous{Existed: len(recs) > 0, Records: recs, Description: m.PreviousDescription.ValueString()}
	if p.Existed && !m.PreviousTTLFromZone.ValueBool() {
		p.TTL = int(m.PreviousTTL.ValueInt64())
	}
	if !p.Existed && !m.PreviousTTL.IsNull() && !m.PreviousTTL.IsUnknown() {
		// A record set recorded with a TTL but no records: the marker could not hold them.
		p.Existed, p.Unrecorded = true, true
	}
	return p
}

// setPrevious writes the takeover record; effectiveTTL is what resolvers were given.
func (m *dnsRecordModel) setPrevious(prev dnsrecord.Previous, effectiveTTL int) {
	m.PreviousRecords = recordList(prev.Records)
	m.PreviousDescription = types.StringNull()
	if prev.Description != "" {
		m.PreviousDescription = types.StringValue(prev.Description)
	}
	if !prev.Existed {
		m.PreviousTTL, m.PreviousTTLFromZone = types.Int64Null(), types.BoolValue(false)
		return
	}
	m.PreviousTTL = types.Int64Value(int64(effectiveTTL))
	m.PreviousTTLFromZone = types.BoolValue(prev.TTL == 0)
}

// effectiveTTL is the TTL resolvers are given: the record set's own, else the zone's.
func effectiveTTL(rs *cloud.RecordSet, zone *cloud.Zone) int {
	if rs != nil && rs.TTL > 0 {
		return rs.TTL
	}
	if zone != nil {
		return zone.TTL
	}
	return 0
}

// fromRecordSet copies what Designate reports.
func (m *dnsRecordModel) fromRecordSet(rs *cloud.RecordSet, zone *cloud.Zone) {
	m.ID = types.StringValue(rs.ID)
	m.ZoneID = types.StringValue(rs.ZoneID)
	if !strings.EqualFold(m.ZoneName.ValueString(), rs.ZoneName) && rs.ZoneName != "" {
		m.ZoneName = types.StringValue(rs.ZoneName)
	}
	if !strings.EqualFold(m.Name.ValueString(), rs.Name) {
		m.Name = types.StringValue(rs.Name)
	}
	m.Type = types.StringValue(rs.Type)
	records := make([]string, len(rs.Records))
	for i, rec := range rs.Records {
		records[i] = canonicalAddress(rec)
	}
	m.Records = stringSet(records)
	m.TTL = types.Int64Value(int64(effectiveTTL(rs, zone)))
	m.Status = types.StringValue(rs.Status)
}

func (r *dnsRecordResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config dnsRecordModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, dnsCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.dns(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the DNS service", err.Error())
		return
	}
	zoneName, name, typ := plan.ZoneName.ValueString(), plan.Name.ValueString(), plan.Type.ValueString()
	zone, err := api.FindZone(ctx, zoneName)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("zone_name"), "Cannot read the zone", err.Error())
		return
	case zone == nil:
		resp.Diagnostics.AddAttributeError(path.Root("zone_name"), "Unknown zone", fmt.Sprintf("no zone %s is visible to the project (openstack zone list)", zoneName))
		return
	}
	key := dnsrecord.Key(zone.ID, name, typ)
	existing, err := api.FindRecordSet(ctx, zone.ID, name, typ)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cannot read the record set", err.Error())
		return
	}
	var prev dnsrecord.Previous
	prevTTL := 0
	if existing != nil {
		if p, ok := dnsrecord.ParseMarker(existing.Description, key); ok {
			// Taken over by an earlier attempt whose answer was lost or whose apply stopped.
			tflog.Info(ctx, "adopting the record set an earlier attempt took over", map[string]any{"recordset_id": existing.ID})
			prev = p
			prevTTL = p.TTL
			if prevTTL == 0 {
				prevTTL = zone.TTL
			}
		} else {
			prev = dnsrecord.Previous{Existed: true, Records: existing.Records, TTL: existing.TTL, Description: existing.Description}
			prevTTL = effectiveTTL(existing, zone)
		}
	}
	configRecords, _ := setStrings(ctx, config.Records, &resp.Diagnostics)
	var currentRecords []string
	currentTTL := zone.TTL
	if existing != nil {
		currentRecords, currentTTL = existing.Records, effectiveTTL(existing, zone)
	}
	want := desired(configRecords, config.TTL, config.LowerTTLTo, currentRecords, currentTTL)
	if len(want.records) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("records"), "Nothing to point the name at",
			fmt.Sprintf("%s has no %s record set in zone %s, so there is no TTL to lower: set records.", name, typ, zoneName))
		return
	}
	marker := dnsrecord.Marker(key, prev)
	plan.ZoneID = types.StringValue(zone.ID)
	plan.setPrevious(prev, prevTTL)
	plan.TTLLoweredAt = types.StringNull()

	serialBefore := zone.Serial
	var rs *cloud.RecordSet
	if existing == nil {
		if config.TTL.IsNull() && config.LowerTTLTo.IsNull() {
			want.ttl = 0 // a new name without a TTL of its own follows the zone's
		}
		rs, err = r.createRecordSet(ctx, api, zone.ID, name, typ, want, marker, key)
	} else {
		rs, err = r.change(ctx, api, existing, want, marker, &serialBefore)
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("records"), "Cannot change the record set", err.Error())
		return
	}
	if existing != nil && dnsrecord.SameRecords(existing.Records, want.records) && want.ttl < currentTTL {
		plan.TTLLoweredAt = types.StringValue(time.Now().UTC().Format(time.RFC3339))
	}
	plan.fromRecordSet(rs, zone)
	plan.ZoneSerial = types.Int64Value(int64(zone.Serial))
	r.waitPublished(ctx, api, &plan, rs, zone, serialBefore, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// createRecordSet creates the record set of a name that had none. A create whose answer was
// lost is looked for again: a record set carrying the key is the one it made.
func (r *dnsRecordResource) createRecordSet(ctx context.Context, api *cloud.DNS, zoneID, name, typ string, want wanted, marker, key string) (*cloud.RecordSet, error) {
	rs, err := api.CreateRecordSet(ctx, zoneID, name, typ, want.records, want.ttl, marker)
	if err == nil || ctx.Err() != nil || (errors.Is(err, scaling.ErrRefused) && !cloud.IsDuplicate(err)) {
		return rs, err
	}
	found, ferr := api.FindRecordSet(ctx, zoneID, name, typ)
	if ferr == nil && found != nil {
		if _, ours := dnsrecord.ParseMarker(found.Description, key); ours {
			tflog.Warn(ctx, "record set create answered with an error, but the record set exists: adopting it",
				map[string]any{"recordset_id": found.ID, "error": err.Error()})
			return found, nil
		}
		return nil, fmt.Errorf("%w; meanwhile a record set %s appeared that this resource did not make (someone else created it): plan again to take it over", err, found.ID)
	}
	return nil, err
}

// change sends what differs (records, TTL, the marker); a record set not ACTIVE is sent again
// as it is, which makes Designate publish it again. serialBefore is set to the zone's serial
// just before the change.
func (r *dnsRecordResource) change(ctx context.Context, api *cloud.DNS, rs *cloud.RecordSet, want wanted, marker string, serialBefore *int) (*cloud.RecordSet, error) {
	var c cloud.RecordSetChange
	zone, err := api.GetZone(ctx, rs.ZoneID)
	if err != nil {
		return nil, err
	}
	*serialBefore = zone.Serial
	if !dnsrecord.SameRecords(rs.Records, want.records) || rs.Status != "ACTIVE" {
		c.Records = want.records
	}
	if effectiveTTL(rs, zone) != want.ttl || (rs.TTL == 0 && c.Records != nil && want.ttl != zone.TTL) {
		ttl := want.ttl
		c.TTL = &ttl
	}
	if rs.Description != marker {
		c.Description = &marker
	}
	if c.Records == nil && c.TTL == nil && c.Description == nil {
		*serialBefore = 0 // nothing sent: no new serial to wait for
		return rs, nil
	}
	return api.UpdateRecordSet(ctx, rs.ZoneID, rs.ID, c)
}

// waitPublished waits until the change is published. A record set left PENDING or in ERROR is
// recorded as it is, with a warning: the next apply sends the change again in place.
func (r *dnsRecordResource) waitPublished(ctx context.Context, api *cloud.DNS, m *dnsRecordModel, rs *cloud.RecordSet, zone *cloud.Zone, serialBefore int, diags *diag.Diagnostics) {
	if rs.Status == "ACTIVE" && (serialBefore == 0 || zone.Serial > serialBefore) {
		return
	}
	got, z, err := api.WaitRecordSetActive(ctx, rs.ZoneID, rs.ID, serialBefore)
	if got != nil {
		m.Status = types.StringValue(got.Status)
	}
	if z != nil {
		m.ZoneSerial = types.Int64Value(int64(z.Serial))
	}
	if err != nil {
		diags.AddAttributeWarning(path.Root("status"), fmt.Sprintf("Record set %s not published yet", m.Name.ValueString()),
			fmt.Sprintf("%v\n\nThe record set %s is recorded as %s. Resolvers may not see the change yet. Run terraform apply again: "+
				"it sends the change again and waits for it (terraform plan -detailed-exitcode exits 2 until it is ACTIVE).",
				err, rs.ID, m.Status.ValueString()))
	}
}

func (r *dnsRecordResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m dnsRecordModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := r.dns(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the DNS service", err.Error())
		return
	}
	zone, err := api.GetZone(ctx, m.ZoneID.ValueString())
	if cloud.IsNotFound(err) {
		// Without its zone the name cannot be restored: there is nothing left to manage.
		tflog.Warn(ctx, "the zone is gone; removing the record from state", map[string]any{"zone_id": m.ZoneID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("zone_id"), "Cannot read the zone", err.Error())
		return
	}
	rs, err := api.GetRecordSet(ctx, m.ZoneID.ValueString(), m.ID.ValueString())
	switch {
	case cloud.IsNotFound(err):
		// Kept, with what to restore: the next apply creates the record set again.
		m.Status = types.StringValue(dnsStatusGone)
		m.Records = stringSet([]string{})
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the record set", err.Error())
		return
	default:
		m.fromRecordSet(rs, zone)
		if m.PreviousRecords.IsNull() {
			// Just imported: the description says what the name pointed at before, if the
			// provider took it over; otherwise what it has now is what destroy restores.
			key := dnsrecord.Key(zone.ID, rs.Name, rs.Type)
			prev, ok := dnsrecord.ParseMarker(rs.Description, key)
			prevTTL := prev.TTL
			if !ok {
				prev = dnsrecord.Previous{Existed: true, Records: rs.Records, TTL: rs.TTL, Description: rs.Description}
				prevTTL = rs.TTL
			}
			if prevTTL == 0 {
				prevTTL = zone.TTL
			}
			m.setPrevious(prev, prevTTL)
			m.ZoneSerial = types.Int64Value(int64(zone.Serial))
		}
	}
	if m.RestoreOnDestroy.IsNull() {
		m.RestoreOnDestroy = types.BoolValue(true)
	}
	if m.TTLLoweredAt.IsUnknown() {
		m.TTLLoweredAt = types.StringNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *dnsRecordResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config dnsRecordModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, dnsUpdateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.dns(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the DNS service", err.Error())
		return
	}
	zone, err := api.GetZone(ctx, state.ZoneID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("zone_id"), "Cannot read the zone", err.Error())
		return
	}
	// Everything recorded about the takeover carries over.
	plan.ID, plan.ZoneID = state.ID, state.ZoneID
	plan.PreviousRecords, plan.PreviousTTL, plan.PreviousTTLFromZone, plan.PreviousDescription =
		state.PreviousRecords, state.PreviousTTL, state.PreviousTTLFromZone, state.PreviousDescription
	plan.TTLLoweredAt = state.TTLLoweredAt
	key := dnsrecord.Key(zone.ID, state.Name.ValueString(), state.Type.ValueString())
	marker := dnsrecord.Marker(key, state.previous(ctx))
	configRecords, _ := setStrings(ctx, config.Records, &resp.Diagnostics)

	rs, err := api.GetRecordSet(ctx, state.ZoneID.ValueString(), state.ID.ValueString())
	serialBefore := zone.Serial
	switch {
	case cloud.IsNotFound(err):
		if configRecords == nil {
			resp.Diagnostics.AddAttributeError(path.Root("records"), "The record set was deleted outside Terraform",
				fmt.Sprintf("%s no longer has its %s record set and records is unset, so there is nothing to put back: set records, "+
					"or remove the resource from state (terraform state rm).", state.Name.ValueString(), state.Type.ValueString()))
			return
		}
		want := desired(configRecords, config.TTL, config.LowerTTLTo, nil, 0)
		rs, err = r.createRecordSet(ctx, api, zone.ID, state.Name.ValueString(), state.Type.ValueString(), want, marker, key)
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the record set", err.Error())
		return
	default:
		before := rs
		want := desired(configRecords, config.TTL, config.LowerTTLTo, rs.Records, effectiveTTL(rs, zone))
		rs, err = r.change(ctx, api, rs, want, marker, &serialBefore)
		if err == nil && dnsrecord.SameRecords(before.Records, want.records) && want.ttl < effectiveTTL(before, zone) {
			plan.TTLLoweredAt = types.StringValue(time.Now().UTC().Format(time.RFC3339))
		}
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("records"), "Cannot change the record set", err.Error())
		return
	}
	plan.fromRecordSet(rs, zone)
	plan.ZoneSerial = types.Int64Value(int64(max(zone.Serial, serialBefore)))
	r.waitPublished(ctx, api, &plan, rs, zone, serialBefore, &resp.Diagnostics)
	if plan.LowerTTLBy.IsUnknown() {
		plan.LowerTTLBy = types.StringNull()
	}
	if plan.SwitchBy.IsUnknown() {
		plan.SwitchBy = types.StringNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *dnsRecordResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m dnsRecordModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := m.Timeouts.Delete(ctx, dnsDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := r.dns(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach the DNS service", err.Error())
		return
	}
	zoneID, id := m.ZoneID.ValueString(), m.ID.ValueString()
	rs, err := api.GetRecordSet(ctx, zoneID, id)
	switch {
	case cloud.IsNotFound(err):
		tflog.Info(ctx, "the record set is gone already", map[string]any{"recordset_id": id})
		return
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Cannot read the record set", err.Error())
		return
	}
	zone, err := api.GetZone(ctx, zoneID)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("zone_id"), "Cannot read the zone", err.Error())
		return
	}
	prev := m.previous(ctx)
	fail := func(err error) {
		resp.Diagnostics.AddAttributeError(path.Root("previous_records"), "Cannot restore the record set",
			fmt.Sprintf("%v\n\nThe resource stays in state; run terraform destroy again to send the restore again.", err))
	}
	desc := prev.Description
	switch {
	case !m.RestoreOnDestroy.ValueBool():
		if rs.Description == desc || !dnsrecord.IsMarker(rs.Description) {
			return
		}
		rs, err = api.UpdateRecordSet(ctx, zoneID, id, cloud.RecordSetChange{Description: &desc})
	case prev.Unrecorded:
		resp.Diagnostics.AddWarning("Previous records unknown: left as they are",
			fmt.Sprintf("The record set %s was taken over by an apply whose state was lost, and its description could not hold "+
				"the records it had before. It is left pointing at %s; put the previous records back by hand.", id, strings.Join(rs.Records, ", ")))
		return
	case !prev.Existed:
		if err := api.DeleteRecordSet(ctx, zoneID, id); err != nil {
			fail(err)
			return
		}
		if _, err := api.WaitRecordSetGone(ctx, zoneID, id, zone.Serial); err != nil {
			fail(fmt.Errorf("record set %s deleted, but its zone has not published it yet: %w", id, err))
		}
		return
	default:
		ttl := prev.TTL
		rs, err = api.UpdateRecordSet(ctx, zoneID, id, cloud.RecordSetChange{Records: prev.Records, TTL: &ttl, Description: &desc})
	}
	if err != nil {
		fail(err)
		return
	}
	if _, _, err := api.WaitRecordSetActive(ctx, zoneID, rs.ID, zone.Serial); err != nil {
		fail(fmt.Errorf("the previous records were sent back, but Designate has not published them yet: %w", err))
	}
}

func (r *dnsRecordResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	zoneID, id, ok := strings.Cut(req.ID, "/")
	if !ok || zoneID == "" || id == "" || strings.Contains(id, "/") {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Invalid import id",
			fmt.Sprintf("%q: expected <zone_id>/<recordset_id> (openstack recordset list <zone>)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("zone_id"), zoneID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("restore_on_destroy"), true)...)
}

// canonicalAddress writes an IP address as netip does (lower case, shortest IPv6 form).
func canonicalAddress(s string) string {
	if a, err := parseAddr(s); err == nil {
		return a
	}
	return s
}
