package scaling_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/scaling"
	"github.com/eventscale/terraform-provider-eventscale/internal/scaling/scalingtest"
)

func TestScaleOut_CreatesInParallelBoundedByMaxParallel(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.MaxParallel = 4 })
	f.mustApply(t, 10)
	if got := f.cloud.Compute.MaxBuilding(); got != 4 {
		t.Fatalf("servers building at once = %d, want 4 (max_parallel)", got)
	}
	if got := f.cloud.Compute.Calls("CreateServer"); got != 10 {
		t.Fatalf("CreateServer calls = %d, want 10", got)
	}
}

func TestScaleOut_JoinsAllNewNodesInOneMemberUpdateKeepingUnmanaged(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 5)
	if got := f.cloud.LB.Cycles(); got != 1 {
		t.Fatalf("update cycles = %d, want 1 batch member update; log:\n%s", got, strings.Join(f.cloud.LB.Log(), "\n"))
	}
	ms := f.cloud.LB.Members()
	if len(ms) != 6 || !slices.ContainsFunc(ms, func(m scaling.Member) bool { return m.Name == "web01" && m.Weight == 1 }) {
		t.Fatalf("members = %+v, want web01 unchanged and 5 new", ms)
	}
	for _, m := range f.cloud.ManagedMembers() {
		if !slices.Contains(m.Tags, "eventscale:pool=pool-key-1") || m.ProtocolPort != 80 || m.SubnetID != "subnet-1" {
			t.Errorf("member %+v lacks the pool tag, port or subnet", m)
		}
	}
}

// A scale-out larger than max_parallel joins the nodes wave by wave: the first wave serves
// while the later ones still build, one member update per wave.
func TestScaleOut_JoinsEachWaveWhileTheNextBuilds(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.MaxParallel = 4 })
	nodes := f.mustApply(t, 10)
	if len(nodes) != 10 || len(f.cloud.ManagedMembers()) != 10 {
		t.Fatalf("nodes %v, members %d; want 10 and 10", nodeNames(nodes), len(f.cloud.ManagedMembers()))
	}
	if got := f.cloud.LB.Cycles(); got < 2 || got > 3 {
		t.Fatalf("update cycles = %d, want 2 or 3 (a member update per wave of 4, the rest at the end); log:\n%s",
			got, strings.Join(f.cloud.LB.Log(), "\n"))
	}
	msgs := f.rec.messages()
	firstJoin := slices.IndexFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "member update sent for web-") })
	lastActive := -1
	for i, m := range msgs {
		if strings.Contains(m, " is ACTIVE at ") {
			lastActive = i
		}
	}
	if firstJoin < 0 || lastActive < 0 || firstJoin > lastActive {
		t.Fatalf("first member update at message %d, last server ACTIVE at %d: the first wave must join before the last builds; messages:\n%s",
			firstJoin, lastActive, strings.Join(msgs, "\n"))
	}
	// Builds end in any order: the first update holds a wave, whichever nodes were built first.
	joined := strings.TrimPrefix(strings.SplitN(msgs[firstJoin], ";", 2)[0], "member update sent for ")
	if n := len(strings.Split(joined, ", ")); n < 4 || n == 10 {
		t.Errorf("first member update %q holds %d node(s), want a wave: at least 4 (max_parallel), not all 10", msgs[firstJoin], n)
	}
}

// The wait for new members to be ONLINE expects the health monitor's delay: it looks closer as
// that time approaches and sees the members shortly after, not up to a poll interval late.
func TestScaleOut_WaitForOnlineFollowsTheHealthMonitorDelay(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.PollInterval = 5 * time.Second })
	f.cloud.LB.HealthDelay = 7 * time.Second
	f.mustApply(t, 2)
	var sent, healthy time.Time
	f.rec.mu.Lock()
	for _, e := range f.rec.events {
		switch {
		case strings.HasPrefix(e.Message, "member update sent for ") && sent.IsZero():
			sent = e.At
		case strings.HasSuffix(e.Message, "member(s) healthy") && strings.HasPrefix(e.Message, "2 of 2"):
			healthy = e.At
		}
	}
	f.rec.mu.Unlock()
	if sent.IsZero() || healthy.IsZero() {
		t.Fatalf("no member update or no healthy report in:\n%s", strings.Join(f.rec.messages(), "\n"))
	}
	online := sent.Add(f.cloud.LB.UpdateTime + f.cloud.LB.HealthDelay)
	if lag := healthy.Sub(online); lag < 0 || lag > time.Second {
		t.Fatalf("members ONLINE at %s, seen at %s: %s late, want within 1s (a poll interval of 5s would see them 3s late)",
			online.Format("15:04:05.000"), healthy.Format("15:04:05.000"), lag)
	}
}

