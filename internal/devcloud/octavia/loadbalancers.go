package octavia

import (
	"net/http"
	"strings"
	"time"
)

type lbCreateBody struct {
	Name             *string  `json:"name"`
	Description      *string  `json:"description"`
	AdminStateUp     *bool    `json:"admin_state_up"`
	VipSubnetID      string   `json:"vip_subnet_id"`
	VipNetworkID     string   `json:"vip_network_id"`
	VipPortID        string   `json:"vip_port_id"`
	VipAddress       string   `json:"vip_address"`
	Provider         string   `json:"provider"`
	FlavorID         string   `json:"flavor_id"`
	AvailabilityZone string   `json:"availability_zone"`
	Tags             []string `json:"tags"`
	Listeners        []any    `json:"listeners"`
	Pools            []any    `json:"pools"`
	ProjectID        string   `json:"project_id"`
}

type lbUpdateBody struct {
	Name         *string   `json:"name"`
	Description  *string   `json:"description"`
	AdminStateUp *bool     `json:"admin_state_up"`
	Tags         *[]string `json:"tags"`
}

func (s *Service) routeLoadBalancers(r *http.Request, seg []string) (reply, *apiError) {
	project := s.env.ProjectID(r)
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		s.mu.Lock()
		defer s.unlock()
		return listReply(r, "loadbalancers", visibleViews(project, s.lbs, s.lbView)), nil
	case len(seg) == 0 && r.Method == http.MethodPost:
		return s.createLB(r, project)
	case len(seg) == 0:
		return reply{}, methodNotAllowed()
	}

	id := seg[0]
	s.mu.Lock()
	defer s.unlock()
	lb := s.lbs[id]
	if lb == nil || !visible(project, lb.ProjectID) {
		return reply{}, notFound("Load Balancer", id)
	}
	if len(seg) == 2 {
		switch {
		case seg[1] == "status" && r.Method == http.MethodGet:
			return reply{http.StatusOK, map[string]any{"statuses": map[string]any{"loadbalancer": s.statusTree(lb)}}}, nil
		case seg[1] == "stats" && r.Method == http.MethodGet:
			return reply{http.StatusOK, map[string]any{"stats": lb.stats.view()}}, nil
		case seg[1] == "failover" && r.Method == http.MethodPut:
			if lb.pending() {
				return reply{}, immutable(lb.ID)
			}
			s.updateCycle(lb, func(cycle) {})
			return reply{http.StatusAccepted, nil}, nil
		}
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	switch r.Method {
	case http.MethodGet:
		return reply{http.StatusOK, map[string]any{"loadbalancer": s.lbView(lb)}}, nil
	case http.MethodPut:
		var body lbUpdateBody
		if err := decodeBody(r, "loadbalancer", &body); err != nil {
			return reply{}, err
		}
		if lb.pending() {
			return reply{}, immutable(lb.ID)
		}
		apply := func(t *loadBalancer) {
			if body.Name != nil {
				t.Name = *body.Name
			}
			if body.Description != nil {
				t.Description = *body.Description
			}
			if body.AdminStateUp != nil {
				t.AdminStateUp = *body.AdminStateUp
			}
			if body.Tags != nil {
				t.Tags = append([]string{}, *body.Tags...)
			}
		}
		s.updateCycle(lb, func(cycle) { apply(lb); lb.UpdatedAt = time.Now() })
		preview := *lb
		apply(&preview)
		return reply{http.StatusOK, map[string]any{"loadbalancer": s.lbView(&preview)}}, nil
	case http.MethodDelete:
		if lb.ProvisioningStatus != statusActive && lb.ProvisioningStatus != "ERROR" {
			return reply{}, immutable(lb.ID)
		}
		cascade := r.URL.Query().Get("cascade") == "true" || r.URL.Query().Get("cascade") == "True"
		if !cascade && s.hasChildren(lb) {
			return reply{}, validation("Cannot delete Load Balancer %s - it has children", lb.ID)
		}
		s.deleteLB(lb)
		return reply{http.StatusNoContent, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

func (s *Service) hasChildren(lb *loadBalancer) bool {
	for _, l := range s.listeners {
		if l.LoadBalancerID == lb.ID {
			return true
		}
	}
	for _, p := range s.pools {
		if p.LoadBalancerID == lb.ID {
			return true
		}
	}
	return false
}

func (s *Service) createLB(r *http.Request, project string) (reply, *apiError) {
	var body lbCreateBody
	if err := decodeBody(r, "loadbalancer", &body); err != nil {
		return reply{}, err
	}
	if body.VipSubnetID == "" && body.VipNetworkID == "" && body.VipPortID == "" {
		return reply{}, validation("VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
	}
	if body.Provider != "" && body.Provider != "amphora" && body.Provider != "octavia" {
		return reply{}, fault(http.StatusBadRequest, "Provider '%s' is not enabled.", body.Provider)
	}
	if len(body.Listeners) > 0 || len(body.Pools) > 0 {
		return reply{}, fault(http.StatusBadRequest,
			"devcloud: fully populated load balancer create (listeners/pools in the body) is not simulated; create them one by one")
	}
	if project == "" {
		project = body.ProjectID
	}
	s.mu.Lock()
	quotaErr := s.quotaMet(project, "load_balancer", 1)
	s.unlock()
	if quotaErr != nil {
		return reply{}, quotaErr
	}
	lb := &loadBalancer{base: newBase(project), Provider: "amphora", FlavorID: body.FlavorID,
		AvailabilityZone: body.AvailabilityZone, stats: &trafficStats{}}
	if body.Name != nil {
		lb.Name = *body.Name
	}
	if body.Description != nil {
		lb.Description = *body.Description
	}
	if body.AdminStateUp != nil {
		lb.AdminStateUp = *body.AdminStateUp
	}
	if body.Tags != nil {
		lb.Tags = append([]string{}, body.Tags...)
	}
	if body.VipPortID != "" {
		// The caller brought its own port: Octavia takes its address from
		// Neutron, which this package cannot ask; the caller's values stand.
		lb.VipPortID, lb.VipSubnetID, lb.VipNetworkID, lb.VipAddress =
			body.VipPortID, body.VipSubnetID, body.VipNetworkID, body.VipAddress
	} else {
		// Allocated outside s.mu: the core's Neutron runs here.
		port, err := s.env.AllocatePort(project, body.VipNetworkID, body.VipSubnetID, "octavia-lb-"+lb.ID)
		if err != nil {
			// Octavia checks the subnet or network first and answers
			// InvalidSubresource: "<Resource> <id> not found." (400).
			if msg := err.Error(); strings.Contains(msg, "not found") || strings.Contains(msg, "could not be found") {
				if body.VipSubnetID != "" {
					return reply{}, fault(http.StatusBadRequest, "Subnet %s not found.", body.VipSubnetID)
				}
				return reply{}, fault(http.StatusBadRequest, "Network %s not found.", body.VipNetworkID)
			}
			return reply{}, validation("could not allocate the VIP port on network %q subnet %q: %v",
				body.VipNetworkID, body.VipSubnetID, err)
		}
		// A requested vip_address cannot be passed to the core's allocator;
		// the port's address wins so that Neutron and Octavia agree.
		lb.VipPortID, lb.VipSubnetID, lb.VipNetworkID, lb.VipAddress = port.ID, port.SubnetID, port.NetworkID, port.Address
		lb.ownsPort = true
	}

	s.mu.Lock()
	defer s.unlock()
	s.lbs[lb.ID] = lb
	s.emit("lb.status", map[string]any{"id": lb.ID, "lb_id": lb.ID, "provisioning_status": statusPendingCreate})
	s.emit("lb.created", map[string]any{"lb_id": lb.ID, "name": lb.Name, "vip_address": lb.VipAddress})
	s.delayed("lb_create", func(cycle) {
		if s.lbs[lb.ID] == lb {
			s.setLBStatus(lb, statusActive)
		}
	})
	return reply{http.StatusCreated, map[string]any{"loadbalancer": s.lbView(lb)}}, nil
}

// deleteLB marks the load balancer and everything under it PENDING_DELETE and,
// after lb_delete, removes it all, cutting the traffic it carried.
func (s *Service) deleteLB(lb *loadBalancer) {
	s.setLBStatus(lb, statusPendingDelete)
	for _, l := range s.listeners {
		if l.LoadBalancerID == lb.ID {
			l.ProvisioningStatus = statusPendingDelete
		}
	}
	for _, p := range s.pools {
		if p.LoadBalancerID != lb.ID {
			continue
		}
		p.ProvisioningStatus = statusPendingDelete
		for _, m := range p.members {
			m.ProvisioningStatus = statusPendingDelete
		}
		if mon := s.monitors[p.HealthMonitorID]; mon != nil {
			mon.ProvisioningStatus = statusPendingDelete
		}
	}
	s.delayed("lb_delete", func(cycle) {
		if s.lbs[lb.ID] != lb {
			return
		}
		for _, p := range sortedValues(s.pools) {
			if p.LoadBalancerID == lb.ID {
				s.removePool(p)
			}
		}
		for _, l := range sortedValues(s.listeners) {
			if l.LoadBalancerID == lb.ID {
				s.removeListener(l)
			}
		}
		delete(s.lbs, lb.ID)
		lb.ProvisioningStatus = statusDeleted
		s.emit("lb.status", map[string]any{"id": lb.ID, "lb_id": lb.ID, "provisioning_status": statusDeleted})
		s.emit("lb.deleted", map[string]any{"lb_id": lb.ID})
		if lb.ownsPort {
			portID := lb.VipPortID
			s.later(func() { s.env.ReleasePort(portID) })
		}
	})
}

func (s *Service) lbView(lb *loadBalancer) map[string]any {
	var listenerIDs, poolIDs []string
	vipURL := ""
	for _, l := range sortedValues(s.listeners) {
		if l.LoadBalancerID == lb.ID {
			listenerIDs = append(listenerIDs, l.ID)
			if vipURL == "" && l.vip != nil && l.vip.protocol == "HTTP" {
				vipURL = l.vip.url
			}
		}
	}
	for _, p := range sortedValues(s.pools) {
		if p.LoadBalancerID == lb.ID {
			poolIDs = append(poolIDs, p.ID)
		}
	}
	return map[string]any{
		"id":                  lb.ID,
		"name":                lb.Name,
		"description":         lb.Description,
		"admin_state_up":      lb.AdminStateUp,
		"project_id":          lb.ProjectID,
		"provisioning_status": lb.ProvisioningStatus,
		"operating_status":    s.lbOperatingStatus(lb),
		"vip_address":         lb.VipAddress,
		"vip_port_id":         lb.VipPortID,
		"vip_subnet_id":       lb.VipSubnetID,
		"vip_network_id":      lb.VipNetworkID,
		"vip_qos_policy_id":   nil,
		"vip_vnic_type":       "normal",
		"additional_vips":     []any{},
		"provider":            lb.Provider,
		"flavor_id":           nullable(lb.FlavorID),
		"availability_zone":   nullable(lb.AvailabilityZone),
		"created_at":          timestamp(lb.CreatedAt),
		"updated_at":          timestamp(lb.UpdatedAt),
		"listeners":           idRefs(listenerIDs...),
		"pools":               idRefs(poolIDs...),
		"tags":                tagsOrEmpty(lb.Tags),
		// devcloud only: where the first HTTP listener really listens.
		"devcloud_vip_url": vipURL,
	}
}
