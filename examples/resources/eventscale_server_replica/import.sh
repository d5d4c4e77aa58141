# <name>: the set's servers are found by their metadata (eventscale_replica_set).
# The cloud does not keep the passwords: set replication_password and monitor_password in
# the configuration to the values the replicas were built with; the first plan shows
# primary.password as a change, and applying it changes nothing in the cloud.
terraform import eventscale_server_replica.reads launch-db
