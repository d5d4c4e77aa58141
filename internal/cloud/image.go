package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Images snapshots servers through Nova and follows the result in Glance.
type Images struct {
	Compute *gophercloud.ServiceClient
	Image   *gophercloud.ServiceClient
	Poll    Poll
}

// ImageInfo is an image as Glance reports it.
type ImageInfo struct {
	ID     string
	Name   string
	Status string // Glance's: queued, saving, active, killed, deleted, ...
	// SizeBytes is 0 until the image has data.
	SizeBytes int64
	CreatedAt time.Time
	// Properties are the image's extra properties as text, where a snapshot's metadata lands
	// (a property Glance sends as null reads as "").
	Properties map[string]string
}

func imageInfo(img *images.Image) *ImageInfo {
	out := &ImageInfo{ID: img.ID, Name: img.Name, Status: string(img.Status), SizeBytes: img.SizeBytes, CreatedAt: img.CreatedAt,
		Properties: make(map[string]string, len(img.Properties)+len(img.Metadata))}
	for k, v := range img.Metadata {
		out.Properties[k] = v
	}
	for k, v := range img.Properties {
		switch t := v.(type) {
		case string:
			out.Properties[k] = t
		case nil:
			out.Properties[k] = ""
		default:
			out.Properties[k] = fmt.Sprint(t)
		}
	}
	return out
}

// Glance statuses, as strings for waitFor.
var (
	imagePending = []string{string(images.ImageStatusQueued), string(images.ImageStatusSaving),
		string(images.ImageStatusUploading), string(images.ImageStatusImporting)}
	imageFailed = []string{string(images.ImageStatusKilled), string(images.ImageStatusDeleted),
		string(images.ImageStatusPendingDelete), string(images.ImageStatusDeactivated)}
)

// SnapshotServer asks Nova for a snapshot of the server and returns the new image's id.
// The POST is sent once: a retry after the cloud acted on it would make a second image.
//
// Nova answers 409 while the server has a task in progress (another snapshot, a backup, a
// reboot): it did nothing, so the request is sent again once the task may be over. A 409 on
// the server's vm_state (error, building) is permanent and returned.
func (i *Images) SnapshotServer(ctx context.Context, serverID, name string, metadata map[string]string) (string, error) {
	action := fmt.Sprintf("snapshotting server %s into image %q", serverID, name)
	var id string
	for {
		var err error
		id, err = servers.CreateImage(ctx, i.Compute, serverID, servers.CreateImageOpts{Name: name, Metadata: metadata}).ExtractImageID()
		if err == nil {
			break
		}
		if !snapshotBusy(err) {
			return "", createError(action, err)
		}
		if werr := sleepCtx(ctx, i.Poll.interval()); werr != nil {
			return "", fmt.Errorf("%s: the server stayed busy with another task: %w (last answer: %w)", action, werr, apiError(action, err))
		}
	}
	if id == "" {
		return "", fmt.Errorf("snapshotting server %s into image %q: Nova accepted the request but returned no image id", serverID, name)
	}
	return id, nil
}

// SnapshotKeyProperty is the image property a snapshot carries until its create is complete: a
// key derived from what was asked (server and image name), so that a snapshot whose answer was
// lost, or whose apply was interrupted, is found and adopted instead of taken twice.
const SnapshotKeyProperty = "eventscale_snapshot_key"

// SnapshotKey is the adoption key of a snapshot of serverID named name.
func SnapshotKey(serverID, name string) string {
	sum := sha256.Sum256([]byte(serverID + "\x00" + name))
	return hex.EncodeToString(sum[:12])
}

// FindUnclaimedSnapshot returns the newest image named name that still carries the adoption key
// (a snapshot whose create never completed) and has not failed, or nil.
func (i *Images) FindUnclaimedSnapshot(ctx context.Context, name, key string) (*ImageInfo, error) {
	pages, err := images.List(i.Image, images.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing images named "+name, err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return nil, apiError("reading images named "+name, err)
	}
	var found *ImageInfo
	for k := range all {
		img := imageInfo(&all[k])
		if img.Properties[SnapshotKeyProperty] != key || slices.Contains(imageFailed, img.Status) {
			continue
		}
		if found == nil || img.CreatedAt.After(found.CreatedAt) {
			found = img
		}
	}
	return found, nil
}

