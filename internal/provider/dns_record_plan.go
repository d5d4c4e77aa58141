package provider

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/dnsrecord"
)

// dnsFQDN accepts a name that ends with a dot and has no white space.
var dnsFQDN = regexp.MustCompile(`^[^\s]+\.$`)

func parseAddr(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// dnsNow is the record set a plan starts from: live at create, from state afterwards.
type dnsNow struct {
	records  []string
	ttl      int
	prevTTL  int // what resolvers were given before the takeover; 0 when the name had none
	lowered  time.Time
	existing bool
}

// ModifyPlan runs the pre-flight of a new record (read-only), works out the TTL the apply sets
// and the two moments of the switch, warns when resolvers could still hold the old address at
// the start, and plans a resume while the record set is not published.
func (r *dnsRecordResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, config dnsRecordModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	configRecords, recordsKnown := setStrings(ctx, config.Records, &resp.Diagnostics)

	var now dnsNow
	var ok bool
	if req.State.Raw.IsNull() {
		now, ok = r.preflight(ctx, &plan, configRecords == nil && recordsKnown, &resp.Diagnostics)
		if !ok {
			return
		}
	} else {
		var state dnsRecordModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		now = dnsNow{ttl: int(state.TTL.ValueInt64()), prevTTL: int(state.PreviousTTL.ValueInt64()), existing: true}
		now.records, _ = setStrings(ctx, state.Records, &resp.Diagnostics)
		if t, err := time.Parse(time.RFC3339, state.TTLLoweredAt.ValueString()); err == nil {
			now.lowered = t
		}
		// A record set not published, or gone, is sent again: its status is known after apply.
		if state.Status.ValueString() != "ACTIVE" {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("zone_serial"), types.Int64Unknown())...)
		}
	}

	// The TTL and records this apply sets, when they can be known at plan time.
	switching := false
	if recordsKnown {
		want := desired(configRecords, config.TTL, config.LowerTTLTo, now.records, now.ttl)
		if now.existing || req.State.Raw.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("ttl"), types.Int64Value(int64(want.ttl)))...)
		}
		if configRecords != nil {
			switching = !dnsrecord.SameRecords(configRecords, now.records)
		}
		changes := switching || want.ttl != now.ttl
		if changes && !req.State.Raw.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("zone_serial"), types.Int64Unknown())...)
			if !switching && want.ttl < now.ttl {
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("ttl_lowered_at"), types.StringUnknown())...)
			}
		}
		if configRecords == nil && now.existing {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("records"), stringSet(now.records))...)
		}
	} else {
		switching = true // addresses known only after apply (e.g. a floating IP made in the same apply)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("zone_serial"), types.Int64Unknown())...)
	}

	lowerBy, switchBy := types.StringNull(), types.StringNull()
	if plan.StartsAt.IsUnknown() || config.LowerTTLTo.IsUnknown() {
		lowerBy, switchBy = types.StringUnknown(), types.StringUnknown()
	} else if starts, err := time.Parse(time.RFC3339, plan.StartsAt.ValueString()); err == nil {
		timing := dnsrecord.Timing{StartsAt: starts, PreviousTTL: seconds(now.prevTTL), LowTTL: seconds(now.prevTTL)}
		if !config.LowerTTLTo.IsNull() && int(config.LowerTTLTo.ValueInt64()) < now.prevTTL {
			timing.LowTTL = seconds(int(config.LowerTTLTo.ValueInt64()))
		}
		if by, ok := timing.LowerBy(); ok {
			lowerBy = types.StringValue(by.UTC().Format(time.RFC3339))
		}
		switchBy = types.StringValue(timing.SwitchBy().UTC().Format(time.RFC3339))
		wantTTL := now.ttl
		if configRecords == nil && !config.LowerTTLTo.IsNull() {
			wantTTL = int(config.LowerTTLTo.ValueInt64())
		}
		// The check measures against the TTL the configuration aims for, or, without one, a
		// suggestion: five minutes is short enough for a switch shortly before the start.
		check := dnsrecord.Timing{StartsAt: starts, PreviousTTL: seconds(now.prevTTL), LowTTL: seconds(min(now.prevTTL, suggestedLowTTL))}
		for _, v := range []types.Int64{config.LowerTTLTo, config.TTL} {
			if !v.IsNull() && !v.IsUnknown() {
				check.LowTTL = seconds(int(v.ValueInt64()))
				break
			}
		}
		advice := check.Check(dnsrecord.Now{
			At: time.Now(), CurrentTTL: seconds(now.ttl), LoweredAt: now.lowered, Name: plan.Name.ValueString(),
			Switching: switching && now.existing,
			Switched:  now.existing && configRecords != nil && !switching && !dnsrecord.SameRecords(now.records, previousRecords(ctx, req, now)),
			Lowering:  !switching && wantTTL < now.ttl,
		})
		for _, a := range advice {
			resp.Diagnostics.AddAttributeWarning(path.Root("starts_at"), a.Summary, a.Detail)
		}
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("lower_ttl_by"), lowerBy)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("switch_by"), switchBy)...)
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// suggestedLowTTL is the TTL the plan-time check suggests lowering to when the configuration
// names none (seconds).
const suggestedLowTTL = 300

