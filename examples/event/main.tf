# The whole event in one configuration: seed image, load balancer, web pool, read replicas, the
# event and its runbook, load tests through the VIP and the capacity plan they feed.
# See README.md for the order to apply it in.

terraform {
  required_version = ">= 1.5"
  required_providers {
    eventscale = {
      source = "eventscale/eventscale"
    }
  }
}

# Credentials from OS_* or clouds.yaml (OS_CLOUD), as the OpenStack CLI reads them.
provider "eventscale" {}

locals {
  expected_peak_rps = ceil(var.current_peak_rps * var.expected_multiplier)

  # web01 stays in the pool whatever the web pool does. With protect_web01 (the apply that
  # scales out for the event) it becomes Octavia's backup member: it serves only if every web
  # node is down, so the nodes built from its image cannot crush it. The scale-back's apply
  # (protect_web01 = false) puts it back in rotation.
  static_members = [
    { address = var.web01_address, protocol_port = 80, weight = 1, event_backup = var.protect_web01 },
  ]

  vip_url = var.vip_url != "" ? var.vip_url : "http://${eventscale_load_balancer.front.vip_address}/"

  pool_name     = "${var.name}-web"
  replica_names = [for i in range(var.db_replicas) : format("%s-db-%02d", var.name, i + 1)]

  # The staggered scale-back, shared by the pool (which does it) and the event (whose runbook
  # says it): one node at a time, drained, removed, deleted, then the VIP must answer.
  scale_in = {
    batch_size    = 1
    drain_timeout = var.drain_timeout
    order         = "newest-first"
  }
}

# 0. Before anything scales: a Nova backup of web01 and a Trove backup of db01, kept after the
# event (delete_on_destroy = false). The event requires them (backups, max_backup_age).
resource "eventscale_backup" "pre_event" {
  name                 = "${var.name}-pre-event"
  server_ids           = [var.web01_server_id]
  backup_type          = "event"
  rotation             = 2
  database_instance_id = var.backup_db01 ? var.db01_id : null
  delete_on_destroy    = var.delete_backups_on_destroy
}

# 1. Seed config: web01's disk becomes the image every web node boots from.
resource "eventscale_seed_image" "web01" {
  server_id = var.web01_server_id
  name      = "${var.name}-web01"

  metadata = {
    event = var.name
  }
}

# 2. Scale out: a load balancer in front of web01 ...
resource "eventscale_load_balancer" "front" {
  name          = "${var.name}-front"
  vip_subnet_id = var.subnet_id

  # A floating IP from the external network, where the users are: public_address.
  floating_ip = var.public_network != "" ? { network = var.public_network } : null

  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }

  # HTTPS for the users, decrypted by the load balancer (the key goes to Barbican, never to
  # Terraform's state); the members keep speaking HTTP.
  dynamic "listener" {
    for_each = var.tls_certificate_file != "" ? [1] : []
    content {
      protocol         = "TERMINATED_HTTPS"
      protocol_port    = 443
      certificate_file = var.tls_certificate_file
      private_key_file = var.tls_private_key_file
    }
  }

  pool {
    protocol  = "HTTP"
    lb_method = "ROUND_ROBIN"
  }

  health_monitor {
    type           = "HTTP"
    url_path       = "/"
    expected_codes = "200"
    delay          = 5
    timeout        = 3
    max_retries    = 3
  }

  members = local.static_members
}

# ... the web nodes behind it, joined to its pool in one member update ...
resource "eventscale_web_pool" "web" {
  name             = local.pool_name
  size             = var.web_pool_size
  image_id         = eventscale_seed_image.web01.id
  flavor           = var.web_flavor
  networks         = [var.network_id]
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
  protocol_port    = 80

  server_group_policy = "soft-anti-affinity"
  event_id            = eventscale_event.launch.id

  scale_out = {
    max_parallel        = 10
    min_healthy_percent = 100
  }

  # The staggered scale-back: one node at a time, drained, removed, deleted, then the VIP
  # must answer before the next one.
  scale_in = {
    batch_size       = local.scale_in.batch_size
    drain_timeout    = local.scale_in.drain_timeout
    order            = local.scale_in.order
    health_check_url = local.vip_url
  }
}

# ... and read replicas of the database.
resource "eventscale_database_replica" "reads" {
  name          = "${var.name}-db"
  primary_id    = var.db01_id
  replica_count = var.db_replicas
  flavor_id     = var.db_flavor_id
  volume_size   = var.db_volume_size
  event_id      = eventscale_event.launch.id
}

