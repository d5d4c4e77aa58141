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

  # Summary inputs, so that the runbook describes the configuration.
  load_balancer = {
    name        = eventscale_load_balancer.front.name
    vip_address = eventscale_load_balancer.front.vip_address
  }
  pools    = [{ name = "launch-web", size = 8 }]
  replicas = ["db01-replica-1"]
}

output "runbook" {
  value = eventscale_event.launch.runbook
}
