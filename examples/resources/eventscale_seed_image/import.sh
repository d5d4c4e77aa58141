# The Glance image id.
terraform import eventscale_seed_image.web01 5f1d2c3b-8a9e-4f70-b1c2-d3e4f5a6b7c8
