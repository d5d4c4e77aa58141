package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/quota"
)

// Pre-flight modes, the provider's preflight setting.
const (
	preflightError = "error"
	preflightWarn  = "warn"
	preflightOff   = "off"
)

// quotaReader reads each service's quotas once per plan: several resources check the same
// figures, and a plan must stay cheap. The figures are read again after quotaTTL, so that an
// apply following a plan in the same process sees what the plan's own creations used.
type quotaReader struct {
	client *cloud.Client

	mu      sync.Mutex
	read    map[string]time.Time
	usages  map[string][]quota.Usage
	failure map[string]string
}

const quotaTTL = 20 * time.Second

func newQuotaReader(c *cloud.Client) *quotaReader {
	return &quotaReader{client: c, read: map[string]time.Time{}, usages: map[string][]quota.Usage{}, failure: map[string]string{}}
}

// Read returns the usages of the services, and the services that could not be read with why:
// a cloud without the service, a policy that forbids the call, an API that errs.
func (q *quotaReader) Read(ctx context.Context, services ...string) ([]quota.Usage, []quota.Unchecked) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var all []quota.Usage
	var unchecked []quota.Unchecked
	for _, svc := range services {
		if at, ok := q.read[svc]; !ok || time.Since(at) > quotaTTL {
			us, err := q.readService(ctx, svc)
			q.read[svc], q.usages[svc], q.failure[svc] = time.Now(), us, ""
			if err != nil {
				q.failure[svc] = err.Error()
			}
		}
		if f := q.failure[svc]; f != "" {
			unchecked = append(unchecked, quota.Unchecked{Service: svc, Reason: f})
			continue
		}
		all = append(all, q.usages[svc]...)
	}
	return all, unchecked
}

func (q *quotaReader) readService(ctx context.Context, svc string) ([]quota.Usage, error) {
	project, err := q.client.ProjectID(ctx)
	if err != nil {
		return nil, err
	}
	switch svc {
	case quota.Compute:
		c, err := q.client.Compute(ctx)
		if err != nil {
			return nil, err
		}
		return c.QuotaUsage(ctx, project)
	case quota.Network:
		n, err := q.client.Network(ctx)
		if err != nil {
			return nil, err
		}
		return n.QuotaUsage(ctx, project)
	case quota.LoadBalancer:
		l, err := q.client.LoadBalancer(ctx, "")
		if err != nil {
			return nil, err
		}
		return l.QuotaUsage(ctx, project)
	case quota.Database:
		d, err := q.client.Database(ctx)
		if err != nil {
			return nil, err
		}
		return d.QuotaUsage(ctx)
	}
	return nil, fmt.Errorf("no quota reader for service %q", svc)
}

// limitOf returns one quota's limit from usages, and whether the cloud reported it.
func limitOf(us []quota.Usage, service, resource string) (int, bool) {
	for _, u := range us {
		if u.Service == service && u.Resource == resource {
			return u.Limit, true
		}
	}
	return 0, false
}

// preflight checks what a plan adds against the project's quotas before anything is created:
// a shortfall is an error on attr (a warning with preflight = "warn") naming each quota and the
// request to send; a quota API the cloud lacks or forbids is a warning, never a failure.
func (d *providerData) preflight(ctx context.Context, attr path.Path, what string, needs []quota.Need, diags *diag.Diagnostics) {
	if d == nil || d.preflightMode == preflightOff || len(needs) == 0 {
		return
	}
	services := map[string]bool{}
	var order []string
	for _, n := range needs {
		if n.Count > 0 && !services[n.Service] {
			services[n.Service] = true
			order = append(order, n.Service)
		}
	}
	usages, unchecked := d.quotas.Read(ctx, order...)
	report := quota.Check(usages, needs, unchecked)
	d.journalPreflight(what, needs, report)
	for _, u := range report.Unchecked {
		diags.AddAttributeWarning(attr, fmt.Sprintf("Quotas of the %s service not checked", u.Service),
			fmt.Sprintf("The pre-flight check of %s could not read the %s quotas: %s. What this plan adds to that service is not checked.",
				what, u.Service, u.Reason))
	}
	if len(report.Shortfalls) == 0 {
		return
	}
	lines := make([]string, 0, len(report.Shortfalls))
	for _, s := range report.Shortfalls {
		lines = append(lines, "  - "+s.String())
	}
	summary := fmt.Sprintf("The project's quotas cannot hold %s", what)
	detail := fmt.Sprintf("Nothing was created. This plan needs more than the project is allowed:\n%s\n\n%s "+
		"The cloud's operator raises quotas with openstack quota set (openstack loadbalancer quota set for Octavia). Or plan smaller.",
		strings.Join(lines, "\n"), quota.Request(report.Shortfalls))
	if d.preflightMode == preflightWarn {
		diags.AddAttributeWarning(attr, summary, detail+"\n\npreflight = \"warn\": the apply will try anyway and may stop part-way.")
	} else {
		diags.AddAttributeError(attr, summary, detail+"\n\nSet preflight = \"warn\" in the provider block to make this a warning.")
	}
}

// journalPreflight records a check in the journal, so that the review after the event can say
// which quota had to be raised.
func (d *providerData) journalPreflight(what string, needs []quota.Need, report quota.Report) {
	if d.journal == nil || len(report.Checked) == 0 {
		return
	}
	needed := map[string]int{}
	for _, n := range needs {
		needed[n.Service+" "+n.Resource] += n.Count
	}
	var pf journal.Preflight
	for _, u := range report.Checked {
		pf.Checks = append(pf.Checks, journal.QuotaCheck{Service: u.Service, Resource: u.Resource,
			Limit: int64(u.Limit), InUse: int64(u.InUse), Needed: int64(needed[u.Key()])})
	}
	_ = d.journal.Write(journal.PreflightEntry(what, pf))
}
