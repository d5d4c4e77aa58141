// Package provider is the Terraform glue: schemas, plan modifiers and the translation between
// Terraform values and the scaling library, which does the work.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
)

var _ provider.Provider = (*eventscaleProvider)(nil)

type eventscaleProvider struct {
	version string
	// dbDial, when set, is how the provider connects to database servers (the primary and
	// the replicas of eventscale_server_replica). Only tests set it, to reach replicas on
	// devcloud's simulated tenant network.
	dbDial func(ctx context.Context, network, address string) (net.Conn, error)
}

// New returns the provider factory that providerserver.Serve and the tests use.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &eventscaleProvider{version: version} }
}

type providerModel struct {
	Cloud                       types.String `tfsdk:"cloud"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	Region                      types.String `tfsdk:"region"`
	UserName                    types.String `tfsdk:"user_name"`
	UserID                      types.String `tfsdk:"user_id"`
	Password                    types.String `tfsdk:"password"`
	TenantName                  types.String `tfsdk:"tenant_name"`
	TenantID                    types.String `tfsdk:"tenant_id"`
	UserDomainName              types.String `tfsdk:"user_domain_name"`
	UserDomainID                types.String `tfsdk:"user_domain_id"`
	ProjectDomainName           types.String `tfsdk:"project_domain_name"`
	ProjectDomainID             types.String `tfsdk:"project_domain_id"`
	DomainName                  types.String `tfsdk:"domain_name"`
	DomainID                    types.String `tfsdk:"domain_id"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialName   types.String `tfsdk:"application_credential_name"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	Token                       types.String `tfsdk:"token"`
	Insecure                    types.Bool   `tfsdk:"insecure"`
	CACertFile                  types.String `tfsdk:"cacert_file"`
	Cert                        types.String `tfsdk:"cert"`
	Key                         types.String `tfsdk:"key"`
	EndpointType                types.String `tfsdk:"endpoint_type"`
	EndpointOverrides           types.Map    `tfsdk:"endpoint_overrides"`
	MaxRetries                  types.Int64  `tfsdk:"max_retries"`
	PollInterval                types.String `tfsdk:"poll_interval"`
	Preflight                   types.String `tfsdk:"preflight"`
	Journal                     types.String `tfsdk:"journal"`
	EnableLogging               types.Bool   `tfsdk:"enable_logging"`
	DelayedAuth                 types.Bool   `tfsdk:"delayed_auth"`
}

func (p *eventscaleProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "eventscale"
	resp.Version = p.version
}

func (p *eventscaleProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	str := func(desc, env string, sensitive bool) schema.StringAttribute {
		if env != "" {
			desc += " Defaults to `" + env + "`."
		}
		return schema.StringAttribute{Optional: true, Sensitive: sensitive, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Prepares an OpenStack cloud for a high-traffic event and scales it back safely afterwards. " +
			"Credentials are taken, in this order, from the attributes below, the `OS_*` environment variables, " +
			"and the `clouds.yaml` entry named by `cloud` (or `OS_CLOUD`), exactly as the OpenStack CLI and " +
			"terraform-provider-openstack read them.\n\n" +
			"The provider authenticates when it is configured, so wrong credentials, an unreachable `auth_url` or an " +
			"untrusted certificate are reported once, on the provider block and on the attribute to fix, before any " +
			"resource is touched. When a credential is not known until apply (it comes from another resource), " +
			"authentication waits for the first cloud call; `delayed_auth` makes it always wait.\n\n" +
			"One authentication method is used: an application credential when `application_credential_id` or " +
			"`application_credential_name` is set, else `token` when set, else `user_name`/`user_id` and `password`. " +
			"With a token, the user's domain variables an openrc exports are not sent (Keystone takes the token alone); " +
			"`tenant_name` and `project_domain_name` still scope it, as with the OpenStack CLI.",
		Attributes: map[string]schema.Attribute{
			"cloud":                         str("Name of an entry in `clouds.yaml` (and `secure.yaml`).", "OS_CLOUD", false),
			"auth_url":                      str("Keystone v3 endpoint, e.g. `https://keystone.example.com:5000/v3`.", "OS_AUTH_URL", false),
			"region":                        str("Region of the service catalog to use.", "OS_REGION_NAME", false),
			"user_name":                     str("User name for password authentication.", "OS_USERNAME", false),
			"user_id":                       str("User ID for password authentication.", "OS_USER_ID", false),
			"password":                      str("Password.", "OS_PASSWORD", true),
			"tenant_name":                   str("Project (tenant) name to scope the token to.", "OS_PROJECT_NAME", false),
			"tenant_id":                     str("Project (tenant) ID to scope the token to.", "OS_PROJECT_ID", false),
			"user_domain_name":              str("Domain name of the user.", "OS_USER_DOMAIN_NAME", false),
			"user_domain_id":                str("Domain ID of the user.", "OS_USER_DOMAIN_ID", false),
			"project_domain_name":           str("Domain name of the project.", "OS_PROJECT_DOMAIN_NAME", false),
			"project_domain_id":             str("Domain ID of the project.", "OS_PROJECT_DOMAIN_ID", false),
			"domain_name":                   str("Domain name used for both the user and the project when they are not set.", "OS_DOMAIN_NAME", false),
			"domain_id":                     str("Domain ID used for both the user and the project when they are not set.", "OS_DOMAIN_ID", false),
			"application_credential_id":     str("Application credential ID.", "OS_APPLICATION_CREDENTIAL_ID", false),
			"application_credential_name":   str("Application credential name (with `user_name` or `user_id`).", "OS_APPLICATION_CREDENTIAL_NAME", false),
			"application_credential_secret": str("Application credential secret.", "OS_APPLICATION_CREDENTIAL_SECRET", true),
			"token":                         str("An existing Keystone token to use instead of credentials.", "OS_TOKEN", true),
			"insecure": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Skip TLS certificate verification. For test clouds only. Verification is on unless this is " +
					"`true` here, in `OS_INSECURE` or in `clouds.yaml` (`verify: false`); setting `cacert_file` or a client " +
					"certificate never turns it off. Defaults to `OS_INSECURE`."},
			"cacert_file": str("CA certificate(s) that signed the cloud's certificates: the path of a PEM file or the PEM text itself "+
				"(for example `file(\"ca.pem\")` or a variable).", "OS_CACERT", false),
			"cert": str("Client certificate for mutual TLS: the path of a PEM file or the PEM text itself. Set with `key`; "+
				"an expired certificate is reported on this attribute.", "OS_CERT", false),
			"key": str("Private key of `cert`: the path of a PEM file or the PEM text itself (sensitive).", "OS_KEY", true),
			"endpoint_type": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Catalog interface to use: `public` (default), `internal` or `admin` (also spelled `publicURL`, `internalURL`, `adminURL`). Defaults to `OS_INTERFACE`.",
				Validators:          []validator.String{stringvalidator.OneOfCaseInsensitive("public", "internal", "admin", "publicURL", "internalURL", "adminURL")}},
			"endpoint_overrides": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Service type (`compute`, `image`, `network`, `load-balancer`, `database`, `key-manager`, `dns`) to endpoint URL, " +
					"used instead of the catalog's."},
			"max_retries": schema.Int64Attribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times a request is retried after a connection error or a 429/502/503/504 "+
					"(honouring `Retry-After`, with capped exponential backoff), 0–50. Requests that create objects are never re-sent once "+
					"the cloud may have acted on them. Defaults to `OS_MAX_RETRIES`, then %d.", cloud.DefaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, 50)}},
			"poll_interval": schema.StringAttribute{Optional: true,
				MarkdownDescription: fmt.Sprintf("The longest wait between two looks at an object in transition (a server building or "+
					"being deleted, the load balancer applying a change), as a Go duration from `%s` to `%s`. Waiters look at once, "+
					"again after %s (or this interval when shorter), then more often towards the end of the transition they "+
					"expect (an Octavia update cycle about %s, a Nova build %s, a server delete %s) and less often past it, "+
					"never waiting longer than this, with up to a tenth of jitter. A longer interval makes fewer API calls and "+
					"notices changes later. Defaults to `EVENTSCALE_POLL_INTERVAL`, then `%s`.",
					formatDuration(minPollInterval), formatDuration(maxPollInterval), cloud.DefaultFirstPoll, cloud.ExpectLBUpdate,
					cloud.ExpectServerBuild, cloud.ExpectServerDelete, cloud.DefaultPoll.Interval),
				Validators: []validator.String{durationBetween(minPollInterval, maxPollInterval)}},
			"journal": schema.StringAttribute{Optional: true,
				MarkdownDescription: "File the provider appends its journal to: one JSON line per step of every scale-out, " +
					"rolling replacement and scale-back (node, step, elapsed time, time left of the drain, the load balancer's " +
					"active connections, what comes next), and the load tests, capacity plan, quota pre-flight and backups. " +
					"Follow it in a second terminal with `eventscale watch` (`go install " +
					"github.com/eventscale/terraform-provider-eventscale/tools/eventscale@latest`); `eventscale review` renders " +
					"the review after the event from it. Relative to the directory Terraform runs in. Defaults to " +
					"`EVENTSCALE_JOURNAL`, then `" + journal.DefaultPath + "`. The same steps are logged at INFO " +
					"(`TF_LOG_PROVIDER=INFO`)."},
			"preflight": schema.StringAttribute{Optional: true,
				MarkdownDescription: "The quota pre-flight at plan time: `error` (default) refuses a plan the project's quotas " +
					"cannot hold, before anything is created, naming each quota (limit, in use, needed) and the request to send " +
					"to the cloud's operator; `warn` reports it and lets the apply try; `off` skips it. Nova (instances, cores, " +
					"RAM, server groups, server group members), Octavia (load balancers, listeners, pools, health monitors, " +
					"members), Neutron (floating IPs, security groups and rules, ports) and Trove (instances, volumes) are " +
					"checked; a quota API the cloud lacks or forbids is a warning, never a failure.",
				Validators: []validator.String{stringvalidator.OneOf(preflightError, preflightWarn, preflightOff)}},
			"enable_logging": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Log every OpenStack API request at DEBUG (shown with `TF_LOG=DEBUG` or `TF_LOG_PROVIDER=DEBUG`): " +
					"method, URL, status, duration, headers and JSON bodies, each attempt of a retried request on its own. " +
					"Credentials are redacted: the `X-Auth-Token`, `X-Subject-Token`, `X-Service-Token` and `Authorization` " +
					"headers, passwords, application credential secrets, tokens in Keystone's bodies, Barbican payloads, " +
					"key pairs' private keys and every `user_data`, which are shown as `***`; the configured password, secret " +
					"and token, and every token the cloud issues, are masked wherever else they appear. Bodies that are not " +
					"JSON (image data, secret payloads) are never logged, and JSON bodies are cut at 16 KiB. Defaults to " +
					"`OS_DEBUG` (set and not `0`/`false`), then `false`."},
			"delayed_auth": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Authenticate at the first cloud call instead of when the provider is configured. " +
					"Failures are then reported by the first resource that calls the cloud. Useful only for configurations " +
					"whose resources make no cloud call (`eventscale_event`, `eventscale_load_test`, the capacity plan) and " +
					"must plan without a reachable cloud. Unlike terraform-provider-openstack, the default is `false`. " +
					"Defaults to `OS_DELAYED_AUTH`, then `false`."},
		},
	}
}

