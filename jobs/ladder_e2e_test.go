package jobs_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

// ladderCase is a source ffmpeg makes and the ladder edge must make of it.
type ladderCase struct {
	name    string
	source  []string // ffmpeg arguments after its inputs' -f lavfi
	remux   []string // arguments of a stream-copy pass after (tags the encoder drops)
	rungs   []string // name:WxH, highest first
	fps     float64
	audio   bool
	seconds float64
	frames  int  // when set, every rung has about this many frames (none duplicated)
	ceiling int  // when set, the top rung's peak segment bitrate in kb/s stays under it
	cover   bool // audio only: the file's cover art is the poster
}

const pattern = "testsrc2=size=%s:rate=%s"

func lavfi(spec string, args ...any) []string {
	return []string{"-f", "lavfi", "-i", fmt.Sprintf(spec, args...)}
}

func withSine(args ...string) []string {
	return append(append(lavfi("sine=frequency=440"), args...), "-c:a", "aac")
}

var ladderCases = []ladderCase{
	{name: "1080p30 landscape", source: append(lavfi(pattern, "1920x1080", "30"), withSine("-t", "2")...),
		rungs: []string{"1080p:1920x1080", "720p:1280x720", "480p:854x480", "360p:640x360"}, fps: 30, audio: true, seconds: 2},
	{name: "1080x1920 portrait", source: append(lavfi(pattern, "1080x1920", "30"), withSine("-t", "2")...),
		rungs: []string{"1080p:1080x1920", "720p:720x1280", "480p:480x854", "360p:360x640"}, fps: 30, audio: true, seconds: 2},
	{name: "portrait by rotation tag", source: append(lavfi(pattern, "1280x720", "30"), "-t", "2"), remux: []string{"-metadata:s:v:0", "rotate=90"},
		rungs: []string{"720p:720x1280", "480p:480x854", "360p:360x640"}, fps: 30, seconds: 2},
	{name: "anamorphic 4:3 pixels", source: append(lavfi(pattern, "720x576", "25"), "-t", "2", "-vf", "setsar=16/15"),
		rungs: []string{"576p:768x576", "480p:640x480", "360p:480x360"}, fps: 25, seconds: 2},
	{name: "just under 1080p", source: append(lavfi(pattern, "1918x1078", "30"), "-t", "1"),
		rungs: []string{"1078p:1918x1078", "720p:1282x720", "480p:854x480", "360p:640x360"}, fps: 30, seconds: 1},
	{name: "4K24", source: append(lavfi(pattern, "3840x2160", "24"), "-t", "1"),
		rungs: []string{"2160p:3840x2160", "1440p:2560x1440", "1080p:1920x1080", "720p:1280x720", "480p:854x480", "360p:640x360"}, fps: 24, seconds: 1},
	{name: "720p60", source: append(lavfi(pattern, "1280x720", "60"), withSine("-t", "2")...),
		rungs: []string{"720p:1280x720", "480p:854x480", "360p:640x360"}, fps: 60, audio: true, seconds: 2},
	{name: "variable frame rate", source: append(lavfi(pattern, "640x360", "30"), "-t", "3", "-vf", `select=lt(t\,1)+not(mod(n\,3))`, "-vsync", "vfr"),
		rungs: []string{"360p:640x360"}, fps: 50 / 2.933, seconds: 3, frames: 50}, // 50 frames, the last at 2.9 s
	{name: "5.1 audio", source: append(lavfi(pattern, "640x360", "30"), append(lavfi("sine=frequency=440"), "-t", "2", "-ac", "6", "-c:a", "aac")...),
		rungs: []string{"360p:640x360"}, fps: 30, audio: true, seconds: 2},
	{name: "10-bit", source: append(lavfi(pattern, "640x360", "30"), "-t", "2", "-pix_fmt", "yuv420p10le"),
		rungs: []string{"360p:640x360"}, fps: 30, seconds: 2},
	{name: "HDR10 (PQ)", source: append(lavfi(pattern, "640x360", "30"), "-t", "2", "-pix_fmt", "yuv420p10le",
		"-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc"),
		rungs: []string{"360p:640x360"}, fps: 30, seconds: 2},
	{name: "podcast .m4a with cover art", source: append(append(lavfi("sine=frequency=300:duration=3"), lavfi("color=c=blue:s=600x600:d=1")...),
		"-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v:0", "attached_pic", "-c:a", "aac", "-f", "mp4"),
		rungs: []string{"audio"}, audio: true, seconds: 3, cover: true},
	{name: ".mp3 without cover art", source: append(lavfi("sine=frequency=300:duration=3"), "-c:a", "libmp3lame", "-f", "mp3"),
		rungs: []string{"audio"}, audio: true, seconds: 3},
	// A lecture: a still slide, then motion with heavy grain. Capped VBR
	// keeps the motion's segments near the 720p target of 2.7 Mb/s.
	{name: "still slide then motion", source: []string{"-filter_complex",
		"color=c=gray:s=1280x720:r=30:d=4[a];testsrc2=s=1280x720:r=30:d=4,noise=alls=80:allf=t+u[b];[a][b]concat=n=2:v=1:a=0[v]",
		"-map", "[v]"},
		rungs: []string{"720p:1280x720", "480p:854x480", "360p:640x360"}, fps: 30, seconds: 8, ceiling: 2 * 2700},
}

