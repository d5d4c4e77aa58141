# The ids of the backups: the server backups' image ids in the order of server_ids, then the
# Trove backup's id. The name, backup_type, rotation and sources are read back from the backups.
terraform import eventscale_backup.pre_launch 5f1d2c3b-8a9e-4f70-b1c2-d3e4f5a6b7c8,0b6e1f4e-2c43-4d8e-9a51-7f0c2d9e8b11