// ClaimSnapshot removes the adoption key once the snapshot is recorded and active, so that a
// later snapshot of the same server and name (a replacement) is never mistaken for this one.
func (i *Images) ClaimSnapshot(ctx context.Context, id string) error {
	img, err := i.GetImage(ctx, id)
	if err != nil {
		return err
	}
	return i.UpdateImage(ctx, id, nil, nil, []string{SnapshotKeyProperty}, img.Properties)
}

// GetImage reads one image; a 404 satisfies IsNotFound.
func (i *Images) GetImage(ctx context.Context, id string) (*ImageInfo, error) {
	img, err := images.Get(ctx, i.Image, id).Extract()
	if err != nil {
		return nil, apiError("reading image "+id, err)
	}
	return imageInfo(img), nil
}

// WaitImageActive waits until Glance has the whole snapshot. A killed or deleted image is a
// failed snapshot: Nova's own reason is only in its logs, so the message says where to look.
func (i *Images) WaitImageActive(ctx context.Context, id string) (*ImageInfo, error) {
	img, err := waitFor(ctx, i.Poll, "image "+id, func(ctx context.Context) (*ImageInfo, string, error) {
		img, err := i.GetImage(ctx, id)
		if err != nil {
			return nil, "", err
		}
		return img, img.Status, nil
	}, imagePending, []string{string(images.ImageStatusActive)}, imageFailed)
	if err != nil && img != nil && img.Status == string(images.ImageStatusKilled) {
		return img, fmt.Errorf("%w: the snapshot failed (see the server's instance actions: openstack server event list)", err)
	}
	return img, err
}

// UpdateImage renames the image and sets or removes properties, in one JSON-patch request.
// current holds the properties the image has now (ImageInfo.Properties), so that a set becomes
// add or replace.
func (i *Images) UpdateImage(ctx context.Context, id string, name *string, set map[string]string, remove []string, current map[string]string) error {
	var ops images.UpdateOpts
	if name != nil {
		ops = append(ops, images.ReplaceImageName{NewName: *name})
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := images.AddOp
		if _, ok := current[k]; ok {
			op = images.ReplaceOp
		}
		ops = append(ops, images.UpdateImageProperty{Op: op, Name: k, Value: set[k]})
	}
	for _, k := range remove {
		if _, ok := current[k]; ok {
			ops = append(ops, images.UpdateImageProperty{Op: images.RemoveOp, Name: k})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if _, err := images.Update(ctx, i.Image, id, ops).Extract(); err != nil {
		return apiError("updating image "+id, err)
	}
	return nil
}

// DeleteImage deletes the image; one already gone is not an error.
func (i *Images) DeleteImage(ctx context.Context, id string) error {
	err := images.Delete(ctx, i.Image, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting image "+id, err)
	}
	return nil
}

// WaitImageGone waits until Glance answers 404 or shows the image deleted (admins can see
// deleted images).
func (i *Images) WaitImageGone(ctx context.Context, id string) error {
	return waitGone(ctx, i.Poll, "deletion of image "+id, func(ctx context.Context) (string, error) {
		img, err := i.GetImage(ctx, id)
		if err != nil {
			return "", err
		}
		if img.Status == string(images.ImageStatusDeleted) || img.Status == string(images.ImageStatusPendingDelete) {
			return "GONE", nil
		}
		return img.Status, nil
	})
}

// snapshotBusy reports Nova's "Cannot 'createImage' instance ... while it is in task_state ...".
func snapshotBusy(err error) bool {
	return StatusCode(err) == http.StatusConflict && strings.Contains(err.Error(), "task_state")
}
