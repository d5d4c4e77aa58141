package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
)

// The quota readers below are read-only: they run at plan time, before anything is created.

// ProjectID is the project the token is scoped to.
func (c *Client) ProjectID(ctx context.Context) (string, error) {
	pc, err := c.Provider(ctx)
	if err != nil {
		return "", err
	}
	if res, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := res.ExtractProject(); err == nil && p != nil && p.ID != "" {
			return p.ID, nil
		}
	}
	if c.cfg.ProjectID != "" {
		return c.cfg.ProjectID, nil
	}
	return "", fmt.Errorf("the token names no project: quotas are per project")
}

// quotaDetail is one entry of Nova's and Neutron's detailed quota views.
type quotaDetail struct {
	Limit    int `json:"limit"`
	InUse    int `json:"in_use"`
	Used     int `json:"used"`
	Reserved int `json:"reserved"`
}

func (q quotaDetail) inUse() int { return max(q.InUse, q.Used) + max(q.Reserved, 0) }

func usages(service string, details map[string]quotaDetail, keep ...string) []quota.Usage {
	var out []quota.Usage
	for _, k := range keep {
		d, ok := details[k]
		if !ok {
			continue
		}
		out = append(out, quota.Usage{Service: service, Resource: k, Limit: d.Limit, InUse: d.inUse()})
	}
	return out
}

// QuotaUsage reads Nova's os-quota-sets/{project}/detail: the project's limits and what is in use.
// server_group_members is a limit per group, not per project: its in_use is meaningless and 0.
func (c *Compute) QuotaUsage(ctx context.Context, projectID string) ([]quota.Usage, error) {
	var body struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if err := getJSON(ctx, c.Client, c.Client.ServiceURL("os-quota-sets", projectID, "detail"), &body); err != nil {
		return nil, apiError("reading the compute quotas of project "+projectID, err)
	}
	details := decodeDetails(body.QuotaSet)
	out := usages(quota.Compute, details, "instances", "cores", "ram", "server_groups", "key_pairs")
	if d, ok := details["server_group_members"]; ok {
		out = append(out, quota.Usage{Service: quota.Compute, Resource: "server_group_members", Limit: d.Limit})
	}
	return out, nil
}

// decodeDetails reads {"name": {"limit", "in_use", "reserved"}} entries, skipping the others
// ("id", or a plain number from a cloud without the detail extension).
func decodeDetails(raw map[string]any) map[string]quotaDetail {
	out := map[string]quotaDetail{}
	for k, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		num := func(key string) int {
			n, _ := jsonInt(m[key])
			return n
		}
		out[k] = quotaDetail{Limit: num("limit"), InUse: num("in_use"), Used: num("used"), Reserved: num("reserved")}
	}
	return out
}

// QuotaUsage reads Neutron's quotas/{project}/details.
func (n *Network) QuotaUsage(ctx context.Context, projectID string) ([]quota.Usage, error) {
	var body struct {
		Quota map[string]any `json:"quota"`
	}
	if err := getJSON(ctx, n.Client, n.Client.ServiceURL("quotas", projectID, "details.json"), &body); err != nil {
		return nil, apiError("reading the network quotas of project "+projectID, err)
	}
	return usages(quota.Network, decodeDetails(body.Quota), "floatingip", "security_group", "security_group_rule", "port"), nil
}

// QuotaUsage reads Octavia's quotas/{project}. Octavia reports limits only, so what is in use is
// counted from the project's objects (pools carry their member ids).
func (l *LoadBalancer) QuotaUsage(ctx context.Context, projectID string) ([]quota.Usage, error) {
	var body struct {
		Quota map[string]*int `json:"quota"`
	}
	if err := getJSON(ctx, l.Client, l.Client.ServiceURL("quotas", projectID), &body); err != nil {
		return nil, apiError("reading the load-balancer quotas of project "+projectID, err)
	}
	limit := func(names ...string) int {
		for _, n := range names {
			if v, ok := body.Quota[n]; ok && v != nil {
				return *v
			}
		}
		return quota.Unlimited
	}
	type counted struct {
		path  string
		key   string
		count func(items []map[string]any) int
	}
	length := func(items []map[string]any) int { return len(items) }
	members := func(items []map[string]any) int {
		n := 0
		for _, it := range items {
			ms, _ := it["members"].([]any)
			n += len(ms)
		}
		return n
	}
	inUse := map[string]int{}
	for _, c := range []counted{
		{"loadbalancers", "load_balancer", length}, {"listeners", "listener", length},
		{"pools", "pool", length}, {"healthmonitors", "health_monitor", length}, {"pools", "member", members},
	} {
		items, err := l.listRaw(ctx, c.path, projectID)
		if err != nil {
			return nil, err
		}
		inUse[c.key] += c.count(items)
	}
	out := []quota.Usage{
		{Service: quota.LoadBalancer, Resource: "load_balancer", Limit: limit("loadbalancer", "load_balancer"), InUse: inUse["load_balancer"]},
		{Service: quota.LoadBalancer, Resource: "listener", Limit: limit("listener"), InUse: inUse["listener"]},
		{Service: quota.LoadBalancer, Resource: "pool", Limit: limit("pool"), InUse: inUse["pool"]},
		{Service: quota.LoadBalancer, Resource: "health_monitor", Limit: limit("healthmonitor", "health_monitor"), InUse: inUse["health_monitor"]},
		{Service: quota.LoadBalancer, Resource: "member", Limit: limit("member"), InUse: inUse["member"]},
	}
	return out, nil
}