// providerData is what resources and data sources receive from Configure.
type providerData struct {
	client *cloud.Client
	// preflightMode is the preflight setting; quotas reads the figures it checks.
	preflightMode string
	quotas        *quotaReader
	// journal receives the steps as they happen (nil writes nothing).
	journal *journal.Writer
	// journalPath is where journal writes: the review's default source.
	journalPath string
	// dbDial connects to database servers instead of net.Dialer when set (tests).
	dbDial func(ctx context.Context, network, address string) (net.Conn, error)
}

// configureData is the common Configure of every resource and data source that calls the cloud.
func configureData(pd any, diags *diag.Diagnostics) *providerData {
	if pd == nil {
		return nil // ValidateResourceConfig and plans before the provider is configured
	}
	data, ok := pd.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the provider", pd))
		return nil
	}
	return data
}

func (p *eventscaleProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := cloud.Config{
		Cloud:                       m.Cloud.ValueString(),
		AuthURL:                     m.AuthURL.ValueString(),
		Region:                      m.Region.ValueString(),
		UserName:                    m.UserName.ValueString(),
		UserID:                      m.UserID.ValueString(),
		Password:                    m.Password.ValueString(),
		ProjectName:                 m.TenantName.ValueString(),
		ProjectID:                   m.TenantID.ValueString(),
		UserDomainName:              m.UserDomainName.ValueString(),
		UserDomainID:                m.UserDomainID.ValueString(),
		ProjectDomainName:           m.ProjectDomainName.ValueString(),
		ProjectDomainID:             m.ProjectDomainID.ValueString(),
		DomainName:                  m.DomainName.ValueString(),
		DomainID:                    m.DomainID.ValueString(),
		ApplicationCredentialID:     m.ApplicationCredentialID.ValueString(),
		ApplicationCredentialName:   m.ApplicationCredentialName.ValueString(),
		ApplicationCredentialSecret: m.ApplicationCredentialSecret.ValueString(),
		Token:                       m.Token.ValueString(),
		CACertFile:                  m.CACertFile.ValueString(),
		ClientCertFile:              m.Cert.ValueString(),
		ClientKeyFile:               m.Key.ValueString(),
		EndpointType:                m.EndpointType.ValueString(),
		Insecure:                    knownBool(m.Insecure),
		EnableLogging:               knownBool(m.EnableLogging),
		DelayedAuth:                 knownBool(m.DelayedAuth),
	}
	if !m.MaxRetries.IsNull() && !m.MaxRetries.IsUnknown() {
		v := int(m.MaxRetries.ValueInt64())
		cfg.MaxRetries = &v
	}
	if v := m.PollInterval.ValueString(); v != "" && !m.PollInterval.IsUnknown() {
		d, err := time.ParseDuration(v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("poll_interval"), "Invalid poll_interval", err.Error())
			return
		}
		cfg.PollInterval = d
	}
	if !m.EndpointOverrides.IsNull() && !m.EndpointOverrides.IsUnknown() {
		cfg.EndpointOverrides = map[string]string{}
		resp.Diagnostics.Append(m.EndpointOverrides.ElementsAs(ctx, &cfg.EndpointOverrides, false)...)
	}
	resolved, err := cfg.Resolve()
	if err != nil {
		addConfigError(&resp.Diagnostics, cfg, err)
		return
	}
	ua := []string{"terraform-provider-eventscale/" + p.version}
	if req.TerraformVersion != "" {
		ua = append(ua, "Terraform/"+req.TerraformVersion)
	}
	logf := func(format string, args ...any) { tflog.Debug(ctx, fmt.Sprintf(format, args...)) }
	var client *cloud.Client
	if unknown := m.unknownAttributes(); len(unknown) > 0 {
		// Known only at apply: the next Configure, with the values, authenticates.
		tflog.Debug(ctx, "provider configuration not known yet: authentication waits for the first cloud call",
			map[string]any{"unknown": strings.Join(unknown, ",")})
		client = cloud.NewDeferredClient(resolved, logf, strings.Join(ua, " "))
	} else {
		client, err = cloud.NewClient(resolved, logf, strings.Join(ua, " "))
		if err != nil {
			addConfigError(&resp.Diagnostics, resolved, err)
			return
		}
		if resolved.DelayedAuth == nil || !*resolved.DelayedAuth {
			if err := client.Authenticate(ctx); err != nil {
				addConfigError(&resp.Diagnostics, resolved, err)
				return
			}
		}
	}
	journalPath := m.Journal.ValueString()
	if journalPath == "" {
		journalPath = journal.PathFromEnv()
	}
	data := &providerData{client: client, preflightMode: preflightError, quotas: newQuotaReader(client), journal: journal.Lazy(journalPath),
		journalPath: journalPath, dbDial: p.dbDial}
	if v := m.Preflight.ValueString(); v != "" {
		data.preflightMode = v
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// addConfigError reports a configuration or authentication failure on the provider block, on
// the attribute that explains it. Terraform prints the source line of that attribute: a
// failure about a secret (the password, the application credential secret, the token, the
// client key) is attached to the attribute that names the credential instead, or to the
// block, so that a secret written in the configuration is not printed back.
func addConfigError(diags *diag.Diagnostics, cfg cloud.Config, err error) {
	var se *cloud.SettingError
	if !errors.As(err, &se) {
		diags.AddError("Invalid OpenStack configuration", err.Error())
		return
	}
	summary := se.Summary
	if summary == "" {
		summary = "Invalid OpenStack configuration"
	}
	if attr := diagnosticAttribute(se.Setting, cfg); attr != "" {
		diags.AddAttributeError(path.Root(attr), summary, se.Error())
		return
	}
	diags.AddError(summary, se.Error())
}

// diagnosticAttribute is where a failure about setting is shown: the setting itself, unless
// its value is a secret ("" then means the provider block).
func diagnosticAttribute(setting string, cfg cloud.Config) string {
	switch setting {
	case "password":
		if cfg.UserName == "" && cfg.UserID != "" {
			return "user_id"
		}
		return "user_name"
	case "application_credential_secret":
		if cfg.ApplicationCredentialID == "" && cfg.ApplicationCredentialName != "" {
			return "application_credential_name"
		}
		return "application_credential_id"
	case "key":
		return "cert"
	case "token":
		return ""
	}
	return setting
}

func knownBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

// unknownAttributes names the attributes whose values Terraform does not know yet.
func (m providerModel) unknownAttributes() []string {
	var out []string
	for name, v := range map[string]attr.Value{
		"cloud": m.Cloud, "auth_url": m.AuthURL, "region": m.Region, "user_name": m.UserName, "user_id": m.UserID,
		"password": m.Password, "tenant_name": m.TenantName, "tenant_id": m.TenantID, "user_domain_name": m.UserDomainName,
		"user_domain_id": m.UserDomainID, "project_domain_name": m.ProjectDomainName, "project_domain_id": m.ProjectDomainID,
		"domain_name": m.DomainName, "domain_id": m.DomainID, "application_credential_id": m.ApplicationCredentialID,
		"application_credential_name": m.ApplicationCredentialName, "application_credential_secret": m.ApplicationCredentialSecret,
		"token": m.Token, "insecure": m.Insecure, "cacert_file": m.CACertFile, "cert": m.Cert, "key": m.Key,
		"endpoint_type": m.EndpointType, "endpoint_overrides": m.EndpointOverrides, "max_retries": m.MaxRetries,
		"poll_interval":  m.PollInterval,
		"enable_logging": m.EnableLogging, "delayed_auth": m.DelayedAuth,
	} {
		if v.IsUnknown() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (p *eventscaleProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewWebPoolResource,
		NewDatabaseReplicaResource,
		NewServerReplicaResource,
		NewSeedImageResource, NewLoadBalancerResource, NewEventResource,
		NewLoadTestResource,
		NewBackupResource, NewDNSRecordResource,
	}
}

func (p *eventscaleProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewPoolDataSource,
		NewCapacityPlanDataSource,
		NewQuotaDataSource,
		NewEventReviewDataSource,
	}
}

// The range of poll_interval: devcloud's tests poll every few milliseconds, and a wait that
// looks less than once a minute notices changes too late to be worth the calls it saves.
const (
	minPollInterval = 10 * time.Millisecond
	maxPollInterval = time.Minute
)