func TestScaleOut_LooksUpExistingServersWithOneListingAndSetsMetadata(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	if got := f.cloud.Compute.Calls("ListServers"); got != 1 {
		t.Fatalf("ListServers calls = %d, want 1", got)
	}
	for _, s := range f.cloud.Compute.Servers() {
		want := map[string]string{"eventscale_managed_by": "eventscale", "eventscale_pool": "pool-key-1"}
		for k, v := range want {
			if s.Metadata[k] != v {
				t.Errorf("server %s metadata %v lacks %s=%s", s.Name, s.Metadata, k, v)
			}
		}
		if ord, ok := scaling.OrdinalFromName("web", s.Name); !ok || s.Metadata["eventscale_ordinal"] != strings.TrimLeft(s.Name[4:], "0") || ord == 0 {
			t.Errorf("server %s has ordinal metadata %q", s.Name, s.Metadata["eventscale_ordinal"])
		}
	}
}

func TestScaleOut_RecordsServerIDBeforeWaitingForActive(t *testing.T) {
	f := newFixture(t, nil)
	f.mustApply(t, 2)
	first := f.rec.changes[0]
	if len(first) != 1 || first[0].ServerID == "" || first[0].Status != "BUILD" {
		t.Fatalf("first OnChange = %+v, want one node with its server id while BUILD", first)
	}
}

func TestScaleOut_AdoptsServerWhoseCreateResponseWasLost(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.Compute.LoseCreateResponse("web-02", 1)
	nodes := f.mustApply(t, 3)
	if got := f.cloud.Compute.Calls("CreateServer"); got != 3 {
		t.Fatalf("CreateServer calls = %d, want 3 (the lost one adopted, not created twice)", got)
	}
	if len(nodes) != 3 || len(f.cloud.Compute.Servers()) != 3 {
		t.Fatalf("nodes %v, servers %d; want 3 and 3", nodeNames(nodes), len(f.cloud.Compute.Servers()))
	}
	if !contains(f.rec.messages(), "adopting") {
		t.Fatalf("no adoption reported: %q", f.rec.messages())
	}
}

func TestScaleOut_AdoptsServersLeftByInterruptedApply(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	f.rec.onEvent = func(p scaling.Progress) {
		if strings.Contains(p.Message, "is ACTIVE") {
			cancel()
		}
	}
	nodes, err := f.apply(t, ctx, 3)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(nodes) == 0 {
		t.Fatal("interrupted apply returned no nodes although servers were created")
	}
	// A new Pool, as after a crash: nothing known but what the cloud says.
	g := newFixtureOn(t, f.cloud, nil, nil)
	before := f.cloud.Compute.Calls("CreateServer")
	nodes = g.mustApply(t, 3)
	if created := f.cloud.Compute.Calls("CreateServer") - before; created != 0 {
		t.Fatalf("second apply created %d servers, want 0 (all 3 adopted)", created)
	}
	if len(nodes) != 3 || nodes[2].MemberID == "" {
		t.Fatalf("nodes = %+v, want 3 joined", nodes)
	}
}

func TestScaleOut_ReplacesServerThatEndsInError(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.Compute.FailBuild("web-02", "No valid host was found.")
	nodes := f.mustApply(t, 3)
	if got := f.cloud.Compute.Calls("CreateServer"); got != 4 {
		t.Fatalf("CreateServer calls = %d, want 4", got)
	}
	for _, s := range f.cloud.Compute.Servers() {
		if s.Status != "ACTIVE" {
			t.Errorf("server %s left in %s", s.Name, s.Status)
		}
	}
	if len(nodes) != 3 {
		t.Fatalf("nodes = %v", nodeNames(nodes))
	}
	if !contains(f.rec.messages(), "No valid host was found.") {
		t.Fatalf("replacement not reported with the fault: %q", f.rec.messages())
	}
}

func TestScaleOut_ErrorNamesNodeAndNovaFaultAfterRetryBudget(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.CreateRetries = 1 })
	f.cloud.Compute.FailBuild("web-02", "Exceeded maximum number of retries.", "Exceeded maximum number of retries.")
	nodes, err := f.apply(t, context.Background(), 3)
	if err == nil || !strings.Contains(err.Error(), "web-02") || !strings.Contains(err.Error(), "Exceeded maximum number of retries.") {
		t.Fatalf("err = %v, want the node name and Nova's fault", err)
	}
	// The other nodes are not held hostage: they are created and in service.
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-03"}) || nodes[0].MemberID == "" || nodes[1].OperatingStatus != "ONLINE" {
		t.Fatalf("nodes = %+v, want web-01 and web-03 in service", nodes)
	}
	if got := f.cloud.Compute.Calls("CreateServer"); got != 4 {
		t.Fatalf("CreateServer calls = %d, want 4 (web-02 twice: one retry)", got)
	}
}

