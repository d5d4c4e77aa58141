package runbook

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func ptr[T any](v T) *T { return &v }

func sample() Runbook {
	return Runbook{
		Name:                   "Launch | day",
		StartsAt:               time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("CET", 3600)),
		EndsAt:                 time.Date(2026, 12, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
		ExpectedPeakMultiplier: 12.5,
		Contacts: []Contact{{Name: "Ana", Role: "incident commander", Phone: "+33 1 23"},
			{Name: "Bo|b", Email: "bob@example.com"}},
		LoadBalancer: &LoadBalancer{Name: "event-lb", VIPAddress: "10.0.0.50"},
		Pools: []Pool{{Name: "web", Size: 12, NormalSize: ptr(4), BatchSize: ptr(2), DrainTimeout: ptr(90 * time.Second),
			Resource: "eventscale_web_pool.web", SizeVariable: "web_pool_size"}},
		Replicas: []string{"db01-replica-1", "db01-replica-2"},
		LoadTests: []LoadTest{
			{Label: "baseline", Verdict: "MEASURED", Rate: ptr(380.5), Requests: ptr(int64(22830)), SuccessRatio: ptr(0.6912), P95MS: ptr(1400.0)},
			{Label: "peak", Verdict: "PASSED", Rate: ptr(400.0), Requests: ptr(int64(24000)), SuccessRatio: ptr(1.0), P95MS: ptr(61.2)},
		},
		Notes: "Marketing sends the mail at 19:05 UTC.\n\n- DNS: shop.example.com",
	}
}

func contains(t *testing.T, doc string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(doc, w) {
			t.Errorf("lacks %q in:\n%s", w, doc)
		}
	}
}

func TestMarkdown_SaysWhatTheConfigurationReallyDoes(t *testing.T) {
	md := sample().Markdown()
	contains(t, md,
		"# Runbook: Launch \\| day\n",
		"- Starts: Tue 2026-12-01 19:00 UTC\n", // from +01:00
		"- Ends: Tue 2026-12-01 23:00 UTC\n",
		"- Duration: 4h0m0s\n",
		"- Expected peak: 12.5× the normal peak\n",
		"| Ana | incident commander | +33 1 23 | - |\n",
		"| Bo\\|b | - | - | bob@example.com |\n",
		"Load balancer: event-lb, VIP `10.0.0.50`",
		"| Pool | During the event | Normal size | Removed | Per step | Drain | Drain timeout | Order |\n",
		// batch and drain timeout given; method and order left to their defaults, and said so.
		"| web | 12 nodes | 4 nodes | 8 | 2 nodes | weight 0 (default) | 1m30s | newest-first (default) |\n",
		"Database replicas: db01-replica-1, db01-replica-2",
		"**web:** 12 nodes → 4 nodes: 8 nodes removed in 4 steps of 2 nodes, newest-first; each step will set the member's weight to 0, wait 1m30s",
		"The drains alone take at least 6m.",
		"Static members (servers such as web01",
		"## Notes\n\nMarketing sends the mail at 19:05 UTC.\n\n- DNS: shop.example.com\n",
	)
	order := []string{"1. Drain", "2. Wait the full drain timeout", "3. Remove the members", "4. Delete the servers", "5. Check the tier"}
	for i := 1; i < len(order); i++ {
		if strings.Index(md, order[i-1]) > strings.Index(md, order[i]) {
			t.Errorf("%q comes after %q", order[i-1], order[i])
		}
	}
}

func TestMarkdown_DefaultsAreStatedWhenTheScaleInLeavesThemOut(t *testing.T) {
	r := sample()
	r.Pools = []Pool{{Name: "web", Size: 6, NormalSize: ptr(2), DrainMethod: "disable"}}
	md := r.Markdown()
	contains(t, md, "| web | 6 nodes | 2 nodes | 4 | 1 node (default) | admin_state_up = false | 1m (default) | newest-first (default) |",
		"4 nodes removed in 4 steps of 1 node, newest-first; each step will disable the member (admin_state_up = false), wait 1m",
		"The drains alone take at least 4m.")
}

func TestMarkdown_GivesTheCommandsOfTheScaleBack(t *testing.T) {
	md := sample().Markdown()
	contains(t, md, "```sh\neventscale watch\n```",
		"```sh\nterraform plan -var 'web_pool_size=4'\nterraform apply -var 'web_pool_size=4'\n```",
		"```sh\neventscale review -o review/\n```",
		"lower `replica_count` of their `eventscale_database_replica` resource")
	if strings.Index(md, "eventscale watch") > strings.Index(md, "terraform apply") {
		t.Error("the watch should be started before the apply")
	}

	// A pool going back to nothing is destroyed by its address; a second pool by its variable.
	r := sample()
	r.Pools = append(r.Pools, Pool{Name: "burst", Size: 8, NormalSize: ptr(0), Resource: "eventscale_web_pool.burst"},
		Pool{Name: "api", Size: 4, NormalSize: ptr(2), SizeVariable: "api_pool_size"})
	contains(t, r.Markdown(),
		"terraform plan -var 'web_pool_size=4' -var 'api_pool_size=2'\nterraform apply -var 'web_pool_size=4' -var 'api_pool_size=2'\n",
		"terraform plan -destroy -target=eventscale_web_pool.burst\nterraform destroy -target=eventscale_web_pool.burst\n")

	// Without a variable or a normal size, the runbook says what to edit instead of guessing.
	r.Pools = []Pool{{Name: "web", Size: 12, NormalSize: ptr(4)}, {Name: "old", Size: 3}}
	md = r.Markdown()
	contains(t, md, "```sh\nterraform plan\nterraform apply\n```", "For web, old: set `size` to the normal size in the configuration",
		"**old:** the normal size is not given (`normal_size`)")
}

