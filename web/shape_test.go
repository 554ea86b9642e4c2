package web_test

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/browsertest"
)

// shapedStream is a ready stream whose top rendition is w×h.
func shapedStream(t *testing.T, e *env, title string, w, h int) *db.Stream {
	t.Helper()
	st := readyStream(t, e, title)
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Renditions: []string{"720p"},
		PosterKey: "streams/" + st.ID + "/poster.jpg", Width: w, Height: h})
	return st
}

// TestPlayerKeepsTheVideosShape: oEmbed, the portal's embed code and the
// watch page's preview tags give each video its own shape, 640 on the
// long side: a phone video is 360×640, not a 16:9 box.
func TestPlayerKeepsTheVideosShape(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	for _, tc := range []struct {
		w, h              int
		frame, small      string // oEmbed size, then with maxwidth=180
		poster, embedCode string
	}{
		{1080, 1920, "360x640", "180x320", "720x1280", `width="360" height="640" style="aspect-ratio:360/640;width:100%;height:auto;border:0;max-width:360px"`},
		{1920, 1080, "640x360", "180x101", "1280x720", `width="640" height="360" style="aspect-ratio:640/360;width:100%;height:auto;border:0"`},
		{768, 576, "640x480", "180x135", "768x576", `width="640" height="480" style="aspect-ratio:640/480;`},
		{720, 720, "640x640", "180x180", "720x720", `width="640" height="640"`},
		{0, 0, "640x360", "180x101", "640x360", `width="640" height="360"`}, // no size reported: 16:9
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			st := shapedStream(t, e, "Shape", tc.w, tc.h)
			var o struct {
				Width, Height   int
				HTML            string
				ThumbnailWidth  int `json:"thumbnail_width"`
				ThumbnailHeight int `json:"thumbnail_height"`
			}
			watch := "https://edge.example/watch/" + st.ID
			for query, want := range map[string]string{"": tc.frame, "&maxwidth=180": tc.small} {
				decode(t, b.get("/oembed?url="+url.QueryEscape(watch)+query).body, &o)
				if got := fmt.Sprintf("%dx%d", o.Width, o.Height); got != want || !strings.Contains(o.HTML, fmt.Sprintf(`width="%d" height="%d"`, o.Width, o.Height)) {
					t.Errorf("oEmbed%s: %s %s, want %s", query, got, o.HTML, want)
				}
			}
			decode(t, b.get("/oembed?url="+url.QueryEscape(watch)).body, &o)
			if got := fmt.Sprintf("%dx%d", o.ThumbnailWidth, o.ThumbnailHeight); got != tc.poster {
				t.Errorf("oEmbed thumbnail %s, want %s", got, tc.poster)
			}
			if page := html.UnescapeString(b.get("/videos/" + st.ID).body); !strings.Contains(page, tc.embedCode) {
				t.Errorf("embed code lacks %s", tc.embedCode)
			}
			w, h, _ := strings.Cut(tc.frame, "x")
			if page := b.get("/watch/" + st.ID).body; !strings.Contains(page, `property="og:video:width" content="`+w+`"`) ||
				!strings.Contains(page, `property="og:video:height" content="`+h+`"`) {
				t.Errorf("watch page preview size is not %s", tc.frame)
			}
		})
	}
}

// TestWatchPageIsPortraitOnPhones: in Chromium, the watch page's player
// takes a portrait video's shape, on a phone (375 px wide, no sideways
// scroll) and on a desktop (no taller than the screen), and a landscape
// video's on both.
func TestWatchPageIsPortraitOnPhones(t *testing.T) {
	e := newEnv(t, nil)
	portrait := shapedStream(t, e, "Phone: a title longer than a portrait video is wide, which wraps under it", 1080, 1920)
	landscape := shapedStream(t, e, "Film", 1920, 1080)
	br := browsertest.New(t)
	for _, tc := range []struct {
		name          string
		st            *db.Stream
		width, height int64
		ratio         float64
	}{
		{"portrait on a phone", portrait, 375, 812, 9.0 / 16},
		{"portrait on a desktop", portrait, 1280, 800, 9.0 / 16},
		{"landscape on a phone", landscape, 375, 812, 16.0 / 9},
		{"landscape on a desktop", landscape, 1280, 800, 16.0 / 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := chromedp.Do(br, chromedp.EmulateViewport(tc.width, tc.height)); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(br, chromedp.Navigate(e.srv.URL+"/watch/"+tc.st.ID)); err != nil {
				t.Fatal(err)
			}
			poll(t, br, "the stage has its size", `document.querySelector('.stage iframe').getBoundingClientRect().height > 50`, 10*time.Second)
			box := eval[map[string]float64](t, br, `(() => { const r = document.querySelector('.stage iframe').getBoundingClientRect(),
				t = document.querySelector('h1').getBoundingClientRect();
				return {w: r.width, h: r.height, left: r.left, titleLeft: t.left, titleWidth: t.width,
					body: document.body.getBoundingClientRect().height, scroll: document.documentElement.scrollWidth, inner: innerWidth, vh: innerHeight}; })()`)
			// The title starts where the video does and wraps within its
			// width; the page's colour reaches the window's bottom.
			if math.Abs(box["titleLeft"]-box["left"]) > 1 || box["titleWidth"] > box["w"]+1 || box["body"] < box["vh"] {
				t.Errorf("title at %.0f (%.0f wide) under a video at %.0f (%.0f wide); page %.0f high in a %.0f window",
					box["titleLeft"], box["titleWidth"], box["left"], box["w"], box["body"], box["vh"])
			}
			if got := box["w"] / box["h"]; math.Abs(got-tc.ratio) > 0.02*tc.ratio {
				t.Errorf("player is %.0f×%.0f (ratio %.3f), want %.3f", box["w"], box["h"], got, tc.ratio)
			}
			if box["scroll"] > box["inner"] || box["h"] > 0.81*box["vh"] && box["w"] < box["inner"]-60 {
				t.Errorf("player %.0f×%.0f in a %.0f×%.0f window (page %.0f wide)", box["w"], box["h"], box["inner"], box["vh"], box["scroll"])
			}
			browsertest.Screenshot(t, br, "watch-"+strings.ReplaceAll(tc.name, " ", "-"))
		})
	}
}

// TestWarningAndSizeReachTheTeam: what a job reported of a stream that
// falls short of its source is on its page and in the API, with the
// picture's size.
func TestWarningAndSizeReachTheTeam(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "Cut")
	warning := "The video plays for 29s, but its file says 1m0s: the file looks cut short."
	e.db.SetStreamOutput(context.Background(), st.ID, db.StreamOutput{Renditions: []string{"720p"}, Width: 720, Height: 1280, Warning: warning})
	var got struct {
		Warning       string
		Width, Height int
	}
	decode(t, e.api(t, "GET", "/api/v1/streams/"+st.ID, e.token, "").body, &got)
	if got.Warning != warning || got.Width != 720 || got.Height != 1280 {
		t.Fatalf("API: %+v", got)
	}
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	if page := b.get("/videos/" + st.ID).body; !strings.Contains(page, `<dd class="warning" role="status">`+html.EscapeString(warning)) {
		t.Fatal("the video page does not show the warning")
	}
}
