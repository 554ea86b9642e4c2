package jobs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

const talkSRT = "1\n00:00:01,000 --> 00:00:03,500\nHello, and welcome.\n\n2\n00:00:31,000 --> 00:00:33,000\nHalf a minute in.\n"

type purges struct{ playlists []string } // the masters purged

func (p *purges) PurgeStream(string)     {}
func (p *purges) RefreshRules() error    { return nil }
func (p *purges) PurgeObject(key string) { p.playlists = append(p.playlists, key) }

// readyLadder is a ready stream whose package is a real ffmpeg ladder.
func readyLadder(t *testing.T, seconds int) (*jobs.Manager, *storage.FileStore, *purges, string) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	fs := storagetest.NewFileStore(t, nil)
	p := &purges{}
	m := &jobs.Manager{DB: d, Store: fs, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Cache: p, TempDir: t.TempDir()}
	st, err := d.CreateStream(ctx, db.NewStream{Title: "Talk", Status: db.StatusQueued})
	if err != nil {
		t.Fatal(err)
	}
	hlstest.MakeLadder(t, filepath.Join(fs.Dir(), "streams", st.ID), seconds)
	return m, fs, p, st.ID
}

func read(t *testing.T, fs storage.Store, key string) string {
	t.Helper()
	obj, err := fs.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return string(b)
}

// Captions added to a ready stream become an HLS subtitle rendition that
// an independent parser (video.js's m3u8-parser) finds in the master, with
// segmented WebVTT mapped onto the video's own clock.
func TestCaptionsBecomeASubtitleRendition(t *testing.T) {
	ctx := context.Background()
	m, fs, p, id := readyLadder(t, 32)
	if err := m.DB.SetStreamState(ctx, id, db.StatusReady, 100, ""); err != nil {
		t.Fatal(err)
	}
	c, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "EN-gb", File: strings.NewReader(talkSRT)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Language != "en-GB" || c.Label != "British English" || c.Cues != 2 {
		t.Fatalf("caption %+v", c)
	}
	if _, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "fr", Label: "Français (auto)",
		File: strings.NewReader("WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nBonjour.\n")}); err != nil {
		t.Fatal(err)
	}
	master := hlstest.ParsePlaylist(t, []byte(read(t, fs, "streams/"+id+"/master.m3u8")))
	subs := master.MediaGroups["SUBTITLES"]["subs"]
	if len(subs) != 2 || subs["British English"].URI != jobs.SubtitleDir(*c)+"stream.m3u8" || subs["Français (auto)"].Language != "fr" {
		t.Fatalf("subtitle renditions %+v", master.MediaGroups)
	}
	for _, v := range master.Playlists {
		if v.Attributes["SUBTITLES"] != "subs" {
			t.Errorf("variant %s has SUBTITLES=%v", v.URI, v.Attributes["SUBTITLES"])
		}
	}
	if len(master.Playlists) != 2 || len(p.playlists) != 2 {
		t.Fatalf("%d variants after the rewrite, %d playlist purges", len(master.Playlists), len(p.playlists))
	}

	media := hlstest.ParsePlaylist(t, []byte(read(t, fs, "streams/"+id+"/"+jobs.SubtitleDir(*c)+"stream.m3u8")))
	if !media.EndList || len(media.Segments) != 2 || media.Segments[0].URI != "segment-0.vtt" || media.Segments[0].Duration != 30 || media.Segments[1].Duration < 1.5 {
		t.Fatalf("subtitle playlist %+v", media)
	}
	var start struct {
		Format struct {
			StartTime string `json:"start_time"`
		}
	}
	hlstest.FFprobe(t, &start, "-show_entries", "format=start_time", filepath.Join(fs.Dir(), "streams", id, "720p", "segment-0.ts"))
	seconds, _ := strconv.ParseFloat(start.Format.StartTime, 64)
	wantMap := "X-TIMESTAMP-MAP=LOCAL:00:00:00.000,MPEGTS:" + strconv.Itoa(int(seconds*90000+0.5))
	first, second := read(t, fs, "streams/"+id+"/"+jobs.SubtitleDir(*c)+"segment-0.vtt"), read(t, fs, "streams/"+id+"/"+jobs.SubtitleDir(*c)+"segment-1.vtt")
	if !strings.Contains(first, wantMap) || !strings.Contains(first, "Hello, and welcome.") || strings.Contains(first, "Half a minute") {
		t.Fatalf("segment 0 (want %s):\n%s", wantMap, first)
	}
	if !strings.Contains(second, "00:00:31.000 --> 00:00:33.000") || strings.Contains(second, "Hello") {
		t.Fatalf("segment 1:\n%s", second)
	}

	// Removing the last language takes the group off the master and its objects away.
	for _, lang := range []string{"en-GB", "fr"} {
		if err := m.RemoveCaptions(ctx, id, lang); err != nil {
			t.Fatal(err)
		}
	}
	if master := read(t, fs, "streams/"+id+"/master.m3u8"); strings.Contains(master, "SUBTITLES") {
		t.Fatalf("master after removal:\n%s", master)
	}
	if left, _ := fs.List(ctx, "streams/"+id+"/subtitles/"); len(left) != 0 {
		t.Fatalf("%d subtitle objects left", len(left))
	}
	if err := m.RemoveCaptions(ctx, id, "fr"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

// Captions added while the video transcodes wait in storage, and are put in
// its player as it becomes ready.
func TestCaptionsAddedBeforeReady(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 4)
	if _, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "de", File: strings.NewReader(talkSRT)}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(read(t, fs, "streams/"+id+"/master.m3u8"), "SUBTITLES") {
		t.Fatal("captions published before the stream was ready")
	}
	if err := m.FinishPackage(ctx, id); err != nil {
		t.Fatal(err)
	}
	master := read(t, fs, "streams/"+id+"/master.m3u8")
	if !regexp.MustCompile(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",DEFAULT=NO,AUTOSELECT=YES,LANGUAGE="de",URI="subtitles/de/\d+/stream.m3u8"`).MatchString(master) {
		t.Fatalf("master:\n%s", master)
	}
}