func TestScaleOut_CreateAnsweredWithAnErrorIsSentAgainOnlyWhenTheListingShowsNoServer(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.Compute.FailCreateTimes("web-02", 1, errors.New("HTTP 503: Service Unavailable"))
	nodes := f.mustApply(t, 3)
	if got := f.cloud.Compute.Calls("CreateServer"); got != 4 {
		t.Fatalf("CreateServer calls = %d, want 4 (web-02 sent again once the listing showed no server)", got)
	}
	if len(nodes) != 3 || len(f.cloud.Compute.Servers()) != 3 {
		t.Fatalf("nodes %v, servers %d; want 3 and 3", nodeNames(nodes), len(f.cloud.Compute.Servers()))
	}
	// Sent again only after a listing proved it safe.
	msgs := strings.Join(f.rec.messages(), "\n")
	if !strings.Contains(msgs, "no such server exists: creating it again") {
		t.Fatalf("progress does not say why web-02 was created again:\n%s", msgs)
	}
}

func TestScaleOut_CreateRefusedByTheCloudIsNeitherLookedForNorSentAgain(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.Compute.FailCreate("web-03", errors.Join(errors.New("HTTP 403: Quota exceeded for instances"), scaling.ErrRefused))
	_, err := f.apply(t, context.Background(), 3)
	if err == nil || !strings.Contains(err.Error(), "Quota exceeded") {
		t.Fatalf("err = %v, want Nova's quota message", err)
	}
	if got := f.cloud.Compute.Calls("CreateServer"); got != 3 {
		t.Fatalf("CreateServer calls = %d, want 3 (a refusal is not sent again)", got)
	}
	if got := f.cloud.Compute.Calls("ListServers"); got != 2 {
		t.Fatalf("ListServers calls = %d, want 2 (discovery and the re-read after the failure, no lost-create lookup)", got)
	}
}

func TestScaleOut_CreateThatKeepsFailingStopsAfterCreateRetries(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.CreateRetries = 2 })
	f.cloud.Compute.FailCreate("web-02", errors.New("HTTP 502: Bad Gateway"))
	nodes, err := f.apply(t, context.Background(), 2)
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v, want the last 502", err)
	}
	if got := f.cloud.Compute.Calls("CreateServer"); got != 4 {
		t.Fatalf("CreateServer calls = %d, want 4 (web-01 once, web-02 once plus 2 re-sends)", got)
	}
	if len(nodes) != 1 || nodes[0].MemberID == "" {
		t.Fatalf("nodes = %+v, want web-01 in service", nodes)
	}
}

func TestScaleOut_FailedCreateReturnsExactStateAndNovaMessage(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.Compute.FailCreate("web-03", errors.New("Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"))
	nodes, err := f.apply(t, context.Background(), 3)
	if err == nil || !strings.Contains(err.Error(), "web-03") || !strings.Contains(err.Error(), "Quota exceeded") {
		t.Fatalf("err = %v, want web-03 and Nova's quota message", err)
	}
	if len(nodes) != 2 || nodes[1].MemberID == "" {
		t.Fatalf("nodes = %+v, want the two created, in service", nodes)
	}
}

func TestScaleOut_WaitsUntilEveryNewMemberIsOnline(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.HealthyTimeout = 3 * time.Minute })
	f.cloud.SetDown("10.0.0.4", true) // the second server created
	_, err := f.apply(t, context.Background(), 3)
	if err == nil || !strings.Contains(err.Error(), "2 of 3 member(s) healthy") || !strings.Contains(err.Error(), "is ERROR") {
		t.Fatalf("err = %v, want 2 of 3 healthy naming the ERROR node", err)
	}
}

func TestScaleOut_MinHealthyPercentAcceptsPartialHealth(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.HealthyTimeout = 3 * time.Minute; o.MinHealthyPercent = 60 })
	f.cloud.SetDown("10.0.0.4", true)
	nodes := f.mustApply(t, 3)
	if len(nodes) != 3 {
		t.Fatalf("nodes = %v", nodeNames(nodes))
	}
}

