package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

// A removal whose detach Trove applied but whose answer was lost leaves an instance that no
// longer replicates the primary. The state keeps it (marked DETACHED) and the next apply
// deletes it, rather than forgetting it and then refusing to touch an instance that has the
// set's name but is not its replica.
func TestAccDatabaseReplica_RemovalStoppedAfterTheDetachIsFinishedByTheNextApply(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to lose the answer of a detach")
	}
	name := accName(t, "accdbdetach")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckReplicas(target, name, 0),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(target, name, 2, ""),
				Check:  testAccCheckReplicas(target, name, 2),
			},
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "database", Method: "PATCH", Path: "/instances", Status: 504, After: true, Times: 1}}})
				},
				Config:      replicaConfig(target, name, 1, ""),
				ExpectError: regexp.MustCompile(`Bringing replicas .* to 1 failed`),
			},
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{})
					var got []scaling.Instance
					detached := 0
					for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
						var err error
						if got, err = replicasInCloud(target, name); err != nil {
							t.Fatal(err)
						}
						detached = 0
						for _, in := range got {
							if in.ReplicaOf == "" && in.Status == "ACTIVE" {
								detached++
							}
						}
						if detached > 0 {
							break
						}
					}
					if len(got) != 2 || detached != 1 {
						t.Fatalf("after the lost detach answer: %+v, want two instances, one detached", got)
					}
				},
				Config: replicaConfig(target, name, 1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_database_replica.reads", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckReplicas(target, name, 1),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.#", "1"),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.0.name", name+"-01"),
				),
			},
		},
	})
}
