// Package devcloud is an in-process OpenStack API simulator (Keystone v3, Nova v2.1, Glance v2,
// Neutron v2.0, Octavia v2, Trove v1.0, and Placement's version document) on one loopback
// listener. Clients written for a real cloud (gophercloud, the openstack CLI,
// terraform-provider-openstack) run against it unchanged, while a control API under /_devcloud/
// injects faults, changes timing and reads the timeline.
//
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
// and to create the next server but lose the answer (the client sees a dropped connection):
//
//	{"rules": [{"service": "compute", "method": "POST", "path": "/servers", "drop": true, "after": true, "times": 1}]}
//
// Users: demo/secret (project demo; roles member, reader, load-balancer_member) and
// admin/secret (project admin; admin), domain Default, region RegionOne. The demo user also
// has the application credential DemoAppCredentialID / DemoAppCredentialSecret.
//
// Timeline event kinds from the core (attrs in parentheses): server.created, server.active,
// server.error (message), server.rebooting (type), server.deleting, server.deleted (server_id,
// name, address when known); image.created, image.saved, image.deleted (image_id, name,
// server_id for snapshots); db.created, db.active, db.deleted, replica.created,
// replica.detached, replica.deleted (instance_id, name, replica_of). Octavia adds its own
// (lb.status, member.added, member.weight, ...).
package devcloud
