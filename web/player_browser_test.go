package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage"
)

// playableStream makes a ready stream whose files are a real ffmpeg ladder.
func playableStream(t *testing.T, e *env, title string) *db.Stream {
	t.Helper()
	st := readyStream(t, e, title)
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Duration: 8 * time.Second, Renditions: hlstest.Renditions})
	hlstest.MakeLadder(t, filepath.Join(e.store.(*storage.FileStore).Dir(), "streams", st.ID), 8)
	return st
}

func poll(t *testing.T, b context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout))); err != nil {
		// What the page says is most of what tells why it never got there.
		page, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 800) : ""`))
		t.Fatalf("%s (%s): %v; the page reads: %q", what, expr, err, page)
	}
}

func eval[T any](t *testing.T, b context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// otherOrigin serves one HTML page from a second loopback server: a site
// that is not edge.
func otherOrigin(t *testing.T, page string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEmbedPlaysInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Ladder")
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1")); err != nil {
		t.Fatal(err)
	}
	// autoplay+muted: it plays with no click at all.
	poll(t, b, "playback passes 3 s", `window.edgePlayer && edgePlayer.video.currentTime > 3`, 60*time.Second)
	if n := eval[int](t, b, `edgePlayer.hls.levels.length`); n < 2 {
		t.Fatalf("hls.js levels: %d", n)
	}
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))
	if !eval[bool](t, b, `edgePlayer.video.muted`) {
		t.Fatal("muted=1 not applied")
	}
	if menu := eval[string](t, b, `Array.from(document.querySelectorAll('select.quality option')).map(o => o.textContent).join(',')`); menu != "Auto,720p,360p" {
		t.Fatalf("quality menu: %q", menu)
	}
	browsertest.Screenshot(t, b, "player-playing")
}

func TestEmbedPlaysFromAnotherOrigin(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Ladder")
	embed := e.srv.URL + "/embed/" + st.ID + "?autoplay=1&muted=1"
	// A site on another port embeds the iframe snippet, and another uses
	// hls.js directly against edge's master URL (that one needs CORS).
	site := otherOrigin(t, `<!DOCTYPE html><html><body>
<iframe src="`+embed+`" width="640" height="360" allow="autoplay"></iframe>
<video id="direct" muted playsinline></video>
<script>
window.msgs = [];
addEventListener("message", e => { if (e.data && e.data.source === "edge") msgs.push(e.data.type); });
</script>
<script src="`+e.srv.URL+hlsURLFrom(t, e, st.ID)+`"></script>
<script>
const v = document.getElementById("direct"), h = new Hls();
h.loadSource("`+e.srv.URL+`/streams/`+st.ID+`/master.m3u8"); h.attachMedia(v);
h.on(Hls.Events.MANIFEST_PARSED, () => v.play());
window.directErrors = []; h.on(Hls.Events.ERROR, (_, d) => directErrors.push(d.type + ":" + d.details + (d.fatal ? ":fatal" : "")));
</script></body></html>`)
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(site.URL)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the iframe plays on another site", `msgs.includes("playing")`, 60*time.Second)
	poll(t, b, "hls.js on another site plays edge's master URL", `document.getElementById("direct").currentTime > 2`, 60*time.Second)
	checkNoFatal(t, eval[[]string](t, b, `directErrors`))
}

func TestEmbedAllowListRefusesOtherSites(t *testing.T) {
	e := newEnv(t, nil)
	allowed := playableStream(t, e, "Allowed here")
	notForYou := readyStream(t, e, "Not for you")
	page := func(id string) string {
		return `<!DOCTYPE html><html><body><iframe src="` + e.srv.URL + `/embed/` + id + `"></iframe><script>
