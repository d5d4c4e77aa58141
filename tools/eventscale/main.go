// Command eventscale reads the journal terraform-provider-eventscale writes during an event.
//
//	eventscale watch  [-f journal] [-once] [-plain]   follow a scale-back as it goes
//	eventscale review [-f journal] [-o dir]           the review after the event, HTML and Markdown
//	                  [-cloud name] [-since 48h]      ... from the cloud's records when the journal is gone
//
// Install it with
//
//	go install github.com/eventscale/terraform-provider-eventscale/tools/eventscale@latest
//
// The journal is .eventscale/journal.jsonl under the directory Terraform runs in, unless
// $EVENTSCALE_JOURNAL says otherwise; -f overrides both. When the journal does not exist,
// review reads the cloud's own records instead if a cloud is configured: -cloud (a clouds.yaml
// entry), $OS_CLOUD, or $OS_AUTH_URL with the other OS_* variables; -no-cloud turns that off.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stdout))
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "watch":
		return runWatch(ctx, args[1:], stdout, stderr, tty)
	case "review":
		return runReview(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "eventscale: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: eventscale <command> [flags]

commands:
  watch   follow the journal and draw the scale-back as it goes (-once: print the state and exit)
  review  write the review after the event as HTML and Markdown

Run "eventscale <command> -h" for its flags.
`)
}

// isTerminal reports whether f is a character device (a terminal, not a file or a pipe).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
