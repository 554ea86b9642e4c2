package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/playback"
)

// readyStream makes a stream through the API, with policy, and writes a
// small HLS package and poster for it, as a finished job would.
func (e *env) streamWithPackage(t *testing.T, policy string) string {
	t.Helper()
	var st struct{ ID string }
	r := e.api(t, "POST", "/api/v1/streams", e.token, `{"title":"Course","playback_policy":"`+policy+`"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	decode(t, r.body, &st)
	e.putPackage(t, st.ID)
	ctx := context.Background()
	if err := e.db.SetStreamOutput(ctx, st.ID, db.StreamOutput{Duration: 4 * time.Second, Renditions: []string{"720p"}, PosterKey: "streams/" + st.ID + "/poster.jpg"}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetStreamState(ctx, st.ID, db.StatusReady, 100, ""); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

var packageFiles = map[string]string{
	"master.m3u8":       "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n720p/stream.m3u8\n",
	"720p/stream.m3u8":  "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nsegment-0.ts\n#EXT-X-ENDLIST\n",
	"720p/segment-0.ts": "segment bytes",
	"poster.jpg":        "jpeg bytes",
}

func (e *env) putPackage(t *testing.T, id string) {
	t.Helper()
	for name, body := range packageFiles {
		if err := e.store.Put(context.Background(), "streams/"+id+"/"+name, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
	}
}

// adminToken makes an admin and their API token.
func (e *env) adminToken(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	u, err := e.db.CreateUser(ctx, "admin@example.com", "correct horse", db.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := e.db.CreateAPIToken(ctx, u.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// fetch is a viewer's request, with no session.
func (e *env) fetch(t *testing.T, path string) (int, string) {
	t.Helper()
	p := e.browser(t).get(path)
	return p.code, p.body
}

type tokenAnswer struct {
	Token       string    `json:"token"`
	ExpiresAt   time.Time `json:"expires_at"`
	MasterURL   string    `json:"master_url"`
	EmbedURL    string    `json:"embed_url"`
	PosterURL   string    `json:"poster_url"`
	DownloadURL string    `json:"download_url"`
}

func localPath(url string) string { return strings.TrimPrefix(url, "https://edge.example") }

func TestSignedStreamThroughTheAPI(t *testing.T) {
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "signed")
	for _, name := range []string{"master.m3u8", "720p/stream.m3u8", "720p/segment-0.ts", "poster.jpg"} {
		if code, body := e.fetch(t, "/streams/"+id+"/"+name); code != 403 || body != "this video needs a signed link\n" {
			t.Fatalf("%s without a token: %d %q", name, code, body)
		}
	}
	r := e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, `{"ttl":600}`)
	if r.code != http.StatusCreated {
		t.Fatalf("mint: %d %s", r.code, r.body)
	}
	var tok tokenAnswer
	decode(t, r.body, &tok)
	if d := time.Until(tok.ExpiresAt); d < 590*time.Second || d > 600*time.Second {
		t.Fatalf("expires in %v", d)
	}
	if tok.MasterURL != "https://edge.example/streams/"+tok.Token+"/master.m3u8" || tok.EmbedURL != "https://edge.example/embed/"+id+"?token="+tok.Token {
		t.Fatalf("urls %+v", tok)
	}
	for _, path := range []string{localPath(tok.MasterURL), "/streams/" + tok.Token + "/720p/stream.m3u8", "/streams/" + tok.Token + "/720p/segment-0.ts", localPath(tok.PosterURL)} {
		if code, _ := e.fetch(t, path); code != 200 {
			t.Fatalf("%s with the minted token: %d", path, code)
		}
	}
	if r := e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, `{"tll":60}`); r.code != 400 || !strings.Contains(r.body, "tll: not a field of this call, which takes ttl, kind, ip") {
		t.Fatalf("a misspelt field: %d %s", r.code, r.body)
	}
	var poster tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, `{"kind":"poster"}`).body, &poster)
	if code, _ := e.fetch(t, localPath(poster.PosterURL)); code != 200 {
		t.Fatalf("poster token on the poster: %d", code)
	}
	if code, body := e.fetch(t, localPath(poster.MasterURL)); code != 403 || body != "this link does not open the video\n" {
		t.Fatalf("poster token on the video: %d %q", code, body)
	}

	for _, tc := range []struct{ body, field string }{
		{`{"ttl":0}`, "ttl"}, {`{"ttl":99999999999}`, "ttl"}, {`{"kind":"audio"}`, "kind"}, {`{"ip":"nowhere"}`, "ip"},
	} {
		r := e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, tc.body)
		var eb errorBody
		decode(t, r.body, &eb)
		if r.code != 422 || !strings.HasPrefix(eb.Error.Message, tc.field+":") {
			t.Errorf("%s: %d %q", tc.body, r.code, eb.Error.Message)
		}
	}
	if r := e.api(t, "POST", "/api/v1/streams/nosuchstream/tokens", e.token, `{}`); r.code != 404 {
		t.Errorf("a token for a missing stream: %d", r.code)
	}

	// PATCH: a bad field changes nothing; a good one applies at once.
	r = e.api(t, "PATCH", "/api/v1/streams/"+id, e.token, `{"title":"Renamed","playback_policy":"hidden"}`)
	if r.code != 422 || !strings.Contains(r.body, "playback policy") {
		t.Fatalf("bad policy: %d %s", r.code, r.body)
	}
	if st, _ := e.db.Stream(context.Background(), id); st.Title != "Course" {
		t.Fatalf("a refused PATCH renamed the stream to %q", st.Title)
	}
	r = e.api(t, "PATCH", "/api/v1/streams/"+id, e.token, `{"playback_policy":"public","allowed_domains":["course.test"]}`)
	var st struct {
		Title          string   `json:"title"`
		PlaybackPolicy string   `json:"playback_policy"`
		AllowedDomains []string `json:"allowed_domains"`
	}
	decode(t, r.body, &st)
	if r.code != 200 || st.PlaybackPolicy != "public" || len(st.AllowedDomains) != 1 || st.Title != "Course" {
		t.Fatalf("patch: %d %s", r.code, r.body)
	}
	if code, _ := e.fetch(t, "/streams/"+id+"/master.m3u8"); code != 200 {
		t.Fatalf("public again, on the next request: %d", code)
	}
}

func TestSigningKeysThroughTheAPI(t *testing.T) {
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "signed")
	admin := e.adminToken(t)
	if r := e.api(t, "POST", "/api/v1/signing-keys", e.token, `{"name":"cms"}`); r.code != 403 {
		t.Fatalf("an editor made a key: %d", r.code)
	}
	if r := e.api(t, "POST", "/api/v1/signing-keys", admin, `{"name":""}`); r.code != 422 {
		t.Fatalf("a key without a name: %d", r.code)
	}
	r := e.api(t, "POST", "/api/v1/signing-keys", admin, `{"name":"course site"}`)
	var key struct {
		ID         string `json:"id"`
		PrivateKey string `json:"private_key"`
	}
	decode(t, r.body, &key)
	if r.code != 201 || key.ID == "" || !strings.HasPrefix(key.PrivateKey, "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("create key: %d %s", r.code, r.body)
	}
	if list := e.api(t, "GET", "/api/v1/signing-keys", e.token, ""); list.code != 200 || strings.Contains(list.body, "PRIVATE") || !strings.Contains(list.body, key.ID) {
		t.Fatalf("list: %d %s", list.code, list.body)
	}
	// The CMS signs with its own copy of the private key.
	priv, err := playback.ParsePrivateKey(key.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	token, err := playback.Mint(priv, key.ID, playback.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: id, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.fetch(t, "/streams/"+token+"/720p/segment-0.ts"); code != 200 {
		t.Fatalf("the CMS's token: %d", code)
	}
	if r := e.api(t, "DELETE", "/api/v1/signing-keys/"+key.ID, admin, ""); r.code != 204 {
		t.Fatalf("revoke: %d %s", r.code, r.body)
	}
	if code, body := e.fetch(t, "/streams/"+token+"/720p/segment-0.ts"); code != 403 || body != "this link was signed by an unknown or revoked key\n" {
		t.Fatalf("a revoked key's token, on the next request: %d %q", code, body)
	}
	if r := e.api(t, "DELETE", "/api/v1/signing-keys/"+key.ID, admin, ""); r.code != 404 {
		t.Fatalf("revoked twice: %d", r.code)
	}
}

func TestEmbedPageOfASignedStream(t *testing.T) {
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "signed")
	var tok tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, `{"ttl":60}`).body, &tok)
	code, body := e.fetch(t, "/embed/"+id)
	if code != 403 || !strings.Contains(body, "This video is private: this video needs a signed link.") || strings.Contains(body, "/master.m3u8") ||
		strings.Contains(body, "Course") || !strings.Contains(body, "<title>Private video</title>") {
		t.Fatalf("no token: %d\n%s", code, body)
	}
	code, body = e.fetch(t, "/embed/"+id+"?token="+tok.Token)
	if code != 200 || !strings.Contains(body, `data-src="/streams/`+tok.Token+`/master.m3u8"`) || !strings.Contains(body, `poster="/streams/`+tok.Token+`/poster.jpg"`) {
		t.Fatalf("with a token: %d\n%s", code, body)
	}
	resp, err := http.Get(e.srv.URL + "/embed/" + id + "?token=" + tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Fatalf("a page with a viewer's token is cacheable: %q", cc)
	}
	code, body = e.fetch(t, "/embed/"+id+"?token="+tok.Token[:len(tok.Token)-4]+"AAAA")
	if code != 403 || !strings.Contains(body, "this link&#39;s token is not valid") {
		t.Fatalf("forged token: %d\n%s", code, body)
	}
	code, body = e.fetch(t, "/watch/"+id+"?token="+tok.Token)
	if code != 200 || !strings.Contains(body, "/embed/"+id+"?token="+tok.Token) || strings.Contains(body, "og:image") ||
		!strings.Contains(body, "<title>Course</title>") || strings.Contains(body, "oembed") {
		t.Fatalf("watch page: %d\n%s", code, body)
	}
	code, body = e.fetch(t, "/watch/"+id)
	if code != 403 || strings.Contains(body, "Course") || !strings.Contains(body, "<title>Private video</title>") || strings.Contains(body, "oembed") {
		t.Fatalf("watch page without a token: %d\n%s", code, body)
	}
	code, body = e.fetch(t, "/oembed?url="+url.QueryEscape("https://edge.example/watch/"+id+"?token="+tok.Token))
	if code != 401 || strings.Contains(body, "Course") || strings.Contains(body, "poster") {
		t.Fatalf("oEmbed of a private video: %d\n%s", code, body)
	}
}

// A delete marks the stream deleted for every edge before its objects go:
// output a transcoder writes afterwards is never served.
func TestDeletedStreamsLateOutputIsNotServed(t *testing.T) {
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "public")
	if code, _ := e.fetch(t, "/streams/"+id+"/720p/segment-0.ts"); code != 200 {
		t.Fatal("not served before the delete")
	}
	if r := e.api(t, "DELETE", "/api/v1/streams/"+id, e.token, ""); r.code != 204 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	e.putPackage(t, id) // an Ittybit job finishing after the delete
	for name := range packageFiles {
		if code, _ := e.fetch(t, "/streams/"+id+"/"+name); code != 404 {
			t.Fatalf("late %s: %d", name, code)
		}
	}
	obj, err := e.store.Get(context.Background(), playback.DocumentKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	doc, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"`+id+`": {`) || !strings.Contains(string(doc), `"deleted": true`) {
		t.Fatalf("the document does not mark the stream deleted:\n%s", doc)
	}
}

