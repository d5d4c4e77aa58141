package devcloud

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func neutronError(w http.ResponseWriter, status int, typ, format string, args ...any) {
	writeJSON(w, status, map[string]any{"NeutronError": map[string]any{"type": typ, "message": fmt.Sprintf(format, args...), "detail": ""}})
}

func (c *Cloud) neutronHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := splitPath(r.URL.Path)
		base := baseURL(r)
		if len(segs) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{"id": "v2.0", "status": "CURRENT",
				"links": []any{map[string]any{"rel": "self", "href": base + "/networking/v2.0/"}}}}})
			return
		}
		if segs[0] != "v2.0" {
			neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
			return
		}
		rest := segs[1:]
		if len(rest) == 0 {
			var res []any
			for _, n := range []string{"network", "subnet", "port", "security-group", "security-group-rule", "router", "floatingip"} {
				res = append(res, map[string]any{"name": n, "collection": n + "s", "links": []any{map[string]any{"rel": "self", "href": base + "/networking/v2.0/" + n + "s"}}})
			}
			writeJSON(w, http.StatusOK, map[string]any{"resources": res})
			return
		}
		// Neutron accepts an optional .json suffix on every resource path.
		last := len(rest) - 1
		rest[last] = strings.TrimSuffix(rest[last], ".json")
		nr := &neutronReq{c: c, w: w, r: r, tok: tokenFrom(r)}
		if len(rest) >= 3 && rest[2] == "tags" {
			nr.tags(rest[0], rest[1], rest[3:])
			return
		}
		switch rest[0] {
		case "networks":
			nr.collection("network", rest[1:], c.networkViews, c.createNetwork, c.deleteNetwork, nil)
		case "subnets":
			nr.collection("subnet", rest[1:], c.subnetViews, c.createSubnet, c.deleteSubnet, nil)
		case "ports":
			nr.collection("port", rest[1:], c.portViews, c.createPort, c.deletePort, c.updatePort)
		case "quotas":
			nr.quotas(rest[1:])
		case "routers":
			if len(rest) == 3 && r.Method == http.MethodPut && (rest[2] == "add_router_interface" || rest[2] == "remove_router_interface") {
				nr.routerInterface(rest[1], rest[2] == "add_router_interface")
				return
			}
			nr.collection("router", rest[1:], c.routerViews, c.createRouter, c.deleteRouter, c.updateRouter)
		case "security-groups":
			nr.collection("security_group", rest[1:], c.secGroupViews, c.createSecGroup, c.deleteSecGroup, c.updateSecGroup)
		case "security-group-rules":
			nr.collection("security_group_rule", rest[1:], c.sgRuleViews, c.createSGRule, c.deleteSGRule, c.updateSGRule)
		case "floatingips":
			admin := contains(nr.tok.Roles, "admin")
			nr.collection("floatingip", rest[1:], c.floatingIPViews,
				func(project string, body map[string]any) (map[string]any, *neutronErr) {
					return c.createFloatingIP(project, body, admin)
				}, c.deleteFloatingIP,
				func(project, id string, body map[string]any) (map[string]any, *neutronErr) {
					return c.updateFloatingIP(project, id, body, admin)
				})
		default:
			neutronError(w, http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
		}
	})
}

type neutronReq struct {
	c   *Cloud
	w   http.ResponseWriter
	r   *http.Request
	tok *token
}

type neutronErr struct {
	status   int
	typ, msg string
}

func (e *neutronErr) Error() string { return e.msg }

// asNeutronErr gives the Neutron fault carried by err, so that its status and type reach the
// client. Port allocation only fails with one; anything else is answered as Neutron's own 500.
func asNeutronErr(err error) *neutronErr {
	var ne *neutronErr
	if errors.As(err, &ne) {
		return ne
	}
	return nErr(http.StatusInternalServerError, "HTTPInternalServerError", "%v", err)
}

func nErr(status int, typ, format string, args ...any) *neutronErr {
	return &neutronErr{status: status, typ: typ, msg: fmt.Sprintf(format, args...)}
}

