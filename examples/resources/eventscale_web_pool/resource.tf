resource "eventscale_web_pool" "web" {
  name             = "launch-web"
  size             = 8
  image_id         = eventscale_seed_image.web01.id
  flavor           = "m1.small"
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

  scale_in = {
    batch_size       = 1
    drain_timeout    = "120s"
    order            = "newest-first"
    health_check_url = "http://${eventscale_load_balancer.front.vip_address}/"
  }
}