// previousRecords is what the name pointed at before the takeover: from state, or, before the
// takeover, what it points at now.
func previousRecords(ctx context.Context, req resource.ModifyPlanRequest, now dnsNow) []string {
	if req.State.Raw.IsNull() {
		return now.records
	}
	var prev types.List
	req.State.GetAttribute(ctx, path.Root("previous_records"), &prev)
	var out []string
	if !prev.IsNull() && !prev.IsUnknown() {
		_ = prev.ElementsAs(ctx, &out, false)
	}
	return out
}

// preflight checks, read-only, that the record can be managed, and reads the record set as it is.
// What it cannot check without writing: Designate's policy for the project's role, and the
// zone's record quotas.
func (r *dnsRecordResource) preflight(ctx context.Context, plan *dnsRecordModel, lowerOnly bool, diags *diag.Diagnostics) (dnsNow, bool) {
	if r.data == nil || r.data.client == nil || plan.ZoneName.IsUnknown() || plan.Name.IsUnknown() || plan.Type.IsUnknown() {
		return dnsNow{}, false
	}
	zoneName, name, typ := plan.ZoneName.ValueString(), plan.Name.ValueString(), plan.Type.ValueString()
	api, err := r.dns(ctx)
	if err != nil {
		diags.AddAttributeError(path.Root("zone_name"), "No DNS service", err.Error()+" (Designate is needed to manage records)")
		return dnsNow{}, false
	}
	zone, err := api.FindZone(ctx, zoneName)
	switch {
	case err != nil:
		diags.AddAttributeWarning(path.Root("zone_name"), "Not checked at plan time", err.Error())
		return dnsNow{}, false
	case zone == nil:
		diags.AddAttributeError(path.Root("zone_name"), "Unknown zone",
			fmt.Sprintf("no zone %s is visible to the project (openstack zone list): create it, or ask its owner to share it", zoneName))
		return dnsNow{}, false
	}
	if !r.checkZone(ctx, zone, diags) {
		return dnsNow{}, false
	}
	all, err := api.RecordSetsNamed(ctx, zone.ID, name)
	if err != nil {
		diags.AddAttributeWarning(path.Root("name"), "Not checked at plan time", err.Error())
		return dnsNow{}, false
	}
	var existing *cloud.RecordSet
	for i := range all {
		switch all[i].Type {
		case "CNAME":
			diags.AddAttributeError(path.Root("name"), "A CNAME holds the name",
				fmt.Sprintf("%s has a CNAME record set (%s) in zone %s: DNS allows no other record beside it. Delete the CNAME first.",
					name, strings.Join(all[i].Records, ", "), zoneName))
			return dnsNow{}, false
		case typ:
			existing = &all[i]
		}
	}
	if existing == nil && lowerOnly {
		diags.AddAttributeError(path.Root("records"), "Nothing to point the name at",
			fmt.Sprintf("%s has no %s record set in zone %s, so there is no TTL to lower: set records.", name, typ, zoneName))
		return dnsNow{}, false
	}
	now := dnsNow{ttl: zone.TTL, existing: existing != nil}
	if existing != nil {
		now.records, now.ttl = existing.Records, effectiveTTL(existing, zone)
		now.prevTTL = now.ttl
		if prev, ok := dnsrecord.ParseMarker(existing.Description, dnsrecord.Key(zone.ID, name, typ)); ok && prev.Existed {
			now.prevTTL = prev.TTL
			if now.prevTTL == 0 {
				now.prevTTL = zone.TTL
			}
		}
	}
	return now, true
}

// checkZone refuses a zone the project cannot change record sets in.
func (r *dnsRecordResource) checkZone(ctx context.Context, zone *cloud.Zone, diags *diag.Diagnostics) bool {
	attr := path.Root("zone_name")
	switch {
	case zone.Action == "DELETE":
		diags.AddAttributeError(attr, "Zone being deleted", fmt.Sprintf("zone %s (%s) is being deleted (action DELETE)", zone.Name, zone.ID))
		return false
	case strings.EqualFold(zone.Type, "SECONDARY"):
		diags.AddAttributeError(attr, "Secondary zone",
			fmt.Sprintf("zone %s is a secondary zone, transferred from its masters (%s): its record sets are changed there, not in Designate",
				zone.Name, strings.Join(zone.Masters, ", ")))
		return false
	case zone.Status == "ERROR":
		diags.AddAttributeWarning(attr, "Zone in ERROR",
			fmt.Sprintf("zone %s is in ERROR: Designate failed to publish an earlier change to its name servers; changes to it may not be published either", zone.Name))
	}
	project, err := r.data.client.ProjectID(ctx)
	if err == nil && zone.ProjectID != "" && zone.ProjectID != project {
		diags.AddAttributeError(attr, "Zone owned by another project",
			fmt.Sprintf("zone %s belongs to project %s, not to this project (%s): it is visible (shared), but only its owner may change its record sets", zone.Name, zone.ProjectID, project))
		return false
	}
	return true
}
