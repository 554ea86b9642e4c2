package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
)

func readyStream(t *testing.T, e *env, title string) *db.Stream {
	t.Helper()
	ctx := context.Background()
	st, err := e.db.CreateStream(ctx, db.NewStream{Title: title, Status: db.StatusReady})
	if err != nil {
		t.Fatal(err)
	}
	e.db.SetStreamState(ctx, st.ID, db.StatusReady, 100, "")
	e.db.SetStreamOutput(ctx, st.ID, db.StreamOutput{Renditions: []string{"720p", "360p"}, PosterKey: "streams/" + st.ID + "/poster.jpg"})
	return st
}

func TestEmbedPage(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "Talk <b>")
	b := e.browser(t) // a viewer: no session
	r := b.get("/embed/" + st.ID + "?autoplay=1&muted=true&loop=1&controls=0&start=12.5")
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{
		`data-src="/streams/` + st.ID + `/master.m3u8"`, `data-autoplay="true"`, `data-muted="true"`, `data-loop="true"`,
		`data-controls="false"`, `data-start="12.5"`, `poster="/streams/` + st.ID + `/poster.jpg"`, "/vendor/hls.js/hls.min.js", "/js/player.js",
		"Talk &lt;b&gt;",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("embed page lacks %s", want)
		}
	}
	if r.code != 200 || !strings.Contains(csp, "frame-ancestors *") || !strings.Contains(csp, "media-src 'self' blob:") ||
		strings.Contains(csp, "unsafe-inline") || r.header.Get("X-Frame-Options") != "" {
		t.Fatalf("embed headers: %d %v", r.code, r.header)
	}
	if d := b.get("/embed/" + st.ID + "?start=-4&autoplay=maybe"); !strings.Contains(d.body, `data-start=""`) || !strings.Contains(d.body, `data-autoplay="false"`) {
		t.Error("bad query values are not ignored")
	}

	e.db.SetEmbedDomains(context.Background(), st.ID, []string{"example.com", "*.school.edu"})
	if csp := b.get("/embed/" + st.ID).header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' example.com *.school.edu") {
		t.Fatalf("allow-list CSP: %s", csp)
	}
}

func TestEmbedOverlays(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	processing, _ := e.db.CreateStream(ctx, db.NewStream{Title: "p"})
	e.db.SetStreamState(ctx, processing.ID, db.StatusProcessing, 37, "")
	failed, _ := e.db.CreateStream(ctx, db.NewStream{Title: "f"})
	e.db.SetStreamState(ctx, failed.ID, db.StatusFailed, 0, "ffmpeg: moov atom not found")
	b := e.browser(t)
	for _, tc := range []struct {
		path string
		code int
		has  string
	}{
		{"/embed/" + processing.ID, 200, "still being processed (37%)"},
		{"/embed/" + failed.ID, 200, "could not be processed"},
		{"/embed/doesnotexist", 404, "does not exist"},
	} {
		r := b.get(tc.path)
		if r.code != tc.code || !strings.Contains(r.body, tc.has) || strings.Contains(r.body, "<video") || strings.Contains(r.body, "moov atom") {
			t.Errorf("%s: %d\n%s", tc.path, r.code, r.body)
		}
	}
}

func TestWatchPageAndOEmbed(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "Launch \"day\"")
	b := e.browser(t)
	w := b.get("/watch/" + st.ID)
	watchURL := "https://edge.example/watch/" + st.ID
	for _, want := range []string{
		`<iframe src="https://edge.example/embed/` + st.ID + `"`,
		`property="og:title" content="Launch &#34;day&#34;"`, `property="og:image" content="https://edge.example/streams/` + st.ID + `/poster.jpg"`,
		`name="twitter:card" content="player"`, `name="twitter:player" content="https://edge.example/embed/` + st.ID + `"`,
		`type="application/json+oembed" href="https://edge.example/oembed?format=json&amp;url=` + url.QueryEscape(watchURL) + `"`,
	} {
		if !strings.Contains(w.body, want) {
			t.Errorf("watch page lacks %s", want)
		}
	}
	if w.code != 200 || b.get("/watch/nope").code != 404 {
		t.Fatalf("watch: %d", w.code)
	}

	var o struct {
		Version, Type, Title, HTML string
		Width, Height              int
		ThumbnailURL               string `json:"thumbnail_url"`
	}
	r := b.get("/oembed?format=json&url=" + url.QueryEscape(watchURL))
	decode(t, r.body, &o)
	if r.code != 200 || o.Version != "1.0" || o.Type != "video" || o.Width != 640 || o.Height != 360 ||
		!strings.HasPrefix(o.HTML, `<iframe src="https://edge.example/embed/`+st.ID+`" width="640" height="360"`) ||
		!strings.Contains(o.HTML, `title="Launch &#34;day&#34;"`) || o.ThumbnailURL == "" || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("oembed: %d %s", r.code, r.body)
	}
	r = b.get("/oembed?maxwidth=320&url=" + url.QueryEscape("https://edge.example/embed/"+st.ID))
	decode(t, r.body, &o)
	if o.Width != 320 || o.Height != 180 {
		t.Fatalf("maxwidth: %d×%d", o.Width, o.Height)
	}
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"format=xml&url=" + url.QueryEscape(watchURL), 501},
		{"url=" + url.QueryEscape("https://evil.example/watch/"+st.ID), 404},
		{"url=" + url.QueryEscape("https://edge.example/videos/"+st.ID), 404},
		{"url=" + url.QueryEscape("https://edge.example/watch/unknown"), 404},
		{"", 404},
	} {
		if r := b.get("/oembed?" + tc.query); r.code != tc.code {
			t.Errorf("oembed?%s: %d", tc.query, r.code)
		}
	}
}

func TestEmbedDomainsForm(t *testing.T) {
	e := newEnv(t, nil)
	st := readyStream(t, e, "x")
	b := e.browser(t)
	csrf := b.signIn("ed@example.com", "correct horse")
	path := "/videos/" + st.ID + "/embed-domains"
	if r := b.post(path, url.Values{"domains": {"example.com"}}, nil); r.code != 403 {
		t.Fatalf("no csrf: %d", r.code)
	}
	if r := b.post(path, url.Values{"csrf": {csrf}, "domains": {"example.com\nbad domain;"}}, nil); r.code != 422 || !strings.Contains(r.body, "domain;") {
		t.Fatalf("bad domain: %d", r.code)
	}
	if r := b.post(path, url.Values{"csrf": {csrf}, "domains": {"example.com\r\n*.school.edu\n"}}, nil); r.code != 303 {
		t.Fatalf("save: %d", r.code)
	}
	got, _ := e.db.Stream(context.Background(), st.ID)
	if strings.Join(got.EmbedDomains, " ") != "example.com *.school.edu" {
		t.Fatalf("saved: %v", got.EmbedDomains)
	}
}

func TestVendoredHlsJS(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	page := b.get("/embed/" + readyStream(t, e, "x").ID)
	m := regexp.MustCompile(`src="(/static/[^"]+/hls\.min\.js)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no hls.js script tag")
	}
	src := m[1]
	js := b.get(src)
	if js.code != 200 || !strings.Contains(js.header.Get("Cache-Control"), "immutable") || len(js.body) < 100_000 ||
		!strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("hls.js at %s: %d %v", src, js.code, js.header)
	}
	if lic := b.get(strings.Replace(src, "hls.min.js", "LICENSE", 1)); !strings.Contains(lic.body, "Apache License") {
		t.Fatal("hls.js LICENSE not shipped")
	}
}