func TestMarkdown_CarriesTheLastLoadTestsFigures(t *testing.T) {
	md := sample().Markdown()
	contains(t, md, "| Test | Verdict | Rate (req/s) | Requests | Success | p95 (ms) |",
		"| baseline | MEASURED | 380.5 | 22830 | 69.12% | 1400 |",
		"| peak | PASSED | 400 | 24000 | 100% | 61.2 |")
	r := sample()
	r.LoadTests = []LoadTest{{Label: "steady"}}
	contains(t, r.Markdown(), "| steady | - | - | - | - | - |")
	r.LoadTests = nil
	contains(t, r.Markdown(), "No load test figures were given (`load_tests`).")
}

func TestMarkdown_SaysWhatIsNotListed(t *testing.T) {
	md := Runbook{Name: "x", StartsAt: time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC),
		ExpectedPeakMultiplier: 10}.Markdown()
	contains(t, md, "No contacts listed.", "Load balancer: not listed", "Web pools: not listed", "Database replicas: none listed")
	if strings.Contains(md, "## Notes") {
		t.Error("empty notes add a Notes section")
	}
}

func TestMdSpans_CodeSpansSurviveBackticks(t *testing.T) {
	if got := mdSpans([]span{code("a`b")}); got != "``a`b``" {
		t.Errorf("got %s", got)
	}
	if got := mdSpans([]span{code("`x`")}); got != "`` `x` ``" {
		t.Errorf("got %s", got)
	}
}

func TestWriteHTML_SaysTheSameAsTheMarkdownEscapedAndSelfContained(t *testing.T) {
	r := sample()
	r.Contacts = append(r.Contacts, Contact{Name: `<script>alert("x")</script>`})
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var scripts, external, viewport, tables, inScroll int
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script":
				scripts++
			case "table":
				tables++
				if n.Parent != nil && len(n.Parent.Attr) == 1 && n.Parent.Attr[0].Val == "scroll" {
					inScroll++
				}
			case "meta":
				for _, a := range n.Attr {
					if a.Key == "name" && a.Val == "viewport" {
						viewport++
					}
				}
			}
			for _, a := range n.Attr {
				if a.Key == "src" || a.Key == "href" {
					external++
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 0 || external != 0 {
		t.Errorf("%d scripts and %d external references", scripts, external)
	}
	if viewport != 1 || tables != 3 || inScroll != tables {
		t.Errorf("viewport meta %d, %d tables of which %d scroll on a narrow screen", viewport, tables, inScroll)
	}
	got := text.String()
	for _, want := range []string{"Runbook: Launch | day", "Starts: Tue 2026-12-01 19:00 UTC", `<script>alert("x")</script>`,
		"terraform apply -var 'web_pool_size=4'", "eventscale watch", "eventscale review -o review/", "69.12%", "1m30s",
		"newest-first (default)", "The drains alone take at least 6m."} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML text lacks %q", want)
		}
	}
	if !strings.Contains(page, "<p class=\"notes\">Marketing sends the mail at 19:05 UTC.\n\n- DNS: shop.example.com</p>") {
		t.Error("the notes keep their line breaks")
	}
}

func TestCommands_QuoteAModuleInstancesAddress(t *testing.T) {
	r := sample()
	r.Pools = []Pool{{Name: "eu", Size: 6, NormalSize: ptr(0), Resource: `module.event["eu"].eventscale_web_pool.web`}}
	contains(t, r.Markdown(), `terraform destroy '-target=module.event["eu"].eventscale_web_pool.web'`)
}

func TestMarkdown_ListsTheBackupsWithTheirAgeAtTheStart(t *testing.T) {
	r := sample()
	r.MaxBackupAge = 24 * time.Hour
	taken := r.StartsAt.Add(-6*time.Hour - 30*time.Minute)
	r.Backups = []Backup{
		{Name: "web01-pre-event", ID: "img-1", TakenAt: taken, Age: 6*time.Hour + 30*time.Minute},
		{Name: "db01-pre-event", ID: "bk-2", TakenAt: r.StartsAt.Add(-30 * time.Hour), Age: 30 * time.Hour, TooOld: true,
			Warning: "taken 30h before the event starts, more than max_backup_age 24h: take it again"},
		{Name: "files", Missing: true, Warning: "not taken"},
	}
	md := r.Markdown()
	contains(t, md,
		"## Backups before the event",
		"at most 24h old at the start",
		"| web01-pre-event | `img-1` | 2026-12-01T12:30:00Z | 6h30m | OK |",
		"| db01-pre-event | `bk-2` | 2026-11-30T13:00:00Z | 30h | TOO OLD |",
		"| files | - | - | - | MISSING |",
		"Warning: db01-pre-event: taken 30h before",
	)
	if strings.Index(md, "## Backups before the event") > strings.Index(md, "## Last load tests") {
		t.Error("the backups come after the load tests; they are taken first")
	}
	none := sample().Markdown()
	contains(t, none, "No backups are required")
}
