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

	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/zones"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

// The site's name before the event: what every DNS test takes over and expects back.
const (
	accOldAddress     = "203.0.113.10"
	accOldTTL         = 3600
	accOldDescription = "front door"
	accTierAddress    = "198.51.100.7"
)

// accZone is a zone made for one test, with www pointing at the old address.
type accZone struct {
	Name, ID string
	WWW      string // www.<zone>
	WWWID    string
	DNS      *cloud.DNS
}

// accDNSZone creates a zone and its www record set for one test, and deletes the zone (and
// with it whatever record sets are left) when the test ends.
func accDNSZone(t *testing.T, target accTarget) accZone {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if has, err := target.Client.HasService(ctx, cloud.ServiceDNS); err != nil {
		t.Fatal(err)
	} else if !has {
		t.Skip("the cloud's catalog has no dns (Designate) service")
	}
	api, err := target.Client.DNS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api.Poll = cloud.ConfiguredPoll()
	name := accName(t, "dns") + ".test."
	z, err := zones.Create(ctx, api.Client, zones.CreateOpts{Name: name, Email: "ops@" + strings.TrimSuffix(name, "."), TTL: 7200}).Extract()
	if err != nil {
		t.Fatalf("creating zone %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := zones.Delete(ctx, api.Client, z.ID).Extract(); err != nil && !cloud.IsNotFound(err) {
			t.Logf("deleting zone %s: %v", name, err)
		}
	})
	www := "www." + name
	rs, err := api.CreateRecordSet(ctx, z.ID, www, "A", []string{accOldAddress}, accOldTTL, accOldDescription)
	if err != nil {
		t.Fatalf("creating %s: %v", www, err)
	}
	if _, _, err := api.WaitRecordSetActive(ctx, z.ID, rs.ID, 0); err != nil {
		t.Fatalf("waiting for %s: %v", www, err)
	}
	return accZone{Name: name, ID: z.ID, WWW: www, WWWID: rs.ID, DNS: api}
}

