package octavia

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

type memberBody struct {
	Address        *string   `json:"address"`
	ProtocolPort   *int      `json:"protocol_port"`
	Name           *string   `json:"name"`
	Weight         *int      `json:"weight"`
	AdminStateUp   *bool     `json:"admin_state_up"`
	SubnetID       *string   `json:"subnet_id"`
	Backup         *bool     `json:"backup"`
	MonitorAddress *string   `json:"monitor_address"`
	MonitorPort    *int      `json:"monitor_port"`
	Tags           *[]string `json:"tags"`
	ProjectID      string    `json:"project_id"`
}

func (b *memberBody) validateCommon() *apiError {
	if b.Weight != nil && (*b.Weight < 0 || *b.Weight > 256) {
		return invalidField("weight", *b.Weight, "Value should be greater or equal to 0 and lower or equal to 256")
	}
	if b.MonitorPort != nil && (*b.MonitorPort < 1 || *b.MonitorPort > 65535) {
		return invalidField("monitor_port", *b.MonitorPort, "Value should be greater or equal to 1 and lower or equal to 65535")
	}
	if b.MonitorAddress != nil && *b.MonitorAddress != "" && net.ParseIP(*b.MonitorAddress) == nil {
		return invalidField("monitor_address", *b.MonitorAddress, "Value should be IPv4 or IPv6 format")
	}
	return nil
}

func (b *memberBody) validateCreate() *apiError {
	if b.Address == nil {
		return invalidField("address", "None", "Mandatory field missing.")
	}
	if net.ParseIP(*b.Address) == nil {
		return invalidField("address", *b.Address, "Value should be IPv4 or IPv6 format")
	}
	if b.ProtocolPort == nil {
		return invalidField("protocol_port", "None", "Mandatory field missing.")
	}
	if *b.ProtocolPort < 1 || *b.ProtocolPort > 65535 {
		return invalidField("protocol_port", *b.ProtocolPort, "Value should be greater or equal to 1 and lower or equal to 65535")
	}
	return b.validateCommon()
}

// apply sets the fields the body carries. With defaults, the fields Octavia's
// batch update resets when absent (weight, admin_state_up, backup) take their
// defaults, because a batch item is a full member description.
func (b *memberBody) apply(m *member, defaults bool) {
	if b.Name != nil {
		m.Name = *b.Name
	}
	switch {
	case b.Weight != nil:
		m.Weight = *b.Weight
	case defaults:
		m.Weight = 1
	}
	switch {
	case b.AdminStateUp != nil:
		m.AdminStateUp = *b.AdminStateUp
	case defaults:
		m.AdminStateUp = true
	}
	switch {
	case b.Backup != nil:
		m.Backup = *b.Backup
	case defaults:
		m.Backup = false
	}
	if b.SubnetID != nil {
		m.SubnetID = *b.SubnetID
	}
	if b.MonitorAddress != nil {
		m.MonitorAddress = *b.MonitorAddress
	}
	if b.MonitorPort != nil {
		p := *b.MonitorPort
		m.MonitorPort = &p
	}
	if b.Tags != nil {
		m.Tags = append([]string{}, *b.Tags...)
	}
}

