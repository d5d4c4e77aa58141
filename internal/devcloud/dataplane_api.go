package devcloud

import "github.com/eventscale/terraform-provider-eventscale/internal/devcloud/octavia"

// VIPs lists the real 127.0.0.1 listeners behind the load balancers' HTTP listeners, for
// in-process tests and the demo (GET /_devcloud/vips over HTTP).
func (c *Cloud) VIPs() []octavia.VIPInfo { return c.dp.vips() }

// MemberTraffic is the per-member count of requests served and broken in flight.
func (c *Cloud) MemberTraffic() []octavia.MemberTraffic { return c.dp.traffic() }
