// Package runbook writes an event's runbook: the window and who to call, what the configuration
// really does (each pool's event and normal size, how its scale-back drains), the last load
// tests' figures, and the commands to run for the scale-back, as Markdown and as a
// self-contained HTML page. It knows no Terraform types: the provider fills a Runbook from its
// configuration and calls Markdown or WriteHTML.
package runbook

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scale-back defaults of a web pool: what the scaling library does when the pool's scale_in
// leaves a setting out.
const (
	DefaultBatchSize    = 1
	DefaultDrainTimeout = 60 * time.Second
	DefaultDrainMethod  = "weight"
	DefaultOrder        = "newest-first"
)

// Runbook is everything the runbook says.
type Runbook struct {
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
	// ExpectedPeakMultiplier is the expected peak as a multiple of the normal one.
	ExpectedPeakMultiplier float64
	Contacts               []Contact
	LoadBalancer           *LoadBalancer
	Pools                  []Pool
	Replicas               []string
	LoadTests              []LoadTest
	// Backups are the backups the event requires, measured against StartsAt; nil when the
	// event names none.
	Backups []Backup
	// MaxBackupAge is the bound a backup's age at the start is held to; 0 for none.
	MaxBackupAge time.Duration
	Notes        string
}

// Backup is one required backup and its age when the event starts.
type Backup struct {
	Name, ID string
	// TakenAt is zero when the backup was not taken.
	TakenAt time.Time
	// Age is the time from the backup to StartsAt.
	Age time.Duration
	// Missing and TooOld say what is wrong, Warning what to do; all empty when nothing is.
	Missing, TooOld bool
	Warning         string
}

// Contact is one person on call; empty fields are shown as "-".
type Contact struct{ Name, Role, Phone, Email string }

// LoadBalancer is the event's load balancer.
type LoadBalancer struct{ Name, VIPAddress string }

// Pool is a web pool and how it scales back.
type Pool struct {
	Name string
	// Size is the number of nodes during the event.
	Size int
	// NormalSize is the size to return to after the event; nil when not given.
	NormalSize *int
	// BatchSize, DrainTimeout, DrainMethod and Order are the pool's scale_in settings; nil or
	// "" when left to their defaults.
	BatchSize    *int
	DrainTimeout *time.Duration
	DrainMethod  string
	Order        string
	// Resource is the pool's Terraform address (eventscale_web_pool.web), SizeVariable the
	// input variable its size comes from (web_pool_size); either may be empty. With them the
	// runbook gives the exact commands.
	Resource     string
	SizeVariable string
}

// LoadTest is the figures of one load test; nil fields were not given.
type LoadTest struct {
	Label        string
	Verdict      string // PASSED, FAILED, MEASURED
	Rate         *float64
	Requests     *int64
	SuccessRatio *float64
	P95MS        *float64
}

// scaleBack is what the scale-back of one pool does, defaults filled in.
type scaleBack struct {
	Pool
	batch        int
	drainTimeout time.Duration
	method       string
	order        string
	// defaulted names the settings left to their defaults.
	defaulted map[string]bool
	removed   int // nodes the scale-back removes; -1 when the normal size is not known
	steps     int
}

func (p Pool) scaleBack() scaleBack {
	s := scaleBack{Pool: p, batch: DefaultBatchSize, drainTimeout: DefaultDrainTimeout, method: DefaultDrainMethod,
		order: DefaultOrder, defaulted: map[string]bool{}, removed: -1}
	if p.BatchSize != nil && *p.BatchSize > 0 {
		s.batch = *p.BatchSize
	} else {
		s.defaulted["batch_size"] = true
	}
	if p.DrainTimeout != nil {
		s.drainTimeout = *p.DrainTimeout
	} else {
		s.defaulted["drain_timeout"] = true
	}
	if p.DrainMethod != "" {
		s.method = p.DrainMethod
	} else {
		s.defaulted["drain_method"] = true
	}
	if p.Order != "" {
		s.order = p.Order
	} else {
		s.defaulted["order"] = true
	}
	if p.NormalSize != nil {
		s.removed = max(p.Size-*p.NormalSize, 0)
		s.steps = (s.removed + s.batch - 1) / s.batch
	}
	return s
}