// Bad captions are refused with a reason naming the field, and change nothing.
func TestBadCaptionsAreRefused(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 2)
	for _, tc := range []struct{ lang, label, body, want string }{
		{"english please", "", talkSRT, "language: "},
		{"", "", talkSRT, "language: "},
		{"en", strings.Repeat("x", 101), talkSRT, "label: "},
		{"en", `say "hi"`, talkSRT, "label: "},
		{"en", "", "", "file: no captions found"},
		{"en", "", "just some words\nnot captions\n", "file: "},
		{"en", "", "\x00\x01\xff\xfebinary", "file: captions must be UTF-8"},
		{"fr", "", "1\n00:00:01,000 --> 00:00:03,000\nCaf\xe9 cr\xe8me\n", "file: captions must be UTF-8 text (or UTF-16 with a byte-order mark): save the file as UTF-8"},
		{"en", "", strings.Repeat("x", 2<<20+1), "file: captions are at most 2 MiB"},
		{"en", "", "1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", "file: the caption at 5s ends before it starts"},
	} {
		_, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: tc.lang, Label: tc.label, File: strings.NewReader(tc.body)})
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.Invalid || !strings.HasPrefix(ae.Message, tc.want) {
			t.Errorf("%q %q %.20q: %v, want %q", tc.lang, tc.label, tc.body, err, tc.want)
		}
	}
	if _, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: "nosuchstream", Language: "en", File: strings.NewReader(talkSRT)}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown stream: %v", err)
	}
	if caps, _ := m.DB.Captions(ctx, id); len(caps) != 0 {
		t.Fatalf("refused captions were kept: %+v", caps)
	}
	if left, _ := fs.List(ctx, "streams/"+id+"/subtitles/"); len(left) != 0 {
		t.Fatalf("refused captions left %d objects", len(left))
	}
}

// A ready stream whose media cannot be read keeps no captions it could not
// put in its player: what is listed is what plays.
func TestCaptionsThatCannotBePlacedAreNotKept(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 2)
	if err := m.DB.SetStreamState(ctx, id, db.StatusReady, 100, ""); err != nil {
		t.Fatal(err)
	}
	garbage := "not a transport stream"
	if err := fs.Put(ctx, "streams/"+id+"/720p/segment-0.ts", strings.NewReader(garbage), int64(len(garbage))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "en", File: strings.NewReader(talkSRT)}); err == nil {
		t.Fatal("captions placed on a stream whose first segment cannot be read")
	}
	if caps, _ := m.DB.Captions(ctx, id); len(caps) != 0 {
		t.Fatalf("listed: %+v", caps)
	}
	if strings.Contains(read(t, fs, "streams/"+id+"/master.m3u8"), "SUBTITLES") {
		t.Fatal("the master names captions that were refused")
	}
}

