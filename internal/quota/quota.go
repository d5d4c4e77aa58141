// Package quota checks, before anything is created, that a project can hold what a plan adds:
// it compares what each service allows and what is in use with what the plan needs, and words
// each shortfall as the request an operator sends to the cloud's operator ("ask for instances
// 26, cores 52"). It knows no Terraform and no gophercloud: the cloud adapters read the figures
// (Nova os-quota-sets detail, Neutron quota details, Octavia quotas with counted objects, Trove
// limits) and the provider turns shortfalls into diagnostics.
package quota

import (
	"fmt"
	"sort"
	"strings"
)

// Unlimited is the limit OpenStack services report for "no quota".
const Unlimited = -1

// Service names, as the provider shows them.
const (
	Compute      = "compute"
	Network      = "network"
	LoadBalancer = "load-balancer"
	Database     = "database"
)

// Usage is one quota of one service: its limit (Unlimited for none) and what is in use.
type Usage struct {
	Service  string
	Resource string
	Limit    int
	InUse    int
}

// Key names the quota as "<service> <resource>".
func (u Usage) Key() string { return u.Service + " " + u.Resource }

// Need is what a plan adds to one quota.
type Need struct {
	Service  string
	Resource string
	Count    int
	// Why says what in the plan needs it ("12 web nodes of flavor m1.small").
	Why string
}

// Shortfall is a quota the plan does not fit in.
type Shortfall struct {
	Usage
	Needed int
	Why    string
}

// Ask is the limit to ask for: what is in use plus what the plan needs.
func (s Shortfall) Ask() int { return s.InUse + s.Needed }

func (s Shortfall) String() string {
	return fmt.Sprintf("%s %s: limit %d, in use %d, this plan needs %d more (%s)", s.Service, s.Resource, s.Limit, s.InUse, s.Needed, s.Why)
}

// Unchecked is a service whose quotas could not be read, with the reason.
type Unchecked struct {
	Service string
	Reason  string
}

// Report is the outcome of a check.
type Report struct {
	Checked    []Usage
	Shortfalls []Shortfall
	Unchecked  []Unchecked
}

// Check compares needs with usages. A need for a quota no usage names is ignored when its
// service was reported unchecked, and otherwise counts as unlimited (the service has no such quota).
func Check(usages []Usage, needs []Need, unchecked []Unchecked) Report {
	byKey := map[string]Usage{}
	for _, u := range usages {
		byKey[u.Key()] = u
	}
	total := map[string]*Need{}
	var order []string
	for _, n := range needs {
		if n.Count <= 0 {
			continue
		}
		k := n.Service + " " + n.Resource
		if t, ok := total[k]; ok {
			t.Count += n.Count
			t.Why += "; " + n.Why
			continue
		}
		c := n
		total[k] = &c
		order = append(order, k)
	}
	r := Report{Unchecked: unchecked}
	for _, k := range order {
		n := total[k]
		u, ok := byKey[k]
		if !ok {
			continue
		}
		r.Checked = append(r.Checked, u)
		if u.Limit == Unlimited || u.InUse+n.Count <= u.Limit {
			continue
		}
		r.Shortfalls = append(r.Shortfalls, Shortfall{Usage: u, Needed: n.Count, Why: n.Why})
	}
	return r
}

// Request words the shortfalls as one sentence to paste into a ticket to the cloud's operator:
// "Ask for compute instances 26, cores 52; load-balancer members 30."
func Request(shortfalls []Shortfall) string {
	if len(shortfalls) == 0 {
		return ""
	}
	byService := map[string][]string{}
	var services []string
	for _, s := range shortfalls {
		if _, ok := byService[s.Service]; !ok {
			services = append(services, s.Service)
		}
		byService[s.Service] = append(byService[s.Service], fmt.Sprintf("%s %d", s.Resource, s.Ask()))
	}
	sort.Strings(services)
	parts := make([]string, 0, len(services))
	for _, svc := range services {
		parts = append(parts, svc+" "+strings.Join(byService[svc], ", "))
	}
	return "Ask for " + strings.Join(parts, "; ") + "."
}

// GroupsFor returns how many server groups of at most perGroup members hold n servers;
// perGroup Unlimited (or less than 1, which no cloud sets) means one.
func GroupsFor(n, perGroup int) int {
	if n <= 0 {
		return 0
	}
	if perGroup < 1 {
		return 1
	}
	return (n + perGroup - 1) / perGroup
}
