# Snapshot the hand-built web01 into the image the event's web nodes boot from.
resource "eventscale_seed_image" "web01" {
  server_id = var.web01_server_id
  name      = "web01-launch-2026-12"

  metadata = {
    event     = "launch"
    os_distro = "ubuntu"
  }

  # Keep the image after the event for the post-mortem; destroy only forgets it.
  retain_on_destroy = true

  timeouts {
    create = "45m"
  }
}
