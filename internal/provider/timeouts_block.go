package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// timeoutsDoc says, for each operation a resource bounds, what the bound covers and its default.
// An empty string leaves the operation out of the block.
type timeoutsDoc struct {
	Create, Update, Delete string
}

// timeoutsBlock is the `timeouts { }` block every resource uses: one syntax across the provider,
// each default stated where the documentation lists the attribute.
func timeoutsBlock(ctx context.Context, d timeoutsDoc) schema.Block {
	const syntax = " A Go duration such as `90s`, `30m` or `1h30m`."
	opts := timeouts.Opts{Create: d.Create != "", Update: d.Update != "", Delete: d.Delete != ""}
	if opts.Create {
		opts.CreateDescription = d.Create + syntax
	}
	if opts.Update {
		opts.UpdateDescription = d.Update + syntax
	}
	if opts.Delete {
		opts.DeleteDescription = d.Delete + syntax
	}
	return timeouts.Block(ctx, opts)
}

// timeoutDefault words a fixed default.
func timeoutDefault(what string, d time.Duration) string {
	return fmt.Sprintf("Bound on %s (default `%s`).", what, formatDuration(d))
}
