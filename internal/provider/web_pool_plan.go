package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// ModifyPlan says at plan time everything the plan can know: unknown flavors, images, networks
// and pools are refused (read-only calls) before anything is created; the nodes a scale-out adds
// are listed by name next to the nodes it keeps; a shrink or destroy lists the nodes to be
// drained, in order; and the freeze window is enforced.
func (r *webPoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state *webPoolModel
	if !req.State.Raw.IsNull() {
		state = &webPoolModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if req.Plan.Raw.IsNull() { // destroy
		if err := checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddError("Destroying the web pool is frozen during the event", err.Error())
			return
		}
		r.warnScaleBack(ctx, state, nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics), 0, resp)
		return
	}
	if state != nil && req.Plan.Raw.Equal(req.State.Raw) {
		known := nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics)
		if !idleNodes(state, known) || checkFreeze(state.EventID, state.AllowDuringEvent, time.Now()) != nil {
			return // nothing changes (or waits until the event is over)
		}
		// The size matches, but a node exists that does not serve: its member was removed, or
		// it was drained, by a run that stopped half-way, or its server is in ERROR. The apply
		// finishes it (deletes it, or puts it back in service), so the plan must show one.
	}
	var plan webPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if si := plan.ScaleIn; si != nil && !si.BatchSize.IsNull() && !si.BatchSize.IsUnknown() && !plan.Size.IsUnknown() &&
		si.BatchSize.ValueInt64() > plan.Size.ValueInt64() && plan.Size.ValueInt64() > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("scale_in").AtName("batch_size"), "batch_size larger than size",
			fmt.Sprintf("scale_in.batch_size = %d is larger than size = %d: a scale-back of this pool drains every node at once, "+
				"with no node left serving while they drain.", si.BatchSize.ValueInt64(), plan.Size.ValueInt64()))
	}
	flavorName, exact := r.checkAtPlan(ctx, &plan, state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Size.IsUnknown() || plan.ImageID.IsUnknown() || plan.Name.IsUnknown() {
		return
	}
	var known []scaling.Node
	if state != nil {
		known = nodesFromState(ctx, state.Name.ValueString(), state.Nodes, &resp.Diagnostics)
	}
	if plan.Size.ValueInt64() < int64(len(known)) {
		if err := checkFreeze(plan.EventID, plan.AllowDuringEvent, time.Now()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("size"), "Shrinking is frozen during the event", err.Error())
			return
		}
	}
	hadGroup := state != nil && state.SecurityGroupID.ValueString() != ""
	switch {
	case !plan.CreateSecGroup.ValueBool() && !plan.CreateSecGroup.IsUnknown():
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("security_group_id"), types.StringValue(""))...)
	case !hadGroup:
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("security_group_id"), types.StringUnknown())...)
		if r.data != nil {
			r.data.preflight(ctx, path.Root("create_security_group"), fmt.Sprintf("the security group of web pool %q", plan.Name.ValueString()),
				[]quota.Need{
					{Service: quota.Network, Resource: "security_group", Count: 1, Why: "the members' security group"},
					// The ingress rule, and the two egress rules Neutron gives every new group.
					{Service: quota.Network, Resource: "security_group_rule", Count: 3, Why: "the members' security group rules"},
				}, &resp.Diagnostics)
		}
	}
	r.preflight(ctx, &plan, state, known, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, opts := plan.previewSpec(ctx, flavorName)
	steps := scaling.Preview(spec, opts, known, int(plan.Size.ValueInt64()))
	if exact {
		var order []string
		if state != nil {
			order = nodeNames(ctx, state.Nodes)
		}
		outcome := inOrder(order, scaling.Outcome(known, steps), func(p scaling.PlannedNode) string { return p.Name })
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("nodes"), plannedNodes(outcome))...)
	} else if state != nil && idleNodes(state, known) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("nodes"), types.ListUnknown(nodeObjectType))...)
	}
	warnSteps(&plan, steps, resp)
}

// idleNodes says whether a node exists that does not serve: a server without a member, one in
// ERROR, or a member left drained. The refresh counts in size only the nodes that serve.
func idleNodes(state *webPoolModel, known []scaling.Node) bool {
	return len(known) > inService(known) || int64(len(known)) > state.Size.ValueInt64()
}

// previewSpec is the part of the pool's spec a plan depends on.
func (m *webPoolModel) previewSpec(ctx context.Context, flavorName string) (scaling.PoolSpec, scaling.Options) {
	var ignored diag.Diagnostics
	return scaling.PoolSpec{NamePrefix: m.Name.ValueString(), ImageID: m.ImageID.ValueString(), FlavorName: flavorName},
		m.options(ctx, &ignored)
}

