package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// reviewAttrs logs the review's figures and findings and returns its attributes.
func reviewAttrs(t *testing.T, s *terraform.State) map[string]string {
	t.Helper()
	a := s.RootModule().Resources["data.eventscale_event_review.after"].Primary.Attributes
	n, _ := strconv.Atoi(a["findings.#"])
	var fs []string
	for i := range n {
		fs = append(fs, a[fmt.Sprintf("findings.%d.text", i)])
	}
	t.Logf("review from %s: %s nodes, at most %s servers, %s scale-back(s); findings:\n  %s", a["source"], a["nodes"], a["max_servers"],
		a["scale_backs.#"], strings.Join(fs, "\n  "))
	return a
}

func hasFinding(a map[string]string, prefix string) bool {
	n, _ := strconv.Atoi(a["findings.#"])
	for i := range n {
		if strings.HasPrefix(a[fmt.Sprintf("findings.%d.text", i)], prefix) {
			return true
		}
	}
	return false
}

func TestAccEventReview_FromTheJournalThenFromTheCloudOnceTheJournalIsRemoved(t *testing.T) {
	target := accWebCloud(t)
	name := accName(t, "accrev")
	dir := t.TempDir()
	journalPath := filepath.Join(dir, "journal.jsonl")
	outDir := filepath.Join(dir, "review")
	since := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	withJournal := target
	withJournal.ProviderHCL = strings.Replace(target.ProviderHCL, `provider "eventscale" {`,
		fmt.Sprintf("provider \"eventscale\" {\n  journal = %q\n", journalPath), 1)
	pool := func(size int, extra string) string {
		return webPoolConfig{Name: name, Size: size, Outside: extra}.hcl(withJournal)
	}
	// pools: the pool is destroyed, so no live server names it, and Nova lists its deleted
	// servers without their metadata.
	reviewHCL := fmt.Sprintf(`
data "eventscale_event_review" "after" {
  output_dir = %q
  since      = %q
  pools      = [%q]
}
`, outDir, since.Format(time.RFC3339), name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: pool(2, "")},
			{Config: pool(3, "")},
			{Config: pool(1, "")},
			{Config: pool(-1, "")}, // the pool is destroyed: its last node drained and deleted
			{
				Config: pool(-1, reviewHCL),
				Check: func(s *terraform.State) error {
					a := reviewAttrs(t, s)
					switch {
					case a["source"] != "journal" || !strings.Contains(a["source_detail"], journalPath):
						return fmt.Errorf("source %s: %s", a["source"], a["source_detail"])
					case a["nodes"] != "3" || a["max_servers"] != "3" || a["max_serving"] != "3":
						return fmt.Errorf("nodes %s, max servers %s, max serving %s; want 3, 3, 3", a["nodes"], a["max_servers"], a["max_serving"])
					case a["scale_backs.#"] != "2" || a["scale_backs.0.from"] != "3" || a["scale_backs.0.to"] != "1" ||
						a["scale_backs.0.outcome"] != "succeeded" || a["scale_backs.1.from"] != "1" || a["scale_backs.1.to"] != "0" ||
						a["scale_backs.0.measured"] != "false":
						return fmt.Errorf("scale-backs: %d: %v", len(a), a)
					case !hasFinding(a, fmt.Sprintf("The scale-back of %s from 3 to 1 nodes took", name)):
						return fmt.Errorf("no finding on the scale-back from 3 to 1")
					}
					for _, p := range []string{a["html_path"], a["markdown_path"], a["svg_path"]} {
						b, err := os.ReadFile(p)
						if err != nil {
							return err
						}
						if !strings.Contains(string(b), name+"-03") && !strings.HasSuffix(p, ".svg") {
							return fmt.Errorf("%s does not name node %s-03", p, name)
						}
					}
					return nil
				},
			},
			{
				// The journal is lost: the same data source rebuilds the review from Nova's,
				// Glance's and Octavia's records since the event began.
				PreConfig: func() {
					if err := os.Remove(journalPath); err != nil {
						t.Fatal(err)
					}
				},
				Config: pool(-1, reviewHCL),
				Check: func(s *terraform.State) error {
					a := reviewAttrs(t, s)
					switch {
					case a["source"] != "cloud":
						return fmt.Errorf("source %s: %s", a["source"], a["source_detail"])
					case !strings.Contains(a["source_detail"], "3 servers with 6 instance actions (Nova)"):
						return fmt.Errorf("source detail: %s", a["source_detail"])
					case a["nodes"] != "3" || a["max_servers"] != "3" || a["scale_backs.#"] != "0":
						return fmt.Errorf("nodes %s, max servers %s, scale-backs %s; want 3, 3, 0", a["nodes"], a["max_servers"], a["scale_backs.#"])
					case !hasFinding(a, "This review was rebuilt from the cloud's records"):
						return fmt.Errorf("no finding says the review comes from the cloud's records")
					}
					if _, err := os.Stat(journalPath); err == nil {
						return fmt.Errorf("the journal came back")
					}
					return nil
				},
			},
		},
	})
}
