package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/eventscale/terraform-provider-eventscale/internal/backup"
)

// BackupKeyProperty is the image property (and Trove description field) that carries a
// backup's adoption key until the backup is recorded.
const BackupKeyProperty = "eventscale_backup_key"

// BackupLabelPrefix starts the names of the image properties (and Trove description fields)
// the provider records on a backup, so that an import can read its configuration back.
const BackupLabelPrefix = "eventscale_backup_"

// NovaBackups takes server backups with Nova's createBackup and follows their images in
// Glance. It implements backup.Store.
type NovaBackups struct {
	Images
}

var _ backup.Store = (*NovaBackups)(nil)

// NovaBackups returns the server backup store.
func (c *Client) NovaBackups(ctx context.Context) (*NovaBackups, error) {
	img, err := c.Images(ctx)
	if err != nil {
		return nil, err
	}
	return &NovaBackups{Images: *img}, nil
}

// Source reads the server: its name, status and task, flavor and networks.
func (n *NovaBackups) Source(ctx context.Context, id string) (backup.Source, error) {
	s, err := servers.Get(ctx, n.Compute, id).Extract()
	if err != nil {
		return backup.Source{}, apiError("reading server "+id, err)
	}
	src := backup.Source{ID: s.ID, Name: s.Name, Status: s.Status, Busy: s.TaskState}
	if name, ok := s.Flavor["original_name"].(string); ok {
		src.Flavor = name
	} else if id, ok := s.Flavor["id"].(string); ok {
		src.Flavor = id
	}
	for net := range s.Addresses {
		src.Networks = append(src.Networks, net)
	}
	sort.Strings(src.Networks)
	return src, nil
}

// CanBackUp follows Nova's check_instance_state for backup: active, stopped, paused or
// suspended servers only.
func (n *NovaBackups) CanBackUp(src backup.Source) string {
	if slices.Contains([]string{"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"}, src.Status) {
		return ""
	}
	return fmt.Sprintf("server %s (%s) is %s: Nova backs up ACTIVE, SHUTOFF, PAUSED and SUSPENDED servers only", src.Name, src.ID, src.Status)
}

// imageQuery lists images by name and properties: Glance filters on any property given as a
// query parameter, which gophercloud's ListOpts cannot express.
type imageQuery map[string]string

func (q imageQuery) ToImageListQuery() (string, error) {
	v := url.Values{}
	for k, val := range q {
		v.Set(k, val)
	}
	return "?" + v.Encode(), nil
}

// Find returns the newest backup image of the server named t.Name that still carries t's key
// and has not failed.
func (n *NovaBackups) Find(ctx context.Context, t backup.Target) (*backup.Backup, error) {
	q := imageQuery{"name": t.Name, "image_type": "backup", "instance_uuid": t.SourceID, BackupKeyProperty: t.Key}
	if t.BackupType != "" {
		q["backup_type"] = t.BackupType
	}
	all, err := n.listImages(ctx, fmt.Sprintf("the backups of server %s named %s", t.SourceID, t.Name), q)
	if err != nil {
		return nil, err
	}
	var found *backup.Backup
	for _, img := range all {
		// Filtered again here: a cloud that ignored a filter must not make us adopt a stranger.
		if img.Properties[BackupKeyProperty] != t.Key || img.Name != t.Name || n.Phase(img.Status) == backup.Failed {
			continue
		}
		b := n.toBackup(img)
		if found == nil || b.Created.After(found.Created) {
			found = &b
		}
	}
	return found, nil
}

