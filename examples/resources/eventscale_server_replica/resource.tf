# Two read replicas of db01, a MariaDB server on a plain Nova server (no Trove).
# db01 needs log_bin and a unique server_id: the plan says which my.cnf lines are missing.
resource "eventscale_server_replica" "reads" {
  name          = "launch-db"
  replica_count = 2

  primary = {
    host             = "203.0.113.10" # where Terraform reaches db01
    user             = "root"
    password         = var.db01_root_password
    replication_host = "10.0.0.5" # where the replicas reach it
  }

  image_id        = var.debian_12_image_id
  flavor          = "m1.small"
  networks        = [var.private_network_id]
  key_pair        = "ops"
  security_groups = ["db-replica"] # lets Terraform reach port 3306
  max_lag         = "30s"

  replication_user_host = "10.0.0.%"
  event_id              = eventscale_event.launch.id

  timeouts {
    create = "45m"
  }
}

output "read_endpoints" {
  value = [for r in eventscale_server_replica.reads.replicas : "${r.address}:3306"]
}
