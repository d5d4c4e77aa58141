// Command devcloud runs the devcloud OpenStack simulator on a loopback address and prints the
// OS_* variables and a clouds.yaml entry to reach it, then serves until SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "devcloud:", err)
		os.Exit(1)
	}
}

// run starts devcloud and blocks until a signal arrives (or stop is closed, for tests).
func run(args []string, out io.Writer, stop <-chan struct{}) (err error) {
	fs := flag.NewFlagSet("devcloud", flag.ContinueOnError)
	fs.SetOutput(out)
	listen := fs.String("listen", "127.0.0.1:0", "listen address (loopback only)")
	scale := fs.Float64("time-scale", 1, "multiplier for every simulated delay (0.01 makes a 30 s build take 0.3 s)")
	seed := fs.Bool("seed", true, "create the demo project's flavors, network, image, web01 and db01")
	randSeed := fs.Int64("rand-seed", 1, "seed for ids and probabilistic faults")
	printEnv := fs.Bool("print-env", false, "print only the export lines (for eval) and keep serving")
	readyFile := fs.String("ready-file", "", "write the base URL to this file once listening")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale <= 0 {
		return fmt.Errorf("-time-scale must be positive, got %v", *scale)
	}
	c, err := devcloud.Start(devcloud.Options{Addr: *listen, TimeScale: *scale, Seed: *seed, RandSeed: *randSeed})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("shutting down: %w", cerr)
		}
	}()
	// Without the variables nobody can reach the cloud, so a failed write ends the command.
	w := &stickyWriter{w: out}
	if *printEnv {
		printExports(w, c)
	} else {
		printBanner(w, c, *seed)
	}
	if w.err != nil {
		return fmt.Errorf("printing the connection details: %w", w.err)
	}
	if *readyFile != "" {
		// Written after the banner so a script that waits for the file can read stdout too.
		tmp := *readyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(c.URL()+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing -ready-file: %w", err)
		}
		if err := os.Rename(tmp, *readyFile); err != nil {
			return fmt.Errorf("writing -ready-file: %w", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	return nil
}

// stickyWriter keeps the first write error, so that a banner of many lines is checked once.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

func printExports(out *stickyWriter, c *devcloud.Cloud) {
	env := c.Env()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.printf("export %s=%s\n", k, env[k])
	}
}

func printBanner(out *stickyWriter, c *devcloud.Cloud, seeded bool) {
	out.printf("devcloud listening on %s\n", c.URL())
	out.printf("control API: %s/_devcloud/ (metrics, events, faults, reset, timing, vips, capacity, seed)\n\n", c.URL())
	out.printf("# demo user (password):\n")
	printExports(out, c)
	out.printf("\n# or with the demo application credential:\n")
	out.printf("#   export OS_AUTH_TYPE=v3applicationcredential OS_AUTH_URL=%s\n", c.AuthURL())
	out.printf("#   export OS_APPLICATION_CREDENTIAL_ID=%s OS_APPLICATION_CREDENTIAL_SECRET=%s\n",
		devcloud.DemoAppCredentialID, devcloud.DemoAppCredentialSecret)
	out.printf("#   (name %s, user demo in domain Default)\n", devcloud.DemoAppCredentialName)
	out.printf("\n# clouds.yaml:\nclouds:\n  devcloud:\n    auth:\n      auth_url: %s\n      username: demo\n      password: secret\n"+
		"      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n"+
		"    region_name: RegionOne\n    interface: public\n    identity_api_version: 3\n", c.AuthURL())
	out.printf("  devcloud-appcred:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: %s\n"+
		"      application_credential_id: %s\n      application_credential_secret: %s\n    region_name: RegionOne\n    interface: public\n    identity_api_version: 3\n",
		c.AuthURL(), devcloud.DemoAppCredentialID, devcloud.DemoAppCredentialSecret)
	if seeded {
		s := c.Seed()
		out.printf("\n# seed: project demo %s; web01 %s at %s (image ubuntu-22.04 %s, flavor m1.small %s);\n"+
			"# network private %s, subnet 10.0.0.0/24 %s; db01 %s (mysql 8.0)\n",
			s.ProjectID, s.Web01ServerID, s.Web01Address, s.Web01ImageID, s.Web01FlavorID, s.NetworkID, s.SubnetID, s.DB01ID)
	}
}