func dnsRecordHCL(target accTarget, z accZone, name, body string) string {
	return target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_dns_record" "site" {
  zone_name = %q
  name      = %q
%s}
`, z.Name, name, body)
}

// testAccCheckRecordSet reads the record set from Designate and compares it with want.
func testAccCheckRecordSet(z accZone, name string, records []string, ttl int, description string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		rs, err := z.DNS.FindRecordSet(context.Background(), z.ID, name, "A")
		if err != nil {
			return err
		}
		if records == nil {
			if rs != nil {
				return fmt.Errorf("%s still has a record set: %v", name, rs.Records)
			}
			return nil
		}
		if rs == nil {
			return fmt.Errorf("%s has no A record set", name)
		}
		got := slices.Clone(rs.Records)
		slices.Sort(got)
		if !slices.Equal(got, records) || rs.TTL != ttl || rs.Status != "ACTIVE" {
			return fmt.Errorf("%s in Designate: records %v ttl %d status %s; want %v ttl %d ACTIVE", name, got, rs.TTL, rs.Status, records, ttl)
		}
		if description != "*" && rs.Description != description {
			return fmt.Errorf("%s description %q, want %q", name, rs.Description, description)
		}
		return nil
	}
}

// testAccCheckStateMatchesRecordSet compares the state with the record set Designate has.
func testAccCheckStateMatchesRecordSet(z accZone) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := s.RootModule().Resources["eventscale_dns_record.site"].Primary.Attributes
		rs, err := z.DNS.GetRecordSet(context.Background(), z.ID, a["id"])
		if err != nil {
			return err
		}
		if a["status"] != rs.Status || a["records.#"] != strconv.Itoa(len(rs.Records)) {
			return fmt.Errorf("state says %s with %s records, Designate %s with %v", a["status"], a["records.#"], rs.Status, rs.Records)
		}
		if rs.TTL > 0 && a["ttl"] != strconv.Itoa(rs.TTL) {
			return fmt.Errorf("state ttl %s, Designate %d", a["ttl"], rs.TTL)
		}
		return nil
	}
}

func TestAccDNS_SwitchPointsTheNameAtTheTierAndDestroyRestoresThePreviousRecords(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	cfg := dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  records = [%q]\n  ttl     = 60\n", accTierAddress))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, accOldDescription),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, 60, "*"),
				testAccCheckStateMatchesRecordSet(z),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "id", z.WWWID),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "status", "ACTIVE"),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.#", "1"),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.0", accOldAddress),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_ttl", strconv.Itoa(accOldTTL)),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_ttl_from_zone", "false"),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_description", accOldDescription),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "zone_id", z.ID),
				testAccCheckZoneSerialMatches(z),
			),
		}},
	})
}

// testAccCheckZoneSerialMatches: the serial in state is the zone's, which moved for the change.
func testAccCheckZoneSerialMatches(z accZone) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := s.RootModule().Resources["eventscale_dns_record.site"].Primary.Attributes
		zone, err := z.DNS.GetZone(context.Background(), z.ID)
		if err != nil {
			return err
		}
		if a["zone_serial"] != strconv.Itoa(zone.Serial) {
			return fmt.Errorf("state zone_serial %s, Designate %d", a["zone_serial"], zone.Serial)
		}
		return nil
	}
}

func TestAccDNS_LowerTTLFirstThenSwitchInASecondApply(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	starts := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	common := fmt.Sprintf("  starts_at    = %q\n  lower_ttl_to = 60\n", starts.Format(time.RFC3339))
	lower := dnsRecordHCL(target, z, z.WWW, common)
	switched := dnsRecordHCL(target, z, z.WWW, common+fmt.Sprintf("  records      = [%q]\n", accTierAddress))
	lowerBy := starts.Add(-accOldTTL * time.Second).Format(time.RFC3339)
	switchBy := starts.Add(-60 * time.Second).Format(time.RFC3339)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, accOldDescription),
		Steps: []resource.TestStep{
			{
				// The first moment: the TTL comes down, the records stay.
				Config: lower,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("eventscale_dns_record.site", tfjsonpath.New("lower_ttl_by"), knownvalue.StringExact(lowerBy)),
					plancheck.ExpectKnownValue("eventscale_dns_record.site", tfjsonpath.New("switch_by"), knownvalue.StringExact(switchBy)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, 60, "*"),
					testAccCheckStateMatchesRecordSet(z),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "ttl", "60"),
					resource.TestCheckResourceAttrSet("eventscale_dns_record.site", "ttl_lowered_at"),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_ttl", strconv.Itoa(accOldTTL)),
				),
			},
			{
				// The second: the records switch, with the lowered TTL.
				Config: switched,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_dns_record.site", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, 60, "*"),
					testAccCheckStateMatchesRecordSet(z),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.0", accOldAddress),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_ttl", strconv.Itoa(accOldTTL)),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "lower_ttl_by", lowerBy),
				),
			},
		},
	})
}

func TestAccDNS_NameWithoutRecordsIsCreatedAndDeletedOnDestroy(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	name := "event." + z.Name
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, name, nil, 0, ""),
		Steps: []resource.TestStep{{
			Config: dnsRecordHCL(target, z, name, fmt.Sprintf("  records = [%q]\n", accTierAddress)),
			Check: resource.ComposeAggregateTestCheckFunc(
				testAccCheckRecordSet(z, name, []string{accTierAddress}, 0, "*"),
				testAccCheckStateMatchesRecordSet(z),
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.#", "0"),
				resource.TestCheckNoResourceAttr("eventscale_dns_record.site", "previous_ttl"),
				// No TTL of its own: resolvers get the zone's.
				resource.TestCheckResourceAttr("eventscale_dns_record.site", "ttl", "7200"),
			),
		}},
	})
}

func TestAccDNS_RestoreOnDestroyFalseLeavesTheTierAddress(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	cfg := dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  records            = [%q]\n  restore_on_destroy = false\n", accTierAddress))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// The records stay; the description the provider wrote is given back.
		CheckDestroy: testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, accOldTTL, accOldDescription),
		Steps:        []resource.TestStep{{Config: cfg, Check: testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, accOldTTL, "*")}},
	})
}

func TestAccDNS_ZoneThatDoesNotExistIsRefusedAtPlanBeforeAnyChange(t *testing.T) {
	target := accCloud(t)
	if has, err := target.Client.HasService(context.Background(), cloud.ServiceDNS); err != nil {
		t.Fatal(err)
	} else if !has {
		t.Skip("the cloud's catalog has no dns (Designate) service")
	}
	zone := accName(t, "dnsnone") + ".test."
	cfg := target.ProviderHCL + fmt.Sprintf(`
