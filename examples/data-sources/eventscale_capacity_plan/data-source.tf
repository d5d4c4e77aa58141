# One web node sustains 450 req/s at p95 < 300 ms (load test); today's peak is 1200 req/s.
data "eventscale_capacity_plan" "launch" {
  node_capacity_rps    = 450
  current_peak_rps     = 1200
  expected_multiplier  = 10
  target_utilization   = 0.7
  min_nodes            = 2
  db_read_share        = 0.3
  replica_capacity_qps = 2000
  queries_per_request  = 3
}

# web_nodes = max(2, ceil(12000 / (450 × 0.7))) = 39; replicas = ceil(10800 / (2000 × 0.7)) = 8
output "web_nodes" {
  value = data.eventscale_capacity_plan.launch.web_nodes
}
