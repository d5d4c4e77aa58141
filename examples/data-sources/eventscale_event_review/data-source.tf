# The review after the event: review.html, review.md and timeline.svg in review/ beside
# the journal. Without the journal it is rebuilt from the cloud's records since "since".
data "eventscale_event_review" "launch" {
  output_dir = "${path.root}/review"
  since      = "2026-11-26T17:00:00Z"
  pools      = ["web"] # destroyed pools whose deleted nodes Nova still lists
}

output "review" {
  value = {
    html     = data.eventscale_event_review.launch.html_path
    source   = data.eventscale_event_review.launch.source
    to_fix   = data.eventscale_event_review.launch.to_fix
    findings = [for f in data.eventscale_event_review.launch.findings : f.text]
  }
}
