package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func backupHCL(target accTarget, body string) string {
	return target.ProviderHCL + "\nresource \"eventscale_backup\" \"pre\" {\n" + body + "}\n"
}

// accBackupType is a backup_type of this test alone: rotation counts per server and type, and
// the tests share the seed server with each other and with whatever else runs on the cloud.
func accBackupType(t *testing.T) string { return accName(t, "bk") }

// serverBackups lists the server's backup images of one type, as Nova's rotation counts them.
func serverBackups(ctx context.Context, target accTarget, serverID, backupType string) ([]images.Image, error) {
	nova, err := target.Client.NovaBackups(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := images.List(nova.Image, imageFilter{"image_type": "backup", "backup_type": backupType, "instance_uuid": serverID}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return images.ExtractImages(pages)
}

type imageFilter map[string]string

func (f imageFilter) ToImageListQuery() (string, error) {
	q := make([]string, 0, len(f))
	for k, v := range f {
		q = append(q, k+"="+v)
	}
	slices.Sort(q)
	return "?" + strings.Join(q, "&"), nil
}

// cleanUpBackups deletes, when the test ends, every backup image of the type: destroy keeps them.
func cleanUpBackups(t *testing.T, target accTarget, backupType string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		list, err := serverBackups(ctx, target, target.ServerID, backupType)
		if err != nil {
			t.Logf("listing the backups to clean up: %v", err)
			return
		}
		nova, _ := target.Client.NovaBackups(ctx)
		for _, img := range list {
			if err := nova.DeleteImage(ctx, img.ID); err != nil {
				t.Logf("deleting backup image %s: %v", img.ID, err)
			}
		}
	})
}

// testAccCheckServerBackupMatchesCloud reads the image of server_backups[0] from Glance and
// compares it with state.
func testAccCheckServerBackupMatchesCloud(target accTarget, wantStatus string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
		nova, err := target.Client.NovaBackups(context.Background())
		if err != nil {
			return err
		}
		img, err := nova.GetImage(context.Background(), a["server_backups.0.id"])
		if err != nil {
			return err
		}
		if img.Status != a["server_backups.0.status"] || img.Status != wantStatus {
			return fmt.Errorf("image %s is %s in Glance, %s in state; want %s", img.ID, img.Status, a["server_backups.0.status"], wantStatus)
		}
		if img.Name != a["server_backups.0.name"] || img.CreatedAt.UTC().Format(time.RFC3339) != a["server_backups.0.created_at"] {
			return fmt.Errorf("image %s %q created %s; state %q created %s", img.ID, img.Name, img.CreatedAt, a["server_backups.0.name"], a["server_backups.0.created_at"])
		}
		if wantStatus == "active" {
			if strconv.FormatInt(img.SizeBytes, 10) != a["server_backups.0.size"] {
				return fmt.Errorf("image size %d, state %s", img.SizeBytes, a["server_backups.0.size"])
			}
			if _, still := img.Properties[cloud.BackupKeyProperty]; still {
				return fmt.Errorf("image %s still carries its adoption key once recorded", img.ID)
			}
		}
		return nil
	}
}

