package devcloud

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"time"
)

// upload stores nothing but the size and checksum: the image goes active at once, as with
// Glance's file store and a small body.
func (g *glanceReq) upload(id string) {
	h := md5.New()
	n, err := io.Copy(h, io.LimitReader(g.r.Body, 1<<30))
	if err != nil {
		writeGlanceError(g.w, http.StatusBadRequest, "Error reading the image data: "+err.Error())
		return
	}
	g.withOwnImage(id, "upload_image", func(img *image) {
		if img.Status != "queued" {
			writeGlanceError(g.w, http.StatusConflict, "Image status transition from "+img.Status+" to saving is not allowed")
			return
		}
		if img.ContainerFormat == "" || img.DiskFormat == "" {
			writeGlanceError(g.w, http.StatusBadRequest, "Properties container_format, disk_format must be set prior to saving data.")
			return
		}
		img.Status, img.Size, img.Checksum, img.Updated = "active", n, hex.EncodeToString(h.Sum(nil)), time.Now().UTC()
		g.c.Event("image.saved", map[string]any{"image_id": img.ID, "name": img.Name})
		g.w.WriteHeader(http.StatusNoContent)
	})
}
