package web_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/jobs"
)

// Scrubbing with previews: a stream from the ffmpeg runner has a
// storyboard; hovering the bar over the seek bar at 60% shows the
// thumbnail of that moment from its sheet, and a click goes there.
func TestStoryboardPreviewsInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st, res := transcodedStream(t, e, "Talk", 8)

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.EmulateViewport(960, 540), chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?muted=1")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the storyboard is read", `!!(window.edgePlayer && edgePlayer.storyboard && edgePlayer.storyboard.length === 4)`, 30*time.Second)
	poll(t, b, "the duration is known", `edgePlayer.video.duration > 7`, 30*time.Second)
	hover := `(() => { const bar = document.querySelector('.scrub'); const r = bar.getBoundingClientRect();
		const at = {clientX: r.left + 0.6 * r.width, clientY: r.top + r.height / 2, bubbles: true};
		bar.dispatchEvent(new PointerEvent('pointermove', at)); return true; })()`
	eval[bool](t, b, hover)
	preview := eval[map[string]any](t, b, `(() => { const p = document.querySelector('.scrub-preview'), th = document.querySelector('.scrub-thumb');
		return {shown: !p.hidden, src: edgePlayer.preview.src, x: edgePlayer.preview.x, pos: getComputedStyle(th).backgroundPosition,
			w: th.getBoundingClientRect().width, label: document.querySelector('.scrub-time').textContent}; })()`)
	if preview["shown"] != true || preview["src"] != "storyboard-0.jpg" || preview["x"] != 320.0 || preview["pos"] != "-320px 0px" || preview["label"] != "0:04" {
		t.Fatalf("preview at 60%%: %v", preview)
	}
	eval[bool](t, b, `(fetch(document.querySelector('.scrub-thumb').style.backgroundImage.slice(5, -2)).then(r => { window.sheet = r.status + ' ' + r.headers.get('content-type'); }), true)`)
	poll(t, b, "the sheet loads", `window.sheet === '200 image/jpeg'`, 10*time.Second)
	browsertest.Screenshot(t, b, "player-storyboard")
	eval[bool](t, b, `(() => { const bar = document.querySelector('.scrub'); const r = bar.getBoundingClientRect();
		bar.dispatchEvent(new MouseEvent('click', {clientX: r.left + 0.6 * r.width, clientY: r.top + 5, bubbles: true})); return true; })()`)
	poll(t, b, "the click seeks", `edgePlayer.video.readyState >= 1 && !edgePlayer.video.seeking`, 10*time.Second)
	if at := eval[float64](t, b, `edgePlayer.video.currentTime`); math.Abs(at-0.6*res.Duration.Seconds()) > 0.3 {
		t.Fatalf("after the click at 60%%: %.2f s of %s", at, res.Duration)
	}
}

// transcodedStream is a ready stream made by the ffmpeg runner itself
// (storyboard included) from a seconds-long 720p source.
func transcodedStream(t *testing.T, e *env, title string, seconds int) (*db.Stream, jobs.Result) {
	t.Helper()
	st := readyStream(t, e, title)
	src := filepath.Join(t.TempDir(), "talk.mp4")
	hlstest.MakeSource(t, src, seconds, "1280x720", true)
	if err := e.store.Put(context.Background(), "uploads/talk.mp4", mustOpen(t, src), -1); err != nil {
		t.Fatal(err)
	}
	res, err := (&jobs.FFmpeg{Store: e.store, TempDir: t.TempDir()}).Transcode(context.Background(), st.ID, "uploads/talk.mp4", func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Duration: res.Duration, Renditions: res.Renditions, PosterKey: res.PosterKey})
	return st, res
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
