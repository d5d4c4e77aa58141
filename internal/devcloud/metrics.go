package devcloud

import (
	"bufio"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Metrics counts API requests.
type Metrics struct {
	Total     int64            `json:"total"`
	ByService map[string]int64 `json:"by_service"`
	ByStatus  map[int]int64    `json:"by_status"`
	Requests  []RequestCount   `json:"requests"`
}

// RequestCount is the number of requests with one service, method, path template and status.
// Status 0 means the connection was dropped by a fault.
type RequestCount struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Status  int    `json:"status"`
	Count   int64  `json:"count"`
}

type metricKey struct {
	service, method, path string
	status                int
}

type metricStore struct {
	mu     sync.Mutex
	counts map[metricKey]int64
}

func (m *metricStore) add(k metricKey) {
	m.mu.Lock()
	if m.counts == nil {
		m.counts = map[metricKey]int64{}
	}
	m.counts[k]++
	m.mu.Unlock()
}

func (m *metricStore) clear() {
	m.mu.Lock()
	m.counts = nil
	m.mu.Unlock()
}

// Metrics returns the request counts since Start or the last Reset.
func (c *Cloud) Metrics() Metrics {
	c.metrics.mu.Lock()
	defer c.metrics.mu.Unlock()
	out := Metrics{ByService: map[string]int64{}, ByStatus: map[int]int64{}}
	for k, n := range c.metrics.counts {
		out.Total += n
		out.ByService[k.service] += n
		out.ByStatus[k.status] += n
		out.Requests = append(out.Requests, RequestCount{Service: k.service, Method: k.method, Path: k.path, Status: k.status, Count: n})
	}
	sort.Slice(out.Requests, func(i, j int) bool {
		a, b := out.Requests[i], out.Requests[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Status < b.Status
	})
	return out
}

// Count returns how many requests matched service, method and path template (any status).
func (m Metrics) Count(service, method, path string) int64 {
	var n int64
	for _, r := range m.Requests {
		if r.Service == service && r.Method == method && r.Path == path {
			n += r.Count
		}
	}
	return n
}

var idSegment = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[0-9]+)$`)

// pathTemplate replaces ids in a path with {id} so that metrics group by API route.
func pathTemplate(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if idSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

func (c *Cloud) metricsMiddleware(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		c.metrics.add(metricKey{service: service, method: r.Method, path: pathTemplate(r.URL.Path), status: rec.status})
	})
}