// Create sends createBackup once: a retry after Nova acted on it would make a second image.
// A server busy with another task is asked again once the task may be over (sendImageAction).
func (n *NovaBackups) Create(ctx context.Context, t backup.Target) (string, error) {
	metadata := map[string]string{BackupKeyProperty: t.Key}
	for k, v := range t.Labels {
		metadata[k] = v
	}
	body := map[string]any{"createBackup": map[string]any{
		"name": t.Name, "backup_type": t.BackupType, "rotation": t.Rotation, "metadata": metadata,
	}}
	action := fmt.Sprintf("backing up server %s into image %q", t.SourceID, t.Name)
	id, err := n.sendImageAction(ctx, action, t.Name, BackupKeyProperty, t.Key, func() (string, error) {
		// At microversion 2.45 and later the image id is in the body.
		var answer struct {
			ImageID string `json:"image_id"`
		}
		resp, err := n.Compute.Post(ctx, n.Compute.ServiceURL("servers", t.SourceID, "action"), body, &answer,
			&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
		closeResponse(resp)
		return answer.ImageID, err
	})
	if err == nil && id == "" {
		return "", fmt.Errorf("%s: Nova accepted the request but returned no image id", action)
	}
	return id, err
}

// Get reads one backup image.
func (n *NovaBackups) Get(ctx context.Context, id string) (backup.Backup, error) {
	img, err := n.GetImage(ctx, id)
	if err != nil {
		return backup.Backup{}, err
	}
	if img.Status == string(images.ImageStatusDeleted) || img.Status == string(images.ImageStatusPendingDelete) {
		return backup.Backup{}, apiError("reading backup image "+id, gophercloud.ErrUnexpectedResponseCode{Actual: http.StatusNotFound,
			Method: http.MethodGet, URL: n.Image.ServiceURL("images", id), Body: []byte("the image is " + img.Status)})
	}
	return n.toBackup(img), nil
}

// Wait waits until the backup image is active or has failed. Nova keeps the reason of a failed
// upload in the server's instance actions, so the fault says where to look. An image that
// stays queued while the server has no task is never uploaded (ErrSnapshotAbandoned): it is
// deleted, and the next apply takes the backup again.
func (n *NovaBackups) Wait(ctx context.Context, id string) (backup.Backup, error) {
	b, err := n.Get(ctx, id)
	if err != nil {
		return b, err
	}
	img, err := n.WaitSnapshotActive(ctx, b.SourceID, id)
	if img != nil {
		b = n.toBackup(img)
	}
	switch {
	case errors.Is(err, ErrSnapshotAbandoned):
		if derr := n.DeleteImage(context.WithoutCancel(ctx), id); derr != nil {
			return b, fmt.Errorf("%w; deleting it failed: %w", err, derr)
		}
		b.Status = string(images.ImageStatusDeleted)
		b.Fault = fmt.Sprintf("Nova made the image, then did not start the backup; the image was deleted (the server's instance actions say why: openstack server event list %s)", b.SourceID)
	case err != nil && n.Phase(b.Status) == backup.Failed:
		b.Fault = fmt.Sprintf("Glance marked the image %s; Nova's reason is in the server's instance actions (openstack server event list %s)", b.Status, b.SourceID)
	}
	return b, err
}

// Claim removes the adoption key from the image.
func (n *NovaBackups) Claim(ctx context.Context, id string) error {
	img, err := n.GetImage(ctx, id)
	if err != nil {
		return err
	}
	if _, ok := img.Properties[BackupKeyProperty]; !ok {
		return nil
	}
	return n.UpdateImage(ctx, id, nil, nil, []string{BackupKeyProperty}, img.Properties)
}

// Delete deletes the image and waits until Glance no longer has it.
func (n *NovaBackups) Delete(ctx context.Context, id string) error {
	if err := n.DeleteImage(ctx, id); err != nil {
		return err
	}
	return n.WaitImageGone(ctx, id)
}

// Phase classifies a Glance status.
func (n *NovaBackups) Phase(status string) backup.Phase {
	switch {
	case status == string(images.ImageStatusActive):
		return backup.Usable
	case slices.Contains(imageFailed, status):
		return backup.Failed
	case status == backup.StatusGone || status == backup.StatusNotTaken || status == "":
		return backup.Missing
	}
	return backup.Pending
}

func (n *NovaBackups) toBackup(img *ImageInfo) backup.Backup {
	b := backup.Backup{Kind: backup.Server, ID: img.ID, Name: img.Name, Status: img.Status, Created: img.CreatedAt.UTC(),
		SizeBytes: img.SizeBytes, Labels: map[string]string{}}
	b.SourceID = img.Properties["instance_uuid"]
	for k, v := range img.Properties {
		if strings.HasPrefix(k, BackupLabelPrefix) || k == "backup_type" {
			b.Labels[k] = v
		}
	}
	return b
}

// TroveBackups takes database backups with Trove. It implements backup.Store.
type TroveBackups struct {
	Database
}

var _ backup.Store = (*TroveBackups)(nil)

// TroveBackups returns the database backup store.
func (c *Client) TroveBackups(ctx context.Context) (*TroveBackups, error) {
	db, err := c.Database(ctx)
	if err != nil {
		return nil, err
	}
	return &TroveBackups{Database: *db}, nil
}

// troveBackup is Trove's backup body.
type troveBackup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	InstanceID  string   `json:"instance_id"`
	Status      string   `json:"status"`
	Created     string   `json:"created"`
	Size        *float64 `json:"size"`
}

