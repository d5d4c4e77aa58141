package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
	"github.com/eventscale/terraform-provider-eventscale/internal/journal"
	"github.com/eventscale/terraform-provider-eventscale/internal/review"
)

var _ datasource.DataSourceWithConfigure = (*eventReviewDataSource)(nil)

// NewEventReviewDataSource is the data.eventscale_event_review factory.
func NewEventReviewDataSource() datasource.DataSource { return &eventReviewDataSource{} }

type eventReviewDataSource struct{ data *providerData }

// defaultReviewWindow is how far back the cloud's records are read when since is not set.
const defaultReviewWindow = 7 * 24 * time.Hour

type eventReviewModel struct {
	ID           types.String `tfsdk:"id"`
	Journal      types.String `tfsdk:"journal"`
	OutputDir    types.String `tfsdk:"output_dir"`
	Since        types.String `tfsdk:"since"`
	Pools        types.List   `tfsdk:"pools"`
	UseCloud     types.Bool   `tfsdk:"use_cloud"`
	Source       types.String `tfsdk:"source"`
	SourceDetail types.String `tfsdk:"source_detail"`
	HTMLPath     types.String `tfsdk:"html_path"`
	MarkdownPath types.String `tfsdk:"markdown_path"`
	SVGPath      types.String `tfsdk:"svg_path"`
	Start        types.String `tfsdk:"start"`
	End          types.String `tfsdk:"end"`
	Nodes        types.Int64  `tfsdk:"nodes"`
	MaxServers   types.Int64  `tfsdk:"max_servers"`
	MaxServing   types.Int64  `tfsdk:"max_serving"`
	ScaleBacks   types.List   `tfsdk:"scale_backs"`
	Findings     types.List   `tfsdk:"findings"`
	ToFix        types.List   `tfsdk:"to_fix"`
}

var findingAttrTypes = map[string]attr.Type{"text": types.StringType, "fix": types.StringType}

var scaleBackAttrTypes = map[string]attr.Type{
	"pool": types.StringType, "from": types.Int64Type, "to": types.Int64Type, "outcome": types.StringType,
	"seconds": types.Int64Type, "failed_requests": types.Int64Type, "measured": types.BoolType,
}

func (d *eventReviewDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_event_review"
}

func (d *eventReviewDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The review after the event, written as files each time the data source is read: `review.html` " +
			"(one self-contained page), `review.md` (with a checklist of what to fix) and the timeline `" + review.SVGName + "`. " +
			"It is built from the provider's journal; when the journal is gone, from the cloud's own records (Nova's servers " +
			"changed since `since`, deleted ones included, and their instance actions; Glance's server images and Trove's " +
			"backups; Octavia's objects), which know less: no drains, load tests, capacity plan, quota pre-flight or load " +
			"balancer statistics. `eventscale review` writes the same files from the command line.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The journal's path."},
			"journal": schema.StringAttribute{Optional: true,
				MarkdownDescription: "The journal to read. Defaults to the provider's `journal` setting (then `EVENTSCALE_JOURNAL`, then `" +
					journal.DefaultPath + "`)."},
			"output_dir": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Directory to write the files into (created when missing). Defaults to `review/` beside the journal."},
			"since": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Start of the period the cloud's records are read for (RFC 3339, e.g. `2026-11-26T17:00:00Z`), when " +
					"there is no journal. Defaults to seven days ago. Nova lists deleted servers only back to its purge of deleted rows.",
				Validators: []validator.String{rfc3339Validator{}}},
			"pools": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Web pools whose deleted nodes the cloud's records should find. Nova forgets a deleted server's " +
					"metadata, so a deleted node is known by its name, `<pool>-NN`, for a pool that still has a node or is listed here."},
			"use_cloud": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Fall back to the cloud's records when the journal does not exist (default `true`). With `false`, " +
					"a missing journal is an error."},
			"source":        schema.StringAttribute{Computed: true, MarkdownDescription: "`journal` or `cloud`: where the facts come from."},
			"source_detail": schema.StringAttribute{Computed: true, MarkdownDescription: "A sentence on the source, as the review shows it."},
			"html_path":     schema.StringAttribute{Computed: true, MarkdownDescription: "Path of `review.html`."},
			"markdown_path": schema.StringAttribute{Computed: true, MarkdownDescription: "Path of `review.md`."},
			"svg_path":      schema.StringAttribute{Computed: true, MarkdownDescription: "Path of the timeline, `" + review.SVGName + "`."},
			"start":         schema.StringAttribute{Computed: true, MarkdownDescription: "Time of the first fact on the record (RFC 3339)."},
			"end":           schema.StringAttribute{Computed: true, MarkdownDescription: "Time of the last fact on the record (RFC 3339)."},
			"nodes":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Web nodes on the record (a node rebuilt after ERROR counts once)."},
			"max_servers":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Most of the pools' servers that existed at once."},
			"max_serving":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Most managed nodes in service at once (journal only)."},
			"scale_backs": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Each run that shrank a pool (journal only).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"pool":            schema.StringAttribute{Computed: true, MarkdownDescription: "The pool."},
					"from":            schema.Int64Attribute{Computed: true, MarkdownDescription: "Nodes before."},
					"to":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Nodes wanted after."},
					"outcome":         schema.StringAttribute{Computed: true, MarkdownDescription: "How the run ended."},
					"seconds":         schema.Int64Attribute{Computed: true, MarkdownDescription: "How long it took."},
					"failed_requests": schema.Int64Attribute{Computed: true, MarkdownDescription: "Requests of the load tests running meanwhile that failed."},
					"measured":        schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a load test ran meanwhile, so that failed_requests is a measurement."},
				}}},
			"findings": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The conclusions the data supports, with their figures.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"text": schema.StringAttribute{Computed: true, MarkdownDescription: "The finding."},
					"fix":  schema.StringAttribute{Computed: true, MarkdownDescription: "What to do before the next event; empty when nothing."},
				}}},
			"to_fix": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The checklist: what to fix before the next event."},
		},
	}
}

