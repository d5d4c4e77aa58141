data "eventscale_pool" "web" {
  name             = eventscale_web_pool.web.name
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
}

output "online_nodes" {
  value = data.eventscale_pool.web.online_count
}