var (
	trovePending = []string{"NEW", "BUILDING", "SAVING"}
	troveFailed  = []string{"FAILED", "DELETE_FAILED", "ERROR"}
)

// troveTime parses Trove's timestamps, which carry no zone and are UTC.
func troveTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// troveDescriptionLead starts the description of a backup the provider takes; the key and
// labels follow it as a query string (Trove backups cannot be changed, so this is where the
// provider's record of them lives).
const troveDescriptionLead = "Taken by eventscale; "

func troveDescription(t backup.Target) string {
	v := url.Values{}
	v.Set(BackupKeyProperty, t.Key)
	for k, val := range t.Labels {
		v.Set(k, val)
	}
	return troveDescriptionLead + v.Encode()
}

func troveLabels(desc *string) map[string]string {
	out := map[string]string{}
	if desc == nil {
		return out
	}
	_, rest, ok := strings.Cut(*desc, troveDescriptionLead)
	if !ok {
		return out
	}
	v, err := url.ParseQuery(rest)
	if err != nil {
		return out
	}
	for k := range v {
		out[k] = v.Get(k)
	}
	return out
}

func (t troveBackup) toBackup() backup.Backup {
	b := backup.Backup{Kind: backup.Database, ID: t.ID, Name: t.Name, SourceID: t.InstanceID, Status: t.Status,
		Created: troveTime(t.Created), Labels: troveLabels(t.Description)}
	delete(b.Labels, BackupKeyProperty)
	if t.Size != nil {
		// Trove reports the size in GB (GiB of the backup archive).
		b.SizeBytes = int64(*t.Size * (1 << 30))
	}
	return b
}

// Source reads the database instance, and says which backup of it is running, if any.
func (d *TroveBackups) Source(ctx context.Context, id string) (backup.Source, error) {
	in, err := d.GetInstance(ctx, id)
	if err != nil {
		return backup.Source{}, err
	}
	src := backup.Source{ID: in.ID, Name: in.Name, Status: in.Status, FlavorID: in.FlavorID, VolumeGB: in.VolumeGB,
		Datastore: in.Datastore, Version: in.Version}
	list, err := d.instanceBackups(ctx, id)
	if err != nil {
		return src, err
	}
	for _, b := range list {
		if slices.Contains(trovePending, b.Status) {
			src.Busy = fmt.Sprintf("backup %s (%s) is %s", b.Name, b.ID, b.Status)
		}
	}
	return src, nil
}

