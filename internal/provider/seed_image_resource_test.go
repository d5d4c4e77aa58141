package provider

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func TestDiffStringMaps_SetsChangedAndRemovesDropped(t *testing.T) {
	set, remove := diffStringMaps(
		map[string]string{"keep": "1", "change": "old", "drop": "x", "drop2": "y"},
		map[string]string{"keep": "1", "change": "new", "add": "2"})
	if !reflect.DeepEqual(set, map[string]string{"change": "new", "add": "2"}) {
		t.Errorf("set = %v", set)
	}
	if !reflect.DeepEqual(remove, []string{"drop", "drop2"}) {
		t.Errorf("remove = %v", remove)
	}
}

func TestSeedImageFromImage_ManagesOnlyConfiguredProperties(t *testing.T) {
	md, _ := types.MapValueFrom(context.Background(), types.StringType, map[string]string{"event": "launch", "gone": "x"})
	m := seedImageModel{ServerID: types.StringValue("old"), Metadata: md}
	created := time.Date(2026, 11, 20, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	m.fromImage(&cloud.ImageInfo{ID: "img-1", Name: "seed", Status: "active", SizeBytes: 1 << 30, CreatedAt: created,
		Properties: map[string]string{"event": "launch", "instance_uuid": "srv-1", "image_type": "snapshot"}})
	got, _ := stringMap(context.Background(), m.Metadata)
	if !reflect.DeepEqual(got, map[string]string{"event": "launch"}) {
		t.Errorf("metadata = %v: Nova's own properties must not appear, a property removed in Glance must", got)
	}
	if m.ServerID.ValueString() != "srv-1" || m.Size.ValueInt64() != 1<<30 || m.CreatedAt.ValueString() != "2026-11-20T07:00:00Z" ||
		m.Status.ValueString() != "active" {
		t.Errorf("fromImage = %+v", m)
	}

	imported := seedImageModel{Metadata: types.MapNull(types.StringType)}
	imported.fromImage(&cloud.ImageInfo{ID: "img-1", Properties: map[string]string{"event": "launch"}})
	if !imported.Metadata.IsNull() {
		t.Errorf("an import must not adopt every property as managed metadata: %v", imported.Metadata)
	}
}

func TestSeedImageSchema_IsValid(t *testing.T) {
	s := resourceSchema(t, NewSeedImageResource())
	if !s.Attributes["server_id"].IsRequired() || !s.Attributes["id"].IsComputed() {
		t.Fatal("server_id must be required and id computed")
	}
	if _, ok := s.Blocks["timeouts"]; !ok {
		t.Fatal("no timeouts block")
	}
}

func seedImageHCL(target accTarget, name, metadata string, retain bool) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_seed_image" "web" {
  server_id         = %q
  name              = %q
  metadata          = %s
  retain_on_destroy = %t
}
`, target.ServerID, name, metadata, retain)
}

// testAccImage reads the image back from Glance, not from state.
func testAccImage(target accTarget, addr string, check func(*cloud.ImageInfo) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		api, err := accImages(target)
		if err != nil {
			return err
		}
		img, err := api.GetImage(context.Background(), rs.Primary.ID)
		if err != nil {
			return err
		}
		return check(img)
	}
}

func accImages(target accTarget) (*cloud.Images, error) {
	ctx := context.Background()
	return target.Client.Images(ctx)
}

// testAccCheckSeedImagesGone asks Glance for every image the test put in state.
func testAccCheckSeedImagesGone(target accTarget) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		api, err := accImages(target)
		if err != nil {
			return err
		}
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "eventscale_seed_image" {
				continue
			}
			img, err := api.GetImage(context.Background(), rs.Primary.ID)
			switch {
			case cloud.IsNotFound(err):
				continue
			case err != nil:
				return err
			case img.Status != "deleted":
				return fmt.Errorf("image %s still exists (%s) after destroy", img.ID, img.Status)
			}
		}
		return nil
	}
}

func TestAccSeedImage_SnapshotUpdateInPlaceImport(t *testing.T) {
	target := accCloud(t)
	const addr = "eventscale_seed_image.web"
	name := accName(t, "acc-seed")
	var firstID string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckSeedImagesGone(target),
		Steps: []resource.TestStep{
			{
				Config:      seedImageHCL(target, "", "{}", false),
				ExpectError: regexp.MustCompile(`Attribute name string length must be between 1 and 255`),
			},
			{
				Config: seedImageHCL(target, name, `{ event = "launch", tier = "web" }`, false),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "status", "active"),
					resource.TestCheckResourceAttr(addr, "server_id", target.ServerID),
					resource.TestCheckResourceAttrSet(addr, "size"),
					resource.TestCheckResourceAttrSet(addr, "created_at"),
					resource.TestCheckResourceAttr(addr, "metadata.event", "launch"),
					func(s *terraform.State) error { firstID = s.RootModule().Resources[addr].Primary.ID; return nil },
					testAccImage(target, addr, func(img *cloud.ImageInfo) error {
						if img.Status != "active" || img.Name != name || img.Properties["event"] != "launch" {
							return fmt.Errorf("Glance has %s %q %v", img.Status, img.Name, img.Properties)
						}
						if img.Properties["instance_uuid"] != target.ServerID {
							return fmt.Errorf("image is not a snapshot of %s: %v", target.ServerID, img.Properties["instance_uuid"])
						}
						return nil
					}),
				),
			},
			{
				// Rename, change one property and drop another: in place, same image.
				Config: seedImageHCL(target, name+"-v2", `{ event = "launch-2" }`, false),
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						if id := s.RootModule().Resources[addr].Primary.ID; id != firstID {
							return fmt.Errorf("image replaced (%s → %s); name and metadata must change in place", firstID, id)
						}
						return nil
					},
					resource.TestCheckResourceAttr(addr, "metadata.%", "1"),
					testAccImage(target, addr, func(img *cloud.ImageInfo) error {
						if img.Name != name+"-v2" || img.Properties["event"] != "launch-2" {
							return fmt.Errorf("Glance has %q %v", img.Name, img.Properties)
						}
						if _, still := img.Properties["tier"]; still {
							return fmt.Errorf("property tier was not removed: %v", img.Properties)
						}
						return nil
					}),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// Glance cannot tell which properties were configured; timeouts live in configuration.
				ImportStateVerifyIgnore: []string{"metadata", "timeouts"},
			},
		},
	})
}

func TestAccSeedImage_RetainOnDestroyLeavesTheImage(t *testing.T) {
	target := accCloud(t)
	var id string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			api, err := accImages(target)
			if err != nil {
				return err
			}
			img, err := api.GetImage(context.Background(), id)
			if err != nil {
				return fmt.Errorf("retained image %s: %w", id, err)
			}
			// The test owns the leftover now.
			if err := api.DeleteImage(context.Background(), img.ID); err != nil {
				return err
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: seedImageHCL(target, accName(t, "acc-retain"), "{}", true),
			Check: func(s *terraform.State) error {
				id = s.RootModule().Resources["eventscale_seed_image.web"].Primary.ID
				return nil
			},
		}},
	})
}

// TestAccSeedImage_FailedWaitKeepsTheImageTracked makes the snapshot outlast the create
// timeout: the apply fails, but the image id is in state, so the next apply replaces it
// (deleting the first image) instead of leaking it.
func TestAccSeedImage_SnapshotStillSavingIsWaitedForInPlaceNotReplaced(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to slow the snapshot down past the timeout")
	}
	name := accName(t, "acc-slow")
	cfg := func(timeout string) string {
		return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_seed_image" "web" {
  server_id = %q
  name      = %q
  timeouts {
    create = %q
    update = %q
  }
}
`, target.ServerID, name, timeout, timeout)
	}
	created := func() []string {
		var ids []string
		for _, e := range target.Dev.Events() {
			if e.Kind == "image.created" && e.Attrs["name"] == name {
				ids = append(ids, fmt.Sprint(e.Attrs["image_id"]))
			}
		}
		return ids
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckSeedImagesGone(target),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					// 600 s more of simulated time: 6 s at devcloud's scale, well beyond the 1 s timeout
					// and the plan that follows the apply.
					target.Dev.InjectFaults(devcloud.FaultSpec{ExtraDelaySeconds: map[string]float64{"image_save": 600}})
				},
				Config: cfg("1s"),
				// Kept with a warning, not tainted: the next plan waits for it.
				ExpectNonEmptyPlan: true,
				Check: resource.TestCheckResourceAttrWith("eventscale_seed_image.web", "status", func(v string) error {
					if v == "active" {
						return fmt.Errorf("status %q, want a snapshot still being saved", v)
					}
					return nil
				}),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg("5m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_seed_image.web", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_seed_image.web", "status", "active"),
					func(s *terraform.State) error {
						ids := created()
						if len(ids) != 1 {
							return fmt.Errorf("snapshots taken: %v, want one, waited for in place", ids)
						}
						if got := s.RootModule().Resources["eventscale_seed_image.web"].Primary.ID; got != ids[0] {
							return fmt.Errorf("state has %s, want the first snapshot %s", got, ids[0])
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccSeedImage_SnapshotWhoseAnswerWasLostIsAdoptedNotTakenTwice(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to lose the createImage answer")
	}
	name := accName(t, "acc-lost")
	cfg := target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_seed_image" "web" {
  server_id = %q
  name      = %q
}
`, target.ServerID, name)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckSeedImagesGone(target),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				// Nova takes the snapshot, the answer never arrives.
				target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
					{Service: "compute", Method: "POST", Path: "/action", Drop: true, After: true, Times: 1}}})
			},
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("eventscale_seed_image.web", "status", "active"),
				func(s *terraform.State) error {
					target.Dev.InjectFaults(devcloud.FaultSpec{})
					var ids []string
					for _, e := range target.Dev.Events() {
						if e.Kind == "image.created" && e.Attrs["name"] == name {
							ids = append(ids, fmt.Sprint(e.Attrs["image_id"]))
						}
					}
					got := s.RootModule().Resources["eventscale_seed_image.web"].Primary.ID
					if len(ids) != 1 || ids[0] != got {
						return fmt.Errorf("snapshots taken %v, state %s: want one, adopted", ids, got)
					}
					api, err := accImages(target)
					if err != nil {
						return err
					}
					img, err := api.GetImage(context.Background(), got)
					if err != nil {
						return err
					}
					if _, keyed := img.Properties[cloud.SnapshotKeyProperty]; keyed {
						return fmt.Errorf("the adopted snapshot still carries %s once recorded", cloud.SnapshotKeyProperty)
					}
					return nil
				},
			),
		}},
	})
}

// A createImage that lost the race for the server (Nova makes the image, then does not start
// the snapshot) and whose answer never arrived: the queued image carries the adoption key and
// is adopted, but nothing will upload to it. The create sees the server without a task, deletes
// that image and asks again, instead of waiting for it until the timeout; one image is left.
func TestAccSeedImage_AdoptedSnapshotNovaNeverStartedIsDeletedAndTakenAgain(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to make a createImage lose the race for the server")
	}
	name := accName(t, "acc-race")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckSeedImagesGone(target),
		Steps: []resource.TestStep{{
			Config: seedImageHCL(target, name, "{}", false),
			PreConfig: func() {
				target.Dev.InjectFaults(devcloud.FaultSpec{
					ObjectFaults: []devcloud.ObjectFault{{Kind: "server_snapshot", Outcome: "race", Name: name, Next: 1}},
					Rules: []devcloud.FaultRule{
						{Service: "compute", Method: "POST", Path: "/action", Drop: true, After: true, Times: 1}},
				})
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("eventscale_seed_image.web", "status", "active"),
				func(s *terraform.State) error {
					target.Dev.InjectFaults(devcloud.FaultSpec{})
					var created, deleted []string
					for _, e := range target.Dev.Events() {
						if e.Attrs["name"] != name {
							continue
						}
						switch e.Kind {
						case "image.created":
							created = append(created, fmt.Sprint(e.Attrs["image_id"]))
						case "image.deleted":
							deleted = append(deleted, fmt.Sprint(e.Attrs["image_id"]))
						}
					}
					got := s.RootModule().Resources["eventscale_seed_image.web"].Primary.ID
					if len(created) != 2 || created[1] != got || len(deleted) != 1 || deleted[0] != created[0] {
						return fmt.Errorf("images created %v, deleted %v, state %s: want the never-started one deleted and the second recorded", created, deleted, got)
					}
					return nil
				},
			),
		}},
	})
}
