# The peak test: the expected rate against the load balancer's VIP, with thresholds. The test
# runs once, at create; changing the pool size (a trigger) or any argument runs it again, as does
# `terraform apply -replace=eventscale_load_test.peak`.
resource "eventscale_load_test" "peak" {
  url      = "http://${eventscale_load_balancer.front.vip_address}/"
  rate     = 800
  duration = "2m"
  timeout  = "5s"
  label    = "peak"

  headers = {
    Host = "shop.example.com" # test the VIP before DNS points at it
  }

  thresholds = {
    max_p95_ms     = 300
    max_error_rate = 0.01
    min_rate       = 780
  }

  # Load per member: each web server names itself in X-Served-By (nginx:
  # `add_header X-Served-By $server_addr always;`). web01 is meant to take the share of one node;
  # a member taking more than 1.5 times its share is flagged in overloaded_backends and the report.
  # The nodes' addresses are unknown while the pool changes, which re-runs the test, as the
  # pool_size trigger does.
  backend_header = "X-Served-By"
  backend_weights = merge(
    { (var.web01_address) = 1 },
    { for n in eventscale_web_pool.web.nodes : n.address => 1 },
  )

  triggers = {
    pool_size = eventscale_web_pool.web.size
  }

  report_path = "${path.root}/reports/peak.html"

  timeouts {
    create = "5m"
  }
}

# Where does latency start to climb? A ramp instead of a constant rate; no thresholds, so the
# run is MEASURED, not judged: the apply records the figures (`terraform state show`) and the
# report, whose badge is green, amber or red by the share of failed requests.
resource "eventscale_load_test" "ramp" {
  url         = "http://${eventscale_load_balancer.front.vip_address}/search?q=shoes"
  ramp        = { from = 100, to = 2000 }
  duration    = "5m"
  max_workers = 500
  label       = "ramp"
  report_path = "${path.root}/reports/ramp.html"

  depends_on = [eventscale_load_test.peak]
}

output "peak_p95_ms" {
  value = eventscale_load_test.peak.latency_p95_ms
}

output "peak_overloaded_members" {
  value = eventscale_load_test.peak.overloaded_backends
}
