package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/grafov/m3u8"

	"github.com/edgehls/edge/db"
)

// An MP4 download is the top rendition's segments joined and remuxed
// (-c copy: no second encode) with the index at the front (faststart), so
// it plays while it downloads. It is made in the background once the
// stream is ready, and deleted when its stream stops offering it.

// downloadTimeout bounds making one download.
const downloadTimeout = time.Hour

func downloadKey(id string) string { return streamPrefix(id) + "download.mp4" }

// queueDownload makes a stream's download in the background.
func (m *Manager) queueDownload(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), downloadTimeout)
		defer cancel()
		start := time.Now()
		if err := m.MakeDownload(ctx, id); err != nil {
			m.Log.Error("make the MP4 download", "stream", id, "err", err)
			return
		}
		m.Log.Info("MP4 download made", "stream", id, "took", time.Since(start).Round(time.Millisecond))
	}()
}

// MakeDownload writes download.mp4 from the stream's top rendition.
func (m *Manager) MakeDownload(ctx context.Context, id string) error {
	master, err := m.readMaster(ctx, id)
	if err != nil {
		return err
	}
	var top *m3u8.Variant
	for _, v := range master.Variants {
		if !v.Iframe && (top == nil || v.Bandwidth > top.Bandwidth) {
			top = v
		}
	}
	if top == nil {
		return errors.New("the master names no variant")
	}
	r, err := m.readRendition(ctx, id, top)
	if err != nil {
		return err
	}
	joined, err := m.joinSegments(ctx, id, r)
	if err != nil {
		return err
	}
	defer os.Remove(joined)
	out := joined + ".mp4"
	defer os.Remove(out)
	output, err := toolCommand(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-protocol_whitelist", "file",
		"-i", joined, "-map", "0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out).CombinedOutput()
	if err != nil {
		return fmt.Errorf("remux: %w: %s", err, lastLine(string(output)))
	}
	if err := putFile(ctx, m.Store, downloadKey(id), out); err != nil {
		return err
	}
	if err := m.DB.SetDownloadKey(ctx, id, downloadKey(id)); err != nil {
		return err
	}
	// Switched off (or deleted) meanwhile: what was just written goes again.
	if st, err := m.DB.Stream(ctx, id); err != nil || !st.Downloads {
		return m.removeDownload(ctx, id)
	}
	return nil
}

// joinSegments writes the rendition's init section (fMP4) and segments,
// in order, into one file: MPEG-TS and fragmented MP4 both join by bytes.
func (m *Manager) joinSegments(ctx context.Context, id string, r rendition) (string, error) {
	f, err := os.CreateTemp(m.TempDir, TempPrefix+"joined-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	keys := []string{}
	if r.media.Map != nil {
		keys = append(keys, r.media.Map.URI)
	}
	for _, s := range r.media.GetAllSegments() {
		keys = append(keys, s.URI)
	}
	for _, uri := range keys {
		if err := m.appendObject(ctx, id, r, uri, f); err != nil {
			os.Remove(f.Name())
			return "", err
		}
	}
	return f.Name(), nil
}

func (m *Manager) appendObject(ctx context.Context, id string, r rendition, uri string, w io.Writer) error {
	key, err := insideStream(id, dirOf(r.key), uri)
	if err != nil {
		return err
	}
	obj, err := m.Store.Get(ctx, key, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer obj.Body.Close()
	if _, err := io.Copy(w, obj.Body); err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return nil
}

// removeDownload deletes a stream's download and this edge's copy of it.
func (m *Manager) removeDownload(ctx context.Context, id string) error {
	if err := m.Store.Delete(ctx, downloadKey(id)); err != nil {
		return fmt.Errorf("delete the download: %w", err)
	}
	if m.Cache != nil {
		m.Cache.PurgeObject(downloadKey(id))
	}
	return m.DB.SetDownloadKey(ctx, id, "")
}

// downloadsChanged follows a switch of a stream's downloads.
func (m *Manager) downloadsChanged(ctx context.Context, st *db.Stream) error {
	switch {
	case !st.Downloads:
		return m.removeDownload(ctx, st.ID)
	case st.Status == db.StatusReady && st.DownloadKey == "":
		m.queueDownload(st.ID)
	}
	return nil
}
