package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/review"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// ReviewRecords reads what the cloud itself remembers of an event, for the review after
// it when the provider's journal is gone (review.CloudRecords). It only reads: Nova's
// servers changed since a time (deleted ones included) and their instance actions,
// Glance's server images and Trove's backups created since then, and Octavia's objects
// with their timestamps.
type ReviewRecords struct {
	Compute *gophercloud.ServiceClient // microversion 2.21 or later: actions of deleted servers
	Image   *gophercloud.ServiceClient
	// LoadBalancer and Database are nil on a cloud without Octavia or Trove.
	LoadBalancer *gophercloud.ServiceClient
	Database     *gophercloud.ServiceClient
	// Pools are web pools to recognise beyond those a live server names. Nova forgets a
	// deleted server's metadata (its changes-since listing shows {}), so a deleted node is
	// known by its name, <pool>-NN, for a pool that a live node names or that is listed here.
	Pools []string
	// LoadBalancerIDs limits the Octavia objects to these load balancers; every load
	// balancer of the project when empty.
	LoadBalancerIDs []string

	mu      sync.Mutex
	learned []string // pools named by live servers' metadata
}

var _ review.CloudRecords = (*ReviewRecords)(nil)

// ReviewRecords returns the reader of the cloud's records. Octavia and Trove are used when
// the catalog has them.
func (c *Client) ReviewRecords(ctx context.Context, pools []string) (*ReviewRecords, error) {
	compute, err := c.ServiceClient(ctx, ServiceCompute)
	if err != nil {
		return nil, err
	}
	img, err := c.ServiceClient(ctx, ServiceImage)
	if err != nil {
		return nil, err
	}
	rr := &ReviewRecords{Compute: compute, Image: img, Pools: pools}
	if lb, err := c.ServiceClient(ctx, ServiceLoadBalancer); err == nil {
		rr.LoadBalancer = lb
	} else if !isNoEndpoint(err) {
		return nil, err
	}
	if db, err := c.ServiceClient(ctx, ServiceDatabase); err == nil {
		rr.Database = db
	} else if !isNoEndpoint(err) {
		return nil, err
	}
	return rr, nil
}

// isNoEndpoint says whether ServiceClient failed because the catalog lacks the service.
func isNoEndpoint(err error) bool {
	var notFound *gophercloud.ErrEndpointNotFound
	return errors.As(err, &notFound) || errors.As(err, new(gophercloud.ErrEndpointNotFound)) ||
		strings.Contains(err.Error(), "catalog has no")
}

// Servers lists the web pools' servers changed since since, deleted ones included (with
// since zero, Nova lists only the servers that exist).
func (r *ReviewRecords) Servers(ctx context.Context, since time.Time) ([]review.CloudServer, error) {
	opts := servers.ListOpts{}
	if !since.IsZero() {
		opts.ChangesSince = since.UTC().Format(time.RFC3339)
	}
	pages, err := servers.List(r.Compute, opts).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing servers changed since "+opts.ChangesSince, err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, apiError("reading the server list", err)
	}
	toCloud := func(s servers.Server, pool string) review.CloudServer {
		return review.CloudServer{ID: s.ID, Name: s.Name, Pool: pool, Status: s.Status, Created: s.Created, Updated: s.Updated, Fault: s.Fault.Message}
	}
	pools := map[string]bool{}
	var out []review.CloudServer
	var forgotten []servers.Server
	for _, s := range all {
		pool := s.Metadata[scaling.MetaPool]
		switch {
		case s.Metadata[scaling.MetaManagedBy] == scaling.ManagedByValue && pool != "":
			pools[pool] = true
			out = append(out, toCloud(s, pool))
		case len(s.Metadata) == 0 && s.Status == "DELETED":
			forgotten = append(forgotten, s)
		}
	}
	for _, p := range r.Pools {
		pools[p] = true
	}
	for _, s := range forgotten {
		for p := range pools {
			if _, ok := scaling.OrdinalFromName(p, s.Name); ok {
				out = append(out, toCloud(s, p))
				break
			}
		}
	}
	learned := make([]string, 0, len(pools))
	for p := range pools {
		learned = append(learned, p)
	}
	sort.Strings(learned)
	r.mu.Lock()
	r.learned = learned
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// KnownPools are the pools the last Servers call recognised servers of.
func (r *ReviewRecords) KnownPools() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.learned...)
}

