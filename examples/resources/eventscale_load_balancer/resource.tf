resource "eventscale_load_balancer" "front" {
  name          = "launch-front"
  vip_subnet_id = var.subnet_id

  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }

  pool {
    protocol  = "HTTP"
    lb_method = "LEAST_CONNECTIONS"
  }

  health_monitor {
    type           = "HTTP"
    url_path       = "/health"
    expected_codes = "200"
    delay          = 5
    timeout        = 3
    max_retries    = 3
  }

  # web01 keeps serving; eventscale_web_pool adds and drains its own nodes beside it.
  members = [
    { address = var.web01_address, protocol_port = 80, weight = 1 },
  ]
}
