package devcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

const (
	novaMinMinor = 1
	// novaMaxMinor is Zed's maximum, the release of the lab cloud.
	novaMaxMinor = 93
)

// microversion is a Nova 2.x microversion; only the minor part varies.
type microversion int

func (m microversion) String() string { return "2." + strconv.Itoa(int(m)) }

// parseMicroversion reads OpenStack-API-Version ("compute 2.79") or the legacy
// X-OpenStack-Nova-API-Version header, as Nova does (the new header wins).
func parseMicroversion(r *http.Request) (microversion, error) {
	raw := ""
	for _, v := range r.Header.Values("OpenStack-API-Version") {
		f := strings.Fields(v)
		if len(f) == 2 && strings.EqualFold(f[0], "compute") {
			raw = f[1]
		}
	}
	if raw == "" {
		raw = r.Header.Get("X-OpenStack-Nova-API-Version")
	}
	if raw == "" {
		return novaMinMinor, nil
	}
	if strings.EqualFold(raw, "latest") {
		return novaMaxMinor, nil
	}
	major, minor, ok := strings.Cut(raw, ".")
	mi, err := strconv.Atoi(minor)
	if !ok || major != "2" || err != nil {
		if major != "2" && ok {
			return 0, apiMessagef("Version %s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.", raw, novaMinMinor, novaMaxMinor)
		}
		return 0, apiMessagef("Invalid format for API version %s. Valid values are \"latest\" or X.Y where X and Y are integers.", raw)
	}
	if mi < novaMinMinor || mi > novaMaxMinor {
		return 0, apiMessagef("Version %s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.", raw, novaMinMinor, novaMaxMinor)
	}
	return microversion(mi), nil
}

func novaError(w http.ResponseWriter, status int, format string, args ...any) {
	writeServiceError(w, "compute", status, fmt.Sprintf(format, args...))
}

func novaVersionDoc(base string) map[string]any {
	return map[string]any{
		"id": "v2.1", "status": "CURRENT", "version": microversion(novaMaxMinor).String(), "min_version": "2.1",
		"updated":     "2013-07-23T11:33:21Z",
		"links":       []any{map[string]any{"rel": "self", "href": base + "/compute/v2.1/"}, map[string]any{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}},
	}
}

func (c *Cloud) novaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{
				map[string]any{"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
					"links": []any{map[string]any{"rel": "self", "href": base + "/compute/v2/"}}},
				novaVersionDoc(base)}})
			return
		}
		if segs[0] != "v2.1" && segs[0] != "v2" {
			novaError(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		mv, err := parseMicroversion(r)
		if err != nil {
			novaError(w, http.StatusNotAcceptable, "%s", err.Error())
			return
		}
		if segs[0] == "v2" {
			mv = novaMinMinor
		}
		w.Header().Set("OpenStack-API-Version", "compute "+mv.String())
		w.Header().Set("X-OpenStack-Nova-API-Version", mv.String())
		w.Header().Add("Vary", "OpenStack-API-Version")
		w.Header().Add("Vary", "X-OpenStack-Nova-API-Version")
		// Nova names every request; instance actions refer to the request that started them.
		reqID := newRequestID()
		w.Header().Set("X-Openstack-Request-Id", reqID)
		w.Header().Set("X-Compute-Request-Id", reqID)
		rest := segs[1:]
		if len(rest) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"version": novaVersionDoc(base)})
			return
		}
		// Old clients put the project id in the URL (/v2.1/{project_id}/servers).
		if len(rest) > 1 && idSegment.MatchString(rest[0]) && tokenFrom(r) != nil && rest[0] == tokenFrom(r).ProjectID {
			rest = rest[1:]
		}
		n := &novaReq{c: c, w: w, r: r, mv: mv, tok: tokenFrom(r), base: base, reqID: reqID}
		switch rest[0] {
		case "servers":
			n.servers(rest[1:])
		case "flavors":
			n.flavors(rest[1:])
		case "os-server-groups":
			n.serverGroups(rest[1:])
		case "os-quota-sets":
			n.quotaSets(rest[1:])
		case "os-keypairs":
			n.keypairs(rest[1:])
		case "os-availability-zone":
			n.availabilityZones(rest[1:])
		case "limits":
			n.limits()
		default:
			novaError(w, http.StatusNotFound, "The resource could not be found.")
		}
	})
}

type novaReq struct {
	c    *Cloud
	w    http.ResponseWriter
	r    *http.Request
	mv   microversion
	tok  *token
	base string
	// reqID is the request's id, also the request_id of an instance action it starts.
	reqID string
}

func (n *novaReq) isAdmin() bool { return contains(n.tok.Roles, "admin") }

func (n *novaReq) methodNotAllowed() {
	novaError(n.w, http.StatusMethodNotAllowed, "The method specified is not allowed for this resource.")
}