func (d *eventReviewDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (d *eventReviewDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m eventReviewModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	journalPath := m.Journal.ValueString()
	if journalPath == "" && d.data != nil {
		journalPath = d.data.journalPath
	}
	if journalPath == "" {
		journalPath = journal.PathFromEnv()
	}
	since := time.Now().UTC().Add(-defaultReviewWindow)
	if v := m.Since.ValueString(); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("since"), "Invalid since", err.Error())
			return
		}
		since = t
	}
	var records review.CloudRecords
	if (m.UseCloud.IsNull() || m.UseCloud.ValueBool()) && d.data != nil && d.data.client != nil {
		records = &lazyRecords{client: d.data.client, pools: stringList(ctx, m.Pools, &resp.Diagnostics)}
	}
	r, err := review.Load(ctx, journalPath, records, since)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("journal"), "Cannot write the review", err.Error())
		return
	}
	r.Generated = time.Now().UTC()
	dir := m.OutputDir.ValueString()
	if dir == "" {
		dir = filepath.Join(filepath.Dir(journalPath), "review")
	}
	files, err := r.WriteFiles(dir)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("output_dir"), "Cannot write the review", err.Error())
		return
	}
	for _, s := range r.Skipped {
		resp.Diagnostics.AddWarning("Journal lines skipped", s)
	}
	m.ID = types.StringValue(journalPath)
	m.Source, m.SourceDetail = types.StringValue(r.Source.Kind), types.StringValue(r.Source.Detail)
	m.HTMLPath, m.MarkdownPath, m.SVGPath = types.StringValue(files.HTML), types.StringValue(files.Markdown), types.StringValue(files.SVG)
	m.Start, m.End = timeString(r.Start), timeString(r.End)
	m.Nodes, m.MaxServers, m.MaxServing = types.Int64Value(int64(len(r.Nodes))), types.Int64Value(int64(r.MaxServers)), types.Int64Value(int64(r.MaxServing))
	var sbs []attr.Value
	for _, sb := range r.ScaleBacks {
		sbs = append(sbs, types.ObjectValueMust(scaleBackAttrTypes, map[string]attr.Value{
			"pool": types.StringValue(sb.Pool), "from": types.Int64Value(int64(sb.From)), "to": types.Int64Value(int64(sb.To)),
			"outcome": types.StringValue(sb.Outcome), "seconds": types.Int64Value(int64(sb.End.Sub(sb.Start) / time.Second)),
			"failed_requests": types.Int64Value(int64(sb.Failed)), "measured": types.BoolValue(sb.Covered),
		}))
	}
	m.ScaleBacks = types.ListValueMust(types.ObjectType{AttrTypes: scaleBackAttrTypes}, sbs)
	var fs []attr.Value
	for _, f := range r.Findings {
		fs = append(fs, types.ObjectValueMust(findingAttrTypes, map[string]attr.Value{"text": types.StringValue(f.Text), "fix": types.StringValue(f.Fix)}))
	}
	m.Findings = types.ListValueMust(types.ObjectType{AttrTypes: findingAttrTypes}, fs)
	m.ToFix = stringListValue(r.ToFix)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func timeString(t time.Time) types.String {
	if t.IsZero() {
		return types.StringValue("")
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// lazyRecords authenticates to the cloud only when the journal is missing and the review
// asks for the cloud's records.
type lazyRecords struct {
	client *cloud.Client
	pools  []string

	once sync.Once
	rec  *cloud.ReviewRecords
	err  error
}

func (l *lazyRecords) get(ctx context.Context) (*cloud.ReviewRecords, error) {
	l.once.Do(func() { l.rec, l.err = l.client.ReviewRecords(ctx, l.pools) })
	return l.rec, l.err
}

func (l *lazyRecords) Servers(ctx context.Context, since time.Time) ([]review.CloudServer, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cloud: %w", err)
	}
	return rec.Servers(ctx, since)
}

func (l *lazyRecords) InstanceActions(ctx context.Context, serverID string) ([]review.InstanceAction, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.InstanceActions(ctx, serverID)
}

func (l *lazyRecords) Backups(ctx context.Context, since time.Time) ([]journal.Backup, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.Backups(ctx, since)
}

func (l *lazyRecords) LoadBalancerObjects(ctx context.Context) ([]review.LBObject, error) {
	rec, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return rec.LoadBalancerObjects(ctx)
}