// setting shows a scale_in setting, marked when it is the default.
func (s scaleBack) setting(name, value string) string {
	if s.defaulted[name] {
		return value + " (default)"
	}
	return value
}

func (s scaleBack) drainWords() string {
	if s.method == "disable" {
		return "disable the member (admin_state_up = false)"
	}
	return "set the member's weight to 0"
}

// minimumDuration is the waiting the drains alone impose: steps × drain_timeout. The cloud's
// member and server operations and the health checks come on top.
func (s scaleBack) minimumDuration() time.Duration {
	return time.Duration(s.steps) * s.drainTimeout
}

// document builds the runbook once, for both renderings.
func (r Runbook) document() document {
	var d document
	d.title = "Runbook: " + r.Name

	window := section{title: "Time window (UTC)"}
	const layout = "Mon 2006-01-02 15:04 MST"
	window.add(list{items: [][]span{
		{txt("Starts: " + r.StartsAt.UTC().Format(layout))},
		{txt("Ends: " + r.EndsAt.UTC().Format(layout))},
		{txt("Duration: " + r.EndsAt.Sub(r.StartsAt).String())},
		{txt("Expected peak: " + num(r.ExpectedPeakMultiplier) + "× the normal peak")},
		{txt("Freeze: during the window, pools and replicas that reference this event refuse to shrink or be destroyed unless they set "),
			code("allow_during_event = true"), txt(".")},
	}})
	d.sections = append(d.sections, window)

	contacts := section{title: "Contacts"}
	if len(r.Contacts) == 0 {
		contacts.add(para(txt("No contacts listed.")))
	} else {
		t := table{head: []string{"Name", "Role", "Phone", "Email"}}
		for _, c := range r.Contacts {
			t.rows = append(t.rows, [][]span{{cell(c.Name)}, {cell(c.Role)}, {cell(c.Phone)}, {cell(c.Email)}})
		}
		contacts.add(t)
	}
	d.sections = append(d.sections, contacts)

	d.sections = append(d.sections, r.configuration(), r.backups(), r.loadTests(), r.scaleBackSection())
	if n := strings.TrimSpace(r.Notes); n != "" {
		d.sections = append(d.sections, section{title: "Notes", blocks: []block{paragraph{spans: []span{txt(n)}, raw: true}}})
	}
	return d
}

func (r Runbook) configuration() section {
	s := section{title: "Configuration"}
	if lb := r.LoadBalancer; lb != nil {
		name, vip := lb.Name, lb.VIPAddress
		if name == "" {
			name = "(unnamed)"
		}
		if vip == "" {
			vip = "unknown"
		}
		s.add(para(txt("Load balancer: "+name+", VIP "), code(vip)))
	} else {
		s.add(para(txt("Load balancer: not listed")))
	}
	if len(r.Pools) == 0 {
		s.add(para(txt("Web pools: not listed")))
	} else {
		s.add(para(txt("Web pools, and how each scales back after the event:")))
		t := table{head: []string{"Pool", "During the event", "Normal size", "Removed", "Per step", "Drain", "Drain timeout", "Order"}}
		for _, p := range r.Pools {
			sb := p.scaleBack()
			normal, removed := "not given", "?"
			if p.NormalSize != nil {
				normal, removed = nodes(*p.NormalSize), strconv.Itoa(sb.removed)
			}
			drain := "weight 0"
			if sb.method == "disable" {
				drain = "admin_state_up = false"
			}
			t.rows = append(t.rows, [][]span{{txt(p.Name)}, {txt(nodes(p.Size))}, {txt(normal)}, {txt(removed)},
				{txt(sb.setting("batch_size", nodes(sb.batch)))}, {txt(sb.setting("drain_method", drain))},
				{txt(sb.setting("drain_timeout", formatDuration(sb.drainTimeout)))}, {txt(sb.setting("order", sb.order))}})
		}
		s.add(t)
	}
	if len(r.Replicas) == 0 {
		s.add(para(txt("Database replicas: none listed")))
	} else {
		s.add(para(txt("Database replicas: " + strings.Join(r.Replicas, ", "))))
	}
	return s
}

