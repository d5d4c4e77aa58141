package cloud

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/instances"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// Database implements scaling.Database with Trove.
type Database struct {
	Client *gophercloud.ServiceClient
	Poll   Poll
}

var _ scaling.Database = (*Database)(nil)

// replicaCreateOpts sends replica_of, which gophercloud's instances.CreateOpts lacks:
// CreateOptsBuilder is an interface precisely so a caller can add such a field.
type replicaCreateOpts struct {
	instances.CreateOpts
	ReplicaOf string
}

func (o replicaCreateOpts) ToInstanceCreateMap() (map[string]any, error) {
	m, err := o.CreateOpts.ToInstanceCreateMap()
	if err != nil {
		return nil, err
	}
	m["instance"].(map[string]any)["replica_of"] = o.ReplicaOf
	return m, nil
}

// troveInstance is the instance body with the replication fields gophercloud does not decode.
type troveInstance struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Hostname string `json:"hostname"`
	Flavor   struct {
		ID string `json:"id"`
	} `json:"flavor"`
	Volume struct {
		Size int `json:"size"`
	} `json:"volume"`
	Datastore struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	} `json:"datastore"`
	ReplicaOf *struct {
		ID string `json:"id"`
	} `json:"replica_of"`
	Fault *struct {
		Message string `json:"message"`
	} `json:"fault"`
}

func (t troveInstance) toInstance() scaling.Instance {
	out := scaling.Instance{ID: t.ID, Name: t.Name, Status: t.Status, Hostname: t.Hostname, FlavorID: t.Flavor.ID,
		VolumeGB: t.Volume.Size, Datastore: t.Datastore.Type, Version: t.Datastore.Version}
	if t.ReplicaOf != nil {
		out.ReplicaOf = t.ReplicaOf.ID
	}
	if t.Fault != nil {
		out.Fault = t.Fault.Message
	}
	return out
}

func (d *Database) CreateReplica(ctx context.Context, spec scaling.ReplicaSpec) (scaling.Instance, error) {
	opts := replicaCreateOpts{
		CreateOpts: instances.CreateOpts{Name: spec.Name, FlavorRef: spec.FlavorID, Size: spec.VolumeGB},
		ReplicaOf:  spec.PrimaryID,
	}
	var body struct {
		Instance troveInstance `json:"instance"`
	}
	if err := instances.Create(ctx, d.Client, opts).ExtractInto(&body); err != nil {
		return scaling.Instance{}, createError(fmt.Sprintf("creating replica %s of instance %s", spec.Name, spec.PrimaryID), err)
	}
	return body.Instance.toInstance(), nil
}

func (d *Database) GetInstance(ctx context.Context, id string) (scaling.Instance, error) {
	var body struct {
		Instance troveInstance `json:"instance"`
	}
	if err := instances.Get(ctx, d.Client, id).ExtractInto(&body); err != nil {
		return scaling.Instance{}, apiError("reading database instance "+id, err)
	}
	return body.Instance.toInstance(), nil
}

func (d *Database) ListInstances(ctx context.Context) ([]scaling.Instance, error) {
	var out []scaling.Instance
	err := instances.List(d.Client).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var body struct {
			Instances []troveInstance `json:"instances"`
		}
		if err := page.(instances.InstancePage).ExtractInto(&body); err != nil {
			return false, err
		}
		for _, t := range body.Instances {
			out = append(out, t.toInstance())
		}
		return true, nil
	})
	if err != nil {
		return nil, apiError("listing database instances", err)
	}
	return out, nil
}

func (d *Database) WaitInstanceActive(ctx context.Context, id string) (scaling.Instance, error) {
	inst, err := waitFor(ctx, d.Poll, "database instance "+id, func(ctx context.Context) (scaling.Instance, string, error) {
		i, err := d.GetInstance(ctx, id)
		return i, i.Status, err
	}, nil, []string{"ACTIVE", "HEALTHY", "ERROR", "FAILED"}, nil)
	if err == nil && (inst.Status == "ERROR" || inst.Status == "FAILED") {
		msg := inst.Fault
		if msg == "" {
			msg = "no fault message from Trove"
		}
		return inst, fmt.Errorf("database instance %s (%s) went to %s: %s", inst.Name, id, inst.Status, msg)
	}
	return inst, err
}

func (d *Database) DetachReplica(ctx context.Context, id string) error {
	// python-troveclient sends both keys: replica_of is current, slave_of the older name.
	body := map[string]any{"instance": map[string]any{"replica_of": nil, "slave_of": nil}}
	resp, err := d.Client.Patch(ctx, d.Client.ServiceURL("instances", id), body, nil,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return apiError("detaching replica "+id, err)
}

func (d *Database) DeleteInstance(ctx context.Context, id string) error {
	err := instances.Delete(ctx, d.Client, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting database instance "+id, err)
	}
	return nil
}

func (d *Database) WaitInstanceGone(ctx context.Context, id string) error {
	return waitGone(ctx, d.Poll, "deletion of database instance "+id, func(ctx context.Context) (string, error) {
		i, err := d.GetInstance(ctx, id)
		return i.Status, err
	})
}

// FlavorExists says whether Trove has a flavor with this id.
func (d *Database) FlavorExists(ctx context.Context, id string) (bool, error) {
	var body map[string]any
	err := getJSON(ctx, d.Client, d.Client.ServiceURL("flavors", id), &body)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, apiError("reading database flavor "+id, err)
}