func TestPlaybackInThePortal(t *testing.T) {
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "public")
	e.adminToken(t) // makes admin@example.com
	b := e.browser(t)
	csrf := b.signIn("admin@example.com", "correct horse")
	if r := b.post("/videos/"+id+"/playback", url.Values{"csrf": {csrf}, "playback": {"hidden"}}, nil); r.code != 422 || !strings.Contains(r.body, "playback policy") {
		t.Fatalf("bad policy: %d", r.code)
	}
	if r := b.post("/videos/"+id+"/playback", url.Values{"csrf": {csrf}, "playback": {"signed"}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("set signed: %d %s", r.code, r.body)
	}
	if code, _ := e.fetch(t, "/streams/"+id+"/master.m3u8"); code != 403 {
		t.Fatalf("signed in the portal, still public: %d", code)
	}
	page := b.get("/videos/" + id)
	m := regexp.MustCompile(`id="test-link" class="code" type="text" readonly value="https://edge.example(/watch/[^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no test link on the video page:\n%s", page.body)
	}
	watch, _ := url.Parse(m[1])
	token := watch.Query().Get("token")
	if code, _ := e.fetch(t, "/streams/"+token+"/master.m3u8"); code != 200 {
		t.Fatalf("the test link's token: %d", code)
	}

	r := b.post("/keys", url.Values{"csrf": {csrf}, "name": {"course site"}}, nil)
	keyPEM := regexp.MustCompile(`(?s)<textarea id="new-key"[^>]*>(-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----)`).FindStringSubmatch(r.body)
	if r.code != 201 || keyPEM == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create key: %d %q\n%s", r.code, r.header.Get("Cache-Control"), r.body)
	}
	if again := b.get("/keys"); strings.Contains(again.body, "BEGIN PRIVATE KEY") || !strings.Contains(again.body, "course site") {
		t.Fatal("the private key is shown again, or the key is not listed")
	}
	keys, _ := e.db.SigningKeys(context.Background())
	var kid string
	for _, k := range keys {
		if k.Name == "course site" {
			kid = k.ID
		}
	}
	if r := b.post("/keys/"+kid+"/revoke", url.Values{"csrf": {csrf}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.code)
	}
	editor := e.browser(t)
	editorCSRF := editor.signIn("ed@example.com", "correct horse")
	if r := editor.get("/keys"); r.code != 403 {
		t.Fatalf("an editor sees the keys page: %d", r.code)
	}
	if r := editor.post("/keys", url.Values{"csrf": {editorCSRF}, "name": {"mine"}}, nil); r.code != 403 {
		t.Fatalf("an editor made a key: %d", r.code)
	}
}

var (
	thumbSrc     = regexp.MustCompile(`<img class="thumb" src="([^"]+)"`)
	downloadLink = regexp.MustCompile(`href="([^"]+)" download="([^"]+)">Download MP4<`)
)