// plannedNodes renders a plan's outcome: a node kept shows what will not change (its server,
// address, member and creation time), its status and operating status are left to the apply;
// a node created shows its name.
func plannedNodes(out []scaling.PlannedNode) types.List {
	known := func(s string) types.String {
		if s == "" {
			return types.StringUnknown()
		}
		return types.StringValue(s)
	}
	vals := make([]attr.Value, 0, len(out))
	for _, pn := range out {
		v := map[string]attr.Value{
			"name": types.StringValue(pn.Name), "id": types.StringUnknown(), "address": types.StringUnknown(),
			"member_id": types.StringUnknown(), "status": types.StringUnknown(), "image_id": types.StringUnknown(),
			"flavor": types.StringUnknown(), "operating_status": types.StringUnknown(), "created_at": types.StringUnknown(),
			"drained": types.BoolUnknown(),
		}
		if n := pn.Existing; n != nil {
			v["id"], v["address"], v["member_id"] = types.StringValue(n.ServerID), known(n.Address), known(n.MemberID)
			v["image_id"], v["flavor"], v["created_at"] = known(n.ImageID), known(n.Flavor), known(createdAt(n.Created))
		}
		vals = append(vals, types.ObjectValueMust(nodeAttrTypes, v))
	}
	return types.ListValueMust(nodeObjectType, vals)
}

// checkAtPlan resolves, with read-only calls, what Nova and Octavia would otherwise refuse only
// once other servers exist. It checks what the plan creates or changes, and returns the
// flavor's name, which tells which nodes a flavor change replaces. exact is false when the
// cloud cannot be asked, and the plan then leaves the node list to the apply.
func (r *webPoolResource) checkAtPlan(ctx context.Context, plan, state *webPoolModel, diags *diag.Diagnostics) (flavorName string, exact bool) {
	if r.data == nil || plan.Flavor.IsUnknown() {
		return "", false
	}
	changed := func(get func(*webPoolModel) attr.Value) bool {
		v := get(plan)
		return !v.IsUnknown() && !v.IsNull() && (state == nil || !v.Equal(get(state)))
	}
	var api *webPoolAPI
	var apiDiags diag.Diagnostics
	if api = r.api(ctx, plan.LoadBalancerID.ValueString(), &apiDiags); api == nil {
		diags.AddWarning("Web pool not checked against the cloud at plan time", diagsText(apiDiags))
		return "", false
	}
	// unchecked turns an error other than "not there" into a warning: the plan could not look.
	unchecked := func(attrPath path.Path, err error) {
		diags.AddAttributeWarning(attrPath, "Not checked at plan time", err.Error())
	}

	flavorName, err := api.compute.FlavorName(ctx, plan.Flavor.ValueString())
	exact = err == nil
	switch {
	case err == nil:
	case cloud.IsNotFound(err) || strings.Contains(err.Error(), "no flavor with"):
		diags.AddAttributeError(path.Root("flavor"), "Unknown flavor", err.Error())
	default:
		unchecked(path.Root("flavor"), err)
	}

	if changed(func(m *webPoolModel) attr.Value { return m.ImageID }) {
		r.checkImageAtPlan(ctx, plan.ImageID.ValueString(), diags)
	}
	if changed(func(m *webPoolModel) attr.Value { return m.Networks }) {
		for i, n := range stringList(ctx, plan.Networks, diags) {
			if _, err := api.network.ResolveNetwork(ctx, n); err != nil {
				if cloud.StatusCode(err) >= 500 || cloud.StatusCode(err) == 403 {
					unchecked(path.Root("networks").AtListIndex(i), err)
					continue
				}
				diags.AddAttributeError(path.Root("networks").AtListIndex(i), "Unknown network", err.Error())
			}
		}
	}
	if changed(func(m *webPoolModel) attr.Value { return m.KeyPair }) {
		ok, err := api.compute.KeyPairExists(ctx, plan.KeyPair.ValueString())
		switch {
		case err != nil:
			unchecked(path.Root("key_pair"), err)
		case !ok:
			diags.AddAttributeError(path.Root("key_pair"), "Unknown key pair",
				fmt.Sprintf("no key pair named %q belongs to the user (openstack keypair list)", plan.KeyPair.ValueString()))
		}
	}
	if changed(func(m *webPoolModel) attr.Value { return m.SecurityGroups }) {
		missing, err := api.network.MissingSecurityGroups(ctx, stringList(ctx, plan.SecurityGroups, diags))
		switch {
		case err != nil:
			unchecked(path.Root("security_groups"), err)
		case len(missing) > 0:
			diags.AddAttributeError(path.Root("security_groups"), "Unknown security group",
				fmt.Sprintf("no security group of the project has the name or id %s", strings.Join(quoted(missing), ", ")))
		}
	}
	if changed(func(m *webPoolModel) attr.Value { return m.AvailabilityZones }) {
		zones, err := api.compute.AvailabilityZones(ctx)
		if err != nil {
			unchecked(path.Root("availability_zones"), err)
		} else {
			for i, z := range stringList(ctx, plan.AvailabilityZones, diags) {
				if !slices.Contains(zones, z) {
					diags.AddAttributeError(path.Root("availability_zones").AtListIndex(i), "Unknown availability zone",
						fmt.Sprintf("%q is not an available compute zone; the cloud has %s", z, strings.Join(quoted(zones), ", ")))
				}
			}
		}
	}
	if state == nil && !plan.PoolID.IsUnknown() && !plan.LoadBalancerID.IsUnknown() {
		if _, err := api.lb.GetLoadBalancer(ctx, plan.LoadBalancerID.ValueString()); err != nil {
			if cloud.IsNotFound(err) {
				diags.AddAttributeError(path.Root("load_balancer_id"), "Unknown load balancer", err.Error())
			} else {
				unchecked(path.Root("load_balancer_id"), err)
			}
		} else if err := api.lb.CheckPool(ctx, plan.PoolID.ValueString(), plan.LoadBalancerID.ValueString()); err != nil {
			if cloud.StatusCode(err) >= 500 {
				unchecked(path.Root("pool_id"), err)
			} else {
				diags.AddAttributeError(path.Root("pool_id"), "Unknown pool", err.Error())
			}
		}
	}
	if changed(func(m *webPoolModel) attr.Value { return m.SubnetID }) {
		ok, err := api.network.SubnetExists(ctx, plan.SubnetID.ValueString())
		switch {
		case err != nil:
			unchecked(path.Root("subnet_id"), err)
		case !ok:
			diags.AddAttributeError(path.Root("subnet_id"), "Unknown subnet",
				fmt.Sprintf("no subnet %s is visible to the project", plan.SubnetID.ValueString()))
		}
	}
	return flavorName, exact && !diags.HasError()
}

