package provider

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The provider binary, installed the way a developer does with dev_overrides, must answer
// `terraform providers schema -json` with its whole schema: it is what tfplugindocs and the
// Registry read.
func TestProviderBinary_SchemaThroughTerraformWithDevOverrides(t *testing.T) {
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || tf == "" {
		t.Skip("needs the Terraform CLI: TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test)")
	}
	dir := t.TempDir()
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	build := exec.Command(goBin, "build", "-o", filepath.Join(dir, "terraform-provider-eventscale"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "dev.tfrc")
	cfg := `provider_installation {
  dev_overrides {
    "registry.terraform.io/eventscale/eventscale" = "` + dir + `"
  }
  direct {}
}
`
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	main := `terraform {
  required_providers {
    # The full address: OpenTofu's default registry host is another one.
    eventscale = { source = "registry.terraform.io/eventscale/eventscale" }
  }
}
`
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tf, "providers", "schema", "-json")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform providers schema -json: %v\n%s", err, out)
	}
	var doc struct {
		ProviderSchemas map[string]struct {
			Provider          json.RawMessage            `json:"provider"`
			ResourceSchemas   map[string]json.RawMessage `json:"resource_schemas"`
			DataSourceSchemas map[string]json.RawMessage `json:"data_source_schemas"`
		} `json:"provider_schemas"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("schema output is not JSON: %v\n%s", err, out)
	}
	ps, ok := doc.ProviderSchemas["registry.terraform.io/eventscale/eventscale"]
	if !ok {
		t.Fatalf("no eventscale provider in %s", out)
	}
	for _, r := range []string{"eventscale_seed_image", "eventscale_load_balancer", "eventscale_web_pool",
		"eventscale_database_replica", "eventscale_event", "eventscale_load_test", "eventscale_backup", "eventscale_dns_record"} {
		if _, ok := ps.ResourceSchemas[r]; !ok {
			t.Errorf("resource %s missing from the schema", r)
		}
	}
	for _, d := range []string{"eventscale_capacity_plan", "eventscale_pool"} {
		if _, ok := ps.DataSourceSchemas[d]; !ok {
			t.Errorf("data source %s missing from the schema", d)
		}
	}
	if !strings.Contains(string(ps.Provider), `"password"`) || !strings.Contains(string(ps.Provider), `"sensitive":true`) {
		t.Errorf("provider schema lacks the sensitive password: %s", ps.Provider)
	}
}