window.msgs = []; addEventListener("message", e => { if (e.data && e.data.source === "edge") msgs.push(e.data.type); });
</script></body></html>`
	}
	siteA := otherOrigin(t, page(allowed.ID))
	siteB := otherOrigin(t, page(notForYou.ID))
	e.db.SetEmbedDomains(context.Background(), allowed.ID, []string{siteA.URL})
	e.db.SetEmbedDomains(context.Background(), notForYou.ID, []string{"https://somewhere-else.example"})

	b := browsertest.New(t)
	// Chromium reports the frame it refused in the console log.
	refused := make(chan string, 4)
	err := chromedp.Listen(b, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "frame-ancestors") {
			select {
			case refused <- e.Entry.Text:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	chromedp.Do(b, chromedp.Navigate(siteA.URL))
	poll(t, b, "an allowed site can frame the player", `msgs.includes("ready")`, 30*time.Second)
	chromedp.Do(b, chromedp.Navigate(siteB.URL))
	select {
	case text := <-refused:
		if !strings.Contains(text, "frame-ancestors 'self' https://somewhere-else.example") { // the refused stream's rule
			t.Fatalf("Chromium refused another frame: %s", text)
		}
	case <-time.After(time.Minute):
		t.Fatal("Chromium did not refuse the frame within a minute")
	}
	if msgs := eval[[]string](t, b, `msgs`); len(msgs) != 0 {
		t.Fatalf("a site outside the allow-list framed the player: %v", msgs)
	}
}

func TestEmbedFailedOverlayInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st, _ := e.db.CreateStream(context.Background(), db.NewStream{Title: "broken"})
	e.db.SetStreamState(context.Background(), st.ID, db.StatusFailed, 0, "bad input")
	b := browsertest.New(t)
	chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID))
	text, err := chromedp.Run(b, chromedp.Text(chromedp.CSS("#overlay")))
	if err != nil || !strings.Contains(text, "could not be processed") {
		t.Fatalf("overlay: %q %v", text, err)
	}
}

// hlsURLFrom reads the vendored hls.js URL off an embed page.
func hlsURLFrom(t *testing.T, e *env, id string) string {
	t.Helper()
	m := regexp.MustCompile(`src="(/static/[^"]+/hls\.min\.js)"`).FindStringSubmatch(e.browser(t).get("/embed/" + id).body)
	if m == nil {
		t.Fatal("no hls.js script on the embed page")
	}
	return m[1]
}

// TestEmbedNetworkErrorOverlay: when the playlist cannot be fetched the
// viewer is told, and hls.js keeps retrying instead of giving up at once.
func TestEmbedNetworkErrorOverlay(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "files missing") // ready in the database, nothing in storage
	b := browsertest.New(t)
	chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID))
	poll(t, b, "network overlay", `!document.getElementById("overlay").hidden && document.getElementById("overlay").textContent.includes("retrying")`, 20*time.Second)
}

// checkNoFatal fails on fatal hls.js errors. Non-fatal ones (such as
// bufferSeekOverHole under load) are hls.js recovering by itself: logged.
func checkNoFatal(t *testing.T, errs []string) {
	t.Helper()
	for _, e := range errs {
		if strings.HasSuffix(e, ":fatal") {
			t.Fatalf("fatal hls.js error: %v", errs)
		}
	}
	if len(errs) > 0 {
		t.Logf("non-fatal hls.js events: %v", errs)
	}
}