// offerDownload gives a stream its MP4 download, as a finished one would.
func (e *env) offerDownload(t *testing.T, id string) {
	t.Helper()
	ctx, on, key := context.Background(), true, "streams/"+id+"/download.mp4"
	if err := e.store.Put(ctx, key, strings.NewReader("mp4 bytes"), 9); err != nil {
		t.Fatal(err)
	}
	if err := e.db.UpdateStream(ctx, id, db.StreamUpdate{Downloads: &on}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetDownloadKey(ctx, id, key); err != nil {
		t.Fatal(err)
	}
}

// signedVideoForItsTeam is a signed video offering its download, and a
// browser signed in to the portal as its team.
func signedVideoForItsTeam(t *testing.T) (*env, string, *browser) {
	t.Helper()
	e := newEnv(t, nil)
	id := e.streamWithPackage(t, "signed")
	e.offerDownload(t, id)
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	return e, id, b
}

// TestPortalGetsASignedVideosFiles: a signed video's Download MP4 link on
// its page, and the download_url of a token minted through the API, open
// the file.
func TestPortalGetsASignedVideosFiles(t *testing.T) {
	e, id, b := signedVideoForItsTeam(t)
	m := downloadLink.FindStringSubmatch(b.get("/videos/" + id).body)
	if m == nil || m[2] != "Course.mp4" {
		t.Fatalf("download link: %q", m)
	}
	if p := b.get(html.UnescapeString(m[1])); p.code != 200 || p.body != "mp4 bytes" {
		t.Fatalf("the page's download link: %d %q", p.code, p.body)
	}
	e.api(t, "PATCH", "/api/v1/streams/"+id, e.token, `{"title":"Q3/Q4: \"plan\"\tdraft"}`)
	if m := downloadLink.FindStringSubmatch(b.get("/videos/" + id).body); m == nil || html.UnescapeString(m[2]) != "Q3 Q4 plan draft.mp4" {
		t.Fatalf("a title with what file names refuse: %q", m)
	}
	var tok tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+id+"/tokens", e.token, `{}`).body, &tok)
	if code, body := e.fetch(t, localPath(tok.DownloadURL)); code != 200 || body != "mp4 bytes" {
		t.Fatalf("the token's download_url %q: %d %q", tok.DownloadURL, code, body)
	}
}

