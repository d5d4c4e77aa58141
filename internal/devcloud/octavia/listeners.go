package octavia

import (
	"net/http"
	"time"
)

// defaultListenerCiphers is Octavia's CIPHERS_OWASP_SUITE_B, the default tls_ciphers.
const defaultListenerCiphers = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
	"DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:" +
	"DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256"

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
	// A null default_tls_container_ref is taken as absent.
	DefaultTLSContainerRef *string   `json:"default_tls_container_ref"`
	SNIContainerRefs       *[]string `json:"sni_container_refs"`
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
	// Create and update read Barbican through the Env, which must not happen under s.mu:
	// they take the lock themselves around it.
	switch {
	case len(seg) == 0 && r.Method == http.MethodPost:
		return s.createListener(r, project)
	case len(seg) == 1 && r.Method == http.MethodPut:
		return s.updateListener(r, project, seg[0])
	}
	s.mu.Lock()
	defer s.unlock()
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		return listReply(r, "listeners", visibleViews(project, s.listeners, s.listenerView)), nil
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

// updateListener is PUT /listeners/{id}. New certificate references are checked (and the
// service user granted read access) before the load balancer's state is, as Octavia's
// _validate_listener_PUT runs first; the certificates are read after it.
func (s *Service) updateListener(r *http.Request, project, id string) (reply, *apiError) {
	var body listenerBody
	if err := decodeBody(r, "listener", &body); err != nil {
		return reply{}, err
	}
	if err := body.validateCommon(); err != nil {
		return reply{}, err
	}
	s.mu.Lock()
	l := s.listeners[id]
	if l == nil || !visible(project, l.ProjectID) {
		s.unlock()
		return reply{}, notFound("Listener", id)
	}
	protocol := l.Protocol
	s.unlock()
	if err := body.checkTLSProtocol(protocol, false); err != nil {
		return reply{}, err
	}
	var def *servedCert
	var sni []*servedCert
	var loadErr *apiError
	if refs := tlsRefs(derefString(body.DefaultTLSContainerRef), derefList(body.SNIContainerRefs)); len(refs) > 0 {
		if err := s.checkTLSRefs(r, refs); err != nil {
			return reply{}, err
		}
		def, sni, loadErr = s.loadCerts(body.DefaultTLSContainerRef, body.SNIContainerRefs)
	}

	s.mu.Lock()
	defer s.unlock()
	if s.listeners[id] != l {
		return reply{}, notFound("Listener", id)
	}
	if body.DefaultPoolID != nil && *body.DefaultPoolID != "" {
		// A busy load balancer is refused before the pool is looked at.
		if _, err := s.mutableLB(l.LoadBalancerID); err != nil {
			return reply{}, err
		}
		if err := s.checkDefaultPool(l.LoadBalancerID, *body.DefaultPoolID, l.Protocol); err != nil {
			return reply{}, err
		}
	}
	if _, err := s.mutableLB(l.LoadBalancerID); err != nil {
		return reply{}, err
	}
	if loadErr != nil {
		return reply{}, loadErr
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
		if body.DefaultTLSContainerRef != nil {
			l.tlsDefault = def
		}
		if body.SNIContainerRefs != nil {
			l.tlsSNI = sni
		}
		if l.vip != nil && l.vip.protocol == protocolTerminatedHTTPS {
			l.vip.certs.Store(l.certSet())
		}
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
}

const protocolTerminatedHTTPS = "TERMINATED_HTTPS"

// checkTLSProtocol is the part of _validate_create_listener and _validate_listener_PUT that
// looks at certificate references against the protocol: TERMINATED_HTTPS (and PROMETHEUS
// with references) can offload TLS, UDP and SCTP never, and only a create insists on a
// reference for TERMINATED_HTTPS.
func (b *listenerBody) checkTLSProtocol(protocol string, create bool) *apiError {
	hasRefs := derefString(b.DefaultTLSContainerRef) != "" || len(derefList(b.SNIContainerRefs)) > 0
	canOffload := protocol == protocolTerminatedHTTPS || (protocol == "PROMETHEUS" && hasRefs)
	switch {
	case (protocol == "UDP" || protocol == "SCTP") && hasRefs && create:
		return validation("%s protocol listener does not support TLS.", protocol)
	case (protocol == "UDP" || protocol == "SCTP") && hasRefs:
		return validation("%s protocol listener does not support TLS or header insertion.", protocol)
	case !canOffload && hasRefs:
		return validation("Certificate container references are not allowed on %s protocol listeners.", protocol)
	case create && canOffload && !hasRefs:
		return validation("An SNI or default certificate container reference must be provided for %s protocol listeners.", protocol)
	}
	return nil
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefList(l *[]string) []string {
	if l == nil {
		return nil
	}
	return *l
}

// certSet is what the listener's socket presents.
func (l *listener) certSet() *tlsCertSet {
	return &tlsCertSet{def: l.tlsDefault, sni: l.tlsSNI}
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
	if b.DefaultTLSContainerRef != nil {
		l.DefaultTLSContainerRef = *b.DefaultTLSContainerRef
	}
	if b.SNIContainerRefs != nil {
		l.SNIContainerRefs = append([]string{}, *b.SNIContainerRefs...)
	}
}

// checkDefaultPool validates a listener's default_pool_id as Octavia's _validate_pool does:
// the pool must be on the listener's load balancer and speak a protocol the listener's
// protocol allows (an HTTP pool behind TERMINATED_HTTPS, say).
func (s *Service) checkDefaultPool(lbID, poolID, listenerProtocol string) *apiError {
	p := s.pools[poolID]
	if p == nil {
		return notFound("Pool", poolID)
	}
	if p.LoadBalancerID != lbID {
		return validation("Pool %s is on a different load balancer", poolID)
	}
	if !oneOf(p.Protocol, compatible[listenerProtocol]) {
		return validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", p.Protocol, listenerProtocol)
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
	s.mu.Lock()
	_, err := s.listenerTarget(project, &body)
	s.unlock()
	if err != nil {
		return reply{}, err
	}
	// As in _validate_create_listener: grant access to and check every reference, then
	// (for the provider) read the certificates. The second can only fail after the duplicate
	// check below, which Octavia runs in between.
	var def *servedCert
	var sni []*servedCert
	var loadErr *apiError
	if refs := tlsRefs(derefString(body.DefaultTLSContainerRef), derefList(body.SNIContainerRefs)); len(refs) > 0 {
		if err := s.checkTLSRefs(r, refs); err != nil {
			return reply{}, err
		}
		def, sni, loadErr = s.loadCerts(body.DefaultTLSContainerRef, body.SNIContainerRefs)
	}

	s.mu.Lock()
	defer s.unlock()
	// Again: the load balancer may have changed while Barbican was read.
	lb, err := s.listenerTarget(project, &body)
	if err != nil {
		return reply{}, err
	}
	for _, other := range s.listeners {
		if other.LoadBalancerID == lb.ID && other.ProtocolPort == *body.ProtocolPort && other.Protocol == *body.Protocol {
			return reply{}, fault(http.StatusConflict,
				"Another Listener on this Load Balancer is already using protocol %s and protocol_port %d", *body.Protocol, *body.ProtocolPort)
		}
	}
	if loadErr != nil {
		return reply{}, loadErr
	}
	l := &listener{base: newBase(lb.ProjectID), LoadBalancerID: lb.ID, Protocol: *body.Protocol, ProtocolPort: *body.ProtocolPort,
		ConnectionLimit: -1, TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
		InsertHeaders: map[string]string{}, stats: &trafficStats{}, tlsDefault: def, tlsSNI: sni}
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
		if l.Protocol == "HTTP" || l.Protocol == protocolTerminatedHTTPS {
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

// listenerTarget finds the load balancer a listener create names and runs the checks that
// precede Octavia's certificate checks, in its order: the load balancer exists, the project's
// listener quota, the default pool suits the listener, the load balancer is not busy, and the
// certificate references suit the protocol.
func (s *Service) listenerTarget(project string, body *listenerBody) (*loadBalancer, *apiError) {
	lb := s.lbs[body.LoadBalancerID]
	if lb == nil || !visible(project, lb.ProjectID) {
		return nil, validation("Load Balancer %s not found.", body.LoadBalancerID)
	}
	// Octavia checks the quota before the default pool and the load balancer's state.
	if err := s.quotaMet(lb.ProjectID, "listener", 1); err != nil {
		return nil, err
	}
	if body.DefaultPoolID != nil && *body.DefaultPoolID != "" {
		if err := s.checkDefaultPool(lb.ID, *body.DefaultPoolID, *body.Protocol); err != nil {
			return nil, err
		}
	}
	if lb.pending() {
		return nil, immutable(lb.ID)
	}
	if err := body.checkTLSProtocol(*body.Protocol, true); err != nil {
		return nil, err
	}
	return lb, nil
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
	sniRefs := l.SNIContainerRefs
	if sniRefs == nil {
		sniRefs = []string{}
	}
	// db_prepare.create_listener gives TERMINATED_HTTPS listeners the configured defaults
	// (OWASP suite B ciphers and versions, and Octavia's ALPN list).
	var tlsCiphers, tlsVersions, alpn any
	if l.Protocol == protocolTerminatedHTTPS {
		tlsCiphers, tlsVersions, alpn = defaultListenerCiphers, []string{"TLSv1.2", "TLSv1.3"}, []string{"h2", "http/1.1", "http/1.0"}
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
		"default_tls_container_ref":   nullable(l.DefaultTLSContainerRef),
		"sni_container_refs":          sniRefs,
		"insert_headers":              l.InsertHeaders,
		"timeout_client_data":         l.TimeoutClientData,
		"timeout_member_connect":      l.TimeoutMemberConnect,
		"timeout_member_data":         l.TimeoutMemberData,
		"timeout_tcp_inspect":         l.TimeoutTCPInspect,
		"allowed_cidrs":               allowed,
		"tls_ciphers":                 tlsCiphers,
		"tls_versions":                tlsVersions,
		"alpn_protocols":              alpn,
		"client_authentication":       "NONE",
		"client_ca_tls_container_ref": nil,
		"client_crl_container_ref":    nil,
		"hsts_include_subdomains":     false,
		"hsts_max_age":                nil,
		"hsts_preload":                false,
		"tags":                        tagsOrEmpty(l.Tags),
		"created_at":                  timestamp(l.CreatedAt),
		"updated_at":                  timestamp(l.UpdatedAt),
		// devcloud only: the real socket of this listener (HTTP and TERMINATED_HTTPS).
		"devcloud_vip_url": vipURL,
	}
}