resource "eventscale_dns_record" "site" {
  zone_name = %q
  name      = "www.%s"
  records   = [%q]
}
`, zone, zone, accTierAddress)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      cfg,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Unknown zone.*no zone ` + regexp.QuoteMeta(zone) + ` is visible to the project`),
		}},
	})
	if target.Dev != nil {
		if n, seen := mutatingCalls(target.Dev); n != 0 {
			t.Fatalf("a refused plan made %d mutating calls: %v", n, seen)
		}
	}
}

func TestAccDNS_RecordSetLeftPendingIsKeptAndTheNextApplyResumesIt(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's object faults to leave a record set PENDING; on a real cloud it depends on the name servers")
	}
	z := accDNSZone(t, target)
	body := fmt.Sprintf("  records = [%q]\n  ttl     = 60\n", accTierAddress)
	stuck := dnsRecordHCL(target, z, z.WWW, body+"  timeouts {\n    create = \"3s\"\n  }\n")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, accOldDescription),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{ObjectFaults: []devcloud.ObjectFault{
						{Kind: "recordset", Outcome: "stuck", Name: z.WWW, Next: 1}}})
				},
				Config: stuck,
				// Kept with a warning: the refresh after it shows PENDING and plans the resume.
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "id", z.WWWID),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "status", "PENDING"),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.0", accOldAddress),
					testAccCheckStateMatchesRecordSet(z),
					func(*terraform.State) error {
						rs, err := z.DNS.GetRecordSet(context.Background(), z.ID, z.WWWID)
						if err != nil {
							return err
						}
						if rs.Status != "PENDING" || len(rs.Records) != 1 || rs.Records[0] != accTierAddress {
							return fmt.Errorf("Designate has %s %v, want the new records PENDING", rs.Status, rs.Records)
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    stuck,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("eventscale_dns_record.site", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "id", z.WWWID),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "status", "ACTIVE"),
					testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, 60, "*"),
					testAccCheckStateMatchesRecordSet(z),
					testAccCheckZoneSerialMatches(z),
				),
			},
		},
	})
}

func TestAccDNS_LostAnswerOfTheTakeoverIsAdoptedWithWhatToRestore(t *testing.T) {
	target := accCloud(t)
	if target.Dev == nil {
		t.Skip("needs devcloud's fault injection to lose the answer of a PUT")
	}
	z := accDNSZone(t, target)
	cfg := dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  records = [%q]\n", accTierAddress))
	// Short enough that the client gives up re-sending the PUT whose answers are all lost.
	lossy := dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  records = [%q]\n  timeouts {\n    create = \"4s\"\n  }\n", accTierAddress))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, accOldDescription),
		Steps: []resource.TestStep{
			{
				// The takeover is made, its answer lost every time: the apply fails with nothing in state.
				PreConfig: func() {
					target.Dev.InjectFaults(devcloud.FaultSpec{Rules: []devcloud.FaultRule{
						{Service: "dns", Method: "PUT", Path: "/recordsets", Drop: true, After: true}}})
				},
				Config:      lossy,
				ExpectError: regexp.MustCompile(`Cannot change the record set`),
			},
			{
				// The next apply finds the record set it took over and reads from its description
				// what the name pointed at before: destroy restores the old address, not the tier's.
				PreConfig: func() { target.Dev.InjectFaults(devcloud.FaultSpec{}) },
				Config:    cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "id", z.WWWID),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_records.0", accOldAddress),
					resource.TestCheckResourceAttr("eventscale_dns_record.site", "previous_ttl", strconv.Itoa(accOldTTL)),
					testAccCheckRecordSet(z, z.WWW, []string{accTierAddress}, accOldTTL, "*"),
				),
			},
		},
	})
}

