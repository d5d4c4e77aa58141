package chaos

import (
	"fmt"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// Names of what the configuration creates.
const (
	poolName    = "chaos-web"
	replicaName = "chaos-db"
	lbName      = "chaos-front"
	imageName   = "chaos-web01"
)

// drainTimeout is the web pool's drain timeout: short, since devcloud's connections are short,
// but long enough that a member removed before its drain ended shows in the timeline.
const drainTimeout = 300 * time.Millisecond

// eventHCL is the event as an operator writes it (examples/event without the load tests): a
// seed image of web01, a load balancer with web01 as static member, the web pool behind it,
// read replicas of db01, and the event whose window (tomorrow) freezes nothing today. healthURL
// is the scale-back's health gate.
func eventHCL(dc *devcloud.Cloud, healthURL string) string {
	env, seed := dc.Env(), dc.Seed()
	starts := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	return fmt.Sprintf(`terraform {
  required_providers {
    eventscale = { source = "registry.terraform.io/eventscale/eventscale" }
  }
}

variable "web_nodes" { type = number }
variable "replicas" { type = number }
# The web pool's timeouts: a scale-in held by a health gate that never passes ends with them.
variable "pool_timeout" { type = string }

provider "eventscale" {
  auth_url            = %[1]q
  user_name           = %[2]q
  password            = %[3]q
  tenant_name         = %[4]q
  user_domain_name    = %[5]q
  project_domain_name = %[6]q
  region              = %[7]q
}

resource "eventscale_event" "launch" {
  name      = "chaos"
  starts_at = %[8]q
  ends_at   = %[9]q
  pools     = [{ name = %[10]q, size = var.web_nodes }]
  replicas  = [for i in range(var.replicas) : format("%[11]s-%%02d", i + 1)]
}

resource "eventscale_seed_image" "web01" {
  server_id = %[12]q
  name      = %[13]q
}

resource "eventscale_load_balancer" "front" {
  name          = %[14]q
  vip_subnet_id = %[15]q
  listener {
    protocol      = "HTTP"
    protocol_port = 80
  }
  pool {
    lb_method = "ROUND_ROBIN"
  }
  health_monitor {
    type           = "HTTP"
    url_path       = "/"
    expected_codes = "200"
    delay          = 2
    timeout        = 1
    max_retries    = 1
  }
  members = [{ address = %[16]q, protocol_port = 80 }]
}

resource "eventscale_web_pool" "web" {
  name             = %[10]q
  size             = var.web_nodes
  image_id         = eventscale_seed_image.web01.id
  flavor           = "m1.small"
  networks         = [%[17]q]
  subnet_id        = %[15]q
  load_balancer_id = eventscale_load_balancer.front.id
  pool_id          = eventscale_load_balancer.front.pool_id
  protocol_port    = 80
  event_id         = eventscale_event.launch.id

  scale_out = {
    max_parallel   = 4
    create_retries = 2
  }
  scale_in = {
    batch_size             = 1
    drain_timeout          = %[18]q
    order                  = "newest-first"
    health_check_url       = %[19]q
    health_check_successes = 2
  }
  timeouts {
    create = var.pool_timeout
    update = var.pool_timeout
    delete = var.pool_timeout
  }
}

resource "eventscale_database_replica" "reads" {
  name          = %[11]q
  primary_id    = %[20]q
  replica_count = var.replicas
  flavor_id     = "1"
  volume_size   = 5
  event_id      = eventscale_event.launch.id
}
`, dc.AuthURL(), env["OS_USERNAME"], env["OS_PASSWORD"], env["OS_PROJECT_NAME"], env["OS_USER_DOMAIN_NAME"],
		env["OS_PROJECT_DOMAIN_NAME"], env["OS_REGION_NAME"],
		starts.Format(time.RFC3339), starts.Add(4*time.Hour).Format(time.RFC3339), poolName, replicaName,
		seed.Web01ServerID, imageName, lbName, seed.SubnetID, seed.Web01Address, seed.NetworkID,
		drainTimeout.String(), healthURL, seed.DB01ID)
}
