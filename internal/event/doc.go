// Package event holds what an event decides before anything is built or removed: the capacity
// plan for an expected peak (PlanCapacity) and the freeze window that keeps capacity from
// shrinking while the event is live (ID, ParseID, CheckFreeze). It knows no Terraform types:
// the provider reads its attributes into these plain values and reports what comes back.
package event