// listRaw lists one Octavia collection of the project, following pagination.
func (l *LoadBalancer) listRaw(ctx context.Context, collection, projectID string) ([]map[string]any, error) {
	url := l.Client.ServiceURL(collection) + "?project_id=" + projectID
	var all []map[string]any
	for url != "" {
		var body map[string]any
		if err := getJSON(ctx, l.Client, url, &body); err != nil {
			return nil, apiError("listing "+collection+" to count what is in use", err)
		}
		items, _ := body[collection].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok && m["provisioning_status"] != "DELETED" {
				all = append(all, m)
			}
		}
		url = nextLink(body[collection+"_links"])
	}
	return all, nil
}

func nextLink(v any) string {
	links, _ := v.([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if m["rel"] == "next" {
			s, _ := m["href"].(string)
			return s
		}
	}
	return ""
}

// QuotaUsage reads Trove's absolute limits (max_instances, max_volumes in GB) and counts what the
// project's instances use, since the limits carry no usage.
func (d *Database) QuotaUsage(ctx context.Context) ([]quota.Usage, error) {
	var body struct {
		Limits []map[string]any `json:"limits"`
	}
	if err := getJSON(ctx, d.Client, d.Client.ServiceURL("limits"), &body); err != nil {
		return nil, apiError("reading the database limits", err)
	}
	var abs map[string]any
	for _, l := range body.Limits {
		if l["verb"] == "ABSOLUTE" {
			abs = l
		}
	}
	if abs == nil {
		return nil, fmt.Errorf("reading the database limits: Trove's answer has no ABSOLUTE limits")
	}
	num := func(k string) int {
		n, ok := jsonInt(abs[k])
		if !ok {
			return quota.Unlimited
		}
		return n
	}
	all, err := d.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	volumes := 0
	for _, in := range all {
		volumes += in.VolumeGB
	}
	return []quota.Usage{
		{Service: quota.Database, Resource: "instances", Limit: num("max_instances"), InUse: len(all)},
		{Service: quota.Database, Resource: "volumes", Limit: num("max_volumes"), InUse: volumes},
	}, nil
}

// FlavorSize returns the vCPUs and RAM (MiB) of a flavor given by id or name.
func (c *Compute) FlavorSize(ctx context.Context, idOrName string) (vcpus, ramMiB int, err error) {
	id, err := c.ResolveFlavor(ctx, idOrName)
	if err != nil {
		return 0, 0, err
	}
	var body struct {
		Flavor struct {
			VCPUs int `json:"vcpus"`
			RAM   int `json:"ram"`
		} `json:"flavor"`
	}
	if err := getJSON(ctx, c.Client, c.Client.ServiceURL("flavors", id), &body); err != nil {
		return 0, 0, apiError("reading flavor "+id, err)
	}
	return body.Flavor.VCPUs, body.Flavor.RAM, nil
}

// ServerGroupSizes returns how many members each server group named in names has.
func (c *Compute) ServerGroupSizes(ctx context.Context, names ...string) (map[string]int, error) {
	var body struct {
		ServerGroups []struct {
			Name    string   `json:"name"`
			Members []string `json:"members"`
		} `json:"server_groups"`
	}
	if err := getJSON(ctx, c.Client, c.Client.ServiceURL("os-server-groups"), &body); err != nil {
		return nil, apiError("listing server groups", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]int{}
	for _, g := range body.ServerGroups {
		if want[g.Name] {
			out[g.Name] = len(g.Members)
		}
	}
	return out, nil
}

// jsonInt reads a JSON number decoded either as float64 or, as gophercloud decodes into
// interfaces, as json.Number.
func jsonInt(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			f, ferr := n.Float64()
			return int(f), ferr == nil
		}
		return int(i), true
	}
	return 0, false
}

// SortedUsages orders usages by service then resource, for stable output.
func SortedUsages(us []quota.Usage) []quota.Usage {
	out := append([]quota.Usage(nil), us...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}
