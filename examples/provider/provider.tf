terraform {
  required_providers {
    eventscale = {
      source = "eventscale/eventscale"
    }
  }
}

# Credentials come from the attributes, then OS_* variables, then clouds.yaml.
# The simplest set-up names a clouds.yaml entry:
provider "eventscale" {
  cloud = "rackspace-flex"
}

# Or everything explicit (secrets better left to OS_PASSWORD or secure.yaml):
# provider "eventscale" {
#   auth_url            = "https://keystone.example.com:5000/v3"
#   region              = "RegionOne"
#   user_name           = "ops"
#   tenant_name         = "web"
#   user_domain_name    = "Default"
#   project_domain_name = "Default"
#   max_retries         = 5
# }