func (r Runbook) backups() section {
	s := section{title: "Backups before the event"}
	if len(r.Backups) == 0 {
		s.add(para(txt("No backups are required ("), code("backups"), txt("): take them before scaling, with "), code("eventscale_backup"), txt(".")))
		return s
	}
	bound := "no bound set (max_backup_age)"
	if r.MaxBackupAge > 0 {
		bound = "at most " + formatDuration(r.MaxBackupAge) + " old at the start"
	}
	s.add(para(txt("Each backup's age when the event starts, " + bound + ":")))
	t := table{head: []string{"Backup", "Id", "Taken (UTC)", "Age at start", "State"}}
	var warnings []string
	for _, b := range r.Backups {
		row := [][]span{{txt(b.Name)}, {txt("-")}, {txt("-")}, {txt("-")}, {cell("OK")}}
		if b.ID != "" {
			row[1] = []span{code(b.ID)}
		}
		if !b.TakenAt.IsZero() {
			row[2] = []span{txt(b.TakenAt.UTC().Format(time.RFC3339))}
			row[3] = []span{txt(formatDuration(b.Age.Round(time.Minute)))}
		}
		switch {
		case b.Missing:
			row[4] = []span{cell("MISSING")}
		case b.TooOld:
			row[4] = []span{cell("TOO OLD")}
		}
		if b.Warning != "" {
			warnings = append(warnings, b.Name+": "+b.Warning)
		}
		t.rows = append(t.rows, row)
	}
	s.add(t)
	for _, w := range warnings {
		s.add(para(txt("Warning: " + w)))
	}
	return s
}

func (r Runbook) loadTests() section {
	s := section{title: "Last load tests"}
	if len(r.LoadTests) == 0 {
		s.add(para(txt("No load test figures were given ("), code("load_tests"), txt(").")))
		return s
	}
	t := table{head: []string{"Test", "Verdict", "Rate (req/s)", "Requests", "Success", "p95 (ms)"}}
	for _, lt := range r.LoadTests {
		row := [][]span{{txt(lt.Label)}, {cell(lt.Verdict)}, {txt("-")}, {txt("-")}, {txt("-")}, {txt("-")}}
		if lt.Rate != nil {
			row[2] = []span{txt(num(*lt.Rate))}
		}
		if lt.Requests != nil {
			row[3] = []span{txt(strconv.FormatInt(*lt.Requests, 10))}
		}
		if lt.SuccessRatio != nil {
			row[4] = []span{txt(num(*lt.SuccessRatio*100) + "%")}
		}
		if lt.P95MS != nil {
			row[5] = []span{txt(num(*lt.P95MS))}
		}
		t.rows = append(t.rows, row)
	}
	s.add(t)
	s.add(para(txt("A MEASURED test had no thresholds: its figures were not judged.")))
	return s
}

