package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
)

// Every portal page fits a 375 px phone: nothing scrolls sideways (a
// table may scroll inside its own box). Each page's screenshot is kept.
func TestPortalFitsAPhone(t *testing.T) {
	e := newWebhookEnv(t)
	ctx := context.Background()
	admin, _ := e.db.CreateUser(ctx, "a.very.long.address.for.an.admin@school-district.example.org", "correct horse", db.RoleAdmin)
	e.db.CreateAPIToken(ctx, admin.ID, "the CMS's nightly import script")
	st := playableStream(t, e, "A lecture with a rather long title that goes on and on: part one of many")
	e.db.CreateStream(ctx, db.NewStream{Title: "Onboarding", Status: db.StatusQueued})
	hook, _ := e.db.CreateWebhookEndpoint(ctx, "https://cms.school-district.example.org/hooks/edge/incoming/video-events", "CMS", admin.ID)
	e.putCaptions(t, st.ID, "en", "", englishSRT)

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.EmulateViewport(375, 812), chromedp.Navigate(e.srv.URL+"/signin")); err != nil {
		t.Fatal(err)
	}
	check := func(name string) {
		t.Helper()
		wide := eval[string](t, b, `(() => {
			if (document.documentElement.scrollWidth <= innerWidth) return '';
			return Array.from(document.querySelectorAll('body *')).filter(el => el.getBoundingClientRect().right > innerWidth + 1
				&& !el.closest('.scroll')).map(el => el.tagName + '.' + el.className).slice(0, 8).join(', ') + ' (page ' + document.documentElement.scrollWidth + ')';
		})()`)
		if wide != "" {
			t.Errorf("%s scrolls sideways at 375 px: %s", name, wide)
		}
		browsertest.Screenshot(t, b, "narrow-"+name)
	}
	check("signin")
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS("#email"), admin.Email), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse"),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav a[href='/upload']"))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"videos", "/"}, {"video", "/videos/" + st.ID}, {"delete", "/videos/" + st.ID + "/delete"}, {"upload", "/upload"},
		{"tokens", "/tokens"}, {"users", "/users"}, {"keys", "/keys"}, {"webhooks", "/webhooks"},
		{"webhook", "/webhooks/" + itoa(hook.ID)}, {"account", "/account"}, {"search", "/?q=" + url.QueryEscape("nothing like this")},
	} {
		if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if title := eval[string](t, b, `document.title`); strings.Contains(title, "error") {
			t.Fatalf("%s: %s", p.name, title)
		}
		check(p.name)
	}
}
