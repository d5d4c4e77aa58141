# www.example.com. points at the event's tier during the event, and back at web01 afterwards.
#
# Two applies, two moments (both shown in the plan as lower_ttl_by and switch_by):
#   1. days before: apply without records; lower_ttl_to brings the TTL of the existing records
#      down to 60 s while they still point at web01;
#   2. before switch_by: add records; the name now points at the load balancer.
resource "eventscale_dns_record" "www" {
  zone_name = "example.com."
  name      = "www.example.com."
  type      = "A"

  starts_at    = eventscale_event.launch.starts_at
  lower_ttl_to = 60

  # Step 2: uncomment before switch_by.
  # records = [eventscale_load_balancer.front.public_address]

  # Destroy puts back what the name pointed at before (records, TTL and description).
  restore_on_destroy = true
}
