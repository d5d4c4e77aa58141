package octavia

import (
	"encoding/json"
	"net/http"
	"time"
)

var (
	lbAlgorithms     = []string{"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
	poolProtocols    = []string{"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP", "UDP", "SCTP"}
	persistenceTypes = []string{"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
	// compatible lists the pool protocols each listener protocol accepts.
	compatible = map[string][]string{
		"HTTP":             {"HTTP", "PROXY", "PROXYV2"},
		"HTTPS":            {"HTTPS", "PROXY", "PROXYV2", "TCP"},
		"TERMINATED_HTTPS": {"HTTP", "PROXY", "PROXYV2"},
		"TCP":              {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
		"UDP":              {"UDP"},
		"SCTP":             {"SCTP"},
	}
)

type poolBody struct {
	LBAlgorithm        *string             `json:"lb_algorithm"`
	Protocol           *string             `json:"protocol"`
	LoadBalancerID     string              `json:"loadbalancer_id"`
	ListenerID         string              `json:"listener_id"`
	Name               *string             `json:"name"`
	Description        *string             `json:"description"`
	AdminStateUp       *bool               `json:"admin_state_up"`
	SessionPersistence optionalPersistence `json:"session_persistence"`
	Tags               *[]string           `json:"tags"`
	Members            []any               `json:"members"`
	HealthMonitor      any                 `json:"healthmonitor"`
}

// optionalPersistence tells an absent session_persistence (leave it) from an explicit null
// (remove it), which Octavia's PUT distinguishes and a plain pointer cannot.
type optionalPersistence struct {
	set   bool
	value *sessionPersistence
}

func (o *optionalPersistence) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.value = nil
		return nil
	}
	o.value = &sessionPersistence{}
	return json.Unmarshal(b, o.value)
}

func (b *poolBody) validateCommon() *apiError {
	if b.LBAlgorithm != nil && !oneOf(*b.LBAlgorithm, lbAlgorithms) {
		return invalidField("lb_algorithm", *b.LBAlgorithm, "Value should be one of: "+quoteList(lbAlgorithms)+".")
	}
	if b.SessionPersistence.set && b.SessionPersistence.value != nil {
		sp := b.SessionPersistence.value
		if !oneOf(sp.Type, persistenceTypes) {
			return invalidField("type", sp.Type, "Value should be one of: "+quoteList(persistenceTypes)+".")
		}
		if sp.Type == "APP_COOKIE" && sp.CookieName == "" {
			return validation("Field 'cookie_name' must be set when using the APP_COOKIE session persistence type.")
		}
		if sp.Type != "APP_COOKIE" && sp.CookieName != "" {
			return validation("Field 'cookie_name' can only be specified when using the APP_COOKIE session persistence type.")
		}
	}
	return nil
}

func (b *poolBody) apply(p *pool) {
	if b.LBAlgorithm != nil {
		p.LBAlgorithm = *b.LBAlgorithm
	}
	if b.Name != nil {
		p.Name = *b.Name
	}
	if b.Description != nil {
		p.Description = *b.Description
	}
	if b.AdminStateUp != nil {
		p.AdminStateUp = *b.AdminStateUp
	}
	if b.SessionPersistence.set {
		p.SessionPersistence = b.SessionPersistence.value
	}
	if b.Tags != nil {
		p.Tags = append([]string{}, *b.Tags...)
	}
}

func (s *Service) routePools(r *http.Request, seg []string) (reply, *apiError) {
	project := s.env.ProjectID(r)
	s.mu.Lock()
	defer s.unlock()
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		return listReply(r, "pools", visibleViews(project, s.pools, s.poolView)), nil
	case len(seg) == 0 && r.Method == http.MethodPost:
		return s.createPool(r, project)
	case len(seg) == 0:
		return reply{}, methodNotAllowed()
	}
	p := s.pools[seg[0]]
	if p == nil || !visible(project, p.ProjectID) {
		e := notFound("Pool", seg[0])
		// The member controller looks its pool up while routing: webob's body, not WSME's.
		e.webob = len(seg) >= 2 && seg[1] == "members"
		return reply{}, e
	}
	if len(seg) >= 2 && seg[1] == "members" {
		return s.routeMembers(r, p, seg[2:])
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	switch r.Method {
	case http.MethodGet:
		return reply{http.StatusOK, map[string]any{"pool": s.poolView(p)}}, nil
	case http.MethodPut:
		var body poolBody
		if err := decodeBody(r, "pool", &body); err != nil {
			return reply{}, err
		}
		if err := body.validateCommon(); err != nil {
			return reply{}, err
		}
		err := s.changeChild(p.LoadBalancerID, &p.base, statusPendingUpdate, func(cycle) {
			if s.pools[p.ID] != p {
				return
			}
			body.apply(p)
			p.ProvisioningStatus = statusActive
			p.UpdatedAt = time.Now()
		}, s.listenerOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		return previewReply("pool", *p, body.apply, s.poolView), nil
	case http.MethodDelete:
		err := s.changeChild(p.LoadBalancerID, &p.base, statusPendingDelete, func(cycle) {
			if s.pools[p.ID] == p {
				s.removePool(p)
			}
		}, s.listenerOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		// Its members and health monitor go with it.
		for _, m := range p.members {
			m.ProvisioningStatus = statusPendingDelete
		}
		if mon := s.monitors[p.HealthMonitorID]; mon != nil {
			mon.ProvisioningStatus = statusPendingDelete
		}
		return reply{http.StatusNoContent, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

func (s *Service) createPool(r *http.Request, project string) (reply, *apiError) {
	var body poolBody
	if err := decodeBody(r, "pool", &body); err != nil {
		return reply{}, err
	}
	if body.LBAlgorithm == nil {
		return reply{}, invalidField("lb_algorithm", "None", "Mandatory field missing.")
	}
	if body.Protocol == nil {
		return reply{}, invalidField("protocol", "None", "Mandatory field missing.")
	}
	if !oneOf(*body.Protocol, poolProtocols) {
		return reply{}, invalidField("protocol", *body.Protocol, "Value should be one of: "+quoteList(poolProtocols)+".")
	}
	if err := body.validateCommon(); err != nil {
		return reply{}, err
	}
	if len(body.Members) > 0 || body.HealthMonitor != nil {
		return reply{}, fault(http.StatusBadRequest, "devcloud: members or healthmonitor in a pool create are not simulated; create them one by one")
	}
	var l *listener
	lbID := body.LoadBalancerID
	if body.ListenerID != "" {
		l = s.listeners[body.ListenerID]
		if l == nil || !visible(project, l.ProjectID) {
			return reply{}, notFound("Listener", body.ListenerID)
		}
		if lbID != "" && lbID != l.LoadBalancerID {
			return reply{}, validation("Listener %s is not on Load Balancer %s.", l.ID, lbID)
		}
		lbID = l.LoadBalancerID
		if l.DefaultPoolID != "" {
			return reply{}, fault(http.StatusConflict, "This listener already has a default pool")
		}
		if !oneOf(*body.Protocol, compatible[l.Protocol]) {
			return reply{}, validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", *body.Protocol, l.Protocol)
		}
	}
	if lbID == "" {
		return reply{}, validation("loadbalancer_id or listener_id must be specified.")
	}
	lb := s.lbs[lbID]
	if lb == nil || !visible(project, lb.ProjectID) {
		return reply{}, validation("Load Balancer %s not found.", lbID)
	}
	if err := s.quotaMet(lb.ProjectID, "pool", 1); err != nil {
		return reply{}, err
	}
	if lb.pending() {
		return reply{}, immutable(lb.ID)
	}
	p := &pool{base: newBase(lb.ProjectID), LoadBalancerID: lb.ID, Protocol: *body.Protocol, rr: map[string]int{}}
	body.apply(p)
	if l != nil {
		p.ListenerID = l.ID
		l.DefaultPoolID = p.ID
		l.ProvisioningStatus = statusPendingUpdate
	}
	s.pools[p.ID] = p
	s.updateCycle(lb, func(cycle) {
		if s.pools[p.ID] != p {
			return
		}
		p.live = true
		p.ProvisioningStatus = statusActive
		if l != nil && s.listeners[l.ID] == l {
			l.ProvisioningStatus = statusActive
		}
		s.emit("pool.created", map[string]any{"lb_id": lb.ID, "pool_id": p.ID, "listener_id": p.ListenerID, "lb_algorithm": p.LBAlgorithm})
	})
	return reply{http.StatusCreated, map[string]any{"pool": s.poolView(p)}}, nil
}

// removePool drops a pool at commit time with its members and monitor,
// cutting the requests in flight on its members.
func (s *Service) removePool(p *pool) {
	for _, m := range p.members {
		s.dropMember(m)
	}
	p.members = nil
	if mon := s.monitors[p.HealthMonitorID]; mon != nil {
		delete(s.monitors, mon.ID)
		s.emit("healthmonitor.deleted", map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID, "healthmonitor_id": mon.ID})
	}
	for _, l := range s.listeners {
		if l.DefaultPoolID == p.ID {
			l.DefaultPoolID = ""
		}
	}
	delete(s.pools, p.ID)
	s.emit("pool.deleted", map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID})
}

func (s *Service) poolView(p *pool) map[string]any {
	memberIDs := make([]string, 0, len(p.members))
	for _, m := range p.members {
		memberIDs = append(memberIDs, m.ID)
	}
	var sp any
	if p.SessionPersistence != nil {
		sp = p.SessionPersistence
	}
	return map[string]any{
		"id":                   p.ID,
		"name":                 p.Name,
		"description":          p.Description,
		"lb_algorithm":         p.LBAlgorithm,
		"protocol":             p.Protocol,
		"admin_state_up":       p.AdminStateUp,
		"project_id":           p.ProjectID,
		"provisioning_status":  p.ProvisioningStatus,
		"operating_status":     s.poolOperatingStatus(p),
		"listeners":            s.poolListenerRefs(p),
		"loadbalancers":        idRefs(p.LoadBalancerID),
		"members":              idRefs(memberIDs...),
		"healthmonitor_id":     nullable(p.HealthMonitorID),
		"session_persistence":  sp,
		"tls_enabled":          false,
		"tls_container_ref":    nil,
		"ca_tls_container_ref": nil,
		"crl_container_ref":    nil,
		"tls_ciphers":          nil,
		"tls_versions":         nil,
		"alpn_protocols":       nil,
		"tags":                 tagsOrEmpty(p.Tags),
		"created_at":           timestamp(p.CreatedAt),
		"updated_at":           timestamp(p.UpdatedAt),
	}
}

func (s *Service) poolListenerRefs(p *pool) []map[string]string {
	var ids []string
	for _, l := range s.poolListeners(p) {
		ids = append(ids, l.ID)
	}
	return idRefs(ids...)
}
