package devcloud

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure Start.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0. Only loopback addresses are accepted
	// because devcloud has well-known passwords.
	Addr string
	// TimeScale multiplies every simulated delay: 0.01 makes a 30 s build take 0.3 s. 0 means 1.
	TimeScale float64
	// Seed creates the demo project's flavors, network, image, web01 and db01.
	Seed bool
	// RandSeed makes ids and fault decisions reproducible.
	RandSeed int64
	// TLS, when set, serves HTTPS (with a generated CA) instead of HTTP.
	TLS *TLSOptions
}

// Cloud is a running devcloud.
type Cloud struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
	url  string

	// mu guards st and gen. Never call into the data plane (octavia, webnodes) while holding it:
	// octavia calls back into AllocatePort, which takes mu.
	mu  sync.Mutex
	gen int64 // bumped by Reset so timers armed before it become no-ops
	st  *state
	rng *rand.Rand

	timing  timingState
	faults  faultState
	events  eventLog
	metrics metricStore

	dp *dataPlane

	ca *tlsAuthority // nil without Options.TLS
	// issuedTokens lists every token id Keystone issued since Start, revoked or not, so that a
	// test can look for them where they must never appear (logs, state). Guarded by mu.
	issuedTokens []string

	closeOnce sync.Once
}

// Start listens on opts.Addr and serves every API until Close.
func Start(opts Options) (*Cloud, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(opts.Addr); err != nil {
		return nil, err
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	// Start takes no context and binding a loopback port does not block, hence Background.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devcloud: listen on %s: %w", opts.Addr, err)
	}
	c := &Cloud{opts: opts, ln: ln, url: "http://" + ln.Addr().String()}
	if opts.TLS != nil {
		if c.ca, err = newTLSAuthority(time.Now()); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("devcloud: generating the TLS CA: %w", err)
		}
		c.ln = tls.NewListener(ln, c.ca.serverConfig(*opts.TLS))
		c.url = "https://" + ln.Addr().String()
	}
	c.timing.init(opts.TimeScale)
	c.faults.init(opts.RandSeed)
	c.dp = newDataPlane(c)
	c.mu.Lock()
	c.resetLocked()
	c.mu.Unlock()
	c.seedDataPlane()
	c.srv = &http.Server{Handler: c.routes(), ReadHeaderTimeout: 10 * time.Second}
	if c.ca != nil {
		// Refused handshakes are what TLS tests provoke; they are not devcloud's errors.
		c.srv.ErrorLog = log.New(io.Discard, "", 0)
	}
	go func() { _ = c.srv.Serve(c.ln) }()
	return c, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("devcloud: bad listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("devcloud: refusing to listen on %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed, devcloud has well-known passwords", addr)
	}
	return nil
}

// URL is the base URL, http://127.0.0.1:port (https:// with Options.TLS).
func (c *Cloud) URL() string { return c.url }

// AuthURL is the Keystone v3 endpoint.
func (c *Cloud) AuthURL() string { return c.url + "/identity/v3" }

// Env returns the OS_* variables for the demo user (password auth). The demo user also has a
// seeded application credential: OS_AUTH_TYPE=v3applicationcredential with
// OS_APPLICATION_CREDENTIAL_ID=DemoAppCredentialID and
// OS_APPLICATION_CREDENTIAL_SECRET=DemoAppCredentialSecret (name DemoAppCredentialName).
func (c *Cloud) Env() map[string]string {
	return map[string]string{
		"OS_AUTH_URL":             c.AuthURL(),
		"OS_USERNAME":             "demo",
		"OS_PASSWORD":             "secret",
		"OS_PROJECT_NAME":         "demo",
		"OS_USER_DOMAIN_NAME":     "Default",
		"OS_PROJECT_DOMAIN_NAME":  "Default",
		"OS_DOMAIN_NAME":          "Default",
		"OS_REGION_NAME":          "RegionOne",
		"OS_INTERFACE":            "public",
		"OS_IDENTITY_API_VERSION": "3",
	}
}

