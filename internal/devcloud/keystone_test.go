package devcloud

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/db/v1/instances"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

func identityClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewIdentityV3(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestAuth_PasswordByNameScopesTokenToDemoWithCatalog(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	res := tokens.Get(testCtx(t), identityClient(t, pc), pc.Token())
	project, err := res.ExtractProject()
	if err != nil {
		t.Fatal(err)
	}
	if project.ID != c.Seed().ProjectID || project.Name != "demo" {
		t.Fatalf("project = %+v, want demo %s", project, c.Seed().ProjectID)
	}
	roles, _ := res.ExtractRoles()
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if !contains(names, "member") || !contains(names, "load-balancer_member") {
		t.Fatalf("roles = %v, want member and load-balancer_member", names)
	}
	tok, _ := res.ExtractToken()
	if d := time.Until(tok.ExpiresAt); d < 55*time.Minute || d > 61*time.Minute {
		t.Fatalf("token expires in %v, want about 1 h", d)
	}
	cat, _ := res.ExtractServiceCatalog()
	types := map[string]string{}
	for _, e := range cat.Entries {
		for _, ep := range e.Endpoints {
			if ep.Interface == "public" && ep.Region == "RegionOne" {
				types[e.Type] = ep.URL
			}
		}
	}
	want := map[string]string{"identity": "/identity/v3", "compute": "/compute/v2.1", "image": "/image", "network": "/networking",
		"load-balancer": "/load-balancer", "database": "/database/v1.0/" + project.ID}
	for typ, path := range want {
		if types[typ] != c.URL()+path {
			t.Errorf("catalog %s = %q, want %q", typ, types[typ], c.URL()+path)
		}
	}
}

func TestAuth_PasswordByUserIDAndProjectID(t *testing.T) {
	c := startCloud(t)
	s := c.Seed()
	pc := provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), UserID: s.DemoUserID, Password: "secret", TenantID: s.ProjectID})
	_, err := flavors.ListDetail(computeClient(t, pc, ""), nil).AllPages(testCtx(t))
	if err != nil {
		t.Fatalf("listing flavors with a token from user/project ids: %v", err)
	}
}

func TestAuth_RootURLVersionDiscoveryLeadsToV3(t *testing.T) {
	c := startCloud(t)
	opts := demoAuth(c)
	opts.IdentityEndpoint = c.URL() + "/identity/"
	provider(t, opts)
	opts.IdentityEndpoint = c.URL() + "/"
	provider(t, opts)
}

func TestAuth_SeededApplicationCredentialByIDAndByNameWithUser(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), ApplicationCredentialID: DemoAppCredentialID, ApplicationCredentialSecret: DemoAppCredentialSecret})
	res := tokens.Get(testCtx(t), identityClient(t, pc), pc.Token())
	if p, _ := res.ExtractProject(); p == nil || p.ID != c.Seed().ProjectID {
		t.Fatalf("app credential token project = %+v, want demo", p)
	}
	if _, err := images.List(imageClient(t, pc), nil).AllPages(testCtx(t)); err != nil {
		t.Fatalf("listing images with an app credential token: %v", err)
	}
	provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), ApplicationCredentialName: DemoAppCredentialName,
		ApplicationCredentialSecret: DemoAppCredentialSecret, Username: "demo", DomainName: "Default"})
}

func TestAuth_CreatedApplicationCredentialAuthenticatesAndWrongSecretIs401(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	ac, err := applicationcredentials.Create(testCtx(t), identityClient(t, pc), c.Seed().DemoUserID, applicationcredentials.CreateOpts{
		Name: "ci", Secret: "s3cret", Roles: []applicationcredentials.Role{{Name: "member"}}}).Extract()
	if err != nil {
		t.Fatalf("creating an application credential: %v", err)
	}
	if ac.Secret != "s3cret" || ac.ProjectID != c.Seed().ProjectID {
		t.Fatalf("created credential = %+v", ac)
	}
	provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: "s3cret"})
	_, err = openstack.AuthenticatedClient(testCtx(t), gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: "nope"})
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("wrong secret: err = %v, want 401", err)
	}
}

