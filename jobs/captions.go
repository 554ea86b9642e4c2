package jobs

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asticode/go-astisub"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// Captions are uploaded as WebVTT or SRT (read by go-astisub, a maintained
// subtitle library, rather than a parser of ours), kept whole in storage as
// WebVTT, and published as HLS subtitle renditions: each language a media
// playlist of WebVTT segments (subtitles/<lang>/<version>/stream.m3u8), named in the
// master by EXT-X-MEDIA TYPE=SUBTITLES, so hls.js and Safari list them.
// They sit under the stream's prefix, so they follow its playback policy.

const (
	maxCaptionBytes = 2 << 20
	maxCaptionCues  = 50000
	maxLabelLen     = 100
)

// CaptionUpload is one language's captions for a stream.
type CaptionUpload struct {
	StreamID string
	Language string // a BCP 47 tag: en, fr, pt-BR
	Label    string // what the player's menu says; "" for the language's own name
	File     io.Reader
}

// SubtitleDir is a caption's folder in its stream: one for each upload (its
// time is the version), because WebVTT segments are cached as immutable
// and captions replaced under the same names would never reach a viewer
// who saw the old ones.
func SubtitleDir(c db.Caption) string {
	return "subtitles/" + c.Language + "/" + strconv.FormatInt(c.CreatedAt.UnixMilli(), 10) + "/"
}

// captionKey is where a caption's whole WebVTT file is kept.
func captionKey(c db.Caption) string {
	return streamPrefix(c.StreamID) + SubtitleDir(c) + "captions.vtt"
}

// languageDir holds every version of a language's captions.
func languageDir(id, lang string) string { return streamPrefix(id) + "subtitles/" + lang + "/" }

// AddCaptions stores a stream's captions in a language (replacing any it
// had) and, if the stream is ready, puts them in its player at once;
// otherwise they are put there when it becomes ready.
func (m *Manager) AddCaptions(ctx context.Context, in CaptionUpload) (*db.Caption, error) {
	st, err := m.DB.Stream(ctx, in.StreamID)
	if err != nil {
		return nil, err
	}
	lang, label, err := captionLanguage(in.Language, in.Label)
	if err != nil {
		return nil, err
	}
	subs, err := readCaptions(in.File)
	if err != nil {
		return nil, err
	}
	var vtt bytes.Buffer
	if err := subs.WriteToWebVTT(&vtt); err != nil {
		return nil, fmt.Errorf("write captions: %w", err)
	}
	c := db.Caption{StreamID: st.ID, Language: lang, Label: label, Cues: len(subs.Items), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := m.Store.Put(ctx, captionKey(c), bytes.NewReader(vtt.Bytes()), int64(vtt.Len())); err != nil {
		return nil, fmt.Errorf("store captions: %w", err)
	}
	saved, err := m.placeCaption(ctx, st, c)
	if err != nil {
		m.dropVersions(ctx, c, func(key string) bool { return strings.HasPrefix(key, streamPrefix(c.StreamID)+SubtitleDir(c)) })
		return nil, err
	}
	m.dropVersions(ctx, c, func(key string) bool { return !strings.HasPrefix(key, streamPrefix(c.StreamID)+SubtitleDir(c)) })
	return saved, nil
}

// placeCaption puts a new caption in a ready stream's player first (a
// caption listed is a caption that plays), then lists it.
func (m *Manager) placeCaption(ctx context.Context, st *db.Stream, c db.Caption) (*db.Caption, error) {
	if st.Status == db.StatusReady {
		caps, err := m.DB.Captions(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		caps = slices.DeleteFunc(caps, func(o db.Caption) bool { return o.Language == c.Language })
		caps = append(caps, c)
		slices.SortFunc(caps, func(a, b db.Caption) int { return strings.Compare(a.Language, b.Language) })
		if err := m.publishCaptions(ctx, st.ID, caps); err != nil {
			return nil, err
		}
	}
	return m.DB.PutCaption(ctx, c)
}

// dropVersions deletes the objects of c's language that drop says to: the
// versions it replaced, or its own when it could not be placed.
func (m *Manager) dropVersions(ctx context.Context, c db.Caption, drop func(key string) bool) {
	objects, err := m.Store.List(ctx, languageDir(c.StreamID, c.Language))
	for _, o := range objects {
		if drop(o.Key) && err == nil {
			err = m.Store.Delete(ctx, o.Key)
		}
	}
	if err != nil {
		m.Log.Warn("delete old captions", "stream", c.StreamID, "language", c.Language, "err", err)
	}
}

// RemoveCaptions takes a language's captions off a stream and its player.
func (m *Manager) RemoveCaptions(ctx context.Context, id, lang string) error {
	st, err := m.DB.Stream(ctx, id)
	if err != nil {
		return err
	}
	if err := m.DB.DeleteCaption(ctx, id, lang); err != nil {
		return err
	}
	if st.Status == db.StatusReady {
		if err := m.PublishCaptions(ctx, id); err != nil {
			return err
		}
	}
	return m.deletePrefix(ctx, m.Store, languageDir(id, lang))
}

// captionLanguage checks a BCP 47 tag and returns it canonical, with the
// label (by default the language's name in itself: English, Français).
func captionLanguage(raw, label string) (string, string, error) {
	tag, err := language.Parse(strings.TrimSpace(raw))
	if err != nil || tag == language.Und {
		return "", "", apperr.Errorf(apperr.Invalid, "language: %q is not a language tag; want one such as en, fr or pt-BR", raw)
	}
	lang := tag.String()
	label = strings.TrimSpace(label)
	if label == "" {
		label = cmp.Or(display.Self.Name(tag), lang)
	}
	if utf8.RuneCountInString(label) > maxLabelLen || strings.ContainsAny(label, "\"\r\n") {
		return "", "", apperr.Errorf(apperr.Invalid, "label: at most %d characters, no quotes or line breaks", maxLabelLen)
	}
	return lang, label, nil
}

// readCaptions reads a WebVTT file (it starts with WEBVTT) or an SRT file.
func readCaptions(r io.Reader) (*astisub.Subtitles, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxCaptionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read captions: %w", err)
	}
	if len(body) > maxCaptionBytes {
		return nil, apperr.Errorf(apperr.Invalid, "file: captions are at most %d MiB", maxCaptionBytes>>20)
	}
	if body, err = utf8Text(body); err != nil {
		return nil, err
	}
	read, format := astisub.ReadFromSRT, "SRT"
	if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("WEBVTT")) {
		read, format = astisub.ReadFromWebVTT, "WebVTT"
	}
	subs, err := read(bytes.NewReader(body))
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, "file: not a %s file edge can read (%s)", format, strings.TrimPrefix(err.Error(), "astisub: "))
	}
	switch {
	case len(subs.Items) == 0:
		return nil, apperr.New(apperr.Invalid, "file: no captions found: want a WebVTT (.vtt) or SRT (.srt) file")
	case len(subs.Items) > maxCaptionCues:
		return nil, apperr.Errorf(apperr.Invalid, "file: more than %d captions", maxCaptionCues)
	}
	for _, it := range subs.Items {
		if it.EndAt <= it.StartAt || it.StartAt < 0 {
			return nil, apperr.Errorf(apperr.Invalid, "file: the caption at %s ends before it starts", it.StartAt)
		}
	}
	subs.Order()
	return subs, nil
}

