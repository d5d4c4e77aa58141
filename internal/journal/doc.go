// Package journal is the record of an event as it happens: one JSON object per line, each
// with a human sentence, appended by the provider at every step of a scale-out or a
// scale-back, every load test, capacity plan, quota pre-flight, backup and load balancer
// statistics snapshot. `eventscale watch` follows it while Terraform only says "Still
// modifying..."; `eventscale review` turns it into the review after the event.
//
// # Writing
//
//	w := journal.Lazy(journal.PathFromEnv()) // once per provider process; the file appears at the first entry
//	rec := journal.NewRecorder(w, journal.RecorderConfig{Resource: "eventscale_web_pool.web", Pool: "web", Stats: listenerStats})
//	opts.Progress = rec.Progress // scaling.Options, before scaling.New
//	pool, err := scaling.New(scaling.Config{Options: opts, ...})
//	rec.SetPlan(pool.PlanFromState(known, 6)) // for "next: ..."
//	rec.Start(ctx, len(known), 6)
//	nodes, err := pool.Apply(ctx, 6)
//	rec.Finish(ctx, inService(nodes), err)
//
// Other records are written with the New...Entry constructors and Writer.Write. A Writer
// is safe for concurrent use, and several processes may append to the same file: each line
// goes out in one write on a file opened with O_APPEND, which a local file system applies
// whole.
//
// # Reading
//
// ReadFile reads a whole journal, skipping (and reporting) lines that are not entries, such
// as the half-written last line of a process that was killed. Follow reads it like tail -f:
// it waits for the file to appear, hands over every new line, and starts again from the
// beginning when the file is truncated or replaced.
//
// # Line schema
//
// Every line has time (RFC 3339, milliseconds, UTC), kind and message; the other fields are
// present when they apply. Durations are numbers of milliseconds in fields ending in _ms.
// See Entry for the fields and the Kind constants for the kinds.
package journal