func TestAccBackup_ServerBackupsWaitUntilActiveAndNovaRotatesTheOldest(t *testing.T) {
	target := accCloud(t)
	typ := accBackupType(t)
	cleanUpBackups(t, target, typ)
	prefix := accName(t, "bkrot")
	cfg := func(run string) string {
		return backupHCL(target, fmt.Sprintf("  name        = %q\n  server_ids  = [%q]\n  backup_type = %q\n  rotation    = 2\n",
			prefix+"-"+run, target.ServerID, typ))
	}
	ids := map[string]string{}
	keep := func(run string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			ids[run] = s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes["server_backups.0.id"]
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Destroy keeps the backup: the last one is still in Glance.
		CheckDestroy: func(*terraform.State) error {
			nova, err := target.Client.NovaBackups(context.Background())
			if err != nil {
				return err
			}
			img, err := nova.GetImage(context.Background(), ids["c"])
			if err != nil || img.Status != "active" {
				return fmt.Errorf("backup %s must outlive the resource: %v %v", ids["c"], img, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg("a"),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckServerBackupMatchesCloud(target, "active"),
					resource.TestCheckResourceAttr("eventscale_backup.pre", "server_backups.#", "1"),
					resource.TestCheckResourceAttr("eventscale_backup.pre", "server_backups.0.server_id", target.ServerID),
					resource.TestCheckResourceAttrPair("eventscale_backup.pre", "backups.0.id", "eventscale_backup.pre", "server_backups.0.id"),
					resource.TestCheckResourceAttrPair("eventscale_backup.pre", "backups.0.created_at", "eventscale_backup.pre", "server_backups.0.created_at"),
					resource.TestCheckNoResourceAttr("eventscale_backup.pre", "database_backup.id"),
					func(s *terraform.State) error {
						a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
						id := a["server_backups.0.id"]
						if a["server_backups.0.restore_command"] != "openstack server rebuild --image "+id+" "+target.ServerID {
							return fmt.Errorf("restore_command %q", a["server_backups.0.restore_command"])
						}
						if c := a["server_backups.0.restore_as_new_server_command"]; !strings.HasPrefix(c, "openstack server create --image "+id+" --flavor ") || !strings.Contains(c, "--network ") {
							return fmt.Errorf("restore_as_new_server_command %q", c)
						}
						return nil
					},
					keep("a"),
				),
			},
			{Config: cfg("b"), Check: resource.ComposeAggregateTestCheckFunc(testAccCheckServerBackupMatchesCloud(target, "active"), keep("b"))},
			{
				Config: cfg("c"),
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckServerBackupMatchesCloud(target, "active"),
					keep("c"),
					// Nova rotates once the new backup is active: a, the oldest, goes; b and c stay.
					func(*terraform.State) error {
						deadline := time.Now().Add(time.Minute)
						for {
							list, err := serverBackups(context.Background(), target, target.ServerID, typ)
							if err != nil {
								return err
							}
							var got []string
							for _, img := range list {
								got = append(got, img.ID)
							}
							want := []string{ids["b"], ids["c"]}
							slices.Sort(got)
							slices.Sort(want)
							if slices.Equal(got, want) {
								return nil
							}
							if time.Now().After(deadline) {
								return fmt.Errorf("backups of type %s: %v, want b and c %v (a %s rotated out)", typ, got, want, ids["a"])
							}
							time.Sleep(2 * time.Second)
						}
					},
				),
			},
		},
	})
}

func accDatabaseTarget(t *testing.T) accTarget {
	t.Helper()
	target := accCloud(t)
	if has, err := target.Client.HasService(context.Background(), cloud.ServiceDatabase); err != nil {
		t.Fatal(err)
	} else if !has {
		t.Skip("the cloud's catalog has no database (Trove) service, so there is nothing to take a Trove backup of")
	}
	if target.DatabaseID == "" {
		t.Skip("needs a database instance: EVENTSCALE_ACC_SEED_DATABASE_ID on an external cloud")
	}
	return target
}

// testAccCheckDatabaseBackupMatchesCloud reads database_backup from Trove and compares it with state.
func testAccCheckDatabaseBackupMatchesCloud(target accTarget, wantStatus string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
		trove, err := target.Client.TroveBackups(context.Background())
		if err != nil {
			return err
		}
		b, err := trove.Get(context.Background(), a["database_backup.id"])
		if err != nil {
			return err
		}
		if b.Status != a["database_backup.status"] || b.Status != wantStatus || b.Name != a["database_backup.name"] {
			return fmt.Errorf("backup %s is %s %q in Trove, %s %q in state; want %s", b.ID, b.Status, b.Name, a["database_backup.status"], a["database_backup.name"], wantStatus)
		}
		return nil
	}
}

