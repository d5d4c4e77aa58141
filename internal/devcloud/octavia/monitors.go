package octavia

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

var (
	monitorTypes = []string{"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
	httpMethods  = []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)

type monitorBody struct {
	PoolID         string    `json:"pool_id"`
	Type           *string   `json:"type"`
	Delay          *int      `json:"delay"`
	Timeout        *int      `json:"timeout"`
	MaxRetries     *int      `json:"max_retries"`
	MaxRetriesDown *int      `json:"max_retries_down"`
	HTTPMethod     *string   `json:"http_method"`
	HTTPVersion    *float64  `json:"http_version"`
	URLPath        *string   `json:"url_path"`
	ExpectedCodes  *string   `json:"expected_codes"`
	DomainName     *string   `json:"domain_name"`
	Name           *string   `json:"name"`
	AdminStateUp   *bool     `json:"admin_state_up"`
	Tags           *[]string `json:"tags"`
}

func validExpectedCodes(s string) bool {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 100 || a > 599 {
			return false
		}
		if isRange {
			b, err := strconv.Atoi(hi)
			if err != nil || b < a || b > 599 {
				return false
			}
		}
	}
	return true
}

func (b *monitorBody) validateCommon() *apiError {
	if b.Delay != nil && (*b.Delay < 0 || *b.Delay > 2147483647) {
		return invalidField("delay", *b.Delay, "Value should be greater or equal to 0")
	}
	if b.Timeout != nil && (*b.Timeout < 0 || *b.Timeout > 2147483647) {
		return invalidField("timeout", *b.Timeout, "Value should be greater or equal to 0")
	}
	if b.MaxRetries != nil && (*b.MaxRetries < 1 || *b.MaxRetries > 10) {
		return invalidField("max_retries", *b.MaxRetries, "Value should be greater or equal to 1 and lower or equal to 10")
	}
	if b.MaxRetriesDown != nil && (*b.MaxRetriesDown < 1 || *b.MaxRetriesDown > 10) {
		return invalidField("max_retries_down", *b.MaxRetriesDown, "Value should be greater or equal to 1 and lower or equal to 10")
	}
	if b.HTTPMethod != nil && !oneOf(*b.HTTPMethod, httpMethods) {
		return invalidField("http_method", *b.HTTPMethod, "Value should be one of: "+quoteList(httpMethods)+".")
	}
	if b.URLPath != nil && !strings.HasPrefix(*b.URLPath, "/") {
		return invalidField("url_path", *b.URLPath, "Value should be a valid URL path (starting with /)")
	}
	if b.ExpectedCodes != nil && !validExpectedCodes(*b.ExpectedCodes) {
		return invalidField("expected_codes", *b.ExpectedCodes, "Value should match the pattern ^(\\d{3}(\\s*,\\s*\\d{3})*)$|^(\\d{3}-\\d{3})$")
	}
	return nil
}

func (b *monitorBody) apply(m *monitor) {
	if b.Delay != nil {
		m.Delay = *b.Delay
	}
	if b.Timeout != nil {
		m.Timeout = *b.Timeout
	}
	if b.MaxRetries != nil {
		m.MaxRetries = *b.MaxRetries
	}
	if b.MaxRetriesDown != nil {
		m.MaxRetriesDown = *b.MaxRetriesDown
	}
	if b.HTTPMethod != nil {
		m.HTTPMethod = *b.HTTPMethod
	}
	if b.HTTPVersion != nil {
		v := *b.HTTPVersion
		m.HTTPVersion = &v
	}
	if b.URLPath != nil {
		m.URLPath = *b.URLPath
	}
	if b.ExpectedCodes != nil {
		m.ExpectedCodes = *b.ExpectedCodes
	}
	if b.DomainName != nil {
		m.DomainName = *b.DomainName
	}
	if b.Name != nil {
		m.Name = *b.Name
	}
	if b.AdminStateUp != nil {
		m.AdminStateUp = *b.AdminStateUp
	}
	if b.Tags != nil {
		m.Tags = append([]string{}, *b.Tags...)
	}
}

func isHTTPMonitor(t string) bool { return t == "HTTP" || t == "HTTPS" }

