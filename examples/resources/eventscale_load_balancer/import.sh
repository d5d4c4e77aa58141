# The Octavia load balancer id. Listeners are imported in ascending port order, and members
# tagged "eventscale:static" become `members`.
terraform import eventscale_load_balancer.front 8a1f0c2e-5d1b-4a55-9d4e-2f9b7f1c9a10