type novaAction struct {
	Action    string `json:"action"`
	RequestID string `json:"request_id"`
	StartTime string `json:"start_time"`
	Message   string `json:"message"`
	Events    []struct {
		Event      string `json:"event"`
		StartTime  string `json:"start_time"`
		FinishTime string `json:"finish_time"`
		Result     string `json:"result"`
	} `json:"events"`
}

// InstanceActions lists a server's actions, oldest first, each with the finish time and
// result of its events (GET .../os-instance-actions, then each action by request id).
func (r *ReviewRecords) InstanceActions(ctx context.Context, serverID string) ([]review.InstanceAction, error) {
	var list []novaAction
	marker := ""
	for {
		u := r.Compute.ServiceURL("servers", serverID, "os-instance-actions")
		if marker != "" {
			u += "?marker=" + url.QueryEscape(marker)
		}
		var page struct {
			InstanceActions []novaAction `json:"instanceActions"`
			Links           []struct {
				Rel string `json:"rel"`
			} `json:"links"`
		}
		resp, err := r.Compute.Get(ctx, u, &page, &gophercloud.RequestOpts{OkCodes: []int{200}})
		closeResponse(resp)
		if err != nil {
			return nil, apiError("listing the instance actions of server "+serverID, err)
		}
		list = append(list, page.InstanceActions...)
		next := false
		for _, l := range page.Links {
			next = next || l.Rel == "next"
		}
		if !next || len(page.InstanceActions) == 0 {
			break
		}
		marker = page.InstanceActions[len(page.InstanceActions)-1].RequestID
	}
	// Nova lists the newest first, and its times are whole seconds: reversed, the list is in
	// the order the actions happened even when two share a second.
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	out := make([]review.InstanceAction, 0, len(list))
	for _, a := range list {
		var detail struct {
			InstanceAction novaAction `json:"instanceAction"`
		}
		u := r.Compute.ServiceURL("servers", serverID, "os-instance-actions", a.RequestID)
		resp, err := r.Compute.Get(ctx, u, &detail, &gophercloud.RequestOpts{OkCodes: []int{200}})
		closeResponse(resp)
		if err != nil {
			return nil, apiError(fmt.Sprintf("reading instance action %s of server %s", a.RequestID, serverID), err)
		}
		d := detail.InstanceAction
		ia := review.InstanceAction{Action: d.Action, RequestID: d.RequestID, Start: parseCloudTime(d.StartTime), Message: d.Message}
		for _, ev := range d.Events {
			if t := parseCloudTime(ev.FinishTime); t.After(ia.Finish) {
				ia.Finish = t
			}
			if ev.FinishTime == "" {
				ia.Finish = time.Time{} // an event still runs: the action has not finished
				break
			}
			if ia.Result != "Error" {
				ia.Result = ev.Result
			}
		}
		out = append(out, ia)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// Backups lists the server images (snapshots and Nova backups) Glance has from since on,
// and Trove's backups of that period.
func (r *ReviewRecords) Backups(ctx context.Context, since time.Time) ([]journal.Backup, error) {
	var out []journal.Backup
	q := url.Values{"limit": {"100"}, "sort": {"created_at:asc"}}
	if !since.IsZero() {
		q.Set("created_at", "gte:"+since.UTC().Format(time.RFC3339))
	}
	u := r.Image.ServiceURL("images") + "?" + q.Encode()
	for u != "" {
		var page struct {
			Images []map[string]any `json:"images"`
			Next   string           `json:"next"`
		}
		resp, err := r.Image.Get(ctx, u, &page, &gophercloud.RequestOpts{OkCodes: []int{200}})
		closeResponse(resp)
		if err != nil {
			return nil, apiError("listing images created since "+since.UTC().Format(time.RFC3339), err)
		}
		for _, img := range page.Images {
			str := func(k string) string { s, _ := img[k].(string); return s }
			if t := str("image_type"); t != "snapshot" && t != "backup" {
				continue // an uploaded image, not one taken of a server
			}
			b := journal.Backup{ID: str("id"), Name: str("name"), Type: "image", Source: str("instance_uuid"), Status: str("status"),
				Created: parseCloudTime(str("created_at"))}
			if size, ok := img["size"].(float64); ok {
				b.SizeBytes = int64(size)
			}
			out = append(out, b)
		}
		u = ""
		if page.Next != "" {
			u = r.Image.ResourceBaseURL() + strings.TrimPrefix(page.Next, "/v2/")
		}
	}
	if r.Database != nil {
		var body struct {
			Backups []struct {
				ID         string  `json:"id"`
				Name       string  `json:"name"`
				InstanceID string  `json:"instance_id"`
				Status     string  `json:"status"`
				Created    string  `json:"created"`
				Size       float64 `json:"size"` // GB
			} `json:"backups"`
		}
		resp, err := r.Database.Get(ctx, r.Database.ServiceURL("backups"), &body, &gophercloud.RequestOpts{OkCodes: []int{200}})
		closeResponse(resp)
		if err != nil {
			return nil, apiError("listing database backups", err)
		}
		for _, b := range body.Backups {
			created := parseCloudTime(b.Created)
			if created.Before(since) {
				continue
			}
			out = append(out, journal.Backup{ID: b.ID, Name: b.Name, Type: "database-backup", Source: b.InstanceID, Status: b.Status,
				Created: created, SizeBytes: int64(b.Size * (1 << 30))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

type octaviaObject struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Address         string `json:"address"`
	VIPAddress      string `json:"vip_address"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
	OperatingStatus string `json:"operating_status"`
	LoadBalancers   []struct {
		ID string `json:"id"`
	} `json:"loadbalancers"`
}

// LoadBalancerObjects lists the load balancers, their listeners, pools and members with
// Octavia's created_at and updated_at.
func (r *ReviewRecords) LoadBalancerObjects(ctx context.Context) ([]review.LBObject, error) {
	if r.LoadBalancer == nil {
		return nil, nil
	}
	wanted := map[string]bool{}
	for _, id := range r.LoadBalancerIDs {
		wanted[id] = true
	}
	ours := func(o octaviaObject, lbID string) bool {
		if len(wanted) == 0 {
			return true
		}
		if lbID != "" {
			return wanted[lbID]
		}
		for _, lb := range o.LoadBalancers {
			if wanted[lb.ID] {
				return true
			}
		}
		return false
	}
	var out []review.LBObject
	add := func(kind string, o octaviaObject) {
		addr := o.Address
		if addr == "" {
			addr = o.VIPAddress
		}
		out = append(out, review.LBObject{Kind: kind, ID: o.ID, Name: o.Name, Address: addr, Status: o.OperatingStatus,
			Created: parseCloudTime(o.CreatedAt), Updated: parseCloudTime(o.UpdatedAt)})
	}
	for _, kind := range []struct{ singular, plural string }{{"loadbalancer", "loadbalancers"}, {"listener", "listeners"}, {"pool", "pools"}} {
		objs, err := r.octaviaList(ctx, r.LoadBalancer.ServiceURL("lbaas", kind.plural), kind.plural)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			lbID := ""
			if kind.singular == "loadbalancer" {
				lbID = o.ID
			}
			if !ours(o, lbID) {
				continue
			}
			add(kind.singular, o)
			if kind.singular != "pool" {
				continue
			}
			members, err := r.octaviaList(ctx, r.LoadBalancer.ServiceURL("lbaas", "pools", o.ID, "members"), "members")
			if err != nil {
				return nil, err
			}
			for _, m := range members {
				add("member", m)
			}
		}
	}
	return out, nil
}

// octaviaList reads every page of an Octavia collection.
func (r *ReviewRecords) octaviaList(ctx context.Context, u, key string) ([]octaviaObject, error) {
	var out []octaviaObject
	for u != "" {
		var page map[string]any
		resp, err := r.LoadBalancer.Get(ctx, u, &page, &gophercloud.RequestOpts{OkCodes: []int{200}})
		closeResponse(resp)
		if err != nil {
			return nil, apiError("listing Octavia "+key, err)
		}
		var body struct {
			Items []octaviaObject `json:"items"`
			Links []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"links"`
		}
		if err := remarshal(page, key, &body.Items); err != nil {
			return nil, fmt.Errorf("reading Octavia %s: %w", key, err)
		}
		_ = remarshal(page, key+"_links", &body.Links)
		out = append(out, body.Items...)
		u = ""
		for _, l := range body.Links {
			if l.Rel == "next" && len(body.Items) > 0 {
				u = l.Href
			}
		}
	}
	return out, nil
}

// parseCloudTime reads the times OpenStack services write: RFC 3339, or without a zone
// (Nova's instance actions, Octavia, Trove), which is UTC. Zero when empty or unreadable.
func parseCloudTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// remarshal decodes one key of a decoded JSON object into dst.
func remarshal(obj map[string]any, key string, dst any) error {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}
