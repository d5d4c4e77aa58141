# <name>@<starts_at>/<ends_at>, both times in UTC: the id the resource gave the event.
terraform import eventscale_event.launch 'launch@2026-12-01T19:00:00Z/2026-12-01T23:00:00Z'
