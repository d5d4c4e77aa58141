package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// planDiagnostic is one diagnostic of `terraform plan -json`.
type planDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address"`
}

// terraformPlanDiagnostics runs `terraform plan -json` on cfg with the provider served in this
// process, and returns the plan's diagnostics: terraform-plugin-testing checks errors and plans
// but has no way to see warnings, which are how the provider tells what is at risk.
func terraformPlanDiagnostics(t *testing.T, cfg string) []planDiagnostic {
	t.Helper()
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		t.Skip("needs the Terraform CLI in TF_ACC_TERRAFORM_PATH")
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattachCh := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	address := "registry.terraform.io/" + providerNamespace + "/eventscale"
	go func() {
		err := tf6server.Serve(address, providerserver.NewProtocol6(New("test")()), tf6server.WithDebug(ctx, reattachCh, closed),
			tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattachCh:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider did not start serving within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
	})
	reattach, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(withProviderSource(cfg)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattach), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err := cmd.Run()
		if err != nil && args[0] != "plan" {
			t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), stderr.String())
		}
		return out.Bytes()
	}
	run("init", "-input=false", "-no-color")
	out := run("plan", "-json", "-input=false", "-no-color", "-lock=false")
	var diags []planDiagnostic
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Type       string         `json:"type"`
			Diagnostic planDiagnostic `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "diagnostic" {
			diags = append(diags, line.Diagnostic)
		}
	}
	return diags
}

// findDiagnostic returns the first diagnostic of the severity whose summary contains summary.
func findDiagnostic(diags []planDiagnostic, severity, summary string) *planDiagnostic {
	for i := range diags {
		if diags[i].Severity == severity && strings.Contains(diags[i].Summary, summary) {
			return &diags[i]
		}
	}
	return nil
}
