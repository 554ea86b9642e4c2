package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
)

// TestPortalInChromium: a person signs in, sees the list update by itself
// while a video processes, opens it, copies its embed code and signs out.
func TestPortalInChromium(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st, _ := e.db.CreateStream(ctx, db.NewStream{Title: "Quarterly all-hands", Status: db.StatusProcessing})
	e.db.SetStreamState(ctx, st.ID, db.StatusProcessing, 10, "")
	e.db.CreateStream(ctx, db.NewStream{Title: "Onboarding: day one", Status: db.StatusQueued})

	b := browsertest.New(t)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	step("open the portal", chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	step("sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), "ed@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	if body := text("main"); !strings.Contains(body, "Quarterly all-hands") || !strings.Contains(body, "Onboarding: day one") {
		t.Fatalf("list after sign-in:\n%s", body)
	}

	// The row follows the job without a reload (static/js/live.js).
	row := `[data-live="` + st.ID + `"]`
	e.db.SetStreamState(ctx, st.ID, db.StatusProcessing, 60, "")
	step("progress updates by itself", chromedp.Poll[chromedp.Void](
		`document.querySelector('`+row+`').textContent.includes('60%')`, chromedp.WithPollingTimeout(15*time.Second)))
	browsertest.Screenshot(t, b, "portal-list")
	e.db.SetStreamState(ctx, st.ID, db.StatusReady, 100, "")
	step("ready shows by itself", chromedp.Poll[chromedp.Void](
		`document.querySelector('`+row+` .badge').textContent === 'ready'`, chromedp.WithPollingTimeout(15*time.Second)))
	step("the row is swapped for a fresh one", chromedp.Poll[chromedp.Void](
		`document.querySelector('tr[data-id="`+st.ID+`"]').dataset.status === 'ready'`, chromedp.WithPollingTimeout(15*time.Second)))

	step("open the video", chromedp.Click(chromedp.CSS(`a[href="/videos/`+st.ID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#embed-code")))
	if code := text("#embed-code"); !strings.Contains(code, `<iframe src="https://edge.example/embed/`+st.ID+`"`) {
		t.Fatalf("embed code: %q", code)
	}
	step("sign out", chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#email")))
	if loc, _ := chromedp.Run(b, chromedp.Location()); !strings.HasSuffix(loc, "/signin") {
		t.Fatalf("after sign-out at %s", loc)
	}
}
