package devcloud

import "time"

// defaultReplicaFault is the message of an injected replica build failure: what Trove's
// guest agent reports when the replica cannot catch up with its primary.
const defaultReplicaFault = "Replication failed: the replica could not be started from the primary's snapshot."

// failReplicaBuild decides, at the end of a replica's build, whether it ends in ERROR
// (FaultSpec.ReplicaErrors) and if so puts it there, with the fault Trove shows on the
// instance. A failed replica stays attached to its primary and can be deleted. Runs with c.mu
// held; reports whether the build failed.
func (c *Cloud) failReplicaBuild(db *dbInstance) bool {
	if db.ReplicaOf == "" {
		return false
	}
	fails, msg := c.faults.buildFails(&c.faults.dbErr, defaultReplicaFault)
	if !fails {
		return false
	}
	now := time.Now().UTC()
	db.Status, db.Updated = "ERROR", now
	db.Fault = &dbFault{Message: msg, Created: now}
	c.Event("replica.error", map[string]any{"instance_id": db.ID, "name": db.Name, "replica_of": db.ReplicaOf, "message": msg})
	return true
}

// faultView is the instance's "fault" object, as Trove shows it for an instance in ERROR.
func faultView(db *dbInstance) map[string]any {
	if db.Fault == nil || db.Status != "ERROR" {
		return nil
	}
	return map[string]any{"message": db.Fault.Message, "created": isoNoZ(db.Fault.Created), "details": ""}
}