func (s *Service) routeMonitors(r *http.Request, seg []string) (reply, *apiError) {
	project := s.env.ProjectID(r)
	s.mu.Lock()
	defer s.unlock()
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		return listReply(r, "healthmonitors", visibleViews(project, s.monitors, s.monitorView)), nil
	case len(seg) == 0 && r.Method == http.MethodPost:
		return s.createMonitor(r, project)
	case len(seg) == 0:
		return reply{}, methodNotAllowed()
	}
	mon := s.monitors[seg[0]]
	if mon == nil || !visible(project, mon.ProjectID) {
		return reply{}, notFound("Health Monitor", seg[0])
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	p := s.pools[mon.PoolID]
	switch r.Method {
	case http.MethodGet:
		return reply{http.StatusOK, map[string]any{"healthmonitor": s.monitorView(mon)}}, nil
	case http.MethodPut:
		var body monitorBody
		if err := decodeBody(r, "healthmonitor", &body); err != nil {
			return reply{}, err
		}
		if err := body.validateCommon(); err != nil {
			return reply{}, err
		}
		if !isHTTPMonitor(mon.Type) && (body.HTTPMethod != nil || body.URLPath != nil || body.ExpectedCodes != nil) {
			return reply{}, validation("http_method, url_path and expected_codes are only valid for HTTP and HTTPS health monitors.")
		}
		err := s.changeChild(p.LoadBalancerID, &mon.base, statusPendingUpdate, func(cycle) {
			if s.monitors[mon.ID] == mon {
				body.apply(mon)
				mon.ProvisioningStatus = statusActive
				mon.UpdatedAt = time.Now()
			}
		}, s.parentsOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		return previewReply("healthmonitor", *mon, body.apply, s.monitorView), nil
	case http.MethodDelete:
		err := s.changeChild(p.LoadBalancerID, &mon.base, statusPendingDelete, func(cycle) {
			if s.monitors[mon.ID] != mon {
				return
			}
			delete(s.monitors, mon.ID)
			if p.HealthMonitorID == mon.ID {
				p.HealthMonitorID = ""
			}
			s.emit("healthmonitor.deleted", map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID, "healthmonitor_id": mon.ID})
		}, s.parentsOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		return reply{http.StatusNoContent, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

func (s *Service) createMonitor(r *http.Request, project string) (reply, *apiError) {
	var body monitorBody
	if err := decodeBody(r, "healthmonitor", &body); err != nil {
		return reply{}, err
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"pool_id", body.PoolID != ""}, {"type", body.Type != nil}, {"delay", body.Delay != nil},
		{"timeout", body.Timeout != nil}, {"max_retries", body.MaxRetries != nil}} {
		if !f.set {
			return reply{}, invalidField(f.name, "None", "Mandatory field missing.")
		}
	}
	if !oneOf(*body.Type, monitorTypes) {
		return reply{}, invalidField("type", *body.Type, "Value should be one of: "+quoteList(monitorTypes)+".")
	}
	if err := body.validateCommon(); err != nil {
		return reply{}, err
	}
	if !isHTTPMonitor(*body.Type) && (body.HTTPMethod != nil || body.URLPath != nil || body.ExpectedCodes != nil) {
		return reply{}, validation("http_method, url_path and expected_codes are only valid for HTTP and HTTPS health monitors.")
	}
	p := s.pools[body.PoolID]
	if p == nil || !visible(project, p.ProjectID) {
		return reply{}, notFound("Pool", body.PoolID)
	}
	if err := s.quotaMet(p.ProjectID, "health_monitor", 1); err != nil {
		return reply{}, err
	}
	lb, err := s.mutableLB(p.LoadBalancerID)
	if err != nil {
		return reply{}, err
	}
	if p.HealthMonitorID != "" {
		return reply{}, fault(http.StatusConflict, "This pool already has a health monitor")
	}
	mon := &monitor{base: newBase(p.ProjectID), PoolID: p.ID, MaxRetriesDown: 3}
	if isHTTPMonitor(*body.Type) {
		mon.HTTPMethod, mon.URLPath, mon.ExpectedCodes = "GET", "/", "200"
	}
	mon.Type = *body.Type
	body.apply(mon)
	s.monitors[mon.ID] = mon
	p.HealthMonitorID = mon.ID
	p.ProvisioningStatus = statusPendingUpdate
	s.updateCycle(lb, func(c cycle) {
		if s.monitors[mon.ID] != mon {
			return
		}
		mon.live = true
		mon.ProvisioningStatus = statusActive
		if s.pools[p.ID] == p {
			p.ProvisioningStatus = statusActive
			first := time.Now().Add(c.healthDelay(mon))
			for _, m := range p.members {
				m.checkedAt = first
			}
		}
		s.emit("healthmonitor.created", map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID, "healthmonitor_id": mon.ID,
			"type": mon.Type, "delay": mon.Delay})
	}, s.listenerOfPool(p)...)
	return reply{http.StatusCreated, map[string]any{"healthmonitor": s.monitorView(mon)}}, nil
}

func (s *Service) monitorView(m *monitor) map[string]any {
	op := opOffline
	if m.live && m.AdminStateUp {
		op = opOnline
	}
	v := map[string]any{
		"id":                  m.ID,
		"name":                m.Name,
		"type":                m.Type,
		"delay":               m.Delay,
		"timeout":             m.Timeout,
		"max_retries":         m.MaxRetries,
		"max_retries_down":    m.MaxRetriesDown,
		"http_method":         nullable(m.HTTPMethod),
		"url_path":            nullable(m.URLPath),
		"expected_codes":      nullable(m.ExpectedCodes),
		"http_version":        nil,
		"domain_name":         nullable(m.DomainName),
		"admin_state_up":      m.AdminStateUp,
		"project_id":          m.ProjectID,
		"pools":               idRefs(m.PoolID),
		"provisioning_status": m.ProvisioningStatus,
		"operating_status":    op,
		"tags":                tagsOrEmpty(m.Tags),
		"created_at":          timestamp(m.CreatedAt),
		"updated_at":          timestamp(m.UpdatedAt),
	}
	if m.HTTPVersion != nil {
		v["http_version"] = *m.HTTPVersion
	}
	return v
}
