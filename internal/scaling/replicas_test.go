package scaling_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

func newReplicas(t *testing.T, db *scalingtest.DB, clk *scalingtest.Clock, primary string, known []scaling.Instance, changes *[][]scaling.Instance) *scaling.Replicas {
	t.Helper()
	r, err := scaling.NewReplicas(scaling.ReplicasConfig{
		Spec: scaling.ReplicaSetSpec{PrimaryID: primary, NamePrefix: "db-replica", FlavorID: "d1", VolumeGB: 10},
		DB:   db, Clock: clk, Known: known,
		OnChange: func(in []scaling.Instance) {
			if changes != nil {
				*changes = append(*changes, in)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkReplicas(t *testing.T, db *scalingtest.DB, primary string, got []scaling.Instance) {
	t.Helper()
	if v := db.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
	var ids, want []string
	for _, in := range got {
		ids = append(ids, in.ID)
	}
	for _, in := range db.Instances() {
		if in.ID != primary {
			want = append(want, in.ID)
		}
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("returned replicas %v, cloud has %v", ids, want)
	}
}

func TestReplicas_CreatesReplicasOfPrimaryRecordingIDsBeforeActive(t *testing.T) {
	c := scalingtest.NewCloud()
	primary := c.DB.AddPrimary("db")
	var changes [][]scaling.Instance
	r := newReplicas(t, c.DB, c.Clock, primary, nil, &changes)
	got, err := r.Apply(context.Background(), 2)
	checkReplicas(t, c.DB, primary, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "db-replica-01" || got[0].Status != "ACTIVE" || got[0].ReplicaOf != primary {
		t.Fatalf("replicas = %+v", got)
	}
	if !slices.ContainsFunc(changes, func(in []scaling.Instance) bool { return len(in) > 0 && in[0].Status == "BUILD" }) {
		t.Fatalf("no OnChange while building: %+v", changes)
	}
}

func TestReplicas_AdoptsInstanceWhoseCreateResponseWasLost(t *testing.T) {
	c := scalingtest.NewCloud()
	primary := c.DB.AddPrimary("db")
	c.DB.LoseCreateResponse("db-replica-02", 1)
	r := newReplicas(t, c.DB, c.Clock, primary, nil, nil)
	got, err := r.Apply(context.Background(), 2)
	checkReplicas(t, c.DB, primary, got)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Creates() != 2 {
		t.Fatalf("creates = %d, want 2", c.DB.Creates())
	}
	// A fresh set with nothing known finds both by name and creates nothing.
	r2 := newReplicas(t, c.DB, c.Clock, primary, nil, nil)
	got, err = r2.Apply(context.Background(), 2)
	checkReplicas(t, c.DB, primary, got)
	if err != nil || c.DB.Creates() != 2 {
		t.Fatalf("second apply: %v, creates %d", err, c.DB.Creates())
	}
}

func TestReplicas_RemovalDetachesThenDeletesHighestFirstAndNeverTouchesPrimary(t *testing.T) {
	c := scalingtest.NewCloud()
	primary := c.DB.AddPrimary("db")
	r := newReplicas(t, c.DB, c.Clock, primary, nil, nil)
	if _, err := r.Apply(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	got, err := r.Apply(context.Background(), 1)
	checkReplicas(t, c.DB, primary, got)
	if err != nil || len(got) != 1 || got[0].Name != "db-replica-01" {
		t.Fatalf("after scale-in: %+v, %v", got, err)
	}
	got, err = r.Destroy(context.Background())
	checkReplicas(t, c.DB, primary, got)
	if err != nil || len(got) != 0 {
		t.Fatalf("after destroy: %+v, %v", got, err)
	}
	if in := c.DB.Instances(); len(in) != 1 || in[0].ID != primary || in[0].Status != "ACTIVE" {
		t.Fatalf("instances left = %+v, want the primary untouched", in)
	}
}

func TestReplicas_ErrorNamesReplicaAndTroveFault(t *testing.T) {
	c := scalingtest.NewCloud()
	primary := c.DB.AddPrimary("db")
	c.DB.FailBuild("db-replica-01", "Volume quota exceeded")
	r := newReplicas(t, c.DB, c.Clock, primary, nil, nil)
	got, err := r.Apply(context.Background(), 1)
	checkReplicas(t, c.DB, primary, got)
	if err == nil || !strings.Contains(err.Error(), "db-replica-01") || !strings.Contains(err.Error(), "Volume quota exceeded") {
		t.Fatalf("err = %v", err)
	}
	// The next apply removes the ERROR replica and creates it again.
	got, err = r.Apply(context.Background(), 1)
	checkReplicas(t, c.DB, primary, got)
	if err != nil || len(got) != 1 || got[0].Status != "ACTIVE" {
		t.Fatalf("retry: %+v, %v", got, err)
	}
}

func TestReplicas_RefusesSameNamedInstanceOfAnotherPrimary(t *testing.T) {
	c := scalingtest.NewCloud()
	primary := c.DB.AddPrimary("db")
	other := c.DB.AddPrimary("other")
	r0 := newReplicas(t, c.DB, c.Clock, other, nil, nil)
	if _, err := r0.Apply(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	r := newReplicas(t, c.DB, c.Clock, primary, nil, nil)
	_, err := r.Apply(context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), "not a replica of primary") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}