func TestScaleOut_NoMonitorIsHealthyOnlyWhenConfigured(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.HealthyTimeout = time.Minute })
	f.cloud.LB.Monitor = false
	if _, err := f.apply(t, context.Background(), 1); err == nil || !strings.Contains(err.Error(), "NO_MONITOR") {
		t.Fatalf("err = %v, want a timeout naming NO_MONITOR", err)
	}
	g := newFixtureOn(t, f.cloud, nil, func(o *scaling.Options) { o.HealthyStatuses = []string{"ONLINE", "NO_MONITOR"} })
	g.mustApply(t, 2)
}

func TestScaleOut_RebootCheckRebootsNewNodesOneAtATime(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.RebootCheck = true })
	f.mustApply(t, 3)
	if got := f.cloud.Compute.Calls("RebootServer"); got != 3 {
		t.Fatalf("reboots = %d, want 3", got)
	}
	// One at a time: each reboot is followed by its node healthy before the next reboot.
	var seq []string
	for _, m := range f.rec.messages() {
		if strings.HasPrefix(m, "rebooting ") || strings.HasPrefix(m, "1 of 1 member(s) healthy") {
			seq = append(seq, strings.Fields(m)[0])
		}
	}
	want := []string{"rebooting", "1", "rebooting", "1", "rebooting", "1"}
	if !slices.Equal(seq, want) {
		t.Fatalf("reboot sequence = %v, want %v", seq, want)
	}
}

func TestApply_ReplacesNodeDeletedOutside(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 2)
	f.cloud.Compute.DeleteOutside(nodes[1].ServerID)
	g := newFixtureOn(t, f.cloud, nodes, nil)
	nodes = g.mustApply(t, 2)
	if got := nodeNames(nodes); !slices.Equal(got, []string{"web-01", "web-02"}) || nodes[1].MemberID == "" {
		t.Fatalf("nodes = %+v, want web-02 recreated and joined", nodes)
	}
	if !contains(g.rec.messages(), "their server is gone") {
		t.Fatalf("orphan member removal not reported: %q", g.rec.messages())
	}
}

func TestApply_JoinsServerWhoseMemberIsMissing(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 2)
	f.cloud.LB.RemoveMemberOutside(nodes[0].MemberID)
	g := newFixtureOn(t, f.cloud, nodes, nil)
	before := f.cloud.Compute.Calls("CreateServer")
	nodes = g.mustApply(t, 2)
	if f.cloud.Compute.Calls("CreateServer") != before || nodes[0].MemberID == "" {
		t.Fatalf("nodes = %+v: want web-01 re-joined without creating a server", nodes)
	}
}

func TestApply_OnChangeLastSnapshotEqualsReturnedNodes(t *testing.T) {
	f := newFixture(t, nil)
	nodes := f.mustApply(t, 3)
	last := f.rec.lastChange()
	if !slices.Equal(nodeNames(last), nodeNames(nodes)) {
		t.Fatalf("last OnChange %v, returned %v", nodeNames(last), nodeNames(nodes))
	}
	for i := range nodes {
		if last[i].ServerID != nodes[i].ServerID || last[i].MemberID != nodes[i].MemberID {
			t.Fatalf("last OnChange %+v differs from returned %+v", last[i], nodes[i])
		}
	}
}

func TestScaleOut_SkipHealthWaitSucceedsOnceJoinedEvenIfNodeIsDown(t *testing.T) {
	f := newFixture(t, func(o *scaling.Options) { o.SkipHealthWait = true; o.HealthyTimeout = time.Minute })
	f.cloud.SetDown("10.0.0.4", true)
	nodes := f.mustApply(t, 3)
	for _, n := range nodes {
		if n.MemberID == "" {
			t.Fatalf("node %s not joined: %+v", n.Name, n)
		}
	}
	if !slices.ContainsFunc(f.rec.messages(), func(m string) bool { return strings.Contains(m, "not waiting") }) {
		t.Fatalf("no progress says the health wait was skipped: %v", f.rec.messages())
	}
}

