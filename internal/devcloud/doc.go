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
// Trove replica builds fail with "replica_errors" (same shape as "server_errors"; the
// instance shows Trove's "fault" object), and a rule with "revoke_tokens" revokes every token
// issued so far, so that clients get 401 until they authenticate again:
//
//	{"replica_errors": {"next": 1}, "rules": [{"service": "load-balancer", "revoke_tokens": true, "times": 1}]}
//
// In process, SuspendFaults pauses the request rules while a harness reads the cloud.
//
// Where things live: one file per API and resource, named <service>_<resource>.go. Each
// service's <service>.go holds its router (the switch on the first path segment), its request
// type, error writer and shared lookups; a new resource gets its own file and one case there.
//
//	cloud.go, state.go, seed.go     Start, routes, the in-memory state, the seeded objects
//	control.go, faults.go, timing.go, metrics.go, events.go, capacity.go   the /_devcloud/ API
//	faults_keystone.go, faults_trove.go   token revocation and replica build failures
//	httputil.go                     JSON, error bodies per service, time formats
//	keystone.go                     Keystone router and version documents
//	  keystone_auth.go              token middleware for every service (tokenFrom)
//	  keystone_identity.go          domains, projects, users, roles (seedIdentity)
//	  keystone_tokens.go            POST/GET/DELETE /v3/auth/tokens, catalog
//	  keystone_app_credentials.go   /v3/users/{id}/application_credentials
//	nova.go                         Nova router, microversions, novaReq
//	  nova_servers.go               server routing, show, update, delete, ips, lookups
//	  nova_servers_create.go        POST /servers: validation, ports, quota
//	  nova_servers_list.go          GET /servers and /servers/detail: filters, paging
//	  nova_servers_views.go         the server body per microversion
//	  nova_actions.go               POST /servers/{id}/action: the serverActions table
//	  nova_metadata.go              /servers/{id}/metadata and /tags
//	  nova_scheduler.go             hosts, placement by group policy, build end, web nodes,
//	                                os-availability-zone
//	  nova_groups.go, nova_keypairs.go, nova_flavors.go, nova_quotas.go (os-quota-sets, limits)
//	glance.go                       Glance router, image lookups and owner checks
//	  glance_images.go              list, show, create, delete, the image body
//	  glance_images_patch.go        PATCH (json-patch) and settable fields
//	  glance_image_data.go          PUT /file; glance_image_tags.go: PUT/DELETE /tags/{tag}
//	neutron.go                      Neutron router, the generic collection handler, filters
//	  neutron_networks.go, neutron_subnets.go, neutron_ports.go, neutron_security_groups.go,
//	  neutron_routers.go, neutron_quotas.go
//	trove.go                        Trove router, troveReq, instance lookups
//	  trove_instances.go            show, list, delete, update (detach), the instance body
//	  trove_instances_create.go     POST /instances, replicas
//	  trove_datastores.go, trove_flavors.go, trove_quotas.go (mgmt/quotas, limits)
//	wire_octavia.go, dataplane_api.go   the core's side of package octavia (Octavia v2 and
//	                                its data plane: one file per object under octavia/)
//	webnode/                        the web nodes servers run
//
// Users: demo/secret (project demo; roles member, reader, load-balancer_member) and
// admin/secret (project admin; admin), domain Default, region RegionOne. The demo user also
// has the application credential DemoAppCredentialID / DemoAppCredentialSecret.
//
// Timeline event kinds from the core (attrs in parentheses): server.created, server.active,
// server.error (message), server.rebooting (type), server.deleting, server.deleted (server_id,
// name, address when the server had one); image.created, image.saved, image.deleted (image_id, name,
// server_id for snapshots); db.created, db.active, db.deleted, replica.created,
// replica.detached, replica.deleted (instance_id, name, replica_of), replica.error (the same and
// message); identity.tokens_revoked (tokens). Octavia adds its own
// (lb.status, member.added, member.weight, ...).
package devcloud