// TestLectureOnA3MbitLink is the encoding issue's "done when": a lecture
// that goes from a still slide to grainy motion and back, transcoded by
// edge's ffmpeg runner, plays 30 s in Chromium on a link throttled to
// 3 Mbit/s (CDP network emulation, 40 ms latency) without a stall: the
// ladder's capped bitrates and the master's measured BANDWIDTH let hls.js
// pick a rung the link can carry.
func TestLectureOnA3MbitLink(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "Lecture")
	src := filepath.Join(t.TempDir(), "lecture.mp4")
	hlstest.FFmpeg(t, "-v", "error", "-y", "-filter_complex",
		"color=c=gray:s=1280x720:r=30:d=12[a];testsrc2=s=1280x720:r=30:d=12,noise=alls=60:allf=t+u[b];color=c=white:s=1280x720:r=30:d=12[c];[a][b][c]concat=n=3:v=1:a=0[v]",
		"-f", "lavfi", "-i", "sine=frequency=300:duration=36", "-map", "[v]", "-map", "0:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", src)
	f, _ := os.Open(src)
	e.store.Put(context.Background(), "uploads/lecture.mp4", f, -1)
	f.Close()
	ff := &jobs.FFmpeg{Store: e.store, TempDir: t.TempDir()}
	res, err := ff.Transcode(context.Background(), st.ID, "uploads/lecture.mp4", func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Duration: res.Duration, Renditions: res.Renditions, Width: res.Width, Height: res.Height})

	b := browsertest.New(t)
	if _, err := chromedp.Call(b, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: 40, DownloadThroughput: 3e6 / 8, UploadThroughput: 1e6 / 8}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1")); err != nil {
		t.Fatal(err)
	}
	// Stalls: time the clock ran while the picture did not, from the
	// first frame on; hls.js's own stall reports are kept too.
	poll(t, b, "the player", `!!(window.edgePlayer && edgePlayer.hls)`, 30*time.Second)
	eval[bool](t, b, `(() => { const v = edgePlayer.video; window.stalls = []; window.firstPlay = null;
		v.addEventListener('playing', () => { if (window.firstPlay === null) window.firstPlay = {wall: performance.now(), media: v.currentTime}; });
		v.addEventListener('waiting', () => { if (window.firstPlay !== null) stalls.push(v.currentTime); });
		edgePlayer.hls.on('hlsError', (e, d) => { if (d.details === 'bufferStalledError') stalls.push('hls.js at ' + v.currentTime); });
		return true; })()`)
	poll(t, b, "30 s of playback", `window.firstPlay !== null && edgePlayer.video.currentTime > firstPlay.media + 30`, 2*time.Minute)
	lag := eval[float64](t, b, `(performance.now() - firstPlay.wall) / 1000 - (edgePlayer.video.currentTime - firstPlay.media)`)
	level := eval[string](t, b, `edgePlayer.hls.levels.map((l, i) => (i === edgePlayer.hls.currentLevel ? '*' : '') + l.height + 'p@' + Math.round(l.bitrate / 1000)).join(' ')`)
	estimate := eval[float64](t, b, `edgePlayer.hls.bandwidthEstimate`)
	t.Logf("levels (current starred, declared kb/s): %s; hls.js estimates the link at %.0f kb/s; clock ahead of the picture by %.2f s", level, estimate/1000, lag)
	if estimate > 3.3e6 {
		t.Fatalf("hls.js measured %.0f kb/s: the 3 Mbit/s throttle is not in force", estimate/1000)
	}
	if stalls := eval[[]any](t, b, `window.stalls`); len(stalls) > 0 || lag > 1 {
		t.Fatalf("playback stalled at %v (%.2f s lost) on levels %s", stalls, lag, level)
	}
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))
}

// TestAudioOnlyPlaysInChromium: a podcast's .mp3, transcoded by the ffmpeg
// runner into an audio-only stream, plays in the embed player, which
// shows a sound mark where a video would be (the file has no cover art).
func TestAudioOnlyPlaysInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "Podcast")
	src := filepath.Join(t.TempDir(), "episode.mp3")
	hlstest.FFmpeg(t, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=300:duration=10", "-c:a", "libmp3lame", src)
	f, _ := os.Open(src)
	e.store.Put(context.Background(), "uploads/episode.mp3", f, -1)
	f.Close()
	res, err := (&jobs.FFmpeg{Store: e.store, TempDir: t.TempDir()}).Transcode(context.Background(), st.ID, "uploads/episode.mp3", func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Duration: res.Duration, Renditions: res.Renditions, PosterKey: res.PosterKey})
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "playback passes 2 s", `!!(window.edgePlayer && edgePlayer.video.currentTime > 2)`, 60*time.Second)
	if !eval[bool](t, b, `!!document.querySelector('.frame.audio-only .sound-mark') && edgePlayer.video.videoWidth === 0`) {
		t.Fatal("the audio-only player has no sound mark, or a picture")
	}
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))
	browsertest.Screenshot(t, b, "player-audio-only")
}

// TestCMAFPlaysInChromium: a stream packaged as CMAF (EDGE_PACKAGING=cmaf:
// init.mp4 and segment-N.m4s) plays in the embed player.
func TestCMAFPlaysInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "CMAF")
	src := filepath.Join(t.TempDir(), "talk.mp4")
	hlstest.MakeSource(t, src, 8, "640x360", true)
	f, _ := os.Open(src)
	e.store.Put(context.Background(), "uploads/talk.mp4", f, -1)
	f.Close()
	res, err := (&jobs.FFmpeg{Store: e.store, TempDir: t.TempDir(), Packaging: "cmaf"}).Transcode(context.Background(), st.ID, "uploads/talk.mp4", func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Duration: res.Duration, Renditions: res.Renditions, Width: res.Width, Height: res.Height})
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "playback passes 3 s", `!!(window.edgePlayer && edgePlayer.video.currentTime > 3)`, 60*time.Second)
	if w := eval[int](t, b, `edgePlayer.video.videoWidth`); w == 0 {
		t.Fatal("no picture")
	}
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))
}
