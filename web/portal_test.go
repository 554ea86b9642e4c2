package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/web"
)

func TestPortalRefusesWithoutSession(t *testing.T) {
	e := newEnv(t, nil)
	st, _ := e.db.CreateStream(context.Background(), db.NewStream{Title: "x"})
	b := e.browser(t)
	for _, path := range []string{"/", "/?q=x", "/videos/" + st.ID, "/videos/" + st.ID + "/delete"} {
		r := b.get(path)
		if r.code != http.StatusSeeOther || r.header.Get("Location") != "/signin?next="+url.QueryEscape(path) {
			t.Errorf("GET %s: %d %v", path, r.code, r.header.Get("Location"))
		}
	}
	for _, path := range []string{"/signout", "/videos/" + st.ID + "/rename", "/videos/" + st.ID + "/delete"} {
		if r := b.post(path, url.Values{"csrf": {"x"}, "title": {"y"}}, nil); r.code != http.StatusUnauthorized {
			t.Errorf("POST %s: %d", path, r.code)
		}
	}
	if _, err := e.db.Stream(context.Background(), st.ID); err != nil {
		t.Fatal("an anonymous POST deleted a stream")
	}
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	form := b.get("/signin?next=/videos/abc")
	if form.code != 200 || !strings.Contains(form.body, `value="/videos/abc"`) {
		t.Fatalf("sign-in page: %d", form.code)
	}
	csrf := form.csrf(t)
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		code int
		has  string
	}{
		{"no csrf", url.Values{"email": {"ed@example.com"}, "password": {"correct horse"}}, nil, 403, "another site"},
		{"wrong csrf", url.Values{"csrf": {"nope"}, "email": {"ed@example.com"}, "password": {"correct horse"}}, nil, 403, "another site"},
		{"foreign origin", url.Values{"csrf": {csrf}, "email": {"ed@example.com"}, "password": {"correct horse"}}, map[string]string{"Origin": "https://evil.example"}, 403, "cross-site"},
		{"wrong password", url.Values{"csrf": {csrf}, "email": {"ed@example.com"}, "password": {"wrong horse!"}}, nil, 401, "do not match"},
		{"unknown email", url.Values{"csrf": {csrf}, "email": {"who@example.com"}, "password": {"correct horse"}}, nil, 401, "do not match"},
	} {
		if r := b.post("/signin", tc.form, tc.hdr); r.code != tc.code || !strings.Contains(r.body, tc.has) {
			t.Errorf("%s: %d %s", tc.name, r.code, r.body)
		}
	}
	r := b.post("/signin", url.Values{"csrf": {csrf}, "email": {"ED@example.com"}, "password": {"correct horse"}, "next": {"/?q=a"}}, nil)
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/?q=a" {
		t.Fatalf("sign in: %d %v", r.code, r.header)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, attr := range []string{"edge_session=", "HttpOnly", "SameSite=Lax", "Secure", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	home := b.get("/")
	if home.code != 200 || !strings.Contains(home.body, "ed@example.com") {
		t.Fatalf("home after sign-in: %d", home.code)
	}
	if r := b.post("/signout", url.Values{"csrf": {"wrong"}}, nil); r.code != 403 {
		t.Fatalf("sign out without csrf: %d", r.code)
	}
	if r := b.post("/signout", url.Values{"csrf": {home.csrf(t)}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.code)
	}
	if r := b.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("still signed in after sign-out: %d", r.code)
	}
	// An open redirect through next= is refused.
	for _, next := range []string{"//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example",
		"/\n/evil.example", "\t//evil.example", "/\x7f/x", "javascript:alert(1)", "evil.example"} {
		b2 := e.browser(t)
		f := b2.get("/signin")
		r := b2.post("/signin", url.Values{"csrf": {f.csrf(t)}, "email": {"ed@example.com"}, "password": {"correct horse"}, "next": {next}}, nil)
		if r.header.Get("Location") != "/" {
			t.Errorf("next=%q redirected to %q", next, r.header.Get("Location"))
		}
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	csrf := b.get("/signin").csrf(t)
	try := func(password string) page {
		return b.post("/signin", url.Values{"csrf": {csrf}, "email": {"ed@example.com"}, "password": {password}}, nil)
	}
	for range 5 {
		if r := try("wrong horse!"); r.code != 401 {
			t.Fatalf("failure: %d", r.code)
		}
	}
	r := try("correct horse") // right password, but the account is cooling down
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many failed sign-ins") {
		t.Fatalf("6th attempt: %d %v", r.code, r.header)
	}
}

