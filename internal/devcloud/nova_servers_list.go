package devcloud

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var novaStatusFilter = map[string]bool{"ACTIVE": true, "BUILD": true, "ERROR": true, "REBOOT": true, "HARD_REBOOT": true, "DELETED": true, "SHUTOFF": true}

func (n *novaReq) listServers(detail bool) {
	q := n.r.URL.Query()
	var nameRe *regexp.Regexp
	if v := q.Get("name"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			// Nova hands the pattern to the database's REGEXP; an invalid one matches literally.
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		nameRe = re
	}
	var ipRe *regexp.Regexp
	if v := q.Get("ip"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		ipRe = re
	}
	var since time.Time
	if v := q.Get("changes-since"); v != "" {
		t, err := parseKeystoneTime(v)
		if err != nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters changes-since. Value: %s. '%s' is not a 'date-time'", v, v)
			return
		}
		since = t
	}
	var before time.Time
	if v := q.Get("changes-before"); v != "" && n.mv >= 66 {
		t, err := parseKeystoneTime(v)
		if err != nil {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters changes-before. Value: %s. '%s' is not a 'date-time'", v, v)
			return
		}
		before = t
	}
	statuses := q["status"]
	for _, st := range statuses {
		if !novaStatusFilter[strings.ToUpper(st)] {
			writeJSON(n.w, http.StatusOK, map[string]any{"servers": []any{}})
			return
		}
	}
	splitTags := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, t := range strings.Split(v, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	tags, tagsAny, notTags, notTagsAny := splitTags("tags"), splitTags("tags-any"), splitTags("not-tags"), splitTags("not-tags-any")
	// Nova drops all_tenants from a non-admin's query instead of failing.
	v := q.Get("all_tenants")
	allTenants := n.isAdmin() && v != "" && v != "0" && !strings.EqualFold(v, "false")
	limit := -1
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 0 {
			novaError(n.w, http.StatusBadRequest, "Invalid input for query parameters limit. Value: %s.", v)
			return
		}
		limit = l
	}
	marker := q.Get("marker")

	c := n.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var matched []*server
	for i := len(c.st.serverOrder) - 1; i >= 0; i-- { // newest first, as Nova sorts by created_at desc
		s := c.st.servers[c.st.serverOrder[i]]
		if s == nil || s.Deleted && since.IsZero() {
			continue
		}
		if s.ProjectID != n.tok.ProjectID && !allTenants {
			continue
		}
		if tid := q.Get("tenant_id"); allTenants && tid != "" && s.ProjectID != tid {
			continue
		}
		if nameRe != nil && !nameRe.MatchString(s.Name) {
			continue
		}
		if len(statuses) > 0 && !containsFold(statuses, s.Status) {
			continue
		}
		if v := q.Get("image"); v != "" && s.ImageID != v {
			continue
		}
		if v := q.Get("flavor"); v != "" && s.FlavorID != v {
			continue
		}
		if v := q.Get("availability_zone"); v != "" && s.AZ != v {
			continue
		}
		if v := q.Get("key_name"); v != "" && s.KeyName != v {
			continue
		}
		if !since.IsZero() && s.Updated.Before(since) {
			continue
		}
		if !before.IsZero() && s.Updated.After(before) {
			continue
		}
		if ipRe != nil && !ipRe.MatchString(c.serverAddress(s)) {
			continue
		}
		if len(tags) > 0 && !hasAll(s.Tags, tags) {
			continue
		}
		if len(tagsAny) > 0 && !hasAny(s.Tags, tagsAny) {
			continue
		}
		if len(notTags) > 0 && hasAll(s.Tags, notTags) {
			continue
		}
		if len(notTagsAny) > 0 && hasAny(s.Tags, notTagsAny) {
			continue
		}
		matched = append(matched, s)
	}
	if marker != "" {
		idx := -1
		for i, s := range matched {
			if s.ID == marker {
				idx = i
			}
		}
		if idx < 0 {
			novaError(n.w, http.StatusBadRequest, "marker [%s] not found", marker)
			return
		}
		matched = matched[idx+1:]
	}
	const maxLimit = 1000
	if limit < 0 || limit > maxLimit {
		limit = maxLimit
	}
	more := len(matched) > limit
	if more {
		matched = matched[:limit]
	}
	out := make([]any, 0, len(matched))
	for _, s := range matched {
		if detail {
			out = append(out, c.serverView(s, n.mv, n.base, n.isAdmin()))
		} else {
			out = append(out, map[string]any{"id": s.ID, "name": s.Name, "links": c.serverLinks(s.ID, n.base)})
		}
	}
	body := map[string]any{"servers": out}
	if (more || len(matched) == limit && limit > 0 && q.Get("limit") != "") && len(matched) > 0 {
		nq := n.r.URL.Query()
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("marker", matched[len(matched)-1].ID)
		path := "/compute/v2.1/servers"
		if detail {
			path += "/detail"
		}
		body["servers_links"] = []any{map[string]any{"rel": "next", "href": n.base + path + "?" + nq.Encode()}}
	}
	writeJSON(n.w, http.StatusOK, body)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func hasAll(have, want []string) bool {
	for _, t := range want {
		if !contains(have, t) {
			return false
		}
	}
	return true
}

func hasAny(have, want []string) bool {
	for _, t := range want {
		if contains(have, t) {
			return true
		}
	}
	return false
}
