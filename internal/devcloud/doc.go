package devcloud

// The control API, under /_devcloud/ on the same listener, needs no token (devcloud only
// listens on loopback):
//
//	GET  /_devcloud/metrics   Metrics: request counts by service, method, path template ({id}) and status
//	GET  /_devcloud/events    {"events": [Event...], "member_traffic": [octavia.MemberTraffic...]}; ?kind=prefix filters
//	POST /_devcloud/faults    FaultSpec (replaces the active faults); DELETE clears them
//	POST /_devcloud/reset     back to the seed (same ids; issued tokens stay valid); answers SeedInfo
//	GET  /_devcloud/seed      SeedInfo
//	GET/POST /_devcloud/timing   {"time_scale": 0.01, "delays_seconds": {"server_build": 30, ...}, "token_ttl_seconds": 3600}
//	GET  /_devcloud/vips      {"vips": [octavia.VIPInfo...]}: the real 127.0.0.1 listeners behind LB listeners
//	GET/POST /_devcloud/capacity CapacityModel: per-vCPU web node capacity and the number of compute hosts
//
// Example: make the next two server builds fail and every 5th compute GET answer 503:
//
//	{"seed": 7,
//	 "server_errors": {"next": 2, "message": "Exceeded maximum number of retries."},
//	 "rules": [{"service": "compute", "method": "GET", "probability": 0.2, "status": 503}]}
//
// Users: demo/secret (project demo; roles member, reader, load-balancer_member) and
// admin/secret (project admin; admin), domain Default, region RegionOne. The demo user also
// has the application credential DemoAppCredentialID / DemoAppCredentialSecret.