// collection serves list/show/create/update/delete for one Neutron resource type; views
// returns every object visible to the project as its API representation, in creation order.
func (nr *neutronReq) collection(kind string, rest []string,
	views func(project string, admin bool) []map[string]any,
	create func(project string, body map[string]any) (map[string]any, *neutronErr),
	del func(project, id string) *neutronErr,
	update func(project, id string, body map[string]any) (map[string]any, *neutronErr)) {
	c, w, r := nr.c, nr.w, nr.r
	admin := contains(nr.tok.Roles, "admin")
	plural := kind + "s"
	readBody := func() (map[string]any, bool) {
		var body map[string]any
		if err := readJSON(r, &body); err != nil {
			neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "%s", err.Error())
			return nil, false
		}
		obj, ok := body[kind].(map[string]any)
		if !ok {
			neutronError(w, http.StatusBadRequest, "HTTPBadRequest", "Resource body required")
			return nil, false
		}
		return obj, true
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		c.mu.Lock()
		all := views(nr.tok.ProjectID, admin)
		c.mu.Unlock()
		var matched []map[string]any
		q := r.URL.Query()
		for _, v := range all {
			if neutronMatch(v, q) {
				matched = append(matched, v)
			}
		}
		if m := q.Get("marker"); m != "" {
			idx := -1
			for i, v := range matched {
				if v["id"] == m {
					idx = i
				}
			}
			if idx < 0 {
				nf := neutronNotFound(kind, m)
				neutronError(w, nf.status, nf.typ, "%s", nf.msg)
				return
			}
			matched = matched[idx+1:]
		}
		body := map[string]any{}
		if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && len(matched) > l {
			matched = matched[:l]
			nq := r.URL.Query()
			nq.Set("marker", fmt.Sprint(matched[l-1]["id"]))
			body[plural+"_links"] = []any{map[string]any{"rel": "next", "href": baseURL(r) + r.URL.Path + "?" + nq.Encode()}}
		}
		out := []any{}
		for _, v := range matched {
			out = append(out, selectFields(v, q["fields"]))
		}
		body[plural] = out
		writeJSON(w, http.StatusOK, body)
	case len(rest) == 0 && r.Method == http.MethodPost && create != nil:
		obj, ok := readBody()
		if !ok {
			return
		}
		c.mu.Lock()
		err := c.neutronCreateQuotaCheck(nr.tok.ProjectID, kind)
		var v map[string]any
		if err == nil {
			v, err = create(nr.tok.ProjectID, obj)
		}
		c.mu.Unlock()
		if err != nil {
			neutronError(w, err.status, err.typ, "%s", err.msg)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{kind: v})
	case len(rest) == 1:
		id := rest[0]
		c.mu.Lock()
		var found map[string]any
		for _, v := range views(nr.tok.ProjectID, admin) {
			if v["id"] == id {
				found = v
			}
		}
		c.mu.Unlock()
		if found == nil {
			nf := neutronNotFound(kind, id)
			neutronError(w, nf.status, nf.typ, "%s", nf.msg)
			return
		}
		switch {
		case r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{kind: selectFields(found, r.URL.Query()["fields"])})
		case r.Method == http.MethodDelete && del != nil:
			c.mu.Lock()
			err := del(nr.tok.ProjectID, id)
			c.mu.Unlock()
			if err != nil {
				neutronError(w, err.status, err.typ, "%s", err.msg)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPut && update != nil:
			obj, ok := readBody()
			if !ok {
				return
			}
			c.mu.Lock()
			v, err := update(nr.tok.ProjectID, id, obj)
			c.mu.Unlock()
			if err != nil {
				neutronError(w, err.status, err.typ, "%s", err.msg)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{kind: v})
		default:
			neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
		}
	default:
		neutronError(w, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL.")
	}
}

// neutronNotFound is Neutron's 404 for an id of kind that does not exist or is not visible.
func neutronNotFound(kind, id string) *neutronErr {
	switch kind {
	case "floatingip":
		return nErr(http.StatusNotFound, "FloatingIPNotFound", "Floating IP %s could not be found", id)
	case "security_group":
		return nErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
	case "security_group_rule":
		return nErr(http.StatusNotFound, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", id)
	}
	return nErr(http.StatusNotFound, title(kind)+"NotFound", "%s %s could not be found.", title(kind), id)
}

// title turns "security_group" into Neutron's exception prefix "SecurityGroup".
func title(kind string) string {
	parts := strings.Split(kind, "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

var neutronNonFilters = map[string]bool{"fields": true, "limit": true, "marker": true, "page_reverse": true, "sort_key": true, "sort_dir": true}

// neutronMatch applies Neutron's list filters: each query key is a field, several values
// for one key are alternatives; fixed_ips takes "ip_address=..." or "subnet_id=...".
func neutronMatch(v map[string]any, q map[string][]string) bool {
	for key, vals := range q {
		if neutronNonFilters[key] {
			continue
		}
		if key == "fixed_ips" {
			ips, _ := v["fixed_ips"].([]any)
			for _, want := range vals {
				k, val, _ := strings.Cut(want, "=")
				hit := false
				for _, e := range ips {
					m := e.(map[string]any)
					switch k {
					case "ip_address_substr":
						hit = hit || strings.Contains(fmt.Sprint(m["ip_address"]), val)
					default:
						hit = hit || fmt.Sprint(m[k]) == val
					}
				}
				if !hit {
					return false
				}
			}
			continue
		}
		if key == "tags" || key == "tags-any" || key == "not-tags" || key == "not-tags-any" {
			tags, _ := v["tags"].([]string)
			var want []string
			for _, s := range vals {
				want = append(want, strings.Split(s, ",")...)
			}
			switch {
			case key == "tags" && !hasAll(tags, want), key == "tags-any" && !hasAny(tags, want),
				key == "not-tags" && hasAll(tags, want), key == "not-tags-any" && hasAny(tags, want):
				return false
			}
			continue
		}
		field, ok := v[key]
		if !ok {
			// Neutron rejects filters on unknown attributes only when strict; it ignores them.
			continue
		}
		hit := false
		for _, want := range vals {
			switch f := field.(type) {
			case bool:
				b, err := strconv.ParseBool(want)
				hit = hit || err == nil && b == f
			case nil:
				hit = hit || want == ""
			default:
				hit = hit || fmt.Sprint(f) == want
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

func selectFields(v map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return v
	}
	out := map[string]any{}
	for _, f := range fields {
		if x, ok := v[f]; ok {
			out[f] = x
		}
	}
	return out
}

func neutronTime(t time.Time) string { return isoZ(t) }
