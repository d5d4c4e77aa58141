//go:build tools

// Package tools pins the code generators this module runs through go generate.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
