# Everything cloud-specific is a variable, so that the same configuration runs on devcloud
# (make demo fills these from devcloud's seed) and on a real OpenStack cloud (a .tfvars file).

variable "name" {
  description = "Prefix of every object this configuration creates: <name>-front (load balancer), <name>-web-NN (web nodes), <name>-db-NN (replicas)."
  type        = string
  default     = "launch"
}

# --- What exists before the event -------------------------------------------------------------

variable "web01_server_id" {
  description = "Nova id of the hand-built web server whose disk becomes the web nodes' image."
  type        = string
}

variable "web01_address" {
  description = "Fixed IP address of web01; it stays in the load balancer pool as a static member."
  type        = string
}

variable "network_id" {
  description = "Neutron network the web nodes are attached to (the one web01 is on)."
  type        = string
}

variable "subnet_id" {
  description = "Subnet of that network: the load balancer's VIP is taken from it and the members are on it."
  type        = string
}

variable "db01_id" {
  description = "Trove instance id of the primary database the read replicas follow."
  type        = string
}

# --- Sizes and flavors ------------------------------------------------------------------------

variable "web_flavor" {
  description = "Nova flavor (name or id) of the web nodes; the same as web01's, so that one node's measured capacity holds for all."
  type        = string
  default     = "m1.small"
}

variable "web_pool_size" {
  description = "Web nodes beside web01. The normal size at first; for the event, data.eventscale_capacity_plan.event.web_nodes (output capacity_plan)."
  type        = number
  default     = 4
}

variable "db_flavor_id" {
  description = "Trove flavor id of the read replicas."
  type        = string
  default     = "2"
}

variable "db_volume_size" {
  description = "Volume size of each replica, in GB; it must hold the primary's data."
  type        = number
  default     = 20
}

variable "db_replicas" {
  description = "Read replicas of db01. One at first; for the event, the capacity plan's replicas."
  type        = number
  default     = 1
}

# --- The event --------------------------------------------------------------------------------

variable "event_name" {
  description = "Name of the event, as the runbook shows it."
  type        = string
  default     = "Product launch"
}

variable "event_starts_at" {
  description = "Start of the event window (RFC 3339). During the window the web pool and the replicas refuse to shrink."
  type        = string
}

variable "event_ends_at" {
  description = "End of the event window (RFC 3339)."
  type        = string
}

variable "contacts" {
  description = "People on call during the event."
  type = list(object({
    name  = string
    role  = optional(string)
    phone = optional(string)
    email = optional(string)
  }))
  default = [
    { name = "Ana Lima", role = "incident commander", phone = "+33 1 23 45 67 89" },
    { name = "Bo Berg", role = "database", email = "bo@example.com" },
  ]
}

variable "notes" {
  description = "Free text for the runbook."
  type        = string
  default     = "Marketing sends the newsletter 5 minutes after the start. DNS for shop.example.com points at the VIP from the start of the window."
}

# --- Capacity planning ------------------------------------------------------------------------

variable "current_peak_rps" {
  description = "Today's peak request rate, from the site's analytics."
  type        = number
  default     = 40
}

variable "expected_multiplier" {
  description = "How many times today's peak the event is expected to bring."
  type        = number
  default     = 10
}

variable "target_utilization" {
  description = "Share of a node's measured capacity to plan for (headroom for a lost node or a burst)."
  type        = number
  default     = 0.7
}

variable "node_capacity_rps" {
  description = "Requests per second one web node sustains. Null: measured by the baseline load test (its throughput divided by the nodes behind the VIP)."
  type        = number
  default     = null
}

variable "replica_capacity_qps" {
  description = "Read queries per second one database replica sustains."
  type        = number
  default     = 300
}

variable "db_read_share" {
  description = "Share of requests that read from the database."
  type        = number
  default     = 0.3
}

variable "queries_per_request" {
  description = "Read queries per request that reads the database."
  type        = number
  default     = 3
}

# --- Before the event: backups, web01, the public address, the domain --------------------------

variable "backup_db01" {
  description = "Take a Trove backup of db01 with web01's Nova backup. Set false where db01 is not a Trove instance."
  type        = bool
  default     = true
}

variable "delete_backups_on_destroy" {
  description = "Delete the pre-event backups on terraform destroy. They outlive the event by default."
  type        = bool
  default     = false
}

variable "protect_web01" {
  description = "Take web01 out of first-line rotation (Octavia's backup member) while the web pool carries the load: set it in the apply that scales out, unset it in the scale-back."
  type        = bool
  default     = false
}

variable "public_network" {
  description = "External network to take the VIP's floating IP from (for example \"public\"); empty for none, when the VIP is reachable as it is."
  type        = string
  default     = ""
}

variable "tls_certificate_file" {
  description = "PEM certificate for an HTTPS listener on 443 (TERMINATED_HTTPS); empty for none."
  type        = string
  default     = ""
}

variable "tls_private_key_file" {
  description = "PEM private key of tls_certificate_file."
  type        = string
  default     = ""
}

variable "dns_zone" {
  description = "The customer's Designate zone (\"example.com.\"); empty to leave DNS alone."
  type        = string
  default     = ""
}

variable "dns_name" {
  description = "The name that points at the tier (\"www.example.com.\"), inside dns_zone."
  type        = string
  default     = ""
}

variable "dns_switch" {
  description = "Point dns_name at the tier's public address. Unset, the apply only lowers the TTL of its current records (the first moment)."
  type        = bool
  default     = false
}

# --- Load tests -------------------------------------------------------------------------------

variable "vip_url" {
  description = "URL the load tests and the scale-back health check use. On a real cloud leave it empty: http://<vip_address>/ is used. On devcloud the VIP address is a subnet address that is not routable from the host; make demo passes the load balancer's real 127.0.0.1 listener from /_devcloud/vips."
  type        = string
  default     = ""
}

variable "load_test_duration" {
  description = "Length of each load test run."
  type        = string
  default     = "30s"
}

variable "verify_peak" {
  description = "Run the peak load test, with thresholds, at the expected peak rate. Set it once web_pool_size is the capacity plan's number: it fails the apply when the tier misses a threshold."
  type        = bool
  default     = false
}

variable "max_p95_ms" {
  description = "Highest acceptable 95th percentile latency at the expected peak, in milliseconds."
  type        = number
  default     = 250
}

variable "load_tests" {
  description = "Figures of the load tests of the previous apply, for the runbook: `terraform output -json runbook_inputs > runbook_inputs.auto.tfvars.json` writes them."
  type = list(object({
    label         = string
    verdict       = optional(string)
    rate          = optional(number)
    requests      = optional(number)
    success_ratio = optional(number)
    p95_ms        = optional(number)
  }))
  default = []
}

# --- Scale-back -------------------------------------------------------------------------------

variable "drain_timeout" {
  description = "Time a drained node (weight 0) keeps its open connections before it is removed from the pool."
  type        = string
  default     = "60s"
}