func TestAccBackup_DatabaseBackupCompletesAndDeleteOnDestroyRemovesIt(t *testing.T) {
	target := accDatabaseTarget(t)
	name := accName(t, "bkdb")
	cfg := backupHCL(target, fmt.Sprintf("  name                 = %q\n  database_instance_id = %q\n  delete_on_destroy    = true\n", name, target.DatabaseID))
	var backupID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			trove, err := target.Client.TroveBackups(context.Background())
			if err != nil {
				return err
			}
			if _, err := trove.Get(context.Background(), backupID); !cloud.IsNotFound(err) {
				return fmt.Errorf("delete_on_destroy = true, but backup %s is still there (%v)", backupID, err)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckDatabaseBackupMatchesCloud(target, "COMPLETED"),
				resource.TestCheckResourceAttr("eventscale_backup.pre", "database_backup.instance_id", target.DatabaseID),
				resource.TestCheckResourceAttr("eventscale_backup.pre", "database_backup.instance_name", "db01"),
				resource.TestCheckResourceAttr("eventscale_backup.pre", "database_backup.name", name+"-db01"),
				resource.TestCheckResourceAttrSet("eventscale_backup.pre", "database_backup.size"),
				resource.TestCheckNoResourceAttr("eventscale_backup.pre", "server_backups"),
				resource.TestCheckResourceAttr("eventscale_backup.pre", "backups.#", "1"),
				func(s *terraform.State) error {
					a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
					backupID = a["database_backup.id"]
					want := "openstack database instance create db01-restored --flavor 2 --size 10 --datastore mysql --datastore-version 8.0 --backup " + backupID
					if a["database_backup.restore_command"] != want {
						return fmt.Errorf("restore_command %q, want %q", a["database_backup.restore_command"], want)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccBackup_FailedDatabaseBackupIsRecordedAndTheNextApplyTakesItAgain(t *testing.T) {
	target := accDatabaseTarget(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's object faults to make a Trove backup fail")
	}
	typ := accBackupType(t)
	cleanUpBackups(t, target, typ)
	name := accName(t, "bkfail")
	cfg := backupHCL(target, fmt.Sprintf("  name                 = %q\n  server_ids           = [%q]\n  backup_type          = %q\n  rotation             = 1\n  database_instance_id = %q\n",
		name, target.ServerID, typ, target.DatabaseID))
	var failedID, serverBackupID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "db_backup", Outcome: "error", Name: name, Next: 1}}})
				},
				Config: cfg,
				// Kept with a warning: the server's backup is usable, the database's FAILED; the
				// refresh plans the resume.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckServerBackupMatchesCloud(target, "active"),
					testAccCheckDatabaseBackupMatchesCloud(target, "FAILED"),
					resource.TestCheckResourceAttrSet("eventscale_backup.pre", "database_backup.id"),
					resource.TestCheckNoResourceAttr("eventscale_backup.pre", "database_backup.size"),
					func(s *terraform.State) error {
						a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
						failedID, serverBackupID = a["database_backup.id"], a["server_backups.0.id"]
						return nil
					},
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_backup.pre", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckDatabaseBackupMatchesCloud(target, "COMPLETED"),
					testAccCheckServerBackupMatchesCloud(target, "active"),
					func(s *terraform.State) error {
						a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
						if a["server_backups.0.id"] != serverBackupID {
							return fmt.Errorf("the usable server backup was taken again (%s → %s): the resume keeps it", serverBackupID, a["server_backups.0.id"])
						}
						if a["database_backup.id"] == failedID {
							return fmt.Errorf("the failed backup %s is still the one in state", failedID)
						}
						trove, err := target.Client.TroveBackups(context.Background())
						if err != nil {
							return err
						}
						if _, err := trove.Get(context.Background(), failedID); !cloud.IsNotFound(err) {
							return fmt.Errorf("the failed backup %s must be deleted before it is taken again (%v)", failedID, err)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccBackup_KilledServerBackupIsRecordedAndTheNextApplyTakesItAgain(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's object faults to make a Nova backup fail")
	}
	typ := accBackupType(t)
	cleanUpBackups(t, target, typ)
	name := accName(t, "bkkill")
	cfg := backupHCL(target, fmt.Sprintf("  name        = %q\n  server_ids  = [%q]\n  backup_type = %q\n  rotation    = 2\n", name, target.ServerID, typ))
	var killedID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{{Kind: "server_backup", Outcome: "error", Name: name, Next: 1}}})
				},
				Config:             cfg,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckServerBackupMatchesCloud(target, "killed"),
					resource.TestCheckNoResourceAttr("eventscale_backup.pre", "server_backups.0.size"),
					func(s *terraform.State) error {
						killedID = s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes["server_backups.0.id"]
						return nil
					},
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_backup.pre", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckServerBackupMatchesCloud(target, "active"),
					func(s *terraform.State) error {
						list, err := serverBackups(context.Background(), target, target.ServerID, typ)
						if err != nil {
							return err
						}
						if len(list) != 1 || list[0].ID == killedID {
							return fmt.Errorf("backups of type %s: %d, want only the new one (the killed %s deleted)", typ, len(list), killedID)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccBackup_LostCreateBackupAnswerIsAdoptedNotTakenTwice(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to lose the answer of createBackup")
	}
	typ := accBackupType(t)
	cleanUpBackups(t, target, typ)
	name := accName(t, "bklost")
	cfg := backupHCL(target, fmt.Sprintf("  name        = %q\n  server_ids  = [%q]\n  backup_type = %q\n  rotation    = 5\n", name, target.ServerID, typ))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() {
				target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
					{Service: "compute", Method: "POST", Path: "/action", Drop: true, After: true, Times: 1}}})
			},
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckServerBackupMatchesCloud(target, "active"),
				func(s *terraform.State) error {
					list, err := serverBackups(context.Background(), target, target.ServerID, typ)
					if err != nil {
						return err
					}
					id := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes["server_backups.0.id"]
					if len(list) != 1 || list[0].ID != id {
						return fmt.Errorf("%d backups of type %s, want exactly the adopted %s", len(list), typ, id)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccBackup_ImportPlansNoChange(t *testing.T) {
	target := accCloud(t)
	typ := accBackupType(t)
	cleanUpBackups(t, target, typ)
	name := accName(t, "bkimp")
	body := fmt.Sprintf("  name        = %q\n  server_ids  = [%q]\n  backup_type = %q\n  rotation    = 3\n", name, target.ServerID, typ)
	withDB := false
	if has, _ := target.Client.HasService(context.Background(), cloud.ServiceDatabase); has && target.DatabaseID != "" {
		body += fmt.Sprintf("  database_instance_id = %q\n  delete_on_destroy    = false\n", target.DatabaseID)
		withDB = true
	}
	cfg := backupHCL(target, body)
	importID := func(s *terraform.State) (string, error) {
		a := s.RootModule().Resources["eventscale_backup.pre"].Primary.Attributes
		id := a["server_backups.0.id"]
		if withDB {
			id += "," + a["database_backup.id"]
		}
		return id, nil
	}
	if withDB {
		t.Cleanup(func() {
			trove, err := target.Client.TroveBackups(context.Background())
			if err != nil {
				return
			}
			list, _ := trove.Find(context.Background(), backup.Target{SourceID: target.DatabaseID, Name: name + "-db01"})
			if list != nil {
				_ = trove.Delete(context.Background(), list.ID)
			}
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      "eventscale_backup.pre",
				ImportState:       true,
				ImportStateIdFunc: importID,
				ImportStateVerify: true,
				// Read back from the backups' properties (Nova) and description (Trove); the timeouts
				// exist only in configuration.
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName:      "eventscale_backup.pre",
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID,
				Config:            withProviderSource(cfg),
			},
		},
	})
}

func TestAccBackup_PlanRefusesWhatCannotBeBackedUpBeforeAnyBackup(t *testing.T) {
	target := accCloud(t)
	name := accName(t, "bkbad")
	base := fmt.Sprintf("  name        = %q\n  server_ids  = [%q]\n  rotation    = 1\n", name, target.ServerID)
	cases := []struct {
		from, to, want string
	}{
		{target.ServerID, "00000000-0000-0000-0000-000000000000", `(?s)Unknown server.*server_ids.*no server 00000000-0000-0000-0000-000000000000`},
		{"rotation    = 1", "rotation    = 0", `(?s)rotation.*between 1 and 100`},
		{"rotation    = 1", "rotation    = 101", `(?s)rotation.*between 1 and 100`},
		{"rotation    = 1\n", "", `(?s)Missing rotation.*rotation is required with server_ids`},
		{"  name        = \"" + name + "\"", "  name        = \" " + name + "\"", `(?s)name.*starts or ends with white space`},
		{"  server_ids  = [\"" + target.ServerID + "\"]\n  rotation    = 1\n", "", `(?s)Nothing to back up`},
		{"rotation    = 1", "rotation    = 1\n  backup_type = \"\"", `(?s)backup_type.*must not be empty`},
	}
	if has, _ := target.Client.HasService(context.Background(), cloud.ServiceDatabase); has {
		cases = append(cases, struct{ from, to, want string }{"rotation    = 1", "rotation    = 1\n  database_instance_id = \"00000000-0000-0000-0000-000000000000\"",
			`(?s)Unknown database instance.*database_instance_id`})
	} else {
		cases = append(cases, struct{ from, to, want string }{"rotation    = 1", "rotation    = 1\n  database_instance_id = \"00000000-0000-0000-0000-000000000000\"",
			`(?s)no database service.*database_instance_id`})
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      backupHCL(target, strings.Replace(base, c.from, c.to, 1)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(c.want),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	if target.Dev != nil {
		if n, seen := mutatingCalls(target.Dev); n != 0 {
			t.Fatalf("refused plans made %d mutating calls: %v", n, seen)
		}
	}
}