// utf8Text returns a captions file as UTF-8 without a byte-order mark.
// Windows tools save "Unicode" text as UTF-16 with a mark, which says how
// to read it; other encodings carry no mark, and guessing one (Latin-1 or
// Cyrillic?) would publish garbled captions, so they are refused with how
// to fix the file.
func utf8Text(body []byte) ([]byte, error) {
	if bytes.HasPrefix(body, []byte{0xff, 0xfe}) || bytes.HasPrefix(body, []byte{0xfe, 0xff}) {
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(body)
		if err != nil { // the decoder replaces what it cannot read; this is not the file's fault
			return nil, fmt.Errorf("decode UTF-16 captions: %w", err)
		}
		return out, nil
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(body) {
		return nil, apperr.New(apperr.Invalid, "file: captions must be UTF-8 text (or UTF-16 with a byte-order mark): save the file as UTF-8 and add it again")
	}
	return body, nil
}

// FinishPackage completes a stream's package as it becomes ready (the
// transcoder has written its master): its captions go into the master, and
// its MP4 download, if it offers one, is made in the background.
func (m *Manager) FinishPackage(ctx context.Context, id string) error {
	st, err := m.DB.Stream(ctx, id)
	if err != nil {
		return err
	}
	if st.Downloads {
		m.queueDownload(id)
	}
	caps, err := m.DB.Captions(ctx, id)
	if err != nil || len(caps) == 0 {
		return err
	}
	return m.publishCaptions(ctx, id, caps)
}

// getAll reads a whole object.
func getAll(ctx context.Context, store storage.Store, key string) ([]byte, error) {
	obj, err := store.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	return io.ReadAll(io.LimitReader(obj.Body, 64<<20))
}

var errNoMaster = errors.New("the stream has no master playlist")