func (r Runbook) scaleBackSection() section {
	s := section{title: "Scale-back"}
	s.add(para(txt(fmt.Sprintf("After %s (the end of the freeze), once traffic is back to normal, "+
		"return each pool to its normal size. The provider removes nodes in steps:", r.EndsAt.UTC().Format(time.RFC3339)))))
	s.add(list{ordered: true, items: [][]span{
		{txt("Drain: take the step's nodes out of rotation (weight 0, or admin_state_up = false with "), code("drain_method = \"disable\""),
			txt("), so they take no new connections and finish the ones they have.")},
		{txt("Wait the full drain timeout; a member is never removed before it has drained that long.")},
		{txt("Remove the members from the pool.")},
		{txt("Delete the servers.")},
		{txt("Check the tier still answers through the VIP (the pool's "), code("scale_in.health_check_url"),
			txt(", when set) before the next step; the scale-back stops if it does not.")},
		{txt("Repeat until the pool has its normal size.")},
	}})
	for _, p := range r.Pools {
		sb := p.scaleBack()
		if p.NormalSize == nil {
			s.add(para(strong(p.Name+":"), txt(" the normal size is not given ("), code("normal_size"),
				txt(fmt.Sprintf("); each step will %s of %s, %s, wait %s, then remove and delete them.",
					sb.drainWords(), nodes(sb.batch), sb.order, formatDuration(sb.drainTimeout)))))
			continue
		}
		if sb.removed == 0 {
			s.add(para(strong(p.Name+":"), txt(" already at its normal size ("+nodes(*p.NormalSize)+"); nothing to remove.")))
			continue
		}
		s.add(para(strong(p.Name+":"), txt(fmt.Sprintf(" %s → %s: %s removed in %s of %s, %s; each step will %s, wait %s, then remove "+
			"and delete them. The drains alone take at least %s.",
			nodes(p.Size), nodes(*p.NormalSize), nodes(sb.removed), plural(sb.steps, "step"), nodes(sb.batch), sb.order,
			sb.drainWords(), formatDuration(sb.drainTimeout), formatDuration(sb.minimumDuration())))))
	}
	s.add(para(txt("Static members (servers such as web01 that existed before the event) are never drained or removed.")))

	s.add(subtitle("Commands"))
	s.add(para(txt("In a second terminal, in the same directory, follow the scale-back as it goes:")))
	s.add(codeBlock{lines: []string{"eventscale watch"}})
	s.add(para(txt("In the first, check the plan (it names the nodes to drain, in order), then apply it:")))
	s.add(codeBlock{lines: r.commands()})
	if manual := r.manualPools(); len(manual) > 0 {
		s.add(para(txt("For "+strings.Join(manual, ", ")+": set "), code("size"),
			txt(" to the normal size in the configuration (or give the pool's "), code("size_variable"),
			txt(" to the event so that the runbook can name it), then run the same two commands.")))
	}
	if len(r.Replicas) > 0 {
		s.add(para(txt("Then remove the read replicas the event added ("+strings.Join(r.Replicas, ", ")+"), one at a time: lower "),
			code("replica_count"), txt(" of their "), code("eventscale_database_replica"), txt(" resource and apply again.")))
	}
	s.add(para(txt("When it is over, write the review from the journal:")))
	s.add(codeBlock{lines: []string{"eventscale review -o review/"}})
	return s
}

// commands are the plan and apply (or destroy) lines of the scale-back.
func (r Runbook) commands() []string {
	var vars, targets []string
	for _, p := range r.Pools {
		if p.NormalSize == nil {
			continue
		}
		switch {
		case *p.NormalSize == 0 && p.Resource != "":
			targets = append(targets, shellWord("-target="+p.Resource))
		case p.SizeVariable != "":
			vars = append(vars, fmt.Sprintf("-var '%s=%d'", p.SizeVariable, *p.NormalSize))
		}
	}
	var out []string
	if len(vars) > 0 || len(targets) == 0 {
		args := strings.Join(vars, " ")
		if args != "" {
			args = " " + args
		}
		out = append(out, "terraform plan"+args, "terraform apply"+args)
	}
	if len(targets) > 0 {
		args := " " + strings.Join(targets, " ")
		out = append(out, "terraform plan -destroy"+args, "terraform destroy"+args)
	}
	return out
}

// shellWord quotes s for a POSIX shell when it holds more than letters, digits and . _ - = /
// (a module instance's address has brackets and quotes).
func shellWord(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-=/", r)
	}
	if strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// manualPools are the pools whose scale-back the commands cannot express.
func (r Runbook) manualPools() []string {
	var out []string
	for _, p := range r.Pools {
		switch {
		case p.NormalSize == nil:
			out = append(out, p.Name)
		case *p.NormalSize == 0 && p.Resource != "":
		case p.SizeVariable == "" && p.Size != *p.NormalSize:
			out = append(out, p.Name)
		}
	}
	return out
}

func nodes(n int) string { return plural(n, "node") }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// num writes a number without trailing zeros, to two decimals at most.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*100+0.5))/100, 'f', -1, 64)
}

// formatDuration writes 1h0m0s as 1h and 5m0s as 5m, as a user would.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
