resource "eventscale_event" "launch" {
  name      = "launch"
  starts_at = "2026-12-01T19:00:00Z"
  ends_at   = "2026-12-01T23:00:00Z"

  expected_peak_multiplier = 10
  notes                    = "Marketing sends the newsletter at 19:05 UTC."

  contacts = [
    { name = "Ana Lima", role = "incident commander", phone = "+33 1 23 45 67 89" },
    { name = "Bo Berg", role = "database", email = "bo@example.com" },
  ]

  load_balancer = {
    name        = eventscale_load_balancer.front.name
    vip_address = eventscale_load_balancer.front.vip_address
  }

  # The pool references the event (event_id), so the event takes the pool's settings from the
  # same variables and locals rather than from the pool: what the runbook says is what the pool
  # does.
  pools = [{
    name          = "launch-web"
    size          = var.web_pool_size
    normal_size   = 2
    batch_size    = local.scale_in.batch_size
    drain_timeout = local.scale_in.drain_timeout
    order         = local.scale_in.order
    resource      = "eventscale_web_pool.web"
    size_variable = "web_pool_size"
  }]
  replicas = ["launch-db-01"]

  # Figures of the previous apply's load tests: a load test of the pool cannot be referenced
  # here (it depends on the pool, which depends on the event). With an output
  #   output "runbook_inputs" { value = { load_tests = [for t in [eventscale_load_test.peak] :
  #     { label = t.label, verdict = t.verdict, rate = t.achieved_rate, requests = t.requests,
  #       success_ratio = t.success_ratio, p95_ms = t.latency_p95_ms }] } }
  # `terraform output -json runbook_inputs > runbook_inputs.auto.tfvars.json` feeds the next plan.
  load_tests = var.load_tests

  runbook_path      = "${path.root}/runbook/launch.md"
  runbook_html_path = "${path.root}/runbook/launch.html"
}

output "runbook" {
  value = eventscale_event.launch.runbook
}
