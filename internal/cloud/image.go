package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
// The POST is sent once: a retry after the cloud acted on it would make a second image. The
// metadata carries the adoption key (SnapshotKeyProperty), which names the images this request
// may leave behind.
func (i *Images) SnapshotServer(ctx context.Context, serverID, name string, metadata map[string]string) (string, error) {
	action := fmt.Sprintf("snapshotting server %s into image %q", serverID, name)
	id, err := i.sendImageAction(ctx, action, name, SnapshotKeyProperty, metadata[SnapshotKeyProperty], func() (string, error) {
		return servers.CreateImage(ctx, i.Compute, serverID, servers.CreateImageOpts{Name: name, Metadata: metadata}).ExtractImageID()
	})
	if err == nil && id == "" {
		return "", fmt.Errorf("%s: Nova accepted the request but returned no image id", action)
	}
	return id, err
}

// sendImageAction sends a server action that makes an image (createImage, createBackup) until
// the server takes it. Nova did not start the action when:
//   - it answers 409 while the server has a task in progress (another snapshot, a backup, a
//     reboot): nothing was made, and the request is sent again once the task may be over;
//   - another task took the server between the API's state check and its save: Nova Zed
//     answers 500 naming UnexpectedTaskStateError, after making the queued image, to which
//     nothing will ever upload. That image (named name, carrying keyProperty = key) is deleted
//     before the request is sent again, so that no one adopts it and waits for it.
//
// A 409 on the server's vm_state (error, building) is permanent and returned, as is every other
// error.
func (i *Images) sendImageAction(ctx context.Context, action, name, keyProperty, key string, send func() (string, error)) (string, error) {
	for {
		id, err := send()
		if err == nil {
			return id, nil
		}
		switch {
		case snapshotBusy(err):
		case snapshotRaceLost(err) && key != "":
			if derr := i.deleteAbandonedImages(ctx, name, keyProperty, key); derr != nil {
				return "", fmt.Errorf("%s: %w; the image Nova made for it is left queued: %w", action, apiError(action, err), derr)
			}
		default:
			return "", createError(action, err)
		}
		if werr := sleepCtx(ctx, i.Poll.interval()); werr != nil {
			return "", fmt.Errorf("%s: the server stayed busy with another task: %w (last answer: %w)", action, werr, apiError(action, err))
		}
	}
}

// deleteAbandonedImages deletes the queued images named name that carry keyProperty = key: the
// images Nova made for a request of ours that lost the race for the server. Filtered again
// here, so that a cloud that ignores the name filter never makes us delete a stranger.
func (i *Images) deleteAbandonedImages(ctx context.Context, name, keyProperty, key string) error {
	all, err := i.listImages(ctx, "the queued images named "+name, images.ListOpts{Name: name, Status: images.ImageStatusQueued})
	if err != nil {
		return err
	}
	for _, img := range all {
		if img.Name != name || img.Status != string(images.ImageStatusQueued) || img.Properties[keyProperty] != key {
			continue
		}
		if err := i.DeleteImage(ctx, img.ID); err != nil {
			return err
		}
	}
	return nil
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
	all, err := i.listImages(ctx, "images named "+name, images.ListOpts{Name: name})
	if err != nil {
		return nil, err
	}
	var found *ImageInfo
	for _, img := range all {
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

// listImages lists every image the query matches, all pages; what names them in errors.
func (i *Images) listImages(ctx context.Context, what string, opts images.ListOptsBuilder) ([]*ImageInfo, error) {
	pages, err := images.List(i.Image, opts).AllPages(ctx)
	if err != nil {
		return nil, apiError("listing "+what, err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return nil, apiError("reading "+what, err)
	}
	out := make([]*ImageInfo, len(all))
	for k := range all {
		out[k] = imageInfo(&all[k])
	}
	return out, nil
}

// ErrSnapshotAbandoned: the image is queued and nothing will upload to it. Nova makes a snapshot's
// image before it starts the snapshot; when the start then fails (another task took the server,
// the server went away), the image stays queued for good.
var ErrSnapshotAbandoned = errors.New("the image stays queued: no snapshot is uploading to it")

// abandonedAfterPolls is how many poll intervals an image may stay queued while its server has
// no task before it counts as abandoned. Nova sets the server's task state before it answers
// createImage and clears it only once the upload ended, so a snapshot that runs always shows a
// task; the grace covers a request that is still between making the image and setting the task.
const abandonedAfterPolls = 5

// WaitSnapshotActive waits until Glance has the whole snapshot of serverID. A killed or
// deleted image is a failed snapshot: Nova's own reason is only in its logs, so the message
// says where to look. It also ends, with ErrSnapshotAbandoned, when the image stays queued
// while the server has no task that could upload to it (or the server is gone).
func (i *Images) WaitSnapshotActive(ctx context.Context, serverID, id string) (*ImageInfo, error) {
	const abandoned = "abandoned"
	var idleSince time.Time
	gaveUp := false
	grace := abandonedAfterPolls * i.Poll.interval()
	img, err := waitFor(ctx, i.Poll, "image "+id, func(ctx context.Context) (*ImageInfo, string, error) {
		// The server first, then the image: a snapshot that ends between the two readings
		// shows an active image, never a queued one on an idle server.
		task, err := i.serverTask(ctx, serverID)
		if err != nil {
			return nil, "", err
		}
		img, err := i.GetImage(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if img.Status != string(images.ImageStatusQueued) || task != "" {
			idleSince = time.Time{}
			return img, img.Status, nil
		}
		if idleSince.IsZero() {
			idleSince = time.Now()
		}
		if time.Since(idleSince) >= grace {
			gaveUp = true
			return img, abandoned, nil
		}
		return img, img.Status, nil
	}, imagePending, []string{string(images.ImageStatusActive)}, append([]string{abandoned}, imageFailed...))
	switch {
	case gaveUp:
		return img, fmt.Errorf("image %s of server %s: %w (the server has had no task for %s: Nova made the image, then did not start the snapshot)",
			id, serverID, ErrSnapshotAbandoned, grace)
	case err != nil && img != nil && img.Status == string(images.ImageStatusKilled):
		return img, fmt.Errorf("%w: the snapshot failed (see the server's instance actions: openstack server event list)", err)
	}
	return img, err
}

// serverTask returns the server's task state ("" when it has none or is gone).
func (i *Images) serverTask(ctx context.Context, serverID string) (string, error) {
	var s struct {
		TaskState *string `json:"OS-EXT-STS:task_state"`
	}
	err := servers.Get(ctx, i.Compute, serverID).ExtractInto(&s) // unwraps "server"
	switch {
	case IsNotFound(err):
		return "", nil
	case err != nil:
		return "", apiError("reading server "+serverID, err)
	case s.TaskState == nil:
		return "", nil
	}
	return *s.TaskState, nil
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

// snapshotRaceLost reports the 500 Nova answers when another task took the server between the
// API's state check and its save of the task state (nova.exception.UnexpectedTaskStateError).
func snapshotRaceLost(err error) bool {
	return StatusCode(err) == http.StatusInternalServerError && strings.Contains(err.Error(), "UnexpectedTaskStateError")
}
