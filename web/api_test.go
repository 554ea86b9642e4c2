package web_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/web"
)

type stream struct {
	ID, Title, Status, Error string
	Progress                 int
	MasterURL                string `json:"master_url"`
	EmbedURL                 string `json:"embed_url"`
	CreatedAt                string `json:"created_at"`
	Renditions               []string
}

var sources = map[string]string{"uploads/in/lecture.mov": "not really a movie", "uploads/in/keynote.mp4": "nor this"}

func TestAPIRefusesWithoutValidToken(t *testing.T) {
	e := newEnv(t, sources)
	revoked, tok, _ := e.db.CreateAPIToken(context.Background(), e.user.ID, "old")
	e.db.RevokeAPIToken(context.Background(), e.user.ID, tok.ID)
	routes := [][2]string{
		{"GET", "/api/v1/streams"}, {"POST", "/api/v1/streams"}, {"GET", "/api/v1/streams/abc"},
		{"DELETE", "/api/v1/streams/abc"}, {"GET", "/api/v1/nothing-here"},
	}
	for _, r := range routes {
		for name, token := range map[string]string{"no token": "", "garbage": "edge_nope", "revoked": revoked} {
			resp := e.api(t, r[0], r[1], token, "")
			var body errorBody
			decode(t, resp.body, &body)
			if resp.code != 401 || body.Error.Code != "unauthorized" || !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %s: %d %s", r[0], r[1], name, resp.code, resp.body)
			}
		}
	}
}

func TestAPIStreamLifecycle(t *testing.T) {
	e := newEnv(t, sources)
	resp := e.api(t, "POST", "/api/v1/streams", e.token, `{"title":"Lecture","source":"uploads/in/lecture.mov"}`)
	if resp.code != 201 {
		t.Fatalf("create: %d %s", resp.code, resp.body)
	}
	var created stream
	decode(t, resp.body, &created)
	if created.Title != "Lecture" || created.Status != "queued" || len(created.ID) != db.StreamIDLen ||
		created.MasterURL != "https://edge.example/streams/"+created.ID+"/master.m3u8" ||
		created.EmbedURL != "https://edge.example/embed/"+created.ID || created.CreatedAt == "" ||
		resp.header.Get("Location") != "https://edge.example/api/v1/streams/"+created.ID {
		t.Fatalf("created: %+v %v", created, resp.header)
	}
	// A title defaults to the source's name.
	resp = e.api(t, "POST", "/api/v1/streams", e.token, `{"source":"uploads/in/keynote.mp4"}`)
	var untitled stream
	decode(t, resp.body, &untitled)
	if resp.code != 201 || untitled.Title != "keynote" {
		t.Fatalf("untitled: %d %s", resp.code, resp.body)
	}

	resp = e.api(t, "GET", "/api/v1/streams/"+created.ID, e.token, "")
	var got stream
	decode(t, resp.body, &got)
	if resp.code != 200 || got.ID != created.ID || got.Renditions == nil || resp.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("get: %d %s", resp.code, resp.body)
	}

	resp = e.api(t, "GET", "/api/v1/streams?q=lect&limit=10", e.token, "")
	var list struct {
		Streams []stream
		Total   int
	}
	decode(t, resp.body, &list)
	if resp.code != 200 || list.Total != 1 || len(list.Streams) != 1 || list.Streams[0].ID != created.ID {
		t.Fatalf("list: %d %s", resp.code, resp.body)
	}

	// Delete removes the stream's objects from storage too.
	ctx := context.Background()
	for _, k := range []string{"streams/" + created.ID + "/master.m3u8", "streams/" + created.ID + "/720p/segment-0.ts", "uploads/" + created.ID + "/a.mov"} {
		e.store.Put(ctx, k, strings.NewReader("x"), 1)
	}
	e.store.Put(ctx, "streams/"+untitled.ID+"/master.m3u8", strings.NewReader("x"), 1)
	// Viewers have it cached, in memory and on disk, when it is deleted.
	for range 3 {
		for _, p := range []string{"/master.m3u8", "/720p/segment-0.ts"} {
			if r := e.api(t, "GET", "/streams/"+created.ID+p, "", ""); r.code != 200 {
				t.Fatalf("before delete %s: %d", p, r.code)
			}
		}
	}
	if resp := e.api(t, "DELETE", "/api/v1/streams/"+created.ID, e.token, ""); resp.code != 204 {
		t.Fatalf("delete: %d %s", resp.code, resp.body)
	}
	// The very next request for any of it is a 404, not a cached copy.
	for _, p := range []string{"/master.m3u8", "/720p/segment-0.ts"} {
		if r := e.api(t, "GET", "/streams/"+created.ID+p, "", ""); r.code != 404 {
			t.Fatalf("after delete %s: %d %v", p, r.code, r.header)
		}
	}
	left, _ := e.store.List(ctx, "streams/"+created.ID+"/")
	uploads, _ := e.store.List(ctx, "uploads/"+created.ID+"/")
	if len(left)+len(uploads) != 0 {
		t.Fatalf("objects left after delete: %v %v", left, uploads)
	}
	if _, err := e.store.Head(ctx, "streams/"+untitled.ID+"/master.m3u8"); err != nil {
		t.Fatalf("another stream's object went too: %v", err)
	}
	if _, err := e.store.Head(ctx, "uploads/in/lecture.mov"); errors.Is(err, storage.ErrNotFound) {
		t.Fatal("the shared source was deleted")
	}
	if resp := e.api(t, "GET", "/api/v1/streams/"+created.ID, e.token, ""); resp.code != 404 {
		t.Fatalf("after delete: %d", resp.code)
	}
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t, sources)
	for _, tc := range []struct {
		method, path, body string
		code               int
		kind, msgHas       string
	}{
		{"GET", "/api/v1/streams/nope", "", 404, "not_found", "stream: not found"},
		{"DELETE", "/api/v1/streams/nope", "", 404, "not_found", "stream"},
		// Bodies that are not what the call takes are worded in JSON's terms, not Go's.
		{"POST", "/api/v1/streams", `{"title":`, 400, "bad_request", "body ends in the middle of its JSON"},
		{"POST", "/api/v1/streams", `[1,2]`, 400, "bad_request", "body: want a JSON object, not a JSON array"},
		{"POST", "/api/v1/streams", `{"title":5}`, 400, "bad_request", "title: want a string, not a JSON number"},
		{"POST", "/api/v1/streams", `{"title":"x",}`, 400, "bad_request", "body is not valid JSON (at byte 14)"},
		{"POST", "/api/v1/streams", ` `, 400, "bad_request", "body is empty: send a JSON object"},
		{"POST", "/api/v1/streams", `{"title":"` + strings.Repeat("t", 1<<20) + `"}`, 400, "bad_request", "body is larger than 1048576 bytes"},
		{"PATCH", "/api/v1/streams/nope", `{"allowed_domains":"a.example"}`, 400, "bad_request", "allowed_domains: want a list, not a JSON string"},
		{"POST", "/api/v1/streams", `{"source":"uploads/none.mov"}`, 422, "invalid", "no such object"},
		{"POST", "/api/v1/streams", `{"source":"../etc/passwd"}`, 422, "invalid", "not a storage key"},
		{"POST", "/api/v1/streams", `{"source":"s3://bucket-only"}`, 422, "invalid", "s3://bucket/key"},
		// Uploads are in a folder here: no bucket may be named, least of all another's.
		{"POST", "/api/v1/streams", `{"source":"s3://other-bucket/raw/keynote.mp4"}`, 422, "invalid", "folder, not a bucket"},
		{"POST", "/api/v1/streams", `{"title":"` + strings.Repeat("t", 201) + `","source":"uploads/in/lecture.mov"}`, 422, "invalid", "title"},
		{"GET", "/api/v1/streams?limit=0", "", 400, "bad_request", "limit"},
		{"POST", "/api/v1/streams/..%2f/purge", "", 400, "bad_request", "not a stream id"},
		{"POST", "/api/v1/streams", `{"titel":"Talk","source":"uploads/in/lecture.mov"}`, 400, "bad_request", "titel: not a field of this call, which takes title, source, url, playback_policy, downloads"},
		{"PATCH", "/api/v1/streams/nope", `{"playback":"signed"}`, 400, "bad_request", "playback: not a field of this call, which takes title, playback_policy, allowed_domains, downloads"},
		{"POST", "/api/v1/streams/a.b.c/purge", "", 400, "bad_request", "not a stream id"},
		{"GET", "/api/v1/streams?offset=-1", "", 400, "bad_request", "offset"},
	} {
		resp := e.api(t, tc.method, tc.path, e.token, tc.body)
		var body errorBody
		decode(t, resp.body, &body)
		if resp.code != tc.code || body.Error.Code != tc.kind || !strings.Contains(body.Error.Message, tc.msgHas) {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, resp.code, resp.body)
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/streams", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "text/plain")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 415 {
		t.Fatalf("text/plain body: %d", resp.StatusCode)
	}
}

