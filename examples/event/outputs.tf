output "load_balancer" {
  description = "The load balancer: id, VIP address and the URL the load tests use."
  value = {
    id             = eventscale_load_balancer.front.id
    pool_id        = eventscale_load_balancer.front.pool_id
    vip_address    = eventscale_load_balancer.front.vip_address
    public_address = eventscale_load_balancer.front.public_address
    vip_url        = local.vip_url
  }
}

output "backups" {
  description = "The pre-event backups and how to restore from each."
  value = {
    server   = [for b in eventscale_backup.pre_event.server_backups : { id = b.id, name = b.name, status = b.status, restore_command = b.restore_command }]
    database = eventscale_backup.pre_event.database_backup
  }
}

output "web01_member" {
  description = "web01's member as Octavia has it now: backup flag and weight."
  value       = [for m in eventscale_load_balancer.front.members : { address = m.address, backup_in_effect = m.backup_in_effect, weight_in_effect = m.weight_in_effect }]
}

output "dns" {
  description = "The customer's name: what it points at now, and what it pointed at before."
  value = var.dns_zone != "" ? {
    name             = eventscale_dns_record.site[0].name
    records          = eventscale_dns_record.site[0].records
    ttl              = eventscale_dns_record.site[0].ttl
    previous_records = eventscale_dns_record.site[0].previous_records
    previous_ttl     = eventscale_dns_record.site[0].previous_ttl
    lower_ttl_by     = eventscale_dns_record.site[0].lower_ttl_by
    switch_by        = eventscale_dns_record.site[0].switch_by
  } : null
}

output "seed_image_id" {
  description = "The image the web nodes boot from."
  value       = eventscale_seed_image.web01.id
}

output "web_nodes" {
  description = "The web pool's nodes as they exist."
  value = [for n in eventscale_web_pool.web.nodes : {
    name             = n.name
    id               = n.id
    address          = n.address
    member_id        = n.member_id
    status           = n.status
    operating_status = n.operating_status
  }]
}

output "replicas" {
  description = "The read replicas of db01."
  value       = [for i in eventscale_database_replica.reads.instances : { name = i.name, id = i.id, status = i.status }]
}

output "runbook" {
  description = "The event's runbook (Markdown); also written to runbook/runbook.md and runbook/runbook.html."
  value       = eventscale_event.launch.runbook
}

output "runbook_inputs" {
  description = "The load tests' figures for the event's runbook, as a tfvars file: `terraform output -json runbook_inputs > runbook_inputs.auto.tfvars.json`, and the next apply's runbook carries them."
  value = {
    load_tests = [for t in concat([eventscale_load_test.baseline], eventscale_load_test.peak) : {
      label         = t.label
      verdict       = t.verdict
      rate          = t.achieved_rate
      requests      = t.requests
      success_ratio = t.success_ratio
      p95_ms        = t.latency_p95_ms
    }]
  }
}

output "baseline" {
  description = "The baseline load test's figures."
  value = {
    nodes_behind_vip = tonumber(eventscale_load_test.baseline.triggers.nodes_behind_vip)
    rate             = eventscale_load_test.baseline.rate
    requests         = eventscale_load_test.baseline.requests
    achieved_rate    = eventscale_load_test.baseline.achieved_rate
    throughput       = eventscale_load_test.baseline.throughput
    success_ratio    = eventscale_load_test.baseline.success_ratio
    latency_p50_ms   = eventscale_load_test.baseline.latency_p50_ms
    latency_p95_ms   = eventscale_load_test.baseline.latency_p95_ms
    latency_p99_ms   = eventscale_load_test.baseline.latency_p99_ms
    status_codes     = eventscale_load_test.baseline.status_codes
    verdict          = eventscale_load_test.baseline.verdict
    backends         = eventscale_load_test.baseline.backends
  }
}

output "capacity_plan" {
  description = "Web nodes and replicas for the expected peak, and the arithmetic."
  value = {
    node_capacity_rps = data.eventscale_capacity_plan.event.node_capacity_rps
    expected_peak_rps = data.eventscale_capacity_plan.event.expected_peak_rps
    web_nodes         = data.eventscale_capacity_plan.event.web_nodes
    replicas          = data.eventscale_capacity_plan.event.replicas
    headroom_percent  = data.eventscale_capacity_plan.event.headroom_percent
    formula           = data.eventscale_capacity_plan.event.formula
  }
}

output "peak" {
  description = "The peak load test's figures (null until verify_peak is set)."
  value = var.verify_peak ? {
    nodes_behind_vip = eventscale_web_pool.web.size + length(local.static_members)
    rate             = eventscale_load_test.peak[0].rate
    requests         = eventscale_load_test.peak[0].requests
    achieved_rate    = eventscale_load_test.peak[0].achieved_rate
    throughput       = eventscale_load_test.peak[0].throughput
    success_ratio    = eventscale_load_test.peak[0].success_ratio
    latency_p50_ms   = eventscale_load_test.peak[0].latency_p50_ms
    latency_p95_ms   = eventscale_load_test.peak[0].latency_p95_ms
    latency_p99_ms   = eventscale_load_test.peak[0].latency_p99_ms
    status_codes     = eventscale_load_test.peak[0].status_codes
    passed           = eventscale_load_test.peak[0].passed
    verdict          = eventscale_load_test.peak[0].verdict
    backends         = eventscale_load_test.peak[0].backends
  } : null
}
