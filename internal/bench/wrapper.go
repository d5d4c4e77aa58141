package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// The provider plugin's peak memory is read by a wrapper that Terraform starts in its place
// (dev_overrides names the wrapper's directory): the wrapper runs the real plugin as its child
// with the same arguments, environment and standard streams, so the plugin handshake on stdout
// is the plugin's own, and appends the child's peak RSS to a log when it exits. Terraform's
// own memory, and devcloud's, stay out of the figure.
const (
	wrapPluginEnv = "EVENTSCALE_BENCH_PLUGIN"
	wrapRSSLogEnv = "EVENTSCALE_BENCH_RSS_LOG"
)

// RunPluginWrapper runs the plugin named by EVENTSCALE_BENCH_PLUGIN when that is set, and
// reports whether it did and the exit code to leave with. The benchmark command calls it first
// thing, since Terraform starts that same binary as the provider.
func RunPluginWrapper() (code int, wrapped bool) {
	plugin := os.Getenv(wrapPluginEnv)
	if plugin == "" {
		return 0, false
	}
	// Terraform ends the plugin (a shutdown call, then a kill that dieWithParent passes on):
	// the wrapper has no deadline of its own to give it.
	cmd := exec.CommandContext(context.Background(), plugin, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	dieWithParent(cmd)
	// The parent-death signal follows the thread that started the child: keep it alive.
	runtime.LockOSThread()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "benchmark plugin wrapper: starting %s: %v\n", plugin, err)
		return 1, true
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	signal.Stop(signals)
	if log := os.Getenv(wrapRSSLogEnv); log != "" {
		if f, ferr := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); ferr == nil {
			_, _ = fmt.Fprintf(f, "%d\n", maxRSSKB(cmd.ProcessState))
			_ = f.Close()
		}
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), true
	case err != nil:
		return 1, true
	}
	return 0, true
}

// peakFromLog is the largest RSS the wrappers logged, in KiB.
func peakFromLog(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var peak int64
	for _, line := range strings.Fields(string(b)) {
		if v, err := strconv.ParseInt(line, 10, 64); err == nil && v > peak {
			peak = v
		}
	}
	return peak
}
