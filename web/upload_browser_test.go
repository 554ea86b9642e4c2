package web_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/web"
)

// TestUploadPageInChromium: a person picks a video on the upload page,
// watches the bar move, and ends on a ready stream.
func TestUploadPageInChromium(t *testing.T) {
	var worker *jobs.Worker
	e := newEnv(t, nil, func(c *web.Config) {
		c.UploadChunk = 64 << 10 // many small PATCHes, so the bar moves in steps
		worker = &jobs.Worker{DB: c.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 100 * time.Millisecond,
			Transcoder: &jobs.FFmpeg{Store: c.Jobs.Store, TempDir: t.TempDir()}}
		c.Jobs.Worker = worker
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { worker.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	src := filepath.Join(t.TempDir(), "Team offsite.mp4")
	hlstest.MakeSource(t, src, 4, "1280x720", true)
	original, _ := os.ReadFile(src)

	b := browsertest.New(t)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("sign in", chromedp.Navigate(e.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "ed@example.com"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse"),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("a[href='/upload']")))
	step("open the upload page", chromedp.Click(chromedp.CSS("nav a[href='/upload']")), chromedp.WaitVisible(chromedp.CSS("#file")))
	step("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{src}))
	poll(t, b, "the upload finishes", `window.edgeUpload.done === true`, 60*time.Second)
	if n := eval[int](t, b, `edgeUpload.progressEvents`); n < 5 {
		t.Fatalf("the bar moved %d times", n)
	}
	if v := eval[int](t, b, `document.getElementById("bar").value`); v != 100 {
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
