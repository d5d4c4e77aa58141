package devcloud

import (
	"fmt"
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultSpec replaces the active faults (an empty spec clears them).
type FaultSpec struct {
	// Seed makes probabilistic faults reproducible; 0 keeps the cloud's RandSeed.
	Seed int64 `json:"seed,omitempty"`
	// Rules act on API requests.
	Rules []FaultRule `json:"rules,omitempty"`
	// ServerErrors makes builds end in ERROR.
	ServerErrors *ServerErrorFault `json:"server_errors,omitempty"`
	// ReplicaErrors makes Trove replica builds end in ERROR, with the fault message Trove
	// shows on the instance (faults_trove.go).
	ReplicaErrors *ServerErrorFault `json:"replica_errors,omitempty"`
	// ExtraDelaySeconds slows a named transition (server_build, lb_update, ...) by that many
	// unscaled seconds; the time scale applies to it like to the base delay.
	ExtraDelaySeconds map[string]float64 `json:"extra_delay_seconds,omitempty"`
	// ObjectFaults make asynchronous work on an object end badly (see ObjectFault).
	ObjectFaults []ObjectFault `json:"object_faults,omitempty"`
}

// ObjectFault makes the asynchronous part of a change end badly, for the next Next matching
// changes and then for each further one with probability Probability (both 0: every one).
//
//	kind "zone":          a zone's create, update or delete; "stuck" leaves the zone PENDING,
//	                      "error" ends it in ERROR (a deleting zone stays, in ERROR/DELETE)
//	kind "recordset":     a recordset's create, update or delete; the zone and the recordset's
//	                      records stay PENDING ("stuck") or go to ERROR ("error"), since
//	                      Designate propagates a recordset with its zone
//	kind "server_backup": a Nova createBackup; "error" ends the image "killed" (the server's
//	                      task clears and its instance action records the failure),
//	                      "deleted" kills the image and then deletes it, as Nova's
//	                      delete_image_on_error does, "stuck" leaves the image "saving"
//	                      and the server in task image_uploading
//	kind "server_snapshot": a Nova createImage; "race" answers as Nova Zed does when another
//	                      task took the server between the API's state check and its save:
//	                      the queued image is already in Glance, nothing will upload to it, and
//	                      the answer is a 500 naming UnexpectedTaskStateError ("race" also
//	                      applies to "server_backup", whose createBackup races the same way)
//	kind "db_backup":     a Trove backup; "error" ends it FAILED, "stuck" leaves it BUILDING
//
// Name, when set, limits the fault to objects whose name contains it (zone or recordset
// name, image name, backup name).
type ObjectFault struct {
	Kind        string  `json:"kind"`
	Outcome     string  `json:"outcome"`
	Name        string  `json:"name,omitempty"`
	Next        int     `json:"next,omitempty"`
	Probability float64 `json:"probability,omitempty"`
}

var objectFaultKinds = []string{"zone", "recordset", "server_snapshot", "server_backup", "db_backup"}

// objectFaultOutcomes lists the outcomes each kind accepts.
var objectFaultOutcomes = map[string][]string{
	"zone": {"stuck", "error"}, "recordset": {"stuck", "error"}, "server_snapshot": {"race"},
	"server_backup": {"stuck", "error", "deleted", "race"}, "db_backup": {"stuck", "error"},
}

// FaultRule matches requests by service ("compute", "identity", "image", "network",
// "load-balancer", "database", "key-manager", "dns"; "" any), method ("" any) and path (a substring of the path
// template, e.g. "/servers"; "" any), and then acts with the given probability.
type FaultRule struct {
	Service string `json:"service,omitempty"`
	Method  string `json:"method,omitempty"`
	Path    string `json:"path,omitempty"`
	// Probability of acting on a matching request; 0 means always.
	Probability float64 `json:"probability,omitempty"`
	// Status answers with this code instead of calling the service (500, 502, 503, 429, ...).
	Status int `json:"status,omitempty"`
	// RetryAfter is sent as Retry-After (seconds) with a 429 or 503.
	RetryAfter int `json:"retry_after,omitempty"`
	// LatencyMS is added before the request is served (or failed); not scaled.
	LatencyMS int `json:"latency_ms,omitempty"`
	// Drop hijacks the connection and closes it without an answer.
	Drop bool `json:"drop,omitempty"`
	// After lets the service handle the request first and then replaces its answer with
	// Status or Drop: the object is created but the client never learns it (a proxy's 504,
	// a connection lost on the way back). Without After the service never sees the request.
	After bool `json:"after,omitempty"`
	// RevokeTokens revokes every token issued so far before the request is served, as a
	// password change or a Keystone restart with new keys does: this request and every later
	// one carrying an old token get 401 until the client authenticates again
	// (faults_keystone.go).
	RevokeTokens bool `json:"revoke_tokens,omitempty"`
	// Times limits how often the rule acts; 0 means unlimited.
	Times int `json:"times,omitempty"`
}

// ServerErrorFault makes builds (of servers, or of Trove replicas) end in ERROR: the next Next
// builds, then each further build with probability Probability.
type ServerErrorFault struct {
	Next        int     `json:"next,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Message     string  `json:"message,omitempty"`
	// Stage is where the build fails: "build" (default) on the compute host, where Nova Zed
	// still records the compute__do_build_and_run_instance event as Success, or "schedule"
	// in the conductor (as NoValidHost does), which records
	// conductor_schedule_and_build_instances as Error with the message in its details.
	Stage string `json:"stage,omitempty"`
}

type faultState struct {
	mu       sync.Mutex
	randSeed int64
	rng      *rand.Rand
	rules    []FaultRule
	fired    []int
	srvErr   ServerErrorFault
	dbErr    ServerErrorFault
	builds   int // builds failed since the faults were injected
	extra    map[string]time.Duration
	objects  []objectFaultState
	// suspended stops the request rules (SuspendFaults) without losing their counts.
	suspended int
}

type objectFaultState struct {
	ObjectFault
	always bool // neither next nor probability was given; Next counts down as faults fire
}

func (f *faultState) init(seed int64) {
	f.randSeed = seed
	f.clear()
}

func (f *faultState) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rng = rand.New(rand.NewSource(f.randSeed))
	f.rules, f.fired, f.extra = nil, nil, map[string]time.Duration{}
	f.srvErr, f.dbErr = ServerErrorFault{}, ServerErrorFault{}
	f.objects = nil
}

// InjectFaults replaces the active faults.
func (c *Cloud) InjectFaults(spec FaultSpec) {
	f := &c.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	seed := spec.Seed
	if seed == 0 {
		seed = f.randSeed
	}
	f.rng = rand.New(rand.NewSource(seed))
	f.rules = append([]FaultRule(nil), spec.Rules...)
	f.fired = make([]int, len(f.rules))
	f.builds = 0
	f.srvErr, f.dbErr = ServerErrorFault{}, ServerErrorFault{}
	if spec.ServerErrors != nil {
		f.srvErr = *spec.ServerErrors
	}
	if spec.ReplicaErrors != nil {
		f.dbErr = *spec.ReplicaErrors
	}
	f.extra = map[string]time.Duration{}
	for k, v := range spec.ExtraDelaySeconds {
		f.extra[k] = time.Duration(v * float64(time.Second))
	}
	f.objects = nil
	for _, o := range spec.ObjectFaults {
		f.objects = append(f.objects, objectFaultState{ObjectFault: o, always: o.Next == 0 && o.Probability == 0})
	}
}

// SuspendFaults stops the request rules until resume is called: a harness reads the cloud
// through its APIs, between two runs of the client under test, without meeting the faults
// meant for that client or using up their Times. Build faults and extra delays stay.
func (c *Cloud) SuspendFaults() (resume func()) {
	f := &c.faults
	f.mu.Lock()
	f.suspended++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.suspended--
			f.mu.Unlock()
		})
	}
}

func validateFaultSpec(spec FaultSpec) error {
	for i, r := range spec.Rules {
		if r.Probability < 0 || r.Probability > 1 {
			return fmt.Errorf("rules[%d]: probability must be within 0..1, got %v", i, r.Probability)
		}
		if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
			return fmt.Errorf("rules[%d]: status must be an HTTP error code (400-599), got %d", i, r.Status)
		}
		if r.Status == 0 && !r.Drop && r.LatencyMS == 0 && !r.RevokeTokens {
			return fmt.Errorf("rules[%d]: a rule needs status, drop, latency_ms or revoke_tokens", i)
		}
		if r.After && r.Status == 0 && !r.Drop {
			return fmt.Errorf("rules[%d]: after needs status or drop (it replaces the service's answer)", i)
		}
	}
	if s := spec.ServerErrors; s != nil && (s.Probability < 0 || s.Probability > 1 || s.Next < 0) {
		return fmt.Errorf("server_errors: next must be >= 0 and probability within 0..1")
	}
	if s := spec.ServerErrors; s != nil && s.Stage != "" && s.Stage != "build" && s.Stage != "schedule" {
		return fmt.Errorf("server_errors: stage must be build or schedule, got %q", s.Stage)
	}
	for i, o := range spec.ObjectFaults {
		if !contains(objectFaultKinds, o.Kind) {
			return fmt.Errorf("object_faults[%d]: kind must be one of %s, got %q", i, strings.Join(objectFaultKinds, ", "), o.Kind)
		}
		if want := objectFaultOutcomes[o.Kind]; !contains(want, o.Outcome) {
			return fmt.Errorf("object_faults[%d]: outcome of a %s fault must be one of %s, got %q", i, o.Kind, strings.Join(want, ", "), o.Outcome)
		}
		if o.Probability < 0 || o.Probability > 1 || o.Next < 0 {
			return fmt.Errorf("object_faults[%d]: next must be >= 0 and probability within 0..1", i)
		}
	}
	if s := spec.ReplicaErrors; s != nil && (s.Probability < 0 || s.Probability > 1 || s.Next < 0) {
		return fmt.Errorf("replica_errors: next must be >= 0 and probability within 0..1")
	}
	return nil
}

// objectFault decides, once per asynchronous change of an object of the given kind, whether
// it ends badly: "stuck", "error", or "" for a normal end.
func (f *faultState) objectFault(kind, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.objects {
		o := &f.objects[i]
		if o.Kind != kind || (o.Name != "" && !strings.Contains(name, o.Name)) {
			continue
		}
		switch {
		case o.always:
			return o.Outcome
		case o.Next > 0:
			o.Next--
			return o.Outcome
		case o.Probability > 0 && f.rng.Float64() < o.Probability:
			return o.Outcome
		}
	}
	return ""
}

func (f *faultState) extraDelay(name string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.extra[name]
}

// serverBuildFails decides, once per build and stage ("schedule" or "build"), whether the
// build ends in ERROR there and with what message.
func (f *faultState) serverBuildFails(stage string) (bool, string) {
	f.mu.Lock()
	want := f.srvErr.Stage
	f.mu.Unlock()
	if want == "" {
		want = "build"
	}
	if want != stage {
		return false, ""
	}
	msg := "Build of instance aborted: injected fault"
	if stage == "schedule" {
		msg = "No valid host was found. There are not enough hosts available."
	}
	return f.buildFails(&f.srvErr, msg)
}

// buildFails decides, once per build, whether a build governed by e ends in ERROR.
func (f *faultState) buildFails(e *ServerErrorFault, defaultMessage string) (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := e.Message
	if msg == "" {
		msg = defaultMessage
	}
	if e.Next > 0 {
		e.Next--
		f.builds++
		return true, msg
	}
	if e.Probability > 0 && f.rng.Float64() < e.Probability {
		f.builds++
		return true, msg
	}
	return false, ""
}

// FaultsActed counts how often the active faults acted since they were injected: requests a
// rule failed, slowed, dropped or revoked tokens for, and builds made to end in ERROR.
func (c *Cloud) FaultsActed() int {
	f := &c.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.builds
	for _, k := range f.fired {
		n += k
	}
	return n
}

type faultDecision struct {
	latency    time.Duration
	status     int
	retryAfter int
	drop       bool
	after      bool
	revoke     bool
}

func (f *faultState) decide(service, method, tmpl string) faultDecision {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d faultDecision
	if f.suspended > 0 {
		return d
	}
	for i, r := range f.rules {
		if r.Service != "" && r.Service != service {
			continue
		}
		if r.Method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		if r.Path != "" && !strings.Contains(tmpl, r.Path) {
			continue
		}
		if r.Times > 0 && f.fired[i] >= r.Times {
			continue
		}
		if r.Probability > 0 && f.rng.Float64() >= r.Probability {
			continue
		}
		acted := false
		if r.RevokeTokens {
			d.revoke, acted = true, true
		}
		if r.LatencyMS > 0 {
			d.latency += time.Duration(r.LatencyMS) * time.Millisecond
			acted = true
		}
		if d.status == 0 && !d.drop {
			if r.Drop {
				d.drop, d.after, acted = true, r.After, true
			} else if r.Status != 0 {
				d.status, d.retryAfter, d.after, acted = r.Status, r.RetryAfter, r.After, true
			}
		}
		if acted {
			f.fired[i]++
		}
	}
	return d
}

func (c *Cloud) faultMiddleware(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := c.faults.decide(service, r.Method, pathTemplate(r.URL.Path))
		if d.revoke {
			c.revokeIssuedTokens()
		}
		if d.latency > 0 {
			t := time.NewTimer(d.latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if d.after && (d.drop || d.status != 0) {
			// The service's answer goes nowhere; only its side effects remain.
			next.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		}
		if d.drop {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
				return
			}
			// HTTP/2 cannot be hijacked; a reset stream is the closest equivalent.
			panic(http.ErrAbortHandler)
		}
		if d.status != 0 {
			if d.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(d.retryAfter))
			}
			writeServiceError(w, service, d.status, faultMessage(d.status))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func faultMessage(status int) string {
	switch status {
	case 429:
		return "This request was rate-limited."
	case 502:
		return "Bad Gateway"
	case 503:
		return "The server is currently unavailable. Please try again at a later time."
	default:
		return "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible."
	}
}

// discardWriter swallows a response that a fault replaces.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