// TestLadderFromRealSources transcodes each source with edge's ffmpeg
// runner and reads the result back through the proxy with ffprobe and
// m3u8-parser: the rungs' sizes and frame rates, square pixels, 8-bit
// BT.709 H.264 High, stereo AAC, keyframes at every segment's start, a
// master whose BANDWIDTH is at least every segment's bitrate and at most
// 1.1× the peak and whose AVERAGE-BANDWIDTH is within 10% of the mean, and
// I-frame playlists whose every entry decodes alone as one I-frame.
func TestLadderFromRealSources(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	edge := httptest.NewServer(proxytest.New(t, proxy.Config{Origin: store}))
	t.Cleanup(edge.Close)
	for i, c := range ladderCases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("uploads/%d/source.mp4", i)
			makeSource(t, store, key, c.source, c.remux)
			id := "ladder" + strconv.Itoa(i)
			ff := &jobs.FFmpeg{Store: store, TempDir: t.TempDir()}
			res, err := ff.Transcode(context.Background(), id, key, func(int) {})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.Duration.Seconds()-c.seconds) > 0.1 {
				t.Errorf("duration %s, want %gs", res.Duration, c.seconds)
			}
			if c.rungs[0] == "audio" {
				checkAudioOnly(t, edge.URL+"/streams/"+id+"/", c, res)
				return
			}
			checkLadder(t, edge.URL+"/streams/"+id+"/", c)
		})
	}
}

func makeSource(t *testing.T, store storage.Store, key string, args, remux []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.mp4")
	if !slices.Contains(args, "-c:v") && !slices.Contains(args, "mp3") {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast")
	}
	hlstest.FFmpeg(t, append(append([]string{"-v", "error", "-y"}, args...), path)...)
	if remux != nil {
		tagged := filepath.Join(t.TempDir(), "tagged.mp4")
		hlstest.FFmpeg(t, append(append([]string{"-v", "error", "-y", "-i", path, "-c", "copy"}, remux...), tagged)...)
		path = tagged
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := store.Put(context.Background(), key, f, -1); err != nil {
		t.Fatal(err)
	}
}

// checkAudioOnly: one AAC variant, no I-frame playlists, the poster only
// when the file had cover art.
func checkAudioOnly(t *testing.T, base string, c ladderCase, res jobs.Result) {
	t.Helper()
	master := hlstest.ParsePlaylist(t, fetch(t, base+"master.m3u8", ""))
	if len(master.Playlists) != 1 || len(master.IFramePlaylists) != 0 || master.Playlists[0].URI != "audio/stream.m3u8" ||
		master.Playlists[0].Attributes["CODECS"] != "mp4a.40.2" || master.Playlists[0].Attributes["RESOLUTION"] != nil {
		t.Fatalf("master: %+v", master)
	}
	media := hlstest.ParsePlaylist(t, fetch(t, base+"audio/stream.m3u8", ""))
	var peak float64
	for _, s := range media.Segments {
		peak = max(peak, float64(len(fetch(t, base+"audio/"+s.URI, "")))*8/s.Duration)
	}
	if declared := master.Playlists[0].Number("BANDWIDTH"); declared < peak || declared > 1.1*peak {
		t.Errorf("BANDWIDTH %.0f, measured peak %.0f", declared, peak)
	}
	var out struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Channels  int
		}
	}
	hlstest.FFprobe(t, &out, "-show_entries", "stream=codec_type,channels", base+"master.m3u8")
	if len(out.Streams) != 1 || out.Streams[0].CodecType != "audio" || out.Streams[0].Channels != 2 {
		t.Errorf("streams: %+v, want one stereo audio stream", out.Streams)
	}
	if (res.PosterKey != "") != c.cover || !slices.Equal(res.Renditions, []string{"audio"}) || res.Width != 0 {
		t.Fatalf("result %+v (cover art %v)", res, c.cover)
	}
	if c.cover {
		var pic struct{ Streams []struct{ Width, Height int } }
		hlstest.FFprobe(t, &pic, "-show_entries", "stream=width,height", base+"poster.jpg")
		if len(pic.Streams) != 1 || pic.Streams[0].Width != 600 || pic.Streams[0].Height != 600 {
			t.Errorf("poster: %+v, want the 600x600 cover", pic.Streams)
		}
	}
}

