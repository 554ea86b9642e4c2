package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asticode/go-astisub"
	"github.com/grafov/m3u8"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/storage"
)

// captionSegment is the length of one WebVTT segment. Players fetch the
// segment around the playhead; half a minute of text is a few kB.
const captionSegment = 30 * time.Second

// subtitlesGroup names the master's subtitle renditions.
const subtitlesGroup = "subs"

// PublishCaptions writes every caption language of a ready stream as an
// HLS subtitle rendition and names them in its master playlist (none left:
// the master loses its subtitles group). Viewers see the change within a
// playlist TTL; this edge at once.
func (m *Manager) PublishCaptions(ctx context.Context, id string) error {
	caps, err := m.DB.Captions(ctx, id)
	if err != nil {
		return err
	}
	return m.publishCaptions(ctx, id, caps)
}

func (m *Manager) publishCaptions(ctx context.Context, id string, caps []db.Caption) error {
	master, err := m.readMaster(ctx, id)
	if err != nil {
		return err
	}
	if err := m.writeMissingSubtitles(ctx, id, master, caps); err != nil {
		return err
	}
	setSubtitles(master, caps)
	masterKey := streamPrefix(id) + "master.m3u8"
	body := master.Encode().Bytes()
	if err := m.Store.Put(ctx, masterKey, bytes.NewReader(body), int64(len(body))); err != nil {
		return fmt.Errorf("write master: %w", err)
	}
	if m.Cache != nil { // the only object rewritten in place: the renditions have names of their own
		m.Cache.PurgeObject(masterKey)
	}
	return nil
}

// writeMissingSubtitles writes the renditions of the captions that have
// none yet (a version's never changes), probing the stream only then.
func (m *Manager) writeMissingSubtitles(ctx context.Context, id string, master *m3u8.MasterPlaylist, caps []db.Caption) error {
	var missing []db.Caption
	for _, c := range caps {
		_, err := m.Store.Head(ctx, streamPrefix(id)+SubtitleDir(c)+"stream.m3u8")
		if errors.Is(err, storage.ErrNotFound) {
			missing = append(missing, c)
		} else if err != nil {
			return fmt.Errorf("captions %s of %s: %w", c.Language, id, err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	timeline, err := m.timeline(ctx, id, master)
	if err != nil {
		return fmt.Errorf("captions of %s: %w", id, err)
	}
	for _, c := range missing {
		if err := m.writeSubtitles(ctx, c, timeline); err != nil {
			return fmt.Errorf("captions %s of %s: %w", c.Language, id, err)
		}
	}
	return nil
}

// readMaster reads a stream's master playlist from storage.
func (m *Manager) readMaster(ctx context.Context, id string) (*m3u8.MasterPlaylist, error) {
	raw, err := getAll(ctx, m.Store, streamPrefix(id)+"master.m3u8")
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoMaster
	} else if err != nil {
		return nil, fmt.Errorf("read master: %w", err)
	}
	return decodeMaster(raw)
}

func decodeMaster(raw []byte) (*m3u8.MasterPlaylist, error) {
	pl, kind, err := m3u8.DecodeFrom(bytes.NewReader(raw), false)
	master, ok := pl.(*m3u8.MasterPlaylist)
	if err != nil || kind != m3u8.MASTER || !ok {
		return nil, fmt.Errorf("the master playlist cannot be read: %v", err)
	}
	return master, nil
}

// setSubtitles makes the master's subtitle renditions those of caps.
func setSubtitles(master *m3u8.MasterPlaylist, caps []db.Caption) {
	var alts []*m3u8.Alternative
	for _, c := range caps {
		alts = append(alts, &m3u8.Alternative{Type: "SUBTITLES", GroupId: subtitlesGroup, Name: c.Label, Language: c.Language,
			Autoselect: "YES", URI: SubtitleDir(c) + "stream.m3u8"})
	}
	for _, v := range master.Variants {
		kept := v.Alternatives[:0]
		for _, a := range v.Alternatives {
			if a != nil && a.Type != "SUBTITLES" {
				kept = append(kept, a)
			}
		}
		v.Alternatives, v.Subtitles = kept, ""
		if !v.Iframe && len(alts) > 0 {
			v.Alternatives, v.Subtitles = append(v.Alternatives, alts...), subtitlesGroup
		}
	}
	master.ResetCache()
}

// timeline is where a stream's media starts (the MPEG-TS clock, 90 kHz, of
// its first picture: WebVTT cues are mapped onto it by X-TIMESTAMP-MAP)
// and how long it plays.
type timeline struct {
	start  int64
	length time.Duration
}

// timeline reads the first variant's playlist and probes its first segment.
func (m *Manager) timeline(ctx context.Context, id string, master *m3u8.MasterPlaylist) (timeline, error) {
	var first *m3u8.Variant
	for _, v := range master.Variants {
		if !v.Iframe {
			first = v
			break
		}
	}
	if first == nil {
		return timeline{}, errors.New("the master names no variant")
	}
	r, err := m.readRendition(ctx, id, first)
	if err != nil {
		return timeline{}, err
	}
	segs := r.media.GetAllSegments()
	if len(segs) == 0 {
		return timeline{}, fmt.Errorf("%s has no segments", r.key)
	}
	var tl timeline
	for _, s := range segs {
		tl.length += time.Duration(s.Duration * float64(time.Second))
	}
	f, err := m.fetchSegment(ctx, id, r, segs[0])
	if err != nil {
		return timeline{}, err
	}
	defer os.Remove(f)
	out, err := toolCommand(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file", "-show_entries", "format=start_time",
		"-of", "csv=p=0", f).Output()
	if err != nil {
		return timeline{}, fmt.Errorf("probe the first segment: %w", err)
	}
	start, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return timeline{}, fmt.Errorf("probe the first segment: start %q", out)
	}
	tl.start = int64(math.Round(start * 90000))
	return tl, nil
}

// rendition is one variant's media playlist, read from storage.
type rendition struct {
	key   string // of its playlist
	media *m3u8.MediaPlaylist
}

func (m *Manager) readRendition(ctx context.Context, id string, v *m3u8.Variant) (rendition, error) {
	key, err := insideStream(id, streamPrefix(id), v.URI)
	if err != nil {
		return rendition{}, err
	}
	raw, err := getAll(ctx, m.Store, key)
	if err != nil {
		return rendition{}, fmt.Errorf("read %s: %w", key, err)
	}
	media, err := decodeMedia(bytes.NewReader(raw), key)
	if err != nil {
		return rendition{}, err
	}
	return rendition{key: key, media: media}, nil
}

// dirOf is the folder of a key, with its slash.
func dirOf(key string) string { return path.Dir(key) + "/" }

// insideStream resolves a playlist's relative URI against dir, refusing
// anything outside the stream's prefix.
func insideStream(id, dir, uri string) (string, error) {
	key := path.Join(dir, uri)
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") || !strings.HasPrefix(key, streamPrefix(id)) {
		return "", fmt.Errorf("the playlist names %q, outside the stream", uri)
	}
	return key, nil
}

