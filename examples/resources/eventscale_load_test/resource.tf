# Baseline before tuning: a constant rate against the load balancer's VIP. The test runs once, at
# create; changing the pool size (a trigger) or any argument runs it again, as does
# `terraform apply -replace=eventscale_load_test.peak`.
resource "eventscale_load_test" "peak" {
  url      = "http://${eventscale_load_balancer.front.vip_address}/"
  rate     = 800
  duration = "2m"
  timeout  = "5s"

  headers = {
    Host = "shop.example.com" # test the VIP before DNS points at it
  }

  thresholds = {
    max_p95_ms     = 300
    max_error_rate = 0.01
    min_rate       = 780
  }

  triggers = {
    pool_size = eventscale_web_pool.web.size
  }

  report_path = "${path.root}/reports/peak.html"

  timeouts = {
    create = "5m"
  }
}

# Where does latency start to climb? A ramp instead of a constant rate; no thresholds, so the
# apply only records the figures (see `terraform state show`) and the report.
resource "eventscale_load_test" "ramp" {
  url         = "http://${eventscale_load_balancer.front.vip_address}/search?q=shoes"
  ramp        = { from = 100, to = 2000 }
  duration    = "5m"
  max_workers = 500
  report_path = "${path.root}/reports/ramp.html"

  depends_on = [eventscale_load_test.peak]
}

output "peak_p95_ms" {
  value = eventscale_load_test.peak.latency_p95_ms
}