// The ffmpeg runner's own ladder: captions added while the stream is
// queued are in its master when it turns ready.
func TestCaptionsAddedWhileTranscodingReachTheReadyMaster(t *testing.T) {
	ctx := context.Background()
	store := storagetest.NewFileStore(t, nil)
	r := newRig(t, store)
	r.manager.TempDir = t.TempDir()
	r.worker.BeforeReady = r.manager.FinishPackage
	putSource(t, store, "uploads/in/talk.mp4", 3, "640x360", true) // one rung
	st, err := r.manager.Submit(ctx, jobs.Submission{Source: "uploads/in/talk.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.manager.AddCaptions(ctx, jobs.CaptionUpload{StreamID: st.ID, Language: "es", File: strings.NewReader(talkSRT)}); err != nil {
		t.Fatal(err)
	}
	start(t, r.worker)
	waitStatus(t, r.db, st.ID, db.StatusReady, 2*time.Minute)
	master := hlstest.ParsePlaylist(t, []byte(read(t, store, "streams/"+st.ID+"/master.m3u8")))
	if es := master.MediaGroups["SUBTITLES"]["subs"]["español"]; !regexp.MustCompile(`^subtitles/es/\d+/stream\.m3u8$`).MatchString(es.URI) || len(master.Playlists) != 1 {
		t.Fatalf("master %+v", master)
	}
	if len(master.IFramePlaylists) != 1 {
		t.Fatalf("the rewrite lost the I-frame playlists: %+v", master.IFramePlaylists)
	}
	for _, v := range master.Playlists {
		if v.Number("AVERAGE-BANDWIDTH") == 0 || v.Attributes["FRAME-RATE"] == nil || v.Attributes["SUBTITLES"] != "subs" {
			t.Errorf("variant %s lost its measured attributes: %v", v.URI, v.Attributes)
		}
	}
}

// Captions replaced in a language get a folder of their own (WebVTT is
// cached as immutable: the old names would keep the old cues in every
// cache), the master names the new one, and the old one is gone.
func TestReplacedCaptionsGetNewNames(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 4)
	m.DB.SetStreamState(ctx, id, db.StatusReady, 100, "")
	first, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "en", File: strings.NewReader(talkSRT)})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "a new millisecond", func() bool { return time.Now().UnixMilli() > first.CreatedAt.UnixMilli() })
	fixed := strings.Replace(talkSRT, "Hello, and welcome.", "Hello and welcome!", 1)
	second, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: "en", File: strings.NewReader(fixed)})
	if err != nil {
		t.Fatal(err)
	}
	if jobs.SubtitleDir(*first) == jobs.SubtitleDir(*second) {
		t.Fatalf("both versions in %s", jobs.SubtitleDir(*first))
	}
	master := read(t, fs, "streams/"+id+"/master.m3u8")
	if !strings.Contains(master, jobs.SubtitleDir(*second)) || strings.Contains(master, jobs.SubtitleDir(*first)) {
		t.Fatalf("master:\n%s", master)
	}
	if seg := read(t, fs, "streams/"+id+"/"+jobs.SubtitleDir(*second)+"segment-0.vtt"); !strings.Contains(seg, "Hello and welcome!") {
		t.Fatalf("new segment:\n%s", seg)
	}
	if old, _ := fs.List(ctx, "streams/"+id+"/"+jobs.SubtitleDir(*first)); len(old) != 0 {
		t.Fatalf("%d objects of the replaced captions left", len(old))
	}
}

// Captions saved as UTF-16 with a byte-order mark, as Windows tools save
// "Unicode" text, are read in either byte order.
func TestUTF16CaptionsAreRead(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 2)
	srt := "1\r\n00:00:00,500 --> 00:00:01,500\r\nCafé crème, naïve\r\n"
	for lang, order := range map[string]binary.AppendByteOrder{"fr": binary.LittleEndian, "fr-CA": binary.BigEndian} {
		var file []byte
		for _, u := range utf16.Encode([]rune("\ufeff" + srt)) {
			file = order.AppendUint16(file, u)
		}
		c, err := m.AddCaptions(ctx, jobs.CaptionUpload{StreamID: id, Language: lang, File: bytes.NewReader(file)})
		if err != nil {
			t.Fatalf("%s: %v", order, err)
		}
		if seg := read(t, fs, "streams/"+id+"/"+jobs.SubtitleDir(*c)+"captions.vtt"); c.Cues != 1 || !strings.Contains(seg, "Café crème, naïve") {
			t.Errorf("%s: %d cues, segment:\n%s", order, c.Cues, seg)
		}
	}
}
