resource "eventscale_database_replica" "reads" {
  name          = "launch-db"
  primary_id    = var.db01_id
  replica_count = 2
  flavor_id     = "2"
  volume_size   = 20
  event_id      = eventscale_event.launch.id
}
