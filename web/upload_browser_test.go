package web_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/web"
)

// uploadPageEnv is edge with a running ffmpeg worker and uploads sent in
// 64 KiB PATCHes, so the bar moves in steps.
func uploadPageEnv(t *testing.T) *env {
	var worker *jobs.Worker
	e := newEnv(t, nil, func(c *web.Config) {
		c.UploadChunk = 64 << 10
		worker = &jobs.Worker{DB: c.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 100 * time.Millisecond,
			Transcoder: &jobs.FFmpeg{Store: c.Jobs.Store, TempDir: t.TempDir()}}
		c.Jobs.Worker = worker
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { worker.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return e
}

// stepper runs named chromedp steps, failing the test on the first error.
func stepper(t *testing.T, b context.Context) func(name string, actions ...chromedp.Action[chromedp.Void]) {
	return func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// openUploadPage signs in and opens the upload page.
func openUploadPage(t *testing.T, e *env) (context.Context, func(string, ...chromedp.Action[chromedp.Void])) {
	b := browsertest.New(t)
	step := stepper(t, b)
	step("sign in", chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "ed@example.com"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse"),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("a[href='/upload']")))
	step("open the upload page", chromedp.Click(chromedp.CSS("nav a[href='/upload']")), chromedp.WaitVisible(chromedp.CSS("#file")))
	return b, step
}

// TestUploadPageInChromium: a person picks a video on the upload page,
// watches the bar move, and ends on a ready stream.
func TestUploadPageInChromium(t *testing.T) {
	e := uploadPageEnv(t)
	src := filepath.Join(t.TempDir(), "Team offsite.mp4")
	hlstest.MakeSource(t, src, 4, "1280x720", true)
	original, _ := os.ReadFile(src)

	b, step := openUploadPage(t, e)
	step("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}))
	poll(t, b, "the upload finishes", `window.edgeUpload && edgeUpload.done === true`, 60*time.Second)
	if n := eval[int](t, b, `edgeUpload.progressEvents`); n < 5 {
		t.Fatalf("the bar moved %d times", n)
	}
	if v := eval[int](t, b, `document.querySelector(".row-bar").value`); v != 100 {
		t.Fatalf("bar at %d%%", v)
	}
	browsertest.Screenshot(t, b, "upload-done")
	id := eval[string](t, b, `edgeUpload.streamID`)

	st := waitReady(t, e, id)
	obj, err := e.store.Get(context.Background(), st.SourceKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if sha256.Sum256(stored) != sha256.Sum256(original) || st.SourceKey != "uploads/"+id+"/Team_offsite.mp4" || st.Title != "Team offsite" {
		t.Fatalf("stored source: %s (%d bytes), title %q", st.SourceKey, len(stored), st.Title)
	}
	step("follow the link to the video", chromedp.Click(chromedp.CSS("#message a")), chromedp.WaitVisible(chromedp.CSS("#embed-code")))
}

// TestUploadResumesAfterReload: the network stalls part-way, the person
// reloads the page and picks the same file again; the upload carries on
// from where the server stopped, into the same stream, and ends ready.
func TestUploadResumesAfterReload(t *testing.T) {
	e := uploadPageEnv(t)
	src := filepath.Join(t.TempDir(), "Board meeting.mp4")
	hlstest.MakeSource(t, src, 4, "1280x720", true)
	original, _ := os.ReadFile(src)
	const chunk, before = 64 << 10, 5
	stall := &patchStall{after: before, released: make(chan struct{})}
	f := stall.intercept
	e.intercept.Store(&f)

	b, step := openUploadPage(t, e)
	step("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}))
	waitfor.True(t, "the network to stall", func() bool { return stall.held.Load() > 0 })
	step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#file")))
	stall.release()
	step("choose the same file again", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}))
	poll(t, b, "the upload finishes", `window.edgeUpload && edgeUpload.done === true`, 60*time.Second)
	if msg := eval[string](t, b, `document.getElementById("message").textContent`); !strings.Contains(msg, "Uploaded") {
		t.Fatalf("message: %q", msg)
	}
	if first := stall.firstOffsetAfterRelease(); first < before*chunk {
		t.Fatalf("after the reload the upload restarted at byte %d, not at %d or later", first, before*chunk)
	}
	streams, _, err := e.db.ListStreams(context.Background(), db.StreamFilter{})
	if err != nil || len(streams) != 1 {
		t.Fatalf("streams after the reload: %d (%v), want the one", len(streams), err)
	}
	st := waitReady(t, e, streams[0].ID)
	if stored := readAll(t, e.uploads, st.SourceKey); sha256.Sum256(stored) != sha256.Sum256(original) {
		t.Fatalf("stored %d bytes that differ from the original", len(stored))
	}
}

// patchStall lets the first `after` upload PATCHes through, then holds the
// rest, as a dead network would, until release; held ones then fail.
type patchStall struct {
	after    int32
	patches  atomic.Int32
	held     atomic.Int32
	released chan struct{}
	mu       sync.Mutex
	offsets  []int // Upload-Offset of PATCHes let through after release
}

func (p *patchStall) intercept(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPatch || !strings.HasPrefix(r.URL.Path, "/uploads/") {
		return false
	}
	select {
	case <-p.released:
		p.mu.Lock()
		n, _ := strconv.Atoi(r.Header.Get("Upload-Offset"))
		p.offsets = append(p.offsets, n)
		p.mu.Unlock()
		return false
	default:
	}
	if p.patches.Add(1) <= p.after {
		return false
	}
	p.held.Add(1)
	<-p.released
	w.WriteHeader(http.StatusServiceUnavailable)
	return true
}

func (p *patchStall) release() { close(p.released) }

func (p *patchStall) firstOffsetAfterRelease() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.offsets) == 0 {
		return -1
	}
	return p.offsets[0]
}

func waitReady(t *testing.T, e *env, id string) *db.Stream {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := e.db.Stream(context.Background(), id)
		if err == nil && st.Status == db.StatusReady {
			return st
		}
		if time.Now().After(deadline) || (st != nil && st.Status == db.StatusFailed) {
			t.Fatalf("stream %s: %+v %v", id, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPhoneVideoUploadedInTheBrowserPlaysPortrait is the encoding issue's
// "done when": a phone's video (1920×1080 coded, turned upright by its
// rotation tag) uploaded on the upload page becomes a 1080×1920 ladder,
// and the player plays its top rung at full resolution, upright.
func TestPhoneVideoUploadedInTheBrowserPlaysPortrait(t *testing.T) {
	e := uploadPageEnv(t)
	coded := filepath.Join(t.TempDir(), "coded.mp4")
	hlstest.MakeSource(t, coded, 4, "1920x1080", true)
	src := filepath.Join(t.TempDir(), "IMG_0042.mov")
	hlstest.FFmpeg(t, "-v", "error", "-y", "-i", coded, "-c", "copy", "-metadata:s:v:0", "rotate=90", src)

	b, step := openUploadPage(t, e)
	step("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}))
	poll(t, b, "the upload finishes", `window.edgeUpload && edgeUpload.done === true`, 60*time.Second)
	st := waitReady(t, e, eval[string](t, b, `edgeUpload.streamID`))
	if st.Width != 1080 || st.Height != 1920 || st.Renditions[0] != "1080p" {
		t.Fatalf("stream: %dx%d, renditions %v", st.Width, st.Height, st.Renditions)
	}
	step("open the player", chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1"))
	poll(t, b, "playback starts", `!!(window.edgePlayer && edgePlayer.video.currentTime > 0.5)`, 60*time.Second)
	top := eval[int](t, b, `edgePlayer.hls.levels.findIndex(l => l.height === 1920 && l.width === 1080)`)
	if top < 0 {
		t.Fatalf("no 1080x1920 level: %v", eval[[]string](t, b, `edgePlayer.hls.levels.map(l => l.width + 'x' + l.height)`))
	}
	eval[bool](t, b, `(() => { edgePlayer.hls.currentLevel = `+strconv.Itoa(top)+`; edgePlayer.video.play(); return true; })()`)
	poll(t, b, "the top rung on screen", `edgePlayer.video.videoWidth === 1080 && edgePlayer.video.videoHeight === 1920`, 60*time.Second)
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))
}

// TestSeveralUploadsEachWithItsTitle: two files chosen at once become two
// videos, each titled from its own file; renaming one on the page renames
// that video only; a later upload takes nothing of an earlier title.
func TestSeveralUploadsEachWithItsTitle(t *testing.T) {
	e := uploadPageEnv(t)
	dir := t.TempDir()
	first, second, third := filepath.Join(dir, "Keynote.mp4"), filepath.Join(dir, "Panel Q&A.mp4"), filepath.Join(dir, "Closing.mp4")
	for _, p := range []string{first, second, third} {
		hlstest.MakeSource(t, p, 2, "640x360", true)
	}
	b, step := openUploadPage(t, e)
	step("choose two files", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{first, second}))
	poll(t, b, "both uploads finish", `window.edgeUpload && edgeUpload.done === true && edgeUpload.uploads.length === 2`, 60*time.Second)
	ids := eval[[]string](t, b, `edgeUpload.uploads.map(u => u.streamID)`)
	titles := map[string]string{}
	for _, id := range ids {
		st := waitReady(t, e, id)
		titles[st.Title] = id
	}
	if len(ids) != 2 || titles["Keynote"] == "" || titles["Panel Q&A"] == "" {
		t.Fatalf("videos %v", titles)
	}
	if !strings.Contains(eval[string](t, b, `document.getElementById('message').textContent`), "2 videos uploaded") {
		t.Fatal("no summary for the two uploads")
	}
	eval[bool](t, b, `(() => { const i = document.querySelectorAll('.row-title')[1]; i.value = 'Panel: questions and answers';
		i.dispatchEvent(new Event('change')); return true; })()`)
	poll(t, b, "the rename is confirmed", `document.querySelectorAll('.row-message')[1].textContent === 'Renamed.'`, 30*time.Second)
	if st, _ := e.db.Stream(context.Background(), titles["Panel Q&A"]); st.Title != "Panel: questions and answers" {
		t.Fatalf("renamed video is %q", st.Title)
	}
	if st, _ := e.db.Stream(context.Background(), titles["Keynote"]); st.Title != "Keynote" {
		t.Fatalf("the other video became %q", st.Title)
	}
	browsertest.Screenshot(t, b, "upload-several")
	step("choose a third", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{third}))
	poll(t, b, "the third finishes", `edgeUpload.done === true && edgeUpload.uploads.length === 3`, 60*time.Second)
	if st := waitReady(t, e, eval[string](t, b, `edgeUpload.uploads[2].streamID`)); st.Title != "Closing" {
		t.Fatalf("the third upload is titled %q", st.Title)
	}
}