func TestVideoPages(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	csrf := b.signIn("ed@example.com", "correct horse")

	empty := b.get("/")
	if !strings.Contains(empty.body, "No videos yet") || !strings.Contains(empty.body, "https://edge.example/api/v1/streams") {
		t.Fatalf("empty state:\n%s", empty.body)
	}
	ctx := context.Background()
	st, _ := e.db.CreateStream(ctx, db.NewStream{Title: "Lecture <1>", SourceKey: "uploads/x/a.mov", Status: db.StatusProcessing})
	e.db.SetStreamState(ctx, st.ID, db.StatusProcessing, 42, "")
	e.db.CreateStream(ctx, db.NewStream{Title: "Keynote"})

	list := b.get("/")
	for _, want := range []string{"Lecture &lt;1&gt;", "Keynote", `class="badge processing"`, "42%", "1–2 of 2", "/videos/" + st.ID} {
		if !strings.Contains(list.body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if s := b.get("/?q=keyn"); !strings.Contains(s.body, "Keynote") || strings.Contains(s.body, "Lecture") {
		t.Error("search by title does not filter")
	}
	if s := b.get("/?q=zzz"); !strings.Contains(s.body, "No video title contains") {
		t.Error("empty search has no empty state")
	}

	detail := b.get("/videos/" + st.ID)
	for _, want := range []string{
		"https://edge.example/streams/" + st.ID + "/master.m3u8",
		"https://edge.example/watch/" + st.ID,
		"&lt;iframe src=&#34;https://edge.example/embed/" + st.ID + "&#34;",
		"No transcoding job has run",
	} {
		if !strings.Contains(detail.body, want) {
			t.Errorf("video page lacks %q", want)
		}
	}
	if r := b.get("/videos/nope"); r.code != 404 || !strings.Contains(r.body, "stream: not found") {
		t.Errorf("missing video: %d", r.code)
	}

	for _, tc := range []struct {
		name  string
		form  url.Values
		code  int
		title string
	}{
		{"no csrf", url.Values{"title": {"Hacked"}}, 403, "Lecture <1>"},
		{"empty title", url.Values{"csrf": {csrf}, "title": {"  "}}, 422, "Lecture <1>"},
		{"renamed", url.Values{"csrf": {csrf}, "title": {"Lecture one"}}, 303, "Lecture one"},
	} {
		r := b.post("/videos/"+st.ID+"/rename", tc.form, nil)
		got, _ := e.db.Stream(ctx, st.ID)
		if r.code != tc.code || got.Title != tc.title {
			t.Errorf("%s: %d, title %q", tc.name, r.code, got.Title)
		}
	}
	if r := b.get("/videos/" + st.ID); !strings.Contains(r.body, "Renamed.") {
		t.Error("no confirmation after rename")
	}

	confirm := b.get("/videos/" + st.ID + "/delete")
	if !strings.Contains(confirm.body, "cannot be undone") {
		t.Fatal("no delete confirmation")
	}
	if r := b.post("/videos/"+st.ID+"/delete", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"}); r.code != 403 {
		t.Fatalf("cross-site delete: %d", r.code)
	}
	if r := b.post("/videos/"+st.ID+"/delete", url.Values{"csrf": {confirm.csrf(t)}}, nil); r.code != 303 {
		t.Fatalf("delete: %d", r.code)
	}
	if _, err := e.db.Stream(ctx, st.ID); err == nil {
		t.Fatal("stream still there")
	}
}

func TestVideoListPagination(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	for i := range 30 {
		e.db.CreateStream(context.Background(), db.NewStream{Title: "v" + string(rune('a'+i%26))})
	}
	first := b.get("/")
	if !strings.Contains(first.body, "1–25 of 30") || !strings.Contains(first.body, `href="/?page=2"`) || strings.Contains(first.body, `rel="prev"`) {
		t.Fatalf("page 1:\n%s", first.body)
	}
	second := b.get("/?page=2")
	if !strings.Contains(second.body, "26–30 of 30") || !strings.Contains(second.body, `rel="prev"`) || strings.Contains(second.body, `rel="next"`) {
		t.Fatal("page 2 is wrong")
	}
	// Past the last page: that, and the way back, never the first-run welcome.
	past := b.get("/?page=999")
	if !strings.Contains(past.body, "This page is past the last one: there are 30 videos.") || !strings.Contains(past.body, `href="/?page=2"`) ||
		strings.Contains(past.body, "No videos yet") || strings.Contains(past.body, `rel="prev"`) {
		t.Fatalf("page 999:\n%s", past.body)
	}
	if past := b.get("/?q=va&page=9"); !strings.Contains(past.body, "there are 2 videos") || !strings.Contains(past.body, `href="/?q=va"`) {
		t.Fatalf("a search's page 9:\n%s", past.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	for _, path := range []string{"/signin", "/"} {
		h := b.get(path).header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s headers: %v", path, h)
		}
	}
	css := b.get(strings.TrimPrefix(strings.Split(strings.Split(b.get("/signin").body, `rel="stylesheet" href="`)[1], `"`)[0], ""))
	if css.code != 200 || !strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.Contains(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %v", css.code, css.header)
	}
}

func TestSetupLink(t *testing.T) {
	e := newEnv(t, nil, func(c *web.Config) { c.SetupToken = "setup-secret-123" })
	// newEnv made an editor; setup only works on an empty database.
	e.db.DeleteUser(context.Background(), e.user.ID)
	b := e.browser(t)
	if r := b.get("/setup/wrong"); r.code != 404 {
		t.Fatalf("wrong token: %d", r.code)
	}
	form := b.get("/setup/setup-secret-123")
	if form.code != 200 {
		t.Fatalf("setup page: %d", form.code)
	}
	if r := b.post("/setup/setup-secret-123", url.Values{"csrf": {form.csrf(t)}, "email": {"boss@example.com"}, "password": {"short"}}, nil); r.code != 422 || !strings.Contains(r.body, "at least 10") {
		t.Fatalf("short password: %d", r.code)
	}
	r := b.post("/setup/setup-secret-123", url.Values{"csrf": {form.csrf(t)}, "email": {"boss@example.com"}, "password": {"correct horse"}}, nil)
	if r.code != 303 {
		t.Fatalf("setup: %d %s", r.code, r.body)
	}
	if home := b.get("/"); home.code != 200 || !strings.Contains(home.body, "boss@example.com") {
		t.Fatalf("not signed in after setup: %d", home.code)
	}
	u, err := e.db.UserByEmail(context.Background(), "boss@example.com")
	if err != nil || !u.IsAdmin() {
		t.Fatalf("first user: %+v %v", u, err)
	}
	if r := e.browser(t).get("/setup/setup-secret-123"); r.code != 404 {
		t.Fatalf("setup link works twice: %d", r.code)
	}
}

func TestVideoStatusForLiveRows(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st, _ := e.db.CreateStream(ctx, db.NewStream{Title: "x", Status: db.StatusProcessing})
	e.db.SetStreamState(ctx, st.ID, db.StatusProcessing, 57, "")
	anon := e.browser(t)
	if r := anon.get("/videos/status?ids=" + st.ID); r.code != 303 {
		t.Fatalf("anonymous status: %d", r.code)
	}
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	list := b.get("/")
	if !strings.Contains(list.body, `data-live="`+st.ID+`" data-status="processing"`) || !strings.Contains(list.body, "/js/live.js") {
		t.Fatal("list rows are not marked for live updates")
	}
	r := b.get("/videos/status?ids=" + st.ID + ",unknown")
	if r.code != 200 || r.body != `{"`+st.ID+`":{"status":"processing","progress":57}}`+"\n" {
		t.Fatalf("status: %d %q", r.code, r.body)
	}
	if r := b.get("/videos/status?ids=" + strings.Repeat("a,", 100) + "a"); r.code != 400 {
		t.Fatalf("101 ids: %d", r.code)
	}
}

// publicRoutes are the only routes a stranger may use.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /metrics": true, "GET /signin": true, "POST /signin": true,
	"GET /setup/:token": true, "POST /setup/:token": true,
	"GET /embed/:id": true, "GET /watch/:id": true, "GET /oembed": true,
	"POST /hooks/ittybit/:stream/:token": true, // Ittybit's calls: the token in the URL is the credential
	"GET /api/v1/openapi.json":           true, // the API's description, for tools before they have a token
}

// TestEveryRouteRefusesStrangers walks the router itself, so a route added
// later without protection fails here.
func TestEveryRouteRefusesStrangers(t *testing.T) {
	e := newEnv(t, nil)
	st, _ := e.db.CreateStream(context.Background(), db.NewStream{Title: "x"})
	checked := 0
	stranger := e.browser(t) // sees redirects rather than following them
	for _, r := range e.server.Routes() {
		key := r[0] + " " + r[1]
		if publicRoutes[key] || strings.HasPrefix(r[1], "/static/") || strings.HasSuffix(r[1], "/*") || r[1] == "/api/v1" {
			continue
		}
		path := strings.NewReplacer(":id", st.ID, ":token", "x").Replace(r[1])
		resp := stranger.do(r[0], path, nil, nil)
		switch {
		case strings.HasPrefix(path, "/api/"):
			if resp.code != 401 {
				t.Errorf("%s: %d without a token", key, resp.code)
			}
		case r[0] == "GET":
			if resp.code != 303 && resp.code != 401 {
				t.Errorf("%s: %d without a session", key, resp.code)
			}
		default:
			if resp.code != 401 && resp.code != 403 {
				t.Errorf("%s: %d without a session", key, resp.code)
			}
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("only %d routes checked: is the router walk broken?", checked)
	}
	if _, err := e.db.Stream(context.Background(), st.ID); err != nil {
		t.Fatal("a stranger changed data")
	}
}
