package octavia

import (
	"context"
	"crypto/tls"
	"errors"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/webnode"
)

// HAProxy's own error pages, which is what a client of an amphora sees.
const (
	body503 = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
	body504 = "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"
)

// vipServer is the real socket of one HTTP or TERMINATED_HTTPS listener.
type vipServer struct {
	srv      *http.Server
	url      string
	addr     string
	protocol string
	// certs is what a TERMINATED_HTTPS socket presents; a listener update swaps it.
	certs atomic.Pointer[tlsCertSet]
}

// close shuts the socket and every connection on it at once: requests in
// flight through it break, as when the amphora goes away.
func (v *vipServer) close() { _ = v.srv.Close() }

// startVIP opens the listener's socket. A TERMINATED_HTTPS socket terminates TLS with the
// listener's certificates (chosen by SNI) and hands plain HTTP to the members, as the
// amphora's HAProxy does; HTTPS listeners pass TLS through and get no socket here.
func (s *Service) startVIP(l *listener) (*vipServer, error) {
	ln, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	id := l.ID
	v := &vipServer{addr: ln.Addr().String(), protocol: l.Protocol}
	v.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.proxy(w, r, id) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	v.url = "http://" + v.addr
	if l.Protocol == protocolTerminatedHTTPS {
		v.certs.Store(l.certSet())
		ln = tls.NewListener(ln, &tls.Config{
			// Octavia's default tls_versions: TLSv1.2 and TLSv1.3.
			MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"},
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if c := v.certs.Load().pick(hello.ServerName); c != nil {
					return c, nil
				}
				return nil, errors.New("listener has no certificate")
			},
		})
		// A client that rejects the certificate is its own business, not a server error.
		v.srv.ErrorLog = log.New(io.Discard, "", 0)
		v.url = "https://" + v.addr
	}
	go func() { _ = v.srv.Serve(ln) }()
	return v, nil
}

// eligible reports whether HAProxy would send a new request to m.
func (s *Service) eligible(m *member) bool {
	if !m.live || !m.AdminStateUp || m.Weight <= 0 {
		return false
	}
	st := s.memberOperatingStatus(m)
	return st == opOnline || st == opNoMonitor
}

// pick chooses a member for a new request by the pool's algorithm among the
// eligible members; backup members serve only when no other member can.
func (s *Service) pick(p *pool, clientIP string) *member {
	var cands []*member
	for _, backup := range []bool{false, true} {
		for _, m := range p.members {
			if m.Backup == backup && s.eligible(m) {
				cands = append(cands, m)
			}
		}
		if len(cands) > 0 {
			break
		}
	}
	if len(cands) == 0 {
		return nil
	}
	switch p.LBAlgorithm {
	case "LEAST_CONNECTIONS":
		var best *member
		var bestLoad float64
		for _, m := range cands {
			load := float64(m.traffic.inflightN.Load()+1) / float64(m.Weight)
			if best == nil || load < bestLoad {
				best, bestLoad = m, load
			}
		}
		return best
	case "SOURCE_IP", "SOURCE_IP_PORT":
		total := 0
		for _, m := range cands {
			total += m.Weight
		}
		h := fnv.New32a()
		_, _ = h.Write([]byte(clientIP))
		n := int(h.Sum32() % uint32(total))
		for _, m := range cands {
			if n < m.Weight {
				return m
			}
			n -= m.Weight
		}
		return cands[len(cands)-1]
	}
	// Smooth weighted round robin (nginx's, as HAProxy's roundrobin spreads
	// weights): every candidate gains its weight, the richest is chosen and
	// pays the total.
	total := 0
	var best *member
	for _, m := range cands {
		p.rr[m.ID] += m.Weight
		total += m.Weight
		if best == nil || p.rr[m.ID] > p.rr[best.ID] {
			best = m
		}
	}
	p.rr[best.ID] -= total
	return best
}

func writePlain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// proxy serves one request arriving on listener id's socket.
func (s *Service) proxy(w http.ResponseWriter, r *http.Request, listenerID string) {
	clientIP, _, _ := net.SplitHostPort(r.RemoteAddr)

	s.mu.Lock()
	l := s.listeners[listenerID]
	if l == nil || !l.live {
		s.unlock()
		writePlain(w, http.StatusServiceUnavailable, body503)
		return
	}
	lb := s.lbs[l.LoadBalancerID]
	stats := []*trafficStats{l.stats}
	if lb != nil {
		stats = append(stats, lb.stats)
	}
	for _, st := range stats {
		st.total.Add(1)
		st.active.Add(1)
		st.bytesIn.Add(requestSize(r))
	}
	defer func() {
		for _, st := range stats {
			st.active.Add(-1)
		}
	}()
	fail := func(code int, body string) {
		for _, st := range stats {
			st.requestErrors.Add(1)
			st.bytesOut.Add(int64(len(body)))
		}
		writePlain(w, code, body)
	}
	if l.ConnectionLimit >= 0 && l.stats.active.Load() > int64(l.ConnectionLimit) {
		s.unlock()
		fail(http.StatusServiceUnavailable, body503)
		return
	}
	var m *member
	if p := s.pools[l.DefaultPoolID]; p != nil && p.live && p.AdminStateUp && (lb == nil || lb.AdminStateUp) && l.AdminStateUp {
		m = s.pick(p, clientIP)
	}
	if m == nil {
		s.unlock()
		fail(http.StatusServiceUnavailable, body503)
		return
	}
	counters := m.traffic
	node, nodeOK := s.env.Nodes().Get(m.Address)
	timeout := time.Duration(l.TimeoutMemberData) * time.Millisecond
	// Registered under s.mu: a commit that removes the member either sees
	// this request and cuts it, or ran before and the member was not picked.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	untrack := counters.track(cancel)
	defer untrack()
	s.unlock()

	if !nodeOK {
		counters.errors.Add(1)
		fail(http.StatusServiceUnavailable, body503)
		return
	}
	if timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, timeout)
		defer stop()
	}
	status, body, err := node.Handle(ctx, r)
	switch {
	case err == nil:
		counters.served.Add(1)
		for _, st := range stats {
			st.bytesOut.Add(int64(len(body)))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for k, vs := range node.ResponseHeader() {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Devcloud-Member", m.ID)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	case errors.Is(err, webnode.ErrBroken) || errors.Is(context.Cause(ctx), errMemberRemoved):
		counters.broken.Add(1)
		for _, st := range stats {
			st.requestErrors.Add(1)
		}
		// HAProxy drops the session: the client sees the connection close
		// without a response.
		panic(http.ErrAbortHandler)
	case errors.Is(err, webnode.ErrStopped):
		counters.errors.Add(1)
		fail(http.StatusServiceUnavailable, body503)
	case r.Context().Err() != nil:
		// The client went away; nothing to answer.
	case errors.Is(err, context.DeadlineExceeded):
		counters.errors.Add(1)
		fail(http.StatusGatewayTimeout, body504)
	default:
		counters.errors.Add(1)
		fail(http.StatusBadGateway, "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n")
	}
}

// requestSize approximates the bytes a request put on the wire.
func requestSize(r *http.Request) int64 {
	n := int64(len(r.Method) + len(r.URL.RequestURI()) + len(r.Proto) + 4)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n + 2
}
