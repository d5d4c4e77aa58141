# <name>/<load_balancer_id>/<pool_id>/<protocol_port>
terraform import eventscale_web_pool.web launch-web/8a1f0c2e-5d1b-4a55-9d4e-2f9b7f1c9a10/3c5e7f0a-1b2d-4e6f-8a9b-0c1d2e3f4a5b/80
