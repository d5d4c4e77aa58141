package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/eventscale/terraform-provider-eventscale/"

// rule says what the non-test files of the packages under a directory must not import. README.md in
// this directory explains each room and why.
type rule struct {
	dir    string   // relative to internal/, with its sub-packages
	forbid []string // import path prefixes
	// allow lists files (relative to internal/) that may still import a forbidden path, each with
	// the reason; the list only shrinks.
	allow map[string]string
}

var rules = []rule{
	{dir: "scaling", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	{dir: "quota", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/"}},
	{dir: "journal", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	{dir: "review", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	{dir: "serverreplica", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	// The event's decisions (capacity plan, freeze window) are plain arithmetic and time.
	{dir: "event", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/"}},
	{dir: "backup", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	{dir: "dnsrecord", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/"}},
	{dir: "runbook", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/"}},
	{dir: "loadtest", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/"}},
	{dir: "dbreplica", forbid: []string{"github.com/gophercloud/", "github.com/hashicorp/terraform-plugin-", module + "internal/cloud",
		module + "internal/provider", module + "internal/devcloud"}},
	// The adapters know gophercloud, not Terraform's schemas and values; they may log through
	// terraform-plugin-log, which is the provider's log.
	{dir: "cloud", forbid: []string{"github.com/hashicorp/terraform-plugin-framework", "github.com/hashicorp/terraform-plugin-go",
		module + "internal/provider", module + "internal/devcloud"}},
	// devcloud is a cloud of its own: it shares no code with the provider it is used to test.
	{dir: "devcloud", forbid: []string{module + "internal/provider", module + "internal/cloud", module + "internal/scaling",
		"github.com/hashicorp/terraform-plugin-"}},
	// The provider speaks to the cloud through cloud's own types (cloud.PoolSpec,
	// cloud.LoadBalancerInfo, cloud.ImageInfo...): no file converts gophercloud types at the edge.
	{dir: "provider", forbid: []string{module + "internal/devcloud", "github.com/gophercloud/"}},
}

func TestImports_EachRoomImportsOnlyWhatItMay(t *testing.T) {
	for _, r := range rules {
		err := filepath.WalkDir(r.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range r.forbid {
					if !strings.HasPrefix(path, bad) {
						continue
					}
					if _, ok := r.allow[filepath.ToSlash(p)]; ok {
						continue
					}
					t.Errorf("%s imports %s: %s must not import %s (see internal/README.md)", p, path, r.dir, bad)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", r.dir, err)
		}
	}
}

func TestImports_AllowListOnlyNamesFilesThatStillNeedIt(t *testing.T) {
	for _, r := range rules {
		files := make([]string, 0, len(r.allow))
		for f := range r.allow {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, file := range files {
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Errorf("%s is allowed an exception but cannot be read: %v", file, err)
				continue
			}
			needs := false
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range r.forbid {
					needs = needs || strings.HasPrefix(path, bad)
				}
			}
			if !needs {
				t.Errorf("%s no longer imports what %s forbids: remove it from the allow list", file, r.dir)
			}
		}
	}
}