// Reset drops everything created since Start and recreates the seed (same ids), clears faults,
// events and metrics. Timing and issued tokens are kept.
func (c *Cloud) Reset() {
	c.dp.reset()
	c.mu.Lock()
	c.resetLocked()
	c.mu.Unlock()
	c.faults.clear()
	c.events.clear()
	c.metrics.clear()
	c.seedDataPlane()
}

func (c *Cloud) resetLocked() {
	c.gen++
	c.rng = rand.New(rand.NewSource(c.opts.RandSeed))
	old := c.st
	c.st = newState()
	c.seedIdentity()
	if c.opts.Seed {
		c.seedResources()
	}
	if old != nil {
		// Users and projects get the same ids again, so password and seeded application
		// credential tokens stay valid: a harness can reset between tests with one client.
		for id, t := range old.tokens {
			if t.AppCredID == "" || c.st.appCreds[t.AppCredID] != nil {
				c.st.tokens[id] = t
			}
		}
	}
}

// IssuedTokenIDs returns every token id Keystone issued since Start (Reset keeps them).
func (c *Cloud) IssuedTokenIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.issuedTokens...)
}

// Close stops the listener, the timers' effects and the data plane.
func (c *Cloud) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.gen++ // pending timers become no-ops
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = c.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = c.srv.Close()
		}
		c.dp.close()
	})
	return err
}

// afterGen runs f after d unless the cloud was reset or closed since gen was read; f runs
// with c.mu held and returns work to do once it is released (data-plane calls).
func (c *Cloud) afterGen(gen int64, d time.Duration, f func() func()) {
	time.AfterFunc(d, func() {
		c.mu.Lock()
		if c.gen != gen {
			c.mu.Unlock()
			return
		}
		post := f()
		c.mu.Unlock()
		if post != nil {
			post()
		}
	})
}

// newID returns a random UUID (with dashes, as Nova, Glance, Neutron and Trove use). Callers hold c.mu.
func (c *Cloud) newID() string {
	var b [16]byte
	c.rng.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newHexID returns 32 hex digits, the shape of Keystone ids. Callers hold c.mu.
func (c *Cloud) newHexID() string {
	return strings.ReplaceAll(c.newID(), "-", "")
}

func (c *Cloud) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/_devcloud/", http.StripPrefix("/_devcloud", c.controlHandler()))
	svc := func(name, prefix string, h http.Handler) {
		wrapped := c.metricsMiddleware(name, c.faultMiddleware(name, c.authMiddleware(name, prefix, h)))
		mux.Handle(prefix, wrapped)
		mux.Handle(prefix+"/", wrapped)
	}
	svc("identity", "/identity", http.StripPrefix("/identity", c.keystoneHandler()))
	svc("compute", "/compute", http.StripPrefix("/compute", c.novaHandler()))
	svc("image", "/image", http.StripPrefix("/image", c.glanceHandler()))
	svc("network", "/networking", http.StripPrefix("/networking", c.neutronHandler()))
	svc("load-balancer", "/load-balancer", http.StripPrefix("/load-balancer", c.dp.handler()))
	svc("database", "/database", http.StripPrefix("/database", c.troveHandler()))
	svc("key-manager", "/key-manager", http.StripPrefix("/key-manager", c.barbicanHandler()))
	svc("dns", "/dns", http.StripPrefix("/dns", c.designateHandler()))
	// Placement is admin-only; only its version document is served, so that clients which
	// discover it (and the lab's verify script) find it in the catalog.
	svc("placement", "/placement", http.StripPrefix("/placement", http.HandlerFunc(placementVersions)))
	root := c.metricsMiddleware("identity", c.faultMiddleware("identity", http.HandlerFunc(c.identityVersions)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		root.ServeHTTP(w, r)
	})
	return mux
}

func placementVersions(w http.ResponseWriter, r *http.Request) {
	if strings.Trim(r.URL.Path, "/") != "" {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []any{map[string]any{"status": 404, "title": "Not Found",
			"detail": "The resource could not be found.", "code": "placement.undefined_code"}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{"id": "v1.0", "max_version": "1.39", "min_version": "1.0",
		"status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": ""}}}}})
}