# The event: its window (a freeze on shrinking), who to call, and the runbook.
resource "eventscale_event" "launch" {
  name      = var.event_name
  starts_at = var.event_starts_at
  ends_at   = var.event_ends_at

  expected_peak_multiplier = var.expected_multiplier
  notes                    = var.notes
  contacts                 = var.contacts

  # The runbook lists the backups with their age at the start; the plan warns when one is
  # missing or older than this.
  backups        = eventscale_backup.pre_event.backups
  max_backup_age = "36h"

  load_balancer = {
    name        = eventscale_load_balancer.front.name
    vip_address = eventscale_load_balancer.front.vip_address
  }
  # From the variables and locals, not from the pool and replica resources: those reference the
  # event. After the event the pool is destroyed (web01 stays): normal size 0.
  pools = [{
    name          = local.pool_name
    size          = var.web_pool_size
    normal_size   = 0
    batch_size    = local.scale_in.batch_size
    drain_timeout = local.scale_in.drain_timeout
    order         = local.scale_in.order
    resource      = "eventscale_web_pool.web"
    size_variable = "web_pool_size"
  }]
  replicas = local.replica_names

  # The load tests' figures of the previous apply (output runbook_inputs; see README.md): the
  # tests measure the pool, which references the event, so they cannot be referenced here.
  load_tests = var.load_tests

  runbook_path      = "${path.root}/runbook/runbook.md"
  runbook_html_path = "${path.root}/runbook/runbook.html"
}

# 3. Test: the baseline, at the expected peak rate, against the tier at its normal size. It
# has no thresholds: it measures. Sent above what the tier can take, its throughput is the
# tier's capacity, and the capacity plan divides it by the nodes that served it.
resource "eventscale_load_test" "baseline" {
  url      = local.vip_url
  rate     = local.expected_peak_rps
  duration = var.load_test_duration
  timeout  = "5s"
  label    = "baseline"

  # Each web server names itself in X-Served-By (devcloud's nodes do; on a real cloud, nginx's
  # `add_header X-Served-By $server_addr always;`): the test counts the load per member. Every
  # member has weight 1, so each is expected to take an equal share: no backend_weights needed.
  backend_header = "X-Served-By"

  # The number of nodes the baseline ran against. ignore_changes keeps the value of the run:
  # scaling the pool later must neither re-run the baseline nor change what it measured.
  # `terraform apply -replace=eventscale_load_test.baseline` measures again at the current size.
  triggers = {
    nodes_behind_vip = tostring(eventscale_web_pool.web.size + length(local.static_members))
  }

  report_path = "${path.root}/reports/baseline.html"

  lifecycle {
    ignore_changes = [triggers]
  }
}

data "eventscale_capacity_plan" "event" {
  node_capacity_rps = (var.node_capacity_rps != null ? var.node_capacity_rps :
  floor(eventscale_load_test.baseline.throughput / tonumber(eventscale_load_test.baseline.triggers.nodes_behind_vip)))
  current_peak_rps     = var.current_peak_rps
  expected_multiplier  = var.expected_multiplier
  target_utilization   = var.target_utilization
  min_nodes            = 2
  db_read_share        = var.db_read_share
  replica_capacity_qps = var.replica_capacity_qps
  queries_per_request  = var.queries_per_request
}

# Test again, with thresholds, once the pool has the planned size. Any change of the pool's
# size runs it again.
resource "eventscale_load_test" "peak" {
  count = var.verify_peak ? 1 : 0

  url      = local.vip_url
  rate     = local.expected_peak_rps
  duration = var.load_test_duration
  timeout  = "5s"
  label    = "peak"

  backend_header = "X-Served-By"

  thresholds = {
    max_p95_ms     = var.max_p95_ms
    max_error_rate = 0
    min_rate       = floor(local.expected_peak_rps * 0.95)
  }

  triggers = {
    pool_size = tostring(eventscale_web_pool.web.size)
  }

  report_path = "${path.root}/reports/peak.html"
}

# 4. The domain: the customer's name points at the tier's public address once the pool has
# been built (depends_on), with its TTL lowered first so that resolvers follow in time. Without
# dns_zone there is nothing to point. See eventscale_dns_record's docs for the two moments.
resource "eventscale_dns_record" "site" {
  count = var.dns_zone != "" ? 1 : 0

  zone_name    = var.dns_zone
  name         = var.dns_name
  starts_at    = eventscale_event.launch.starts_at
  lower_ttl_to = 60
  records      = var.dns_switch ? [eventscale_load_balancer.front.public_address] : null

  depends_on = [eventscale_web_pool.web]
}
