# The day before the event: a Nova backup of web01 and a Trove backup of the primary database.
resource "eventscale_backup" "pre_launch" {
  name       = "pre-launch-2026-12"
  server_ids = [var.web01_server_id]

  # Nova keeps the two newest "event" backups of each server and deletes older ones once this
  # one is active (including those kept from earlier events).
  backup_type = "event"
  rotation    = 2

  database_instance_id = var.db01_instance_id

  # The backups outlive the event: destroy only forgets them. Set true to delete them with it.
  delete_on_destroy = false

  timeouts {
    create = "90m"
  }
}

# The event warns at plan time when a backup is missing or older than max_backup_age at the start.
resource "eventscale_event" "launch" {
  name           = "Launch"
  starts_at      = "2026-12-01T19:00:00Z"
  ends_at        = "2026-12-01T23:00:00Z"
  max_backup_age = "36h"
  backups        = eventscale_backup.pre_launch.backups
}

output "restore_web01" {
  value = eventscale_backup.pre_launch.server_backups[0].restore_command
}

output "restore_db01" {
  value = eventscale_backup.pre_launch.database_backup.restore_command
}
