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

// What each resource's timeouts bound, and their defaults (the values its Create, Update and
// Delete pass to timeouts.Value).
var (
	webPoolTimeouts = timeoutsDoc{
		Create: timeoutDefault("creating the pool: every node built, joined to the Octavia pool and healthy", 60*time.Minute),
		Update: timeoutDefault("an update: a scale-out, a scale-back with all its drains (batches × `scale_in.drain_timeout` "+
			"and more), or a rolling replacement", 60*time.Minute),
		Delete: timeoutDefault("the destroy: the scale-back of every node, drains included", 60*time.Minute),
	}
	replicaTimeouts = timeoutsDoc{
		Create: timeoutDefault("creating the replicas and waiting for each to be ACTIVE", 60*time.Minute),
		Update: timeoutDefault("adding or removing replicas", 60*time.Minute),
		Delete: timeoutDefault("deleting every replica", 60*time.Minute),
	}
	loadBalancerTimeouts = timeoutsDoc{
		Create: timeoutDefault("creating the load balancer, its listeners, pool, monitor and members until ACTIVE", lbDefaultTimeout),
		Update: timeoutDefault("an update, each Octavia change waited for until ACTIVE", lbDefaultTimeout),
		Delete: timeoutDefault("deleting the load balancer and everything in it", lbDefaultTimeout),
	}
	seedImageTimeouts = timeoutsDoc{
		Create: timeoutDefault("the snapshot until the image is `active`", seedImageCreateTimeout),
		Update: timeoutDefault("an update of the image's name or metadata", seedImageUpdateTimeout),
		Delete: timeoutDefault("deleting the image", seedImageDeleteTimeout),
	}
	backupTimeouts = timeoutsDoc{
		Create: timeoutDefault("taking every backup and waiting until each is usable (image `active`, Trove `COMPLETED`)", backupCreateTimeout),
		Update: timeoutDefault("an update: backups taken again after a failure, names and labels changed", backupUpdateTimeout),
		Delete: timeoutDefault("deleting the backups when `delete_on_destroy` is set", backupDeleteTimeout),
	}
	dnsRecordTimeouts = timeoutsDoc{
		Create: timeoutDefault("the takeover until Designate has published it (record set `ACTIVE`, zone serial past its value before)", dnsCreateTimeout),
		Update: timeoutDefault("a change (TTL lowered, records switched) until Designate has published it", dnsUpdateTimeout),
		Delete: timeoutDefault("restoring the previous records (or deleting the record set) until published", dnsDeleteTimeout),
	}
)