// TestAPIPurgeTellsAnotherEdge: an edge sharing the origin, told through
// the purge call, stops serving its cached copy of a stream deleted
// elsewhere; the call needs a token.
func TestAPIPurgeTellsAnotherEdge(t *testing.T) {
	e := newEnv(t, map[string]string{"streams/abc/720p/segment-0.ts": "seg"})
	for range 3 {
		e.api(t, "GET", "/streams/abc/720p/segment-0.ts", "", "")
	}
	e.store.Delete(context.Background(), "streams/abc/720p/segment-0.ts") // deleted through another edge
	if r := e.api(t, "GET", "/streams/abc/720p/segment-0.ts", "", ""); r.code != 200 {
		t.Fatalf("cached copy: %d", r.code)
	}
	if r := e.api(t, "POST", "/api/v1/streams/abc/purge", "", ""); r.code != 401 {
		t.Fatalf("purge without a token: %d", r.code)
	}
	if r := e.api(t, "POST", "/api/v1/streams/abc/purge", e.token, ""); r.code != 204 {
		t.Fatalf("purge: %d %s", r.code, r.body)
	}
	if r := e.api(t, "GET", "/streams/abc/720p/segment-0.ts", "", ""); r.code != 404 {
		t.Fatalf("after purge: %d", r.code)
	}
}

// TestMetricsToken: with EDGE_METRICS_TOKEN set, /metrics answers only to
// it; without, it stays public for scrapers on a private network.
func TestMetricsToken(t *testing.T) {
	open := newEnv(t, nil)
	if r := open.api(t, "GET", "/metrics", "", ""); r.code != 200 || !strings.Contains(r.body, "edge_cache_hits_total") {
		t.Fatalf("public metrics: %d", r.code)
	}
	e := newEnv(t, nil, func(c *web.Config) { c.MetricsToken = "metrics-secret" })
	for token, want := range map[string]int{"": 401, "wrong": 401, e.token: 401, "metrics-secret": 200} {
		if r := e.api(t, "GET", "/metrics", token, ""); r.code != want || (want == 200) != strings.Contains(r.body, "edge_cache_hits_total") {
			t.Errorf("token %q: %d, want %d", token, r.code, want)
		}
	}
}