func TestAuth_BadPasswordIs401WithKeystoneErrorBody(t *testing.T) {
	c := startCloud(t)
	opts := demoAuth(c)
	opts.Password = "wrong"
	_, err := openstack.AuthenticatedClient(testCtx(t), opts)
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("err = %v, want 401", err)
	}
	want := `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`
	if got := strings.TrimSpace(errBody(err)); got != want {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

func TestAuth_UnknownTokenIs401OnEveryService(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	// A client holding a token devcloud never issued, with re-authentication off.
	bogus := *pc
	bogus.ReauthFunc = nil
	bogus.SetToken("gAAAAABunknown")
	ctx := testCtx(t)
	checks := map[string]error{}
	_, checks["compute"] = servers.List(computeClient(t, &bogus, ""), nil).AllPages(ctx)
	_, checks["image"] = images.List(imageClient(t, &bogus), nil).AllPages(ctx)
	_, checks["network"] = networks.List(networkClient(t, &bogus), nil).AllPages(ctx)
	_, checks["database"] = instances.List(dbClient(t, &bogus)).AllPages(ctx)
	lb, _ := openstack.NewLoadBalancerV2(&bogus, eo)
	_, checks["load-balancer"] = lb.Get(ctx, lb.ServiceURL("lbaas", "loadbalancers"), nil, nil) //nolint:bodyclose // gophercloud has read and closed the body (no KeepResponseBody)
	_, checks["identity"] = tokens.Get(ctx, identityClient(t, &bogus), pc.Token()).Extract()
	for svc, err := range checks {
		if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
			t.Errorf("%s with an unknown token: err = %v, want 401", svc, err)
		}
	}
}

func TestAuth_ExpiredTokenIs401AndGophercloudReauthenticates(t *testing.T) {
	c := startCloud(t)
	c.SetTiming(Timing{TokenTTL: 300 * time.Millisecond})
	opts := demoAuth(c)
	pc := provider(t, opts)
	noReauth := *pc
	noReauth.ReauthFunc = nil
	time.Sleep(400 * time.Millisecond)
	_, err := flavors.ListDetail(computeClient(t, &noReauth, ""), nil).AllPages(testCtx(t))
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("expired token: err = %v, want 401", err)
	}
	opts.AllowReauth = true
	pc2 := provider(t, opts)
	time.Sleep(400 * time.Millisecond)
	if _, err := flavors.ListDetail(computeClient(t, pc2, ""), nil).AllPages(testCtx(t)); err != nil {
		t.Fatalf("with AllowReauth the client should get a new token after expiry: %v", err)
	}
}

func TestAuth_TokenMethodRescopesAndKeepsExpiry(t *testing.T) {
	c := startCloud(t)
	pc := provider(t, demoAuth(c))
	first, err := tokens.Get(testCtx(t), identityClient(t, pc), pc.Token()).ExtractToken()
	if err != nil {
		t.Fatal(err)
	}
	pc2 := provider(t, gophercloud.AuthOptions{IdentityEndpoint: c.AuthURL(), TokenID: pc.Token(),
		Scope: &gophercloud.AuthScope{ProjectID: c.Seed().ProjectID}})
	second, err := tokens.Get(testCtx(t), identityClient(t, pc2), pc2.Token()).ExtractToken()
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || !second.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("rescoped token %s expires %v; want a new token with the parent's expiry %v", second.ID, second.ExpiresAt, first.ExpiresAt)
	}
}

func TestAuth_AdminOfOtherProjectCannotScopeToDemo(t *testing.T) {
	c := startCloud(t)
	opts := adminAuth(c)
	opts.TenantName = "demo"
	_, err := openstack.AuthenticatedClient(testCtx(t), opts)
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("admin has no role on demo: err = %v, want 401", err)
	}
}