// checkImageAtPlan refuses an image that does not exist or failed; one still saving is a warning,
// since a seed image resumed by the same apply becomes active before the pool needs it.
func (r *webPoolResource) checkImageAtPlan(ctx context.Context, id string, diags *diag.Diagnostics) {
	at := path.Root("image_id")
	imgs, err := r.data.client.Images(ctx)
	if err != nil {
		diags.AddAttributeWarning(at, "Not checked at plan time", err.Error())
		return
	}
	img, err := imgs.GetImage(ctx, id)
	switch {
	case cloud.IsNotFound(err):
		diags.AddAttributeError(at, "Unknown image", fmt.Sprintf("no image %s is visible to the project", id))
	case err != nil:
		diags.AddAttributeWarning(at, "Not checked at plan time", err.Error())
	case img.Status == "killed" || img.Status == "deleted" || img.Status == "pending_delete" || img.Status == "deactivated":
		diags.AddAttributeError(at, "Image unusable", fmt.Sprintf("image %s (%s) is %s: Nova cannot build servers from it", id, img.Name, img.Status))
	case img.Status != "active":
		diags.AddAttributeWarning(at, "Image not active yet",
			fmt.Sprintf("image %s (%s) is %s; the apply creates no server until it is active", id, img.Name, img.Status))
	}
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func diagsText(d diag.Diagnostics) string {
	var parts []string
	for _, x := range d {
		parts = append(parts, x.Summary()+": "+x.Detail())
	}
	return strings.Join(parts, "; ")
}

// warnScaleBack shows the scale-back before it happens: the steps that drain, in order.
func (r *webPoolResource) warnScaleBack(ctx context.Context, m *webPoolModel, known []scaling.Node, desired int, resp *resource.ModifyPlanResponse) {
	spec, opts := m.previewSpec(ctx, "")
	warnSteps(m, scaling.Preview(spec, opts, known, desired), resp)
}

func warnSteps(m *webPoolModel, steps []scaling.Step, resp *resource.ModifyPlanResponse) {
	var lines []string
	drains := 0
	for _, st := range steps {
		if st.Kind == scaling.StepDrain {
			drains++
		}
		lines = append(lines, fmt.Sprintf("%2d. %s", len(lines)+1, st.String()))
	}
	if drains == 0 {
		return
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("Web pool %q: staggered scale-back of %d step(s) with draining", m.Name.ValueString(), drains),
		"These steps will run in this order, stopping at the first failure:\n"+strings.Join(lines, "\n"))
}

// preflight checks, before anything is created, that the project's quotas hold what the plan
// adds: servers (instances, cores, RAM), their ports, members, and server groups; and says when
// the pool will be spread over several server groups.
func (r *webPoolResource) preflight(ctx context.Context, plan, state *webPoolModel, known []scaling.Node, resp *resource.ModifyPlanResponse) {
	if r.data == nil || plan.Flavor.IsUnknown() || plan.Networks.IsUnknown() {
		return
	}
	size := int(plan.Size.ValueInt64())
	servers, members := 0, 0
	for _, n := range known {
		if n.ServerID != "" {
			servers++
		}
		if n.MemberID != "" {
			members++
		}
	}
	adds := max(0, size-servers)
	if state != nil && servers > 0 && (!plan.ImageID.Equal(state.ImageID) || !plan.Flavor.Equal(state.Flavor)) {
		// A rolling replacement builds a batch before it drains one.
		batch := 1
		if si := plan.ScaleIn; si != nil && !si.BatchSize.IsNull() && !si.BatchSize.IsUnknown() {
			batch = int(si.BatchSize.ValueInt64())
		}
		adds = max(adds, min(batch, size))
	}
	if policy := plan.ServerGroupPolicy.ValueString(); policy != "" {
		groups, perGroup := r.serverGroupsFor(ctx, size)
		var have []string
		if state != nil {
			have = stringList(ctx, state.ServerGroupIDs, &resp.Diagnostics)
		}
		if groups > len(have) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("server_group_ids"), types.ListUnknown(types.StringType))...)
			if len(have) == 0 {
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("server_group_id"), types.StringUnknown())...)
			}
		}
		if groups > 1 {
			resp.Diagnostics.AddAttributeWarning(path.Root("server_group_policy"), "Nodes spread over several server groups",
				fmt.Sprintf("size = %d is more than one server group may hold (the project's server_group_members quota is %d): the nodes "+
					"are spread over %d server groups of policy %s (%s), each new node joining the emptiest. %s holds within each group, "+
					"not across them; ask for server_group_members %d to keep one group.",
					size, perGroup, groups, policy, strings.Join(serverGroupNames(plan.Name.ValueString(), groups), ", "), policy, size))
		}
		if extra := groups - len(have); extra > 0 {
			r.data.preflight(ctx, path.Root("server_group_policy"), fmt.Sprintf("the server groups of web pool %q", plan.Name.ValueString()),
				[]quota.Need{{Service: quota.Compute, Resource: "server_groups", Count: extra, Why: fmt.Sprintf("%d server group(s) for %d nodes", extra, size)}},
				&resp.Diagnostics)
		}
	}
	if adds == 0 {
		return
	}
	api := r.api(ctx, plan.LoadBalancerID.ValueString(), &diag.Diagnostics{})
	if api == nil {
		return
	}
	vcpus, ram, err := api.compute.FlavorSize(ctx, plan.Flavor.ValueString())
	if err != nil {
		return // checkAtPlan reported the flavor
	}
	flavor := plan.Flavor.ValueString()
	nets := len(stringList(ctx, plan.Networks, &resp.Diagnostics))
	why := fmt.Sprintf("%d web node(s) of flavor %s", adds, flavor)
	needs := []quota.Need{
		{Service: quota.Compute, Resource: "instances", Count: adds, Why: why},
		{Service: quota.Compute, Resource: "cores", Count: adds * vcpus, Why: fmt.Sprintf("%s, %d vCPU each", why, vcpus)},
		{Service: quota.Compute, Resource: "ram", Count: adds * ram, Why: fmt.Sprintf("%s, %d MiB each", why, ram)},
		{Service: quota.Network, Resource: "port", Count: adds * nets, Why: fmt.Sprintf("%s on %d network(s)", why, nets)},
		{Service: quota.LoadBalancer, Resource: "member", Count: max(0, size-members), Why: fmt.Sprintf("%d new member(s) of pool %s", max(0, size-members), plan.PoolID.ValueString())},
	}
	r.data.preflight(ctx, path.Root("size"), fmt.Sprintf("web pool %q at size %d", plan.Name.ValueString(), size), needs, &resp.Diagnostics)
}