// CanBackUp follows Trove: only a ready instance is backed up (a running backup makes it busy,
// which passes).
func (d *TroveBackups) CanBackUp(src backup.Source) string {
	if slices.Contains([]string{"ACTIVE", "HEALTHY", "BACKUP"}, src.Status) {
		return ""
	}
	return fmt.Sprintf("database instance %s (%s) is %s: Trove backs up ACTIVE instances only", src.Name, src.ID, src.Status)
}

// instanceBackups lists the instance's backups, following Trove's next links.
func (d *TroveBackups) instanceBackups(ctx context.Context, instanceID string) ([]troveBackup, error) {
	var out []troveBackup
	next := d.Client.ServiceURL("backups") + "?" + url.Values{"instance_id": {instanceID}}.Encode()
	for page := 0; next != "" && page < 100; page++ {
		var body struct {
			Backups []troveBackup `json:"backups"`
			Links   []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"links"`
		}
		resp, err := d.Client.Get(ctx, next, &body, nil)
		closeResponse(resp)
		if err != nil {
			return nil, apiError("listing the backups of database instance "+instanceID, err)
		}
		out = append(out, body.Backups...)
		next = ""
		for _, l := range body.Links {
			if l.Rel == "next" && len(body.Backups) > 0 {
				next = d.nextPage(l.Href)
			}
		}
	}
	return out, nil
}

// nextPage keeps Trove's marker and limit but our endpoint: Trove writes next links with its
// own idea of the scheme and host (https behind a proxy, or the internal URL).
func (d *TroveBackups) nextPage(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	return d.Client.ServiceURL("backups") + "?" + u.RawQuery
}

// Find returns the newest backup of the instance named t.Name whose description carries t's
// key, that has not failed and is running or was made since t.AdoptSince.
func (d *TroveBackups) Find(ctx context.Context, t backup.Target) (*backup.Backup, error) {
	list, err := d.instanceBackups(ctx, t.SourceID)
	if err != nil {
		return nil, err
	}
	var found *backup.Backup
	for _, tb := range list {
		if tb.Name != t.Name || troveLabels(tb.Description)[BackupKeyProperty] != t.Key {
			continue
		}
		b := tb.toBackup()
		switch d.Phase(b.Status) {
		case backup.Failed:
			continue
		case backup.Usable:
			if !t.AdoptSince.IsZero() && b.Created.Before(t.AdoptSince) {
				continue
			}
		}
		if found == nil || b.Created.After(found.Created) {
			found = &b
		}
	}
	return found, nil
}

// Create asks Trove for a backup; the POST is sent once.
func (d *TroveBackups) Create(ctx context.Context, t backup.Target) (string, error) {
	body := map[string]any{"backup": map[string]any{"name": t.Name, "instance": t.SourceID, "description": troveDescription(t)}}
	var answer struct {
		Backup troveBackup `json:"backup"`
	}
	resp, err := d.Client.Post(ctx, d.Client.ServiceURL("backups"), body, &answer,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted, http.StatusOK}})
	closeResponse(resp)
	action := fmt.Sprintf("backing up database instance %s into %q", t.SourceID, t.Name)
	if err != nil {
		return "", createError(action, err)
	}
	if answer.Backup.ID == "" {
		return "", fmt.Errorf("%s: Trove accepted the request but returned no backup id", action)
	}
	return answer.Backup.ID, nil
}

// Get reads one backup.
func (d *TroveBackups) Get(ctx context.Context, id string) (backup.Backup, error) {
	var body struct {
		Backup troveBackup `json:"backup"`
	}
	resp, err := d.Client.Get(ctx, d.Client.ServiceURL("backups", id), &body, nil)
	closeResponse(resp)
	if err != nil {
		return backup.Backup{}, apiError("reading database backup "+id, err)
	}
	return body.Backup.toBackup(), nil
}

// Wait waits until the backup is COMPLETED or has failed. Trove gives no reason for a failed
// backup in its API: the guest agent's log has it.
func (d *TroveBackups) Wait(ctx context.Context, id string) (backup.Backup, error) {
	b, err := waitFor(ctx, d.Poll, "database backup "+id, func(ctx context.Context) (backup.Backup, string, error) {
		b, err := d.Get(ctx, id)
		return b, b.Status, err
	}, trovePending, []string{"COMPLETED"}, troveFailed)
	if err != nil && d.Phase(b.Status) == backup.Failed {
		b.Fault = fmt.Sprintf("Trove reports the backup %s and gives no reason in its API; the database instance's guest log has it (openstack database log list %s)", b.Status, b.SourceID)
	}
	return b, err
}

// Claim does nothing: Trove backups cannot be changed once made, so their key stays and
// Find relies on Target.AdoptSince instead.
func (d *TroveBackups) Claim(context.Context, string) error { return nil }

// Delete deletes the backup and waits until Trove no longer has it. Trove refuses (422) to
// delete a running backup: the delete is sent again once it has ended.
func (d *TroveBackups) Delete(ctx context.Context, id string) error {
	for {
		resp, err := d.Client.Delete(ctx, d.Client.ServiceURL("backups", id), &gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted, http.StatusNoContent}})
		closeResponse(resp)
		if err == nil || IsNotFound(err) {
			break
		}
		if StatusCode(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "running") {
			return apiError("deleting database backup "+id, err)
		}
		if werr := sleepCtx(ctx, d.Poll.interval()); werr != nil {
			return fmt.Errorf("deleting database backup %s: it is still running: %w", id, werr)
		}
	}
	return waitGone(ctx, d.Poll, "deletion of database backup "+id, func(ctx context.Context) (string, error) {
		b, err := d.Get(ctx, id)
		if err == nil && b.Status == "DELETE_FAILED" {
			return "ERROR", fmt.Errorf("database backup %s: Trove could not delete it (DELETE_FAILED)", id)
		}
		return b.Status, err
	})
}

// Phase classifies a Trove backup status.
func (d *TroveBackups) Phase(status string) backup.Phase {
	switch {
	case status == "COMPLETED":
		return backup.Usable
	case slices.Contains(troveFailed, status):
		return backup.Failed
	case status == backup.StatusGone || status == backup.StatusNotTaken || status == "":
		return backup.Missing
	}
	return backup.Pending
}

// BackupQuota reads Trove's backups limit and how many backups the project has: a backup
// refused for quota would only be found at apply.
func (d *TroveBackups) BackupQuota(ctx context.Context) (limit, inUse int, err error) {
	var body struct {
		Limits []map[string]any `json:"limits"`
	}
	resp, err := d.Client.Get(ctx, d.Client.ServiceURL("limits"), &body, nil)
	closeResponse(resp)
	if err != nil {
		return 0, 0, apiError("reading the database limits", err)
	}
	limit = -1
	for _, l := range body.Limits {
		if l["verb"] != "ABSOLUTE" {
			continue
		}
		if n, ok := jsonInt(l["max_backups"]); ok {
			limit = n
		}
	}
	var list struct {
		Backups []troveBackup `json:"backups"`
	}
	// One page of a thousand is enough to know whether the quota is near; Trove pages by offset.
	resp, err = d.Client.Get(ctx, d.Client.ServiceURL("backups")+"?limit=1000", &list, nil)
	closeResponse(resp)
	if err != nil {
		return limit, 0, apiError("listing the project's database backups", err)
	}
	return limit, len(list.Backups), nil
}

// HasService reports whether the catalog has the service type, for checks that only apply
// where it exists (a lab without Trove).
func (c *Client) HasService(ctx context.Context, serviceType string) (bool, error) {
	_, err := c.ServiceClient(ctx, serviceType)
	var missing *MissingServiceError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &missing):
		return false, nil
	}
	return false, err
}

// closeResponse closes a gophercloud response's body; gophercloud has read it already when it
// decoded the JSON, and a nil response (a transport error) has none.
func closeResponse(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
}
