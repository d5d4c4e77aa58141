package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/eventscale/terraform-provider-eventscale/internal/cloud"
)

// The web pool keeps a record of its configuration in tags on the Octavia pool its nodes join.
// Most of the configuration shapes nodes yet to be created, or the scale-back, and cannot be
// read back from the servers: without the record, an import could not tell the drain timeout,
// and a destroy right after an import would drain with the defaults. With it, an import
// restores the configuration exactly and the next plan is empty.

// webPoolRecordPrefix starts every tag of a web pool's record on the Octavia pool.
func webPoolRecordPrefix(name string) string { return "eventscale-settings:" + name + ":" }

type webPoolRecord struct {
	ImageID           string            `json:"image_id,omitempty"`
	Flavor            string            `json:"flavor,omitempty"`
	Networks          []string          `json:"networks,omitempty"`
	KeyPair           *string           `json:"key_pair,omitempty"`
	SecurityGroups    *[]string         `json:"security_groups,omitempty"`
	CreateSecGroup    *bool             `json:"create_security_group,omitempty"`
	UserDataSHA256    string            `json:"user_data_sha256,omitempty"`
	AvailabilityZones *[]string         `json:"availability_zones,omitempty"`
	ServerGroupPolicy *string           `json:"server_group_policy,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	SubnetID          *string           `json:"subnet_id,omitempty"`
	EventID           *string           `json:"event_id,omitempty"`
	AllowDuringEvent  *bool             `json:"allow_during_event,omitempty"`
	ScaleOut          *scaleOutRecord   `json:"scale_out,omitempty"`
	ScaleIn           *scaleInRecord    `json:"scale_in,omitempty"`
}

type scaleOutRecord struct {
	MaxParallel       *int64    `json:"max_parallel,omitempty"`
	MinHealthyPercent *int64    `json:"min_healthy_percent,omitempty"`
	WaitForHealthy    *bool     `json:"wait_for_healthy,omitempty"`
	HealthyStatuses   *[]string `json:"healthy_statuses,omitempty"`
	RebootCheck       *bool     `json:"reboot_check,omitempty"`
	CreateRetries     *int64    `json:"create_retries,omitempty"`
}

type scaleInRecord struct {
	BatchSize            *int64  `json:"batch_size,omitempty"`
	DrainTimeout         *string `json:"drain_timeout,omitempty"`
	DrainMethod          *string `json:"drain_method,omitempty"`
	Order                *string `json:"order,omitempty"`
	HealthCheckURL       *string `json:"health_check_url,omitempty"`
	HealthCheckSuccesses *int64  `json:"health_check_successes,omitempty"`
	PreDeleteWebhook     *string `json:"pre_delete_webhook,omitempty"`
	WebhookTimeout       *string `json:"webhook_timeout,omitempty"`
}

func optString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	s := v.ValueString()
	return &s
}

func optInt(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	i := v.ValueInt64()
	return &i
}

func optBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func optList(ctx context.Context, l types.List, diags *diag.Diagnostics) *[]string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	out := []string{}
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return &out
}

func stringFrom(p *string) types.String {
	if p == nil {
		return types.StringNull()
	}
	return types.StringValue(*p)
}

func intFrom(p *int64) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*p)
}

func boolFrom(p *bool) types.Bool {
	if p == nil {
		return types.BoolNull()
	}
	return types.BoolValue(*p)
}

func listFrom(p *[]string) types.List {
	if p == nil {
		return types.ListNull(types.StringType)
	}
	return stringListValue(*p)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// record is the part of the configuration the pool keeps on the Octavia pool.
func (m *webPoolModel) record(ctx context.Context, diags *diag.Diagnostics) webPoolRecord {
	rec := webPoolRecord{
		ImageID: m.ImageID.ValueString(), Flavor: m.Flavor.ValueString(),
		KeyPair: optString(m.KeyPair), SecurityGroups: optList(ctx, m.SecurityGroups, diags), CreateSecGroup: optBool(m.CreateSecGroup),
		AvailabilityZones: optList(ctx, m.AvailabilityZones, diags), ServerGroupPolicy: optString(m.ServerGroupPolicy),
		SubnetID: optString(m.SubnetID), EventID: optString(m.EventID), AllowDuringEvent: optBool(m.AllowDuringEvent),
	}
	if nets := optList(ctx, m.Networks, diags); nets != nil {
		rec.Networks = *nets
	}
	if !m.UserData.IsNull() && !m.UserData.IsUnknown() {
		rec.UserDataSHA256 = sha256Hex(m.UserData.ValueString())
	}
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		rec.Metadata = map[string]string{}
		diags.Append(m.Metadata.ElementsAs(ctx, &rec.Metadata, false)...)
	}
	if so := m.ScaleOut; so != nil {
		rec.ScaleOut = &scaleOutRecord{MaxParallel: optInt(so.MaxParallel), MinHealthyPercent: optInt(so.MinHealthyPercent),
			WaitForHealthy: optBool(so.WaitForHealthy), HealthyStatuses: optList(ctx, so.HealthyStatuses, diags),
			RebootCheck: optBool(so.RebootCheck), CreateRetries: optInt(so.CreateRetries)}
	}
	if si := m.ScaleIn; si != nil {
		rec.ScaleIn = &scaleInRecord{BatchSize: optInt(si.BatchSize), DrainTimeout: optString(si.DrainTimeout),
			DrainMethod: optString(si.DrainMethod), Order: optString(si.Order), HealthCheckURL: optString(si.HealthCheckURL),
			HealthCheckSuccesses: optInt(si.HealthCheckSuccesses), PreDeleteWebhook: optString(si.PreDeleteWebhook),
			WebhookTimeout: optString(si.WebhookTimeout)}
	}
	return rec
}

// restore sets the model's configuration from a record, after an import. user_data cannot be
// restored: the record holds only its digest, and Nova shows user data to administrators only.
func (m *webPoolModel) restore(rec webPoolRecord) {
	m.ImageID, m.Flavor = types.StringValue(rec.ImageID), types.StringValue(rec.Flavor)
	m.Networks = stringListValue(rec.Networks)
	m.KeyPair, m.SecurityGroups, m.CreateSecGroup = stringFrom(rec.KeyPair), listFrom(rec.SecurityGroups), boolFrom(rec.CreateSecGroup)
	m.AvailabilityZones, m.ServerGroupPolicy = listFrom(rec.AvailabilityZones), stringFrom(rec.ServerGroupPolicy)
	m.SubnetID, m.EventID, m.AllowDuringEvent = stringFrom(rec.SubnetID), stringFrom(rec.EventID), boolFrom(rec.AllowDuringEvent)
	m.Metadata = types.MapNull(types.StringType)
	if rec.Metadata != nil {
		m.Metadata = stringMapValue(rec.Metadata)
	}
	m.ScaleOut, m.ScaleIn = nil, nil
	if so := rec.ScaleOut; so != nil {
		m.ScaleOut = &scaleOutModel{MaxParallel: intFrom(so.MaxParallel), MinHealthyPercent: intFrom(so.MinHealthyPercent),
			WaitForHealthy: boolFrom(so.WaitForHealthy), HealthyStatuses: listFrom(so.HealthyStatuses),
			RebootCheck: boolFrom(so.RebootCheck), CreateRetries: intFrom(so.CreateRetries)}
	}
	if si := rec.ScaleIn; si != nil {
		m.ScaleIn = &scaleInModel{BatchSize: intFrom(si.BatchSize), DrainTimeout: stringFrom(si.DrainTimeout),
			DrainMethod: stringFrom(si.DrainMethod), Order: stringFrom(si.Order), HealthCheckURL: stringFrom(si.HealthCheckURL),
			HealthCheckSuccesses: intFrom(si.HealthCheckSuccesses), PreDeleteWebhook: stringFrom(si.PreDeleteWebhook),
			WebhookTimeout: stringFrom(si.WebhookTimeout)}
	}
}

// readRecord returns the record kept on the pool, if there is one.
func readRecord(ctx context.Context, lb *cloud.LoadBalancer, poolID, name string) (webPoolRecord, bool, error) {
	tags, err := lb.PoolTags(ctx, poolID)
	if err != nil {
		return webPoolRecord{}, false, err
	}
	data, ok := cloud.DecodeTagRecord(webPoolRecordPrefix(name), tags)
	if !ok {
		return webPoolRecord{}, false, nil
	}
	var rec webPoolRecord
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return webPoolRecord{}, false, fmt.Errorf("the configuration record on Octavia pool %s is unreadable: %w", poolID, err)
	}
	return rec, true, nil
}

// writeRecord puts the record on the pool, in one pool update, unless it is there already.
// An empty record removes it.
func writeRecord(ctx context.Context, lb *cloud.LoadBalancer, poolID, name string, rec *webPoolRecord) error {
	tags, err := lb.PoolTags(ctx, poolID)
	if err != nil {
		return err
	}
	data := ""
	if rec != nil {
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		data = string(b)
	}
	prefix := webPoolRecordPrefix(name)
	if current, ok := cloud.DecodeTagRecord(prefix, tags); (ok && current == data) || (!ok && data == "") {
		return nil
	}
	return lb.SetPoolTags(ctx, poolID, cloud.WithTagRecord(tags, prefix, data))
}