func (s *Service) routeMembers(r *http.Request, p *pool, seg []string) (reply, *apiError) {
	if len(seg) == 0 {
		switch r.Method {
		case http.MethodGet:
			var views []map[string]any
			for _, m := range p.members {
				views = append(views, s.memberView(m))
			}
			return listReply(r, "members", views), nil
		case http.MethodPost:
			return s.createMember(r, p)
		case http.MethodPut:
			return s.batchUpdateMembers(r, p)
		}
		return reply{}, methodNotAllowed()
	}
	if len(seg) != 1 {
		return reply{}, fault(http.StatusNotFound, "The resource could not be found.")
	}
	m := s.members[seg[0]]
	if m == nil || m.PoolID != p.ID {
		return reply{}, notFound("Member", seg[0])
	}
	switch r.Method {
	case http.MethodGet:
		return reply{http.StatusOK, map[string]any{"member": s.memberView(m)}}, nil
	case http.MethodPut:
		var body memberBody
		if err := decodeBody(r, "member", &body); err != nil {
			return reply{}, err
		}
		if err := body.validateCommon(); err != nil {
			return reply{}, err
		}
		err := s.changeChild(p.LoadBalancerID, &m.base, statusPendingUpdate, func(c cycle) {
			if s.members[m.ID] == m {
				s.commitMemberUpdate(m, &body, false, c)
			}
		}, s.parentsOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		return previewReply("member", *m, func(m *member) { body.apply(m, false) }, s.memberView), nil
	case http.MethodDelete:
		err := s.changeChild(p.LoadBalancerID, &m.base, statusPendingDelete, func(cycle) {
			if s.members[m.ID] == m {
				s.dropMember(m)
				p.members = without(p.members, m)
			}
		}, s.parentsOfPool(p)...)
		if err != nil {
			return reply{}, err
		}
		return reply{http.StatusNoContent, nil}, nil
	}
	return reply{}, methodNotAllowed()
}

func without(list []*member, m *member) []*member {
	out := list[:0:0]
	for _, x := range list {
		if x != m {
			out = append(out, x)
		}
	}
	return out
}

func (s *Service) newMember(p *pool, body *memberBody) *member {
	m := &member{base: newBase(p.ProjectID), PoolID: p.ID, Address: *body.Address, ProtocolPort: *body.ProtocolPort, Weight: 1}
	body.apply(m, true)
	m.traffic = &memberCounters{lbID: p.LoadBalancerID, poolID: p.ID, memberID: m.ID, address: m.Address, seq: m.seq}
	s.members[m.ID] = m
	p.members = append(p.members, m)
	return m
}

func (s *Service) createMember(r *http.Request, p *pool) (reply, *apiError) {
	var body memberBody
	if err := decodeBody(r, "member", &body); err != nil {
		return reply{}, err
	}
	if err := body.validateCreate(); err != nil {
		return reply{}, err
	}
	if err := s.quotaMet(p.ProjectID, "member", 1); err != nil {
		return reply{}, err
	}
	lb, err := s.mutableLB(p.LoadBalancerID)
	if err != nil {
		return reply{}, err
	}
	for _, other := range p.members {
		if other.Address == *body.Address && other.ProtocolPort == *body.ProtocolPort {
			return reply{}, fault(http.StatusConflict, "Another member on this pool is already using ip %s on protocol_port %d",
				other.Address, other.ProtocolPort)
		}
	}
	m := s.newMember(p, &body)
	s.updateCycle(lb, func(c cycle) {
		if s.members[m.ID] == m {
			s.commitMemberAdd(m, c)
		}
	}, s.parentsOfPool(p)...)
	return reply{http.StatusCreated, map[string]any{"member": s.memberView(m)}}, nil
}

// batchUpdateMembers is PUT /pools/{id}/members: the body's list becomes the
// pool's member list in one update cycle. Members are matched by address and
// protocol_port: matched ones are updated (keeping their ids), new ones
// created, the others deleted.
func (s *Service) batchUpdateMembers(r *http.Request, p *pool) (reply, *apiError) {
	var body struct {
		Members *[]json.RawMessage `json:"members"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return reply{}, fault(http.StatusBadRequest, "Invalid input for field/attribute members. Value: 'None'. %s", err)
	}
	if body.Members == nil {
		return reply{}, invalidField("members", "None", "Mandatory field missing.")
	}
	items := make([]*memberBody, 0, len(*body.Members))
	seen := map[string]bool{}
	for i, raw := range *body.Members {
		var mb memberBody
		if err := json.Unmarshal(raw, &mb); err != nil {
			return reply{}, fault(http.StatusBadRequest, "Invalid input for field/attribute members. Value: '%s'. %s", raw, err)
		}
		if err := mb.validateCreate(); err != nil {
			return reply{}, err
		}
		key := fmt.Sprintf("%s:%d", *mb.Address, *mb.ProtocolPort)
		if seen[key] {
			return reply{}, validation("member %d repeats address %s and protocol_port %d", i, *mb.Address, *mb.ProtocolPort)
		}
		seen[key] = true
		items = append(items, &mb)
	}
	lb, err := s.mutableLB(p.LoadBalancerID)
	if err != nil {
		return reply{}, err
	}

	existing := map[string]*member{}
	for _, m := range p.members {
		existing[fmt.Sprintf("%s:%d", m.Address, m.ProtocolPort)] = m
	}
	type update struct {
		m    *member
		body *memberBody
	}
	var updates []update
	var adds []*memberBody
	keep := map[*member]bool{}
	for _, mb := range items {
		if m := existing[fmt.Sprintf("%s:%d", *mb.Address, *mb.ProtocolPort)]; m != nil {
			updates = append(updates, update{m, mb})
			keep[m] = true
			continue
		}
		adds = append(adds, mb)
	}
	// additive_only=true (API 2.11) keeps the members missing from the body.
	additive := r.URL.Query().Get("additive_only") == "true" || r.URL.Query().Get("additive_only") == "True"
	var removed []*member
	for _, m := range p.members {
		if !keep[m] && !additive {
			removed = append(removed, m)
		}
	}
	// Octavia counts the members a batch adds net of those it drops.
	if err := s.quotaMet(p.ProjectID, "member", len(adds)-len(removed)); err != nil {
		return reply{}, err
	}
	for _, u := range updates {
		u.m.ProvisioningStatus = statusPendingUpdate
	}
	var created []*member
	for _, mb := range adds {
		created = append(created, s.newMember(p, mb))
	}
	for _, m := range removed {
		m.ProvisioningStatus = statusPendingDelete
	}
	s.updateCycle(lb, func(c cycle) {
		for _, m := range removed {
			if s.members[m.ID] == m {
				s.dropMember(m)
				p.members = without(p.members, m)
			}
		}
		for _, u := range updates {
			if s.members[u.m.ID] == u.m {
				s.commitMemberUpdate(u.m, u.body, true, c)
			}
		}
		for _, m := range created {
			if s.members[m.ID] == m {
				s.commitMemberAdd(m, c)
			}
		}
	}, s.parentsOfPool(p)...)
	return reply{http.StatusAccepted, nil}, nil
}

func (s *Service) poolMonitor(p *pool) *monitor {
	if mon := s.monitors[p.HealthMonitorID]; mon != nil && mon.live {
		return mon
	}
	return nil
}

func (s *Service) commitMemberAdd(m *member, c cycle) {
	p := s.pools[m.PoolID]
	m.live = true
	m.ProvisioningStatus = statusActive
	m.UpdatedAt = time.Now()
	if mon := s.poolMonitor(p); mon != nil {
		m.checkedAt = time.Now().Add(c.healthDelay(mon))
	}
	s.traffic[m.ID] = m.traffic
	s.emit("member.added", map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID, "member_id": m.ID,
		"address": m.Address, "protocol_port": m.ProtocolPort, "weight": m.Weight, "admin_state_up": m.AdminStateUp})
}

func (s *Service) commitMemberUpdate(m *member, body *memberBody, defaults bool, c cycle) {
	p := s.pools[m.PoolID]
	oldWeight, oldAdmin := m.Weight, m.AdminStateUp
	body.apply(m, defaults)
	m.ProvisioningStatus = statusActive
	m.UpdatedAt = time.Now()
	attrs := func(k string, v any) map[string]any {
		return map[string]any{"lb_id": p.LoadBalancerID, "pool_id": p.ID, "member_id": m.ID, "address": m.Address, k: v}
	}
	if m.Weight != oldWeight {
		s.emit("member.weight", attrs("weight", m.Weight))
	}
	if m.AdminStateUp != oldAdmin {
		s.emit("member.admin_state", attrs("admin_state_up", m.AdminStateUp))
		if !m.AdminStateUp {
			// HAProxy puts the server in maintenance: its sessions are cut.
			m.breakInFlight()
		} else if mon := s.poolMonitor(p); mon != nil {
			m.checkedAt = time.Now().Add(c.healthDelay(mon))
		}
	}
}

// dropMember removes a member from the configuration at commit time,
// cutting its requests in flight. The caller unlinks it from its pool.
func (s *Service) dropMember(m *member) {
	m.breakInFlight()
	m.live = false
	m.ProvisioningStatus = statusDeleted
	delete(s.members, m.ID)
	lbID := ""
	if p := s.pools[m.PoolID]; p != nil {
		lbID = p.LoadBalancerID
		delete(p.rr, m.ID)
	}
	s.emit("member.removed", map[string]any{"lb_id": lbID, "pool_id": m.PoolID, "member_id": m.ID, "address": m.Address})
}

func (s *Service) memberView(m *member) map[string]any {
	var monPort any
	if m.MonitorPort != nil {
		monPort = *m.MonitorPort
	}
	return map[string]any{
		"id":                  m.ID,
		"name":                m.Name,
		"address":             m.Address,
		"protocol_port":       m.ProtocolPort,
		"weight":              m.Weight,
		"admin_state_up":      m.AdminStateUp,
		"backup":              m.Backup,
		"subnet_id":           nullable(m.SubnetID),
		"monitor_address":     nullable(m.MonitorAddress),
		"monitor_port":        monPort,
		"project_id":          m.ProjectID,
		"provisioning_status": m.ProvisioningStatus,
		"operating_status":    s.memberOperatingStatus(m),
		"vnic_type":           "normal",
		"tags":                tagsOrEmpty(m.Tags),
		"created_at":          timestamp(m.CreatedAt),
		"updated_at":          timestamp(m.UpdatedAt),
	}
}