// fetchSegment downloads one segment (after its init section, for fMP4)
// into a temporary file a tool can read alone, and returns its path.
func (m *Manager) fetchSegment(ctx context.Context, id string, r rendition, seg *m3u8.MediaSegment) (string, error) {
	parts := []string{seg.URI}
	if r.media.Map != nil {
		parts = append([]string{r.media.Map.URI}, parts...)
	}
	f, err := os.CreateTemp(m.TempDir, TempPrefix+"segment-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range parts {
		if err := m.appendObject(ctx, id, r, p, f); err != nil {
			os.Remove(f.Name())
			return "", err
		}
	}
	return filepath.Clean(f.Name()), nil
}

// writeSubtitles cuts one language's WebVTT into segments of the stream's
// timeline, each with the cues that show during it, and their playlist.
func (m *Manager) writeSubtitles(ctx context.Context, c db.Caption, tl timeline) error {
	raw, err := getAll(ctx, m.Store, captionKey(c))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	subs, err := astisub.ReadFromWebVTT(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	n := int(math.Ceil(tl.length.Seconds() / captionSegment.Seconds()))
	playlist, err := m3u8.NewMediaPlaylist(0, uint(max(n, 1)))
	if err != nil {
		return err
	}
	playlist.MediaType = m3u8.VOD
	playlist.TargetDuration = captionSegment.Seconds()
	dir := streamPrefix(c.StreamID) + SubtitleDir(c)
	for i := range n {
		from := time.Duration(i) * captionSegment
		to := min(from+captionSegment, tl.length)
		seg := astisub.NewSubtitles()
		seg.Metadata = &astisub.Metadata{WebVTTTimestampMap: &astisub.WebVTTTimestampMap{MpegTS: tl.start}}
		for _, it := range subs.Items {
			if it.StartAt < to && it.EndAt > from {
				seg.Items = append(seg.Items, it)
			}
		}
		var body bytes.Buffer
		if err := writeVTT(seg, &body); err != nil {
			return err
		}
		name := "segment-" + strconv.Itoa(i) + ".vtt"
		if err := m.Store.Put(ctx, dir+name, bytes.NewReader(body.Bytes()), int64(body.Len())); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := playlist.Append(name, (to - from).Seconds(), ""); err != nil {
			return err
		}
	}
	playlist.Close()
	body := playlist.Encode().Bytes()
	return m.Store.Put(ctx, dir+"stream.m3u8", bytes.NewReader(body), int64(len(body)))
}

// writeVTT writes a segment; one with no cue is a bare header, which
// go-astisub refuses to write.
func writeVTT(s *astisub.Subtitles, w *bytes.Buffer) error {
	if len(s.Items) == 0 {
		w.WriteString("WEBVTT\n" + s.Metadata.WebVTTTimestampMap.String() + "\n")
		return nil
	}
	return s.WriteToWebVTT(w)
}
