package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
)

func replicaConfig(target accTarget, name string, count int, extra string) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_database_replica" "reads" {
  name          = %q
  primary_id    = %q
  replica_count = %d
  flavor_id     = "1"
  volume_size   = 5
%s
}
`, name, target.DatabaseID, count, extra)
}

// replicasInCloud asks Trove for the instances named <name>-NN and what they replicate.
func replicasInCloud(target accTarget, name string) ([]scaling.Instance, error) {
	ctx := context.Background()
	db, err := target.Client.Database(ctx)
	if err != nil {
		return nil, err
	}
	all, err := db.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	var out []scaling.Instance
	for _, in := range all {
		if _, ok := scaling.OrdinalFromName(name, in.Name); ok {
			out = append(out, in)
		}
	}
	return out, nil
}

func testAccCheckReplicas(target accTarget, name string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := replicasInCloud(target, name)
		if err != nil {
			return err
		}
		if len(got) != want {
			return fmt.Errorf("%d replicas named %s-NN exist, want %d", len(got), name, want)
		}
		for _, in := range got {
			if in.ReplicaOf != target.DatabaseID || in.Status != "ACTIVE" {
				return fmt.Errorf("replica %s is %s replicating %q, want ACTIVE replicating %s", in.Name, in.Status, in.ReplicaOf, target.DatabaseID)
			}
		}
		return nil
	}
}

func testAccCheckPrimaryUntouched(target accTarget) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		db, err := target.Client.Database(ctx)
		if err != nil {
			return err
		}
		p, err := db.GetInstance(ctx, target.DatabaseID)
		if err != nil {
			return fmt.Errorf("the primary is gone: %w", err)
		}
		if p.Status != "ACTIVE" || p.ReplicaOf != "" {
			return fmt.Errorf("primary %s is %s, replica of %q", p.ID, p.Status, p.ReplicaOf)
		}
		return nil
	}
}

func TestAccDatabaseReplica_CreateGrowShrinkImportDestroy(t *testing.T) {
	target := accCloud(t)
	if why := accReplicaSupport(t, target); why != "" {
		t.Skip("no Trove replicas on this cloud: " + why)
	}
	if target.DatabaseID == "" {
		t.Skip("no primary database: set EVENTSCALE_ACC_SEED_DATABASE_ID on an external cloud")
	}
	name := accName(t, "accdb")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			func(*terraform.State) error {
				got, err := replicasInCloud(target, name)
				if err != nil {
					return err
				}
				if len(got) != 0 {
					return fmt.Errorf("%d replicas are left", len(got))
				}
				return nil
			},
			testAccCheckPrimaryUntouched(target),
		),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(target, name, 1, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckReplicas(target, name, 1),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.#", "1"),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.0.name", name+"-01"),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.0.status", "ACTIVE"),
				),
			},
			{
				Config: replicaConfig(target, name, 2, ""),
				Check:  resource.ComposeAggregateTestCheckFunc(testAccCheckReplicas(target, name, 2), testAccCheckPrimaryUntouched(target)),
			},
			{
				Config: replicaConfig(target, name, 1, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckReplicas(target, name, 1),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.0.name", name+"-01"),
					func(*terraform.State) error {
						// The removed replica was detached before it was deleted: only
						// devcloud's event log keeps that order once the replica is gone.
						if target.Dev == nil {
							return nil
						}
						detached := false
						for _, e := range target.Dev.Events() {
							if e.Kind == "replica.detached" && e.Attrs["name"] == name+"-02" {
								detached = true
							}
						}
						if !detached {
							return fmt.Errorf("%s-02 was deleted without being detached first", name)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            "eventscale_database_replica.reads",
				ImportState:             true,
				ImportStateId:           target.DatabaseID + "/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// An import block followed by a plan of the same configuration: no change at all.
				ResourceName:    "eventscale_database_replica.reads",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   target.DatabaseID + "/" + name,
				Config:          withProviderSource(replicaConfig(target, name, 1, "")),
			},
		},
	})
}

func TestAccDatabaseReplica_PartlyFailedCreateIsResumedKeepingTheReplicaThatServes(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to refuse one replica create")
	}
	name := accName(t, "accdbfail")
	first := map[string]string{}
	ids := func(s *terraform.State) map[string]string {
		out := map[string]string{}
		a := s.RootModule().Resources["eventscale_database_replica.reads"].Primary.Attributes
		for k, v := range a {
			if strings.HasPrefix(k, "instances.") && strings.HasSuffix(k, ".name") {
				out[v] = a[strings.TrimSuffix(k, ".name")+".id"]
			}
		}
		return out
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "database", Method: "POST", Path: "/instances", Status: 413, Times: 1}}})
				},
				Config:             replicaConfig(target, name, 2, ""),
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckReplicas(target, name, 1),
					resource.TestCheckResourceAttr("eventscale_database_replica.reads", "instances.#", "1"),
					func(s *terraform.State) error {
						for k, v := range ids(s) {
							first[k] = v
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    replicaConfig(target, name, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_database_replica.reads", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckReplicas(target, name, 2),
					func(s *terraform.State) error {
						now := ids(s)
						for k, v := range first {
							if now[k] != v {
								return fmt.Errorf("replica %s was replaced (%s -> %s): the resume must keep it", k, v, now[k])
							}
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccDatabaseReplica_PlanTimeValidation(t *testing.T) {
	target := accCloud(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: replicaConfig(target, "ok", 21, ""), PlanOnly: true, ExpectError: regexp.MustCompile(`replica_count.*between 0 and 20`)},
			{Config: strings.Replace(replicaConfig(target, "bad name", 1, ""), "volume_size   = 5", "volume_size   = 0", 1), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)letters, digits.*volume_size.*at least 1|(?s)volume_size.*at least 1.*letters, digits`)},
		},
	})
}

func TestAccDatabaseReplica_FreezeWindow(t *testing.T) {
	target := accCloud(t)
	if why := accReplicaSupport(t, target); why != "" {
		t.Skip("no Trove replicas on this cloud: " + why)
	}
	if target.DatabaseID == "" {
		t.Skip("no primary database: set EVENTSCALE_ACC_SEED_DATABASE_ID on an external cloud")
	}
	name := accName(t, "accdbf")
	event := `  event_id = "launch@2020-01-01T00:00:00Z/2999-01-01T00:00:00Z"` + "\n"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: replicaConfig(target, name, 2, event), Check: testAccCheckReplicas(target, name, 2)},
			{Config: replicaConfig(target, name, 1, event), ExpectError: regexp.MustCompile(`(?s)frozen during the event.*allow_during_event`)},
			{Config: replicaConfig(target, name, 2, event+"  allow_during_event = true\n"), Check: testAccCheckReplicas(target, name, 2)},
		},
	})
	if got, _ := replicasInCloud(target, name); len(got) != 0 {
		t.Fatalf("%d replicas left after destroy: %v", len(got), strings.Repeat("x", 0))
	}
}