func TestScaleOut_ExtraMetadataCannotOverrideThePoolKeys(t *testing.T) {
	c := scalingtest.NewCloud()
	spec := c.Spec("web", "img-1")
	spec.Metadata = map[string]string{"team": "web", "eventscale_pool": "someone-else"}
	p, err := scaling.New(scaling.Config{Spec: spec, Compute: c.Compute, LB: c.LB, Clock: c.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Compute.Servers() {
		if s.Name == "web01" {
			continue
		}
		if s.Metadata["team"] != "web" || s.Metadata["eventscale_pool"] != spec.Key {
			t.Fatalf("server %s metadata = %v, want team=web and the pool key %s kept", s.Name, s.Metadata, spec.Key)
		}
	}
}

func TestScaleOut_SpreadsNodesOverAvailabilityZonesByOrdinal(t *testing.T) {
	c := scalingtest.NewCloud()
	spec := c.Spec("web", "img-1")
	spec.AvailabilityZones = []string{"az1", "az2"}
	p, err := scaling.New(scaling.Config{Spec: spec, Compute: c.Compute, LB: c.LB, Clock: c.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web-01": "az1", "web-02": "az2", "web-03": "az1"}
	for _, spec := range c.Compute.CreateSpecs() {
		if want[spec.Name] != spec.AvailabilityZone {
			t.Errorf("%s created in %q, want %q", spec.Name, spec.AvailabilityZone, want[spec.Name])
		}
	}
}

func TestScaleOut_SpreadsNodesOverServerGroupsLeastFilledFirst(t *testing.T) {
	f := newFixture(t, nil)
	g := f.withSpec(t, func(s *scaling.PoolSpec) {
		s.ServerGroupID, s.ServerGroupIDs = "grp-a", []string{"grp-a", "grp-b", "grp-c"}
	}, nil)
	g.mustApply(t, 4)
	count := map[string]int{}
	for _, spec := range f.cloud.Compute.CreateSpecs() {
		if spec.Metadata[scaling.MetaServerGroup] != spec.ServerGroupID {
			t.Errorf("server %s is in group %s but its metadata records %q", spec.Name, spec.ServerGroupID, spec.Metadata[scaling.MetaServerGroup])
		}
		count[spec.ServerGroupID]++
	}
	if count["grp-a"] != 2 || count["grp-b"] != 1 || count["grp-c"] != 1 {
		t.Fatalf("nodes per group = %v, want 2/1/1", count)
	}
	// A later scale-out fills the emptiest groups first, reading membership from the servers.
	h := g.withSpec(t, func(*scaling.PoolSpec) {}, nil)
	h.mustApply(t, 7)
	count = map[string]int{}
	for _, spec := range f.cloud.Compute.CreateSpecs() {
		count[spec.ServerGroupID]++
	}
	if count["grp-a"] != 3 || count["grp-b"] != 2 || count["grp-c"] != 2 {
		t.Fatalf("nodes per group after growing to 7 = %v, want 3/2/2", count)
	}
}

// interleavingLB runs another client's member change (before) between the library's reading
// of the members and its first batch member update: what two pools sharing one Octavia pool do.
type interleavingLB struct {
	*scalingtest.LB
	before func()
	once   sync.Once
}

func (l *interleavingLB) BatchUpdateMembers(ctx context.Context, poolID string, specs []scaling.MemberSpec) error {
	l.once.Do(l.before)
	return l.LB.BatchUpdateMembers(ctx, poolID, specs)
}

// A member list refused because another change was running (another pool sharing the Octavia
// pool joined its node meanwhile) is read and built again: re-sending the list read before
// would delete the other pool's member.
func TestJoin_MemberAddedByAnotherPoolMeanwhileIsKept(t *testing.T) {
	c := scalingtest.NewCloud()
	ctx := context.Background()
	lb := &interleavingLB{LB: c.LB, before: func() {
		members := c.LB.Members()
		specs := make([]scaling.MemberSpec, 0, len(members)+1)
		for _, m := range members {
			specs = append(specs, scaling.MemberSpec{Name: m.Name, Address: m.Address, ProtocolPort: m.ProtocolPort,
				SubnetID: m.SubnetID, Weight: m.Weight, AdminStateUp: m.AdminStateUp, Tags: m.Tags})
		}
		specs = append(specs, scaling.MemberSpec{Name: "app-01", Address: "10.0.8.1", ProtocolPort: 80, SubnetID: "subnet-1",
			Weight: 1, AdminStateUp: true, Tags: scaling.MemberTags("pool-key-2")})
		if err := c.LB.BatchUpdateMembers(ctx, c.LB.PoolID, specs); err != nil {
			t.Errorf("the other pool's join: %v", err)
		}
	}}
	rec := &recorder{}
	p, err := scaling.New(scaling.Config{Spec: c.Spec("web", "img-1"), Options: scaling.Options{Progress: rec.progress},
		Compute: c.Compute, LB: lb, Clock: c.Clock})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := p.Apply(cctx, 2); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range c.LB.Members() {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if want := []string{"app-01", "web-01", "web-02", "web01"}; !slices.Equal(names, want) {
		t.Fatalf("members = %v, want %v; log:\n%s", names, want, strings.Join(c.LB.Log(), "\n"))
	}
	if v := c.Violations(); len(v) > 0 {
		t.Fatalf("violations: %v", v)
	}
	if c.LB.Conflicts() != 1 {
		t.Fatalf("conflicts = %d, want 1: the join met the other pool's update once", c.LB.Conflicts())
	}
}
