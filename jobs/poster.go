package jobs

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// SetPoster makes the picture at a moment of a ready stream its poster:
// a frame of the rendition the poster's shape comes from (the tallest up to
// 720p, as the runner's own poster), taken from the segment around it. A
// poster is immutable to caches, so each one gets a key of its own.
func (m *Manager) SetPoster(ctx context.Context, id string, at time.Duration) (*db.Stream, error) {
	st, err := m.DB.Stream(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case st.Status != db.StatusReady:
		return nil, apperr.New(apperr.Invalid, "time: the video is not ready yet; choose its poster once it plays")
	case at < 0 || st.Duration > 0 && at >= st.Duration:
		return nil, apperr.Errorf(apperr.Invalid, "time: from 0 to %.1f seconds, within the video", st.Duration.Seconds())
	}
	master, err := m.readMaster(ctx, id)
	if err != nil {
		return nil, err
	}
	v := posterVariant(master)
	if v == nil {
		return nil, apperr.New(apperr.Invalid, "time: this stream has no picture to take a poster from")
	}
	jpeg, err := m.grabStreamFrame(ctx, id, v, at, 0)
	if err != nil {
		return nil, err
	}
	defer os.Remove(jpeg)
	key := fmt.Sprintf("%sposter-%d.jpg", streamPrefix(id), time.Now().UnixMilli())
	if err := putFile(ctx, m.Store, key, jpeg); err != nil {
		return nil, err
	}
	if err := m.DB.SetPosterKey(ctx, id, key); err != nil {
		return nil, err
	}
	if old := st.PosterKey; strings.HasPrefix(old, streamPrefix(id)+"poster-") {
		if err := m.Store.Delete(ctx, old); err != nil {
			m.Log.Warn("delete the former poster", "key", old, "err", err)
		}
	}
	return m.DB.Stream(ctx, id)
}

// posterVariant is the tallest picture up to 720 lines on its short side,
// else the smallest; nil for audio only.
func posterVariant(master *m3u8.MasterPlaylist) *m3u8.Variant {
	var best, smallest *m3u8.Variant
	bestShort, smallestShort := 0, 1<<30
	for _, v := range master.Variants {
		w, h, ok := parseResolution(v.Resolution)
		if v.Iframe || !ok {
			continue
		}
		short := min(w, h)
		if short <= 720 && short > bestShort {
			best, bestShort = v, short
		}
		if short < smallestShort {
			smallest, smallestShort = v, short
		}
	}
	if best != nil {
		return best
	}
	return smallest
}

func parseResolution(s string) (w, h int, ok bool) {
	ws, hs, found := strings.Cut(s, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	return w, h, found && errW == nil && errH == nil && w > 0 && h > 0
}

// grabStreamFrame writes the frame at `at` as a JPEG (width wide, in its
// shape; 0: as it is) and returns its path.
func (m *Manager) grabStreamFrame(ctx context.Context, id string, v *m3u8.Variant, at time.Duration, width int) (string, error) {
	r, err := m.readRendition(ctx, id, v)
	if err != nil {
		return "", err
	}
	var from time.Duration
	var seg *m3u8.MediaSegment
	for _, s := range r.media.GetAllSegments() {
		d := time.Duration(s.Duration * float64(time.Second))
		seg = s
		if at < from+d {
			break
		}
		from += d
	}
	if seg == nil {
		return "", fmt.Errorf("%s has no segments", r.key)
	}
	src, err := m.fetchSegment(ctx, id, r, seg)
	if err != nil {
		return "", err
	}
	defer os.Remove(src)
	out := src + ".jpg"
	offset := max(at-from, 0)
	// -ss after -i decodes from the segment's start (a keyframe, a few
	// seconds at most) to the moment: before -i it seeks on timestamps the
	// segment does not start at 0 with, and finds nothing.
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-protocol_whitelist", "file",
		"-i", src, "-ss", strconv.FormatFloat(offset.Seconds(), 'f', 3, 64), "-frames:v", "1"}
	if width > 0 {
		args = append(args, "-vf", fmt.Sprintf("scale=%d:-2", width))
	}
	output, err := toolCommand(ctx, "ffmpeg", append(args, "-q:v", "3", out)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("grab the poster frame: %w: %s", err, lastLine(string(output)))
	}
	if _, err := os.Stat(out); err != nil {
		return "", fmt.Errorf("grab the poster frame: ffmpeg wrote no picture at %s into its segment", offset)
	}
	return out, nil
}

func putFile(ctx context.Context, store storage.Store, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := store.Put(ctx, key, f, fi.Size()); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}
