package devcloud

import (
	"encoding/json"
	"net/http"
	"strings"
)

// controlHandler serves /_devcloud/: devcloud's own API, without auth (loopback only).
func (c *Cloud) controlHandler() http.Handler {
	mux := http.NewServeMux()
	bad := func(w http.ResponseWriter, err error) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	}
	decode := func(r *http.Request, v any) error {
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Metrics())
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		events := c.Events()
		if kind := r.URL.Query().Get("kind"); kind != "" {
			filtered := events[:0:0]
			for _, e := range events {
				if strings.HasPrefix(e.Kind, kind) {
					filtered = append(filtered, e)
				}
			}
			events = filtered
		}
		if events == nil {
			events = []Event{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": events, "member_traffic": c.dp.traffic()})
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var spec FaultSpec
		if err := decode(r, &spec); err != nil {
			bad(w, err)
			return
		}
		if err := validateFaultSpec(spec); err != nil {
			bad(w, err)
			return
		}
		c.InjectFaults(spec)
		writeJSON(w, http.StatusOK, spec)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		c.InjectFaults(FaultSpec{})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		c.Reset()
		writeJSON(w, http.StatusOK, c.Seed())
	})
	mux.HandleFunc("GET /seed", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Seed())
	})
	mux.HandleFunc("GET /timing", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Timing().doc())
	})
	mux.HandleFunc("POST /timing", func(w http.ResponseWriter, r *http.Request) {
		var d timingDoc
		if err := decode(r, &d); err != nil {
			bad(w, err)
			return
		}
		t, err := d.timing()
		if err != nil {
			bad(w, err)
			return
		}
		c.SetTiming(t)
		writeJSON(w, http.StatusOK, c.Timing().doc())
	})
	mux.HandleFunc("GET /machines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"machines": c.Machines()})
	})
	mux.HandleFunc("GET /vips", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"vips": c.dp.vips(), "floating_ips": c.FloatingIPTargets()})
	})
	mux.HandleFunc("GET /capacity", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Capacity())
	})
	mux.HandleFunc("POST /capacity", func(w http.ResponseWriter, r *http.Request) {
		m := c.Capacity()
		if err := decode(r, &m); err != nil {
			bad(w, err)
			return
		}
		if err := c.SetCapacity(m); err != nil {
			bad(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c.Capacity())
	})
	return mux
}
