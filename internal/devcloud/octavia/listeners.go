package octavia

import (
	"net/http"
	"time"
)

var listenerProtocols = []string{"HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS"}

type listenerBody struct {
	LoadBalancerID       string             `json:"loadbalancer_id"`
	Protocol             *string            `json:"protocol"`
	ProtocolPort         *int               `json:"protocol_port"`
	Name                 *string            `json:"name"`
	Description          *string            `json:"description"`
	DefaultPoolID        *string            `json:"default_pool_id"`
	ConnectionLimit      *int               `json:"connection_limit"`
	AdminStateUp         *bool              `json:"admin_state_up"`
	TimeoutClientData    *int               `json:"timeout_client_data"`
	TimeoutMemberConnect *int               `json:"timeout_member_connect"`
	TimeoutMemberData    *int               `json:"timeout_member_data"`
	TimeoutTCPInspect    *int               `json:"timeout_tcp_inspect"`
	InsertHeaders        *map[string]string `json:"insert_headers"`
	AllowedCIDRs         *[]string          `json:"allowed_cidrs"`
	Tags                 *[]string          `json:"tags"`
	DefaultPool          any                `json:"default_pool"`
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func quoteList(allowed []string) string {
	out := ""
	for i, a := range allowed {
		if i > 0 {
			out += ", "
		}
		out += "'" + a + "'"
	}
	return out
}

func checkTimeout(field string, v *int) *apiError {
	if v != nil && (*v < 0 || *v > 31536000000) {
		return invalidField(field, *v, "Value should be greater or equal to 0 and lower or equal to 31536000000")
	}
	return nil
}

func (b *listenerBody) validateCommon() *apiError {
	if b.ConnectionLimit != nil && *b.ConnectionLimit < -1 {
		return invalidField("connection_limit", *b.ConnectionLimit, "Value should be greater or equal to -1")
	}
	for _, t := range []struct {
		f string
		v *int
	}{{"timeout_client_data", b.TimeoutClientData}, {"timeout_member_connect", b.TimeoutMemberConnect},
		{"timeout_member_data", b.TimeoutMemberData}, {"timeout_tcp_inspect", b.TimeoutTCPInspect}} {
		if err := checkTimeout(t.f, t.v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) routeListeners(r *http.Request, seg []string) (reply, *apiError) {
	project := s.env.ProjectID(r)
	s.mu.Lock()
	defer s.unlock()
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		return listReply(r, "listeners", visibleViews(project, s.listeners, s.listenerView)), nil
	case len(seg) == 0 && r.Method == http.MethodPost:
		return s.createListener(r, project)
	case len(seg) == 0:
		return reply{}, methodNotAllowed()
	}
	l := s.listeners[seg[0]]
	if l == nil || !visible(project, l.ProjectID) {
		return reply{}, notFound("Listener", seg[0])
	}
	if len(seg) == 2 && seg[1] == "stats" && r.Method == http.MethodGet {
		return reply{http.StatusOK, map[string]any{"stats": l.stats.view()}}, nil
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	switch r.Method {
	case http.MethodGet:
		return reply{http.StatusOK, map[string]any{"listener": s.listenerView(l)}}, nil
	case http.MethodPut:
		var body listenerBody
		if err := decodeBody(r, "listener", &body); err != nil {
			return reply{}, err
		}
		if err := body.validateCommon(); err != nil {
			return reply{}, err
		}
		if body.DefaultPoolID != nil && *body.DefaultPoolID != "" {
			// A busy load balancer is refused before the pool is looked at.
			if _, err := s.mutableLB(l.LoadBalancerID); err != nil {
				return reply{}, err
			}
			if err := s.checkDefaultPool(l.LoadBalancerID, *body.DefaultPoolID); err != nil {
				return reply{}, err
			}
		}
		err := s.changeChild(l.LoadBalancerID, &l.base, statusPendingUpdate, func(cycle) {
			if s.listeners[l.ID] != l {
				return
			}
			if body.DefaultPoolID != nil {
				if old := s.pools[l.DefaultPoolID]; old != nil && old.ListenerID == l.ID {
					old.ListenerID = ""
				}
			}
			body.apply(l)
			if p := s.pools[l.DefaultPoolID]; p != nil {
				p.ListenerID = l.ID
			}
			l.ProvisioningStatus = statusActive
			l.UpdatedAt = time.Now()
		})
		if err != nil {
			return reply{}, err
		}
		return previewReply("listener", *l, body.apply, s.listenerView), nil
	case http.MethodDelete:
		err := s.changeChild(l.LoadBalancerID, &l.base, statusPendingDelete, func(cycle) {
			if s.listeners[l.ID] == l {
				s.removeListener(l)
			}
		})
		if err != nil {
			return reply{}, err
		}
		return reply{http.StatusNoContent, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

func (b *listenerBody) apply(l *listener) {
	if b.Name != nil {
		l.Name = *b.Name
	}
	if b.Description != nil {
		l.Description = *b.Description
	}
	if b.DefaultPoolID != nil {
		l.DefaultPoolID = *b.DefaultPoolID
	}
	if b.ConnectionLimit != nil {
		l.ConnectionLimit = *b.ConnectionLimit
	}
	if b.AdminStateUp != nil {
		l.AdminStateUp = *b.AdminStateUp
	}
	if b.TimeoutClientData != nil {
		l.TimeoutClientData = *b.TimeoutClientData
	}
	if b.TimeoutMemberConnect != nil {
		l.TimeoutMemberConnect = *b.TimeoutMemberConnect
	}
	if b.TimeoutMemberData != nil {
		l.TimeoutMemberData = *b.TimeoutMemberData
	}
	if b.TimeoutTCPInspect != nil {
		l.TimeoutTCPInspect = *b.TimeoutTCPInspect
	}
	if b.InsertHeaders != nil {
		l.InsertHeaders = *b.InsertHeaders
	}
	if b.AllowedCIDRs != nil {
		l.AllowedCIDRs = *b.AllowedCIDRs
	}
	if b.Tags != nil {
		l.Tags = append([]string{}, *b.Tags...)
	}
}

// checkDefaultPool validates a listener's default_pool_id as Octavia does.
func (s *Service) checkDefaultPool(lbID, poolID string) *apiError {
	p := s.pools[poolID]
	if p == nil {
		return notFound("Pool", poolID)
	}
	if p.LoadBalancerID != lbID {
		return validation("Pool %s is on a different load balancer", poolID)
	}
	return nil
}

func (s *Service) createListener(r *http.Request, project string) (reply, *apiError) {
	var body listenerBody
	if err := decodeBody(r, "listener", &body); err != nil {
		return reply{}, err
	}
	if body.Protocol == nil {
		return reply{}, invalidField("protocol", "None", "Mandatory field missing.")
	}
	if !oneOf(*body.Protocol, listenerProtocols) {
		return reply{}, invalidField("protocol", *body.Protocol, "Value should be one of: "+quoteList(listenerProtocols)+".")
	}
	if body.ProtocolPort == nil {
		return reply{}, invalidField("protocol_port", "None", "Mandatory field missing.")
	}
	if *body.ProtocolPort < 1 || *body.ProtocolPort > 65535 {
		return reply{}, invalidField("protocol_port", *body.ProtocolPort, "Value should be greater or equal to 1 and lower or equal to 65535")
	}
	if body.LoadBalancerID == "" {
		return reply{}, invalidField("loadbalancer_id", "None", "Mandatory field missing.")
	}
	if body.DefaultPool != nil {
		return reply{}, fault(http.StatusBadRequest, "devcloud: default_pool in a listener create is not simulated; create the pool with listener_id")
	}
	if err := body.validateCommon(); err != nil {
		return reply{}, err
	}
	lb := s.lbs[body.LoadBalancerID]
	if lb == nil || !visible(project, lb.ProjectID) {
		return reply{}, validation("Load Balancer %s not found.", body.LoadBalancerID)
	}
	if err := s.quotaMet(lb.ProjectID, "listener", 1); err != nil {
		return reply{}, err
	}
	if lb.pending() {
		return reply{}, immutable(lb.ID)
	}
	for _, other := range s.listeners {
		if other.LoadBalancerID == lb.ID && other.ProtocolPort == *body.ProtocolPort && other.Protocol == *body.Protocol {
			return reply{}, fault(http.StatusConflict,
				"Another Listener on this Load Balancer is already using protocol %s and protocol_port %d", *body.Protocol, *body.ProtocolPort)
		}
	}
	l := &listener{base: newBase(lb.ProjectID), LoadBalancerID: lb.ID, Protocol: *body.Protocol, ProtocolPort: *body.ProtocolPort,
		ConnectionLimit: -1, TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
		InsertHeaders: map[string]string{}, stats: &trafficStats{}}
	if body.DefaultPoolID != nil && *body.DefaultPoolID != "" {
		if err := s.checkDefaultPool(lb.ID, *body.DefaultPoolID); err != nil {
			return reply{}, err
		}
	}
	body.apply(l)
	if l.DefaultPoolID != "" {
		s.pools[l.DefaultPoolID].ListenerID = l.ID
	}
	s.listeners[l.ID] = l
	s.updateCycle(lb, func(cycle) {
		if s.listeners[l.ID] != l {
			return
		}
		l.live = true
		l.ProvisioningStatus = statusActive
		attrs := map[string]any{"lb_id": lb.ID, "listener_id": l.ID, "protocol": l.Protocol, "protocol_port": l.ProtocolPort}
		if l.Protocol == "HTTP" {
			v, err := s.startVIP(l)
			if err != nil {
				// The amphora failed to take the configuration: Octavia
				// marks the listener ERROR.
				l.ProvisioningStatus = "ERROR"
				attrs["error"] = err.Error()
			} else {
				l.vip = v
				attrs["vip_url"] = v.url
			}
		}
		s.emit("listener.created", attrs)
	})
	return reply{http.StatusCreated, map[string]any{"listener": s.listenerView(l)}}, nil
}

// removeListener drops a listener at commit time: its socket closes (cutting
// its connections) and its pool loses the association.
func (s *Service) removeListener(l *listener) {
	// Its requests in flight break with the socket; cut them first so that
	// they are counted as broken on their members, not as clients leaving.
	if p := s.pools[l.DefaultPoolID]; p != nil {
		for _, m := range p.members {
			m.breakInFlight()
		}
	}
	if l.vip != nil {
		v := l.vip
		l.vip = nil
		s.later(v.close)
	}
	for _, p := range s.pools {
		if p.ListenerID == l.ID {
			p.ListenerID = ""
		}
	}
	delete(s.listeners, l.ID)
	s.emit("listener.deleted", map[string]any{"lb_id": l.LoadBalancerID, "listener_id": l.ID})
}

func (s *Service) listenerView(l *listener) map[string]any {
	vipURL := ""
	if l.vip != nil {
		vipURL = l.vip.url
	}
	var allowed any
	if l.AllowedCIDRs != nil {
		allowed = l.AllowedCIDRs
	}
	return map[string]any{
		"id":                          l.ID,
		"name":                        l.Name,
		"description":                 l.Description,
		"protocol":                    l.Protocol,
		"protocol_port":               l.ProtocolPort,
		"connection_limit":            l.ConnectionLimit,
		"default_pool_id":             nullable(l.DefaultPoolID),
		"loadbalancers":               idRefs(l.LoadBalancerID),
		"l7policies":                  []any{},
		"admin_state_up":              l.AdminStateUp,
		"project_id":                  l.ProjectID,
		"provisioning_status":         l.ProvisioningStatus,
		"operating_status":            s.listenerOperatingStatus(l),
		"default_tls_container_ref":   nil,
		"sni_container_refs":          []string{},
		"insert_headers":              l.InsertHeaders,
		"timeout_client_data":         l.TimeoutClientData,
		"timeout_member_connect":      l.TimeoutMemberConnect,
		"timeout_member_data":         l.TimeoutMemberData,
		"timeout_tcp_inspect":         l.TimeoutTCPInspect,
		"allowed_cidrs":               allowed,
		"tls_ciphers":                 nil,
		"tls_versions":                nil,
		"alpn_protocols":              nil,
		"client_authentication":       "NONE",
		"client_ca_tls_container_ref": nil,
		"client_crl_container_ref":    nil,
		"hsts_include_subdomains":     false,
		"hsts_max_age":                nil,
		"hsts_preload":                false,
		"tags":                        tagsOrEmpty(l.Tags),
		"created_at":                  timestamp(l.CreatedAt),
		"updated_at":                  timestamp(l.UpdatedAt),
		// devcloud only: the real socket of this listener (HTTP only).
		"devcloud_vip_url": vipURL,
	}
}