func checkLadder(t *testing.T, base string, c ladderCase) {
	t.Helper()
	master := hlstest.ParsePlaylist(t, fetch(t, base+"master.m3u8", ""))
	if len(master.Playlists) != len(c.rungs) || len(master.IFramePlaylists) != len(c.rungs) {
		t.Fatalf("master: %d variants and %d I-frame playlists, want %d each", len(master.Playlists), len(master.IFramePlaylists), len(c.rungs))
	}
	var first []float64
	for i, want := range c.rungs {
		name, size, _ := strings.Cut(want, ":")
		v := master.Playlists[i]
		if v.URI != name+"/stream.m3u8" {
			t.Fatalf("variant %d is %s, want %s", i, v.URI, name)
		}
		checkVariant(t, base, name, size, v, c)
		checkIFrames(t, base, name, size, master.IFramePlaylists[i])
		// Keyframes aligned: every rung cuts its segments at the same times.
		var cuts []float64
		for _, s := range hlstest.ParsePlaylist(t, fetch(t, base+v.URI, "")).Segments {
			cuts = append(cuts, math.Round(s.Duration*100)/100)
		}
		if first == nil {
			first = cuts
		} else if !slices.Equal(cuts, first) {
			t.Errorf("%s segments last %v, %s's %v: not aligned", name, cuts, c.rungs[0], first)
		}
	}
}

func checkVariant(t *testing.T, base, name, size string, v hlstest.Variant, c ladderCase) {
	t.Helper()
	if w, h := v.Resolution(); fmt.Sprintf("%dx%d", w, h) != size {
		t.Errorf("%s RESOLUTION %dx%d, want %s", name, w, h, size)
	}
	if fps := v.Number("FRAME-RATE"); math.Abs(fps-c.fps) > 0.005*c.fps {
		t.Errorf("%s FRAME-RATE %g, want %g", name, fps, c.fps)
	}
	codecs, _ := v.Attributes["CODECS"].(string)
	if !strings.HasPrefix(codecs, "avc1.64") || strings.Contains(codecs, "mp4a.40.2") != c.audio {
		t.Errorf("%s CODECS %q (audio %v)", name, codecs, c.audio)
	}
	media := hlstest.ParsePlaylist(t, fetch(t, base+name+"/stream.m3u8", ""))
	var peak, bits, secs float64
	for _, s := range media.Segments {
		body := fetch(t, base+name+"/"+s.URI, "")
		rate := float64(len(body)*8) / s.Duration
		peak, bits, secs = max(peak, rate), bits+float64(len(body)*8), secs+s.Duration
		checkSegmentStart(t, base+name+"/"+s.URI)
	}
	declared, average := v.Number("BANDWIDTH"), v.Number("AVERAGE-BANDWIDTH")
	t.Logf("%s: peak segment %.0f kb/s, mean %.0f kb/s, declared %.0f (peak/declared %.3f)", name, peak/1000, bits/secs/1000, declared/1000, peak/declared)
	if c.ceiling > 0 && name == strings.Split(c.rungs[0], ":")[0] && peak > float64(c.ceiling)*1000 {
		t.Errorf("%s peaks at %.0f kb/s, over the ceiling of %d", name, peak/1000, c.ceiling)
	}
	if declared < peak || declared > 1.1*peak {
		t.Errorf("%s BANDWIDTH %.0f, measured peak segment bitrate %.0f", name, declared, peak)
	}
	if mean := bits / secs; math.Abs(average-mean) > 0.1*mean {
		t.Errorf("%s AVERAGE-BANDWIDTH %.0f, measured mean %.0f", name, average, mean)
	}
	if math.Abs(secs-c.seconds) > 0.1 {
		t.Errorf("%s lasts %.2fs, want %gs", name, secs, c.seconds)
	}
	checkPicture(t, base+name+"/stream.m3u8", name, size, c)
}

