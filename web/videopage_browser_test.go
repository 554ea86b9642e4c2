package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/storage"
)

// signedInBrowser is Chromium signed in to the portal as the editor.
func signedInBrowser(t *testing.T, e *env) context.Context {
	t.Helper()
	b := browsertest.New(t)
	err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ed@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		// The portal's nav, which the sign-in page lacks: its own h1 would
		// match before the sign-in's redirect lands, and the next
		// navigation would abort it.
		chromedp.WaitVisible(chromedp.CSS("nav a[href='/upload']")))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return b
}

// A video's page turns ready in place (duration, renditions, a preview
// player, without a reload); Copy copies; the poster is chosen from the
// preview's playhead.
func TestVideoPageInChromium(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st, _ := e.db.CreateStream(ctx, db.NewStream{Title: "Keynote", Status: db.StatusProcessing})
	e.db.SetStreamState(ctx, st.ID, db.StatusProcessing, 40, "")
	b := signedInBrowser(t, e)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/videos/"+st.ID), chromedp.WaitVisible(chromedp.CSS("#embed-code"))); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, b, `(window.notReloaded = true)`)
	if eval[bool](t, b, `!!document.getElementById('preview')`) {
		t.Fatal("a preview before the video is ready")
	}

	hlstest.MakeLadder(t, filepath.Join(e.store.(*storage.FileStore).Dir(), "streams", st.ID), 8)
	e.db.SetStreamOutput(ctx, st.ID, db.StreamOutput{Duration: 8 * time.Second, Renditions: hlstest.Renditions})
	e.db.SetStreamState(ctx, st.ID, db.StatusReady, 100, "")
	poll(t, b, "the page turns ready in place", `!!document.getElementById('preview') && document.querySelector('[data-swap=facts]').textContent.includes('0:08')
		&& document.querySelector('[data-swap=facts]').textContent.includes('720p') && window.notReloaded === true`, 30*time.Second)

	origin := e.srv.URL
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.Call(b, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`button[data-copy="master-url"]`))); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the button says Copied", `document.querySelector('button[data-copy="master-url"]').textContent === 'Copied'`, 10*time.Second)
	eval[bool](t, b, `(navigator.clipboard.readText().then(t => { window.clip = t; }), true)`)
	poll(t, b, "the clipboard is read", `typeof window.clip === 'string'`, 10*time.Second)
	if got := eval[string](t, b, `window.clip`); got != "https://edge.example/streams/"+st.ID+"/master.m3u8" {
		t.Fatalf("clipboard: %q", got)
	}

	poll(t, b, "the preview's player is up", `(() => { const w = document.getElementById('preview').contentWindow; return !!(w.edgePlayer && w.edgePlayer.hls); })()`, 30*time.Second)
	eval[bool](t, b, `(() => { const v = document.getElementById('preview').contentWindow.edgePlayer.video; v.currentTime = 5.2; return true; })()`)
	poll(t, b, "the poster time follows the playhead", `document.getElementById('poster-time').value === '5.2'`, 30*time.Second)
	browsertest.Screenshot(t, b, "video-page")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(".poster-form button")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatal(err)
	}
	if flash := eval[string](t, b, `document.querySelector('.flash').textContent`); !strings.Contains(flash, "picture at 5.2 s") {
		t.Fatalf("flash %q", flash)
	}
	now, _ := e.db.Stream(ctx, st.ID)
	if !strings.HasPrefix(now.PosterKey, "streams/"+st.ID+"/poster-") {
		t.Fatalf("poster key %q", now.PosterKey)
	}
	if !eval[bool](t, b, `document.querySelector('.poster-form img').complete && document.querySelector('.poster-form img').naturalWidth === 1280`) {
		t.Fatal("the new poster is not shown on the page")
	}
}