// TestPortalShowsSignedPosters: the portal's list and a video's page show
// a signed video's poster to its team, through a token that opens the
// poster and not the video.
func TestPortalShowsSignedPosters(t *testing.T) {
	e := newEnv(t, nil)
	signed, public := e.streamWithPackage(t, "signed"), e.streamWithPackage(t, "public")
	b := e.browser(t)
	b.signIn("ed@example.com", "correct horse")
	var srcs []string
	for _, path := range []string{"/", "/videos/" + signed} {
		for _, m := range thumbSrc.FindAllStringSubmatch(b.get(path).body, -1) {
			srcs = append(srcs, html.UnescapeString(m[1]))
		}
	}
	if len(srcs) != 3 || !slices.Contains(srcs, "/streams/"+public+"/poster.jpg") {
		t.Fatalf("posters shown: %q", srcs)
	}
	for _, src := range srcs {
		if p := b.get(src); p.code != 200 || p.body != packageFiles["poster.jpg"] {
			t.Errorf("%s: %d %q", src, p.code, p.body)
		}
		if token, ok := strings.CutSuffix(strings.TrimPrefix(src, "/streams/"), "/poster.jpg"); ok && token != public {
			if code, _ := e.fetch(t, "/streams/"+token+"/master.m3u8"); code != 403 {
				t.Errorf("the portal's poster token opened the video: %d", code)
			}
		}
	}
}

var pageToken = regexp.MustCompile(`(/embed/[^"?]+\?token=|/watch/[^"?]+\?token=|/streams/)(ey[\w-]+\.[\w-]+\.[\w-]+)`)

// TestPortalTokensLastADay: what a signed video's page loads (its preview,
// poster and download) opens for a day, so a page left open still plays;
// the link offered to try and share lasts the hour it says.
func TestPortalTokensLastADay(t *testing.T) {
	_, id, b := signedVideoForItsTeam(t)
	lives := map[string][]time.Duration{}
	for _, m := range pageToken.FindAllStringSubmatch(b.get("/videos/"+id).body, -1) {
		var c jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(m[2], &c); err != nil {
			t.Fatal(err)
		}
		where, _, _ := strings.Cut(strings.TrimPrefix(m[1], "/"), "/")
		lives[where] = append(lives[where], time.Until(c.ExpiresAt.Time).Round(time.Minute))
	}
	want := map[string][]time.Duration{"embed": {24 * time.Hour}, "streams": {24 * time.Hour, 24 * time.Hour}, "watch": {time.Hour}}
	if fmt.Sprint(lives) != fmt.Sprint(want) {
		t.Fatalf("token lives by page part: %v, want %v", lives, want)
	}
}
