package devcloud

import "strings"

// FloatingIPTarget is where traffic to a floating IP really goes: a floating address cannot be
// bound on loopback, so, as for a VIP, the data plane answers it on the 127.0.0.1 listener of
// the load balancer whose VIP port the floating IP is associated with. One entry per HTTP
// listener, like the VIPs.
type FloatingIPTarget struct {
	FloatingIPID, FloatingIPAddress, PortID, FixedIPAddress string
	LoadBalancerID, ListenerID, URL                         string
}

// FloatingIPTargets lists the floating IPs that reach a load balancer's listener: ACTIVE
// (the association has been applied) and associated with a VIP port (GET /_devcloud/vips
// lists them as "floating_ips").
func (c *Cloud) FloatingIPTargets() []FloatingIPTarget {
	type fip struct {
		FloatingIPTarget
		lbID string // from the VIP port's device_id, "" when the port is not Octavia's
	}
	c.mu.Lock()
	var fips []fip
	for _, id := range c.st.fipOrder {
		f := c.st.floatingIPs[id]
		if f.Status != "ACTIVE" || f.PortID == "" {
			continue
		}
		e := fip{FloatingIPTarget: FloatingIPTarget{FloatingIPID: f.ID, FloatingIPAddress: f.Address, PortID: f.PortID, FixedIPAddress: f.FixedIP}}
		if p := c.st.ports[f.PortID]; p != nil && p.DeviceOwner == "Octavia" {
			e.lbID = strings.TrimPrefix(p.DeviceID, "lb-")
		}
		fips = append(fips, e)
	}
	c.mu.Unlock()
	// The data plane is asked without c.mu (see Cloud.mu).
	vips := c.dp.vips()
	out := []FloatingIPTarget{}
	for _, f := range fips {
		for _, v := range vips {
			// A VIP port brought by the caller is not marked as Octavia's: its address decides.
			if v.LoadBalancerID == f.lbID || f.lbID == "" && v.VIPAddress == f.FixedIPAddress {
				t := f.FloatingIPTarget
				t.LoadBalancerID, t.ListenerID, t.URL = v.LoadBalancerID, v.ListenerID, v.URL
				out = append(out, t)
			}
		}
	}
	return out
}
