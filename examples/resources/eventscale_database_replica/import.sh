# <primary_id>/<name>
terraform import eventscale_database_replica.reads 6f2b1c7e-0a9d-4c3b-8e5f-1a2b3c4d5e6f/launch-db