// checkPicture reads a rendition's streams with ffprobe.
func checkPicture(t *testing.T, url, name, size string, c ladderCase) {
	t.Helper()
	var out struct {
		Streams []struct {
			CodecType     string `json:"codec_type"`
			Profile       string
			PixFmt        string `json:"pix_fmt"`
			SAR           string `json:"sample_aspect_ratio"`
			Width, Height int
			ColorTransfer string `json:"color_transfer"`
			Channels      int
			Frames        string `json:"nb_read_frames"`
		}
	}
	args := []string{"-show_entries", "stream=codec_type,profile,pix_fmt,sample_aspect_ratio,width,height,color_transfer,channels,nb_read_frames"}
	if c.frames > 0 {
		args = append(args, "-count_frames")
	}
	hlstest.FFprobe(t, &out, append(args, url)...)
	audio := false
	for _, s := range out.Streams {
		switch s.CodecType {
		case "video":
			if fmt.Sprintf("%dx%d", s.Width, s.Height) != size || s.Profile != "High" || s.PixFmt != "yuv420p" ||
				(s.SAR != "1:1" && s.SAR != "") || s.ColorTransfer != "bt709" {
				t.Errorf("%s video: %+v, want %s High yuv420p 1:1 bt709", name, s, size)
			}
			if n, _ := strconv.Atoi(s.Frames); c.frames > 0 && (n < c.frames-2 || n > c.frames+2) {
				t.Errorf("%s has %d frames, want about %d: frames were duplicated or lost", name, n, c.frames)
			}
		case "audio":
			audio = true
			if s.Channels != 2 {
				t.Errorf("%s audio has %d channels, want 2", name, s.Channels)
			}
		}
	}
	if audio != c.audio {
		t.Errorf("%s audio %v, want %v", name, audio, c.audio)
	}
}

// checkSegmentStart: a segment's first video packet is a keyframe, so
// every rendition can be switched to at any segment.
func checkSegmentStart(t *testing.T, url string) {
	t.Helper()
	var out struct{ Packets []struct{ Flags string } }
	hlstest.FFprobe(t, &out, "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "packet=flags", url)
	if len(out.Packets) == 0 || !strings.HasPrefix(out.Packets[0].Flags, "K") {
		t.Errorf("%s does not start with a keyframe: %+v", url, out.Packets)
	}
}

// checkIFrames decodes the first and the last entry of an I-frame
// playlist alone, from its map and byte range as a player fetches them.
func checkIFrames(t *testing.T, base, name, size string, v hlstest.Variant) {
	t.Helper()
	if w, h := v.Resolution(); fmt.Sprintf("%dx%d", w, h) != size || v.URI != name+"/iframes.m3u8" {
		t.Errorf("I-frame variant %s: %+v", name, v)
	}
	pl := hlstest.ParsePlaylist(t, fetch(t, base+v.URI, ""))
	if !pl.IFramesOnly || !pl.EndList || len(pl.Segments) == 0 {
		t.Fatalf("%s: not a whole I-frame playlist: %+v", v.URI, pl)
	}
	for _, s := range []hlstest.Segment{pl.Segments[0], pl.Segments[len(pl.Segments)-1]} {
		if s.ByteRange == nil || s.Map == nil || s.Map.ByteRange == nil {
			t.Fatalf("%s: entry without a byte range and a map: %+v", v.URI, s)
		}
		frame := append(fetch(t, base+name+"/"+s.Map.URI, byteRange(s.Map.ByteRange)), fetch(t, base+name+"/"+s.URI, byteRange(s.ByteRange))...)
		path := filepath.Join(t.TempDir(), "iframe.ts")
		os.WriteFile(path, frame, 0o644)
		var out struct {
			Frames []struct {
				PictType string `json:"pict_type"`
			}
		}
		hlstest.FFprobe(t, &out, "-select_streams", "v:0", "-show_entries", "frame=pict_type", path)
		if len(out.Frames) != 1 || out.Frames[0].PictType != "I" {
			t.Errorf("%s entry %+v decodes to %+v, want one I-frame", v.URI, s.ByteRange, out.Frames)
		}
	}
}

func byteRange(r *hlstest.ByteRange) string {
	return fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1)
}

