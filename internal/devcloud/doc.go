// Package devcloud is an in-process OpenStack API simulator (Keystone v3, Nova v2.1, Glance v2,
// Neutron v2.0, Octavia v2, Trove v1.0, Barbican v1, Designate v2, and Placement's version
// document) on one loopback listener. Clients written for a real cloud (gophercloud, the
// openstack CLI, terraform-provider-openstack) run against it unchanged, while a control API
// under /_devcloud/ injects faults, changes timing and reads the timeline.
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
//	GET  /_devcloud/vips      {"vips": [octavia.VIPInfo...], "floating_ips": [FloatingIPTarget...]}: the real
//	                          127.0.0.1 listeners behind LB listeners, one per HTTP or TERMINATED_HTTPS
//	                          listener: {"LoadBalancerID", "ListenerID", "VIPAddress", "URL" (http:// or
//	                          https://), "Protocol", "Address" (host:port)}; and the ACTIVE floating IPs
//	                          associated with a load balancer's VIP port, served on its VIP's listeners:
//	                          {"FloatingIPID", "FloatingIPAddress", "PortID", "FixedIPAddress",
//	                          "LoadBalancerID", "ListenerID", "URL"}
//	GET/POST /_devcloud/capacity CapacityModel: per-vCPU web node capacity and the number of compute hosts
//	GET  /_devcloud/machines  {"machines": [MachineInfo...]}: the real mariadbd behind each server whose user
//	                          data is the replica setup script: {"server_id", "name", "address" (fixed IP),
//	                          "port" (as its option files say), "forward" (127.0.0.1:port), "state",
//	                          "boots", "user_data_status"}; Cloud.DialContext follows this mapping
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
// Asynchronous work can end badly per object (ObjectFault): a zone left PENDING, the next
// recordset change in ERROR, a server backup whose image ends killed, a Trove backup FAILED;
// and server_errors.stage "schedule" fails a build in the conductor (NoValidHost):
//
//	{"object_faults": [{"kind": "zone", "outcome": "stuck", "name": "example.com."},
//	                   {"kind": "recordset", "outcome": "error", "next": 1},
//	                   {"kind": "server_backup", "outcome": "error"},
//	                   {"kind": "db_backup", "outcome": "error", "probability": 0.5}],
//	 "server_errors": {"next": 1, "stage": "schedule"}}
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
//	tls.go                          Options.TLS: HTTPS with a generated CA, client certificates
//	control.go, faults.go, timing.go, metrics.go, events.go, capacity.go   the /_devcloud/ API
//	faults_keystone.go, faults_trove.go   token revocation and replica build failures
//	httputil.go                     JSON, error bodies per service, time formats
//	keystone.go                     Keystone router and version documents
//	  keystone_auth.go              token middleware for every service (tokenFrom)
//	  keystone_identity.go          domains, projects, users, roles (seedIdentity)
//	  keystone_tokens.go            POST/GET/DELETE /v3/auth/tokens, catalog
//	  keystone_app_credentials.go   /v3/users/{id}/application_credentials
//	  keystone_user_password.go     POST /v3/users/{id}/password (self-service change)
//	nova.go                         Nova router, microversions, novaReq
//	  nova_servers.go               server routing, show, update, delete, ips, lookups
//	  nova_servers_create.go        POST /servers: validation, ports, quota
//	  nova_servers_list.go          GET /servers and /servers/detail: filters, paging
//	  nova_servers_views.go         the server body per microversion
//	  nova_actions.go               POST /servers/{id}/action: the serverActions table,
//	                                reboot, createImage, os-stop, os-start
//	  nova_backup.go                createBackup and the rotation of backups
//	  nova_instance_actions.go      /servers/{id}/os-instance-actions and the action records
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
//	  neutron_security_group_rules.go (validation and duplicates as Neutron),
//	  neutron_routers.go (interfaces, external gateways), neutron_floatingips.go,
//	  neutron_tags.go (/{collection}/{id}/tags), neutron_quotas.go (limits, usage, OverQuota)
//	dataplane_floatingips.go        floating IPs on a VIP port served on the VIP's listener
//	trove.go                        Trove router, troveReq, instance lookups
//	  trove_instances.go            show, list, delete, update (detach), the instance body
//	  trove_instances_create.go     POST /instances, replicas
//	  trove_backups.go              /backups, /instances/{id}/backups
//	  trove_datastores.go, trove_flavors.go, trove_quotas.go (mgmt/quotas, limits)
//	barbican.go                     Barbican router, version documents, error bodies, the legacy
//	                                policy (kmAllowed), list paging, JSON schema checks
//	  barbican_secrets.go           /v1/secrets: store (one step or PUT of the payload), metadata,
//	                                payload by Accept, list filters and sort, delete
//	  barbican_containers.go        /v1/containers: certificate, rsa and generic; /secrets of generic
//	  barbican_acls.go              /v1/secrets/{id}/acl and /v1/containers/{id}/acl
//	designate.go                    Designate router, dnsReq, errors, privilege headers, paging,
//	                                /v2/limits
//	  designate_zones.go            zones, their status machine (serial, worker answer)
//	  designate_recordsets.go       recordsets, /v2/recordsets; designate_records.go: record data
//	  designate_quotas.go           /v2/quotas
//	wire_octavia.go, dataplane_api.go   the core's side of package octavia (Octavia v2 and
//	                                its data plane: one file per object under octavia/)
//	  wire_octavia_tls.go           Barbican as Octavia's certificate manager (octavia.KeyManager):
//	                                read ACL grants with the caller's token, reads as user octavia
//	webnode/                        the web nodes servers run
//	machines.go, machines_files.go  the database servers behind servers with the replica setup
//	                                as user data (machines_linux.go: their namespaces)
//
// Quotas are enforced as each service does: Nova's 403 (instances, cores, ram, server groups
// and their members, key pairs, metadata), Neutron's 409 OverQuota on every create, Octavia's
// 403 "Quota has been met" (load balancers, listeners, pools, health monitors, members, batch
// updates net of dropped members), Trove's 413 (instances, ram, volumes). Defaults are the
// services' own (Nova 10 instances, 20 cores, 51200 MB; Neutron 50 floating IPs, 10 groups, 100
// rules; Octavia unlimited; Trove 10 instances, 40 GB). Octavia's and Trove's limits APIs show
// no usage: clients count their objects (Trove's mgmt/quotas shows in_use).
//
// Floating IPs come from the external network "public" (203.0.113.0/24, project admin), which
// router1 (project demo) joins to private-subnet, as on DevStack. A floating IP is DOWN until
// the simulated L3 agent applied an association (fip_update delay), then ACTIVE.
//
// Users: demo/secret (project demo; roles member, reader, load-balancer_member, and Barbican's
// creator, which storing secrets needs as on the lab) and admin/secret (project admin; admin),
// domain Default, region RegionOne. Octavia's service user octavia (project service; admin,
// service; SeedInfo.OctaviaUserID) is the one TERMINATED_HTTPS listeners add to the read ACL of
// their Barbican containers and secrets.
//
// Machines: a server whose user data is the eventscale replica setup script (a bash script
// printing "eventscale-replica:" lines) runs it, unchanged and once, on a real mariadbd in
// mount and PID namespaces of its own (/etc/mysql, /var/lib/mysql, /run, /tmp its own), as a
// Debian image with MariaDB would; a reboot restarts MariaDB from the files the script wrote,
// deletion ends every process of the machine. os-getConsoleOutput returns its console (the
// script's progress). The machine shares the host's network, so its mariadbd listens on
// 127.0.0.1 and a port of its own; Cloud.DialContext maps the server's fixed address and
// configured port to it, as a host on the tenant network would reach it. Without mariadbd or
// namespaces (MachinesSupported says why) such servers are plain servers whose console says so.
//
// TLS: a TERMINATED_HTTPS listener names a certificate container (or a PKCS12 secret) by its
// full Barbican URL in default_tls_container_ref and sni_container_refs. Octavia checks them
// as the real API does (octavia/tls.go) and its socket in /_devcloud/vips terminates TLS with
// them, choosing by SNI, and forwards plain HTTP to the members. The demo user also
// has the application credential DemoAppCredentialID / DemoAppCredentialSecret.
//
// Timeline event kinds from the core (attrs in parentheses): server.created, server.active,
// server.error (message), server.rebooting (type), server.stopping, server.stopped,
// server.starting, server.deleting, server.deleted (server_id, name, address when known);
// image.created, image.saved, image.killed, image.deleted (image_id, name, server_id for
// snapshots and backups, backup_type for backups, reason "rotation" or "backup failed" for
// deletions by Nova); db.created, db.active, db.deleted, replica.created, replica.detached,
// replica.deleted (instance_id, name, replica_of), replica.error (the same and
// message); identity.tokens_revoked (tokens); db.backup.created, db.backup.completed,
// db.backup.failed, db.backup.deleted (backup_id, name, instance_id, parent_id);
// dns.zone.created, dns.zone.updated (ttl), dns.zone.deleting, dns.zone.active,
// dns.zone.error (serial), dns.zone.deleted (zone_id, name); dns.recordset.created,
// dns.recordset.updated (records), dns.recordset.deleted, dns.recordset.active,
// dns.recordset.error (zone_id, recordset_id, name, type); machine.booted (server_id, name,
// address, forward, boot), machine.error (message), machine.deleted. Octavia adds its own
// (lb.status, member.added, member.weight, ...).
//
// Designate: project-scoped like the real one (an admin sees other projects' zones only with
// X-Auth-All-Projects). X-Auth-All-Projects, X-Auth-Sudo-Project-ID (and the older
// X-Auth-Sudo-Tenant-ID) and X-Designate-Edit-Managed-Records are honoured for admins and
// refused with Designate's empty 403 for everyone else. Only PRIMARY zones exist (SECONDARY
// is refused as when masters are missing); no exports, imports, transfers, shares, TLDs,
// blacklists or floating-IP PTRs.
package devcloud