func TestAccDNS_ImportPlansNoChange(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	cfg := dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  records = [%q]\n  ttl     = 120\n", accTierAddress))
	importID := func(s *terraform.State) (string, error) {
		a := s.RootModule().Resources["eventscale_dns_record.site"].Primary.Attributes
		return a["zone_id"] + "/" + a["id"], nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, "*"),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      "eventscale_dns_record.site",
				ImportState:       true,
				ImportStateIdFunc: importID,
				ImportStateVerify: true,
				// Read back from Designate and the description, except what lives in configuration
				// only and the previous description, which the description itself has no room for.
				ImportStateVerifyIgnore: []string{"timeouts", "previous_description", "ttl_lowered_at"},
			},
			{
				ResourceName:      "eventscale_dns_record.site",
				ImportState:       true,
				ImportStateKind:   resource.ImportBlockWithID,
				ImportStateIdFunc: importID,
				Config:            withProviderSource(cfg),
			},
		},
	})
}

func TestAccDNS_TTLCheckWarnsWhenResolversCouldHoldTheOldAddressAtTheStart(t *testing.T) {
	target := accCloud(t)
	z := accDNSZone(t, target)
	soon := time.Now().UTC().Add(30 * time.Minute).Truncate(time.Second)
	later := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)

	// Switching 30 minutes before the start with a TTL of an hour.
	diags := terraformPlanDiagnostics(t, dnsRecordHCL(target, z, z.WWW,
		fmt.Sprintf("  records   = [%q]\n  starts_at = %q\n", accTierAddress, soon.Format(time.RFC3339))))
	w := findDiagnostic(diags, "warning", "Resolvers may still answer the old address when the event starts")
	if w == nil {
		t.Fatalf("no warning about the switch; diagnostics: %+v", diags)
	}
	if !strings.Contains(w.Detail, "after the event starts at "+soon.Format(time.RFC3339)) || !strings.Contains(w.Detail, "a TTL of 1h") {
		t.Errorf("warning detail: %s", w.Detail)
	}

	// Three hours ahead, the records not switched yet: lower the TTL by the start minus an hour.
	diags = terraformPlanDiagnostics(t, dnsRecordHCL(target, z, z.WWW, fmt.Sprintf("  starts_at = %q\n", later.Format(time.RFC3339))))
	deadline := later.Add(-accOldTTL * time.Second).Format(time.RFC3339)
	if w := findDiagnostic(diags, "warning", "Lower the TTL before "+deadline); w == nil || !strings.Contains(w.Detail, "lower_ttl_to = 300") {
		t.Fatalf("no warning with the time by which to lower the TTL (%s); diagnostics: %+v", deadline, diags)
	}

	// The plan that lowers it in time says nothing.
	diags = terraformPlanDiagnostics(t, dnsRecordHCL(target, z, z.WWW,
		fmt.Sprintf("  starts_at    = %q\n  lower_ttl_to = 60\n", later.Format(time.RFC3339))))
	for _, d := range diags {
		if d.Severity == "warning" || d.Severity == "error" {
			t.Errorf("lowering in time: unexpected %s %q: %s", d.Severity, d.Summary, d.Detail)
		}
	}
	// Nothing was changed by any of the plans.
	if err := testAccCheckRecordSet(z, z.WWW, []string{accOldAddress}, accOldTTL, accOldDescription)(nil); err != nil {
		t.Fatal(err)
	}
}