// fetch GETs url (with a Range header when rng is set) and fails the test
// on anything but 200 or 206.
func fetch(t *testing.T, url, rng string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || (resp.StatusCode != 200 && resp.StatusCode != 206) {
		t.Fatalf("GET %s (%s): %d %v", url, rng, resp.StatusCode, err)
	}
	return body
}

// TestTruncatedSourceIsReadyWithAWarning: a file cut in half (its
// container still says 6 s) becomes a stream as long as what is there,
// every rendition alike, with a warning that says so; the whole file
// gets none.
func TestTruncatedSourceIsReadyWithAWarning(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	whole := filepath.Join(t.TempDir(), "whole.mp4")
	hlstest.FFmpeg(t, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-movflags", "+faststart", whole)
	data, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"whole": data, "cut": data[:len(data)/2]} {
		t.Run(name, func(t *testing.T) {
			store.Put(context.Background(), "uploads/"+name+".mp4", strings.NewReader(string(body)), int64(len(body)))
			res, err := (&jobs.FFmpeg{Store: store, TempDir: t.TempDir()}).Transcode(context.Background(), name, "uploads/"+name+".mp4", func(int) {})
			if err != nil {
				t.Fatal(err)
			}
			cut := name == "cut"
			if cut != strings.Contains(res.Warning, "cut short") || cut != (res.Duration < 4500*time.Millisecond) || res.Duration < time.Second {
				t.Fatalf("%s file: %s long, warning %q", name, res.Duration, res.Warning)
			}
			for _, r := range res.Renditions {
				var out struct{ Format struct{ Duration string } }
				hlstest.FFprobe(t, &out, "-show_entries", "format=duration", filepath.Join(store.Dir(), "streams", name, r, "stream.m3u8"))
				if d, _ := strconv.ParseFloat(out.Format.Duration, 64); math.Abs(d-res.Duration.Seconds()) > 0.25 {
					t.Errorf("%s lasts %.2fs, the stream says %s", r, d, res.Duration)
				}
			}
		})
	}
}

// TestCMAFPackaging: with Packaging "cmaf" each rendition is init.mp4 and
// segment-N.m4s under an EXT-X-MAP, the master is measured the same way
// and names no I-frame playlists, and ffprobe reads every rendition
// through the proxy.
func TestCMAFPackaging(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	edge := httptest.NewServer(proxytest.New(t, proxy.Config{Origin: store}))
	t.Cleanup(edge.Close)
	makeSource(t, store, "uploads/cmaf.mp4", append(lavfi(pattern, "1280x720", "30"), withSine("-t", "5")...), nil)
	ff := &jobs.FFmpeg{Store: store, TempDir: t.TempDir(), Packaging: "cmaf"}
	res, err := ff.Transcode(context.Background(), "cmaf", "uploads/cmaf.mp4", func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	base := edge.URL + "/streams/cmaf/"
	master := hlstest.ParsePlaylist(t, fetch(t, base+"master.m3u8", ""))
	if len(master.Playlists) != 3 || len(master.IFramePlaylists) != 0 {
		t.Fatalf("master: %d variants, %d I-frame playlists", len(master.Playlists), len(master.IFramePlaylists))
	}
	for i, v := range master.Playlists {
		name := res.Renditions[i]
		media := hlstest.ParsePlaylist(t, fetch(t, base+v.URI, ""))
		var peak float64
		for _, s := range media.Segments {
			if s.Map == nil || s.Map.URI != "init.mp4" || !strings.HasSuffix(s.URI, ".m4s") {
				t.Fatalf("%s segment %+v: want segment-N.m4s under init.mp4", name, s)
			}
			peak = max(peak, float64(len(fetch(t, base+name+"/"+s.URI, "")))*8/s.Duration)
		}
		fetch(t, base+name+"/init.mp4", "")
		if declared := v.Number("BANDWIDTH"); declared < peak || declared > 1.1*peak {
			t.Errorf("%s BANDWIDTH %.0f, measured peak %.0f", name, declared, peak)
		}
	}
	if w, h := hlstest.VideoSizes(t, base+"master.m3u8"); fmt.Sprint(w, h) != "[640 854 1280] [360 480 720]" {
		t.Fatalf("ffprobe reads %v × %v", w, h)
	}
}
