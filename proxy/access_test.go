package proxy_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/proxy"
)

// signedOrigin holds stream "sig" (signed), "dom" (two allowed sites),
// "pub" and "gone" (deleted), and publishes a document with one live key.
type signedOrigin struct {
	*countingStore
	key     playback.NewKey
	private *ecdsa.PrivateKey
	doc     playback.Document
}

func newSignedOrigin(t *testing.T) *signedOrigin {
	t.Helper()
	objects := map[string]string{}
	for _, id := range []string{"sig", "dom", "pub", "gone"} {
		for name, body := range fixtures {
			objects[strings.Replace(name, "s1", id, 1)] = body
		}
	}
	o := &signedOrigin{countingStore: fileOrigin(t, objects)}
	var err error
	if o.key, err = playback.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	if o.private, err = playback.ParsePrivateKey(o.key.PrivatePEM); err != nil {
		t.Fatal(err)
	}
	o.doc = playback.Document{
		Keys: map[string]string{o.key.ID: o.key.PublicPEM},
		Streams: map[string]playback.Rule{
			"sig":  {Signed: true},
			"dom":  {Origins: []string{"https://course.test", "*.school.test"}},
			"gone": {Deleted: true},
		},
	}
	o.publish(t)
	return o
}

func (o *signedOrigin) publish(t *testing.T) {
	t.Helper()
	data, err := o.doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Put(context.Background(), playback.DocumentKey, strings.NewReader(string(data)), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

func (o *signedOrigin) token(t *testing.T, c playback.Claims) string {
	t.Helper()
	s, err := playback.Mint(o.private, o.key.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsFor(stream string, exp time.Time) playback.Claims {
	return playback.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: stream, ExpiresAt: jwt.NewNumericDate(exp)}}
}

// Every kind of object of a signed stream is refused without a good
// token, with the reason, and served with one.
func TestSignedStreamRefusals(t *testing.T) {
	o := newSignedOrigin(t)
	clk := newClock()
	srv := startEdge(t, proxy.Config{Origin: o, Now: clk.Now})
	later := clk.Now().Add(time.Hour)
	revoked, _ := playback.GenerateKey()
	revokedKey, _ := playback.ParsePrivateKey(revoked.PrivatePEM)
	forger, _ := playback.GenerateKey()
	forgerKey, _ := playback.ParsePrivateKey(forger.PrivatePEM)
	mintWith := func(k *ecdsa.PrivateKey, kid string, c playback.Claims) string {
		s, err := playback.Mint(k, kid, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	videoOnly := claimsFor("sig", later)
	videoOnly.Kind = playback.KindVideo
	posterOnly := claimsFor("sig", later)
	posterOnly.Kind = playback.KindPoster
	elsewhere := claimsFor("sig", later)
	elsewhere.IP = "198.51.100.7"

	files := []string{"master.m3u8", "720p/stream.m3u8", "720p/segment-0.ts", "fmp4/init.mp4", "fmp4/segment-1.m4s", "subs/en.vtt", "audio/a.aac", "poster.jpg"}
	refusals := []struct {
		name, first, reason string
		only                string // the refusal applies to this kind only
	}{
		{"no token", "sig", "this video needs a signed link", ""},
		{"expired", o.token(t, claimsFor("sig", clk.Now().Add(-time.Second))), "this link has expired", ""},
		{"forged", mintWith(forgerKey, o.key.ID, claimsFor("sig", later)), "this link's token is not valid", ""},
		{"revoked key", mintWith(revokedKey, revoked.ID, claimsFor("sig", later)), "this link was signed by an unknown or revoked key", ""},
		{"another stream's token", o.token(t, claimsFor("pub", later)), "", ""}, // opens pub, never sig
		{"video-only token", o.token(t, videoOnly), "this link does not open the poster", playback.KindPoster},
		{"poster-only token", o.token(t, posterOnly), "this link does not open the video", playback.KindVideo},
		{"another viewer's token", o.token(t, elsewhere), "this link was made for another viewer", ""},
		{"a token that is not one", "eyJhbGciOiJub25lIn0.e30.x", "this link's token is not valid", ""},
	}
	for _, tt := range refusals {
		for _, file := range files {
			t.Run(tt.name+"/"+file, func(t *testing.T) {
				r := get(t, srv.URL+"/streams/"+tt.first+"/"+file)
				kind := playback.KindOf(file[strings.LastIndex(file, "."):])
				switch {
				case tt.reason == "": // the other stream's token serves the other stream
					if r.code != 200 || r.body != fixtures["streams/s1/"+file] {
						t.Fatalf("%d %q", r.code, r.body)
					}
				case tt.only != "" && tt.only != kind:
					if r.code != 200 {
						t.Fatalf("refused what the token opens: %d %q", r.code, r.body)
					}
				default:
					if r.code != 403 || r.body != tt.reason+"\n" || r.header.Get("Cache-Control") != "no-store" {
						t.Fatalf("%d %q %q", r.code, r.body, r.header.Get("Cache-Control"))
					}
				}
			})
		}
	}
	good := o.token(t, claimsFor("sig", later))
	for _, file := range files {
		r := get(t, srv.URL+"/streams/"+good+"/"+file)
		if r.code != 200 || r.body != fixtures["streams/s1/"+file] || !strings.HasPrefix(r.header.Get("Cache-Control"), "private, ") {
			t.Errorf("%s with a good token: %d %q %q", file, r.code, r.body, r.header.Get("Cache-Control"))
		}
	}
	if got := metric(t, srv, "edge_proxy_refused_total"); got == 0 {
		t.Error("refusals were not counted")
	}
}

// N viewers with N different tokens share one cached copy per object.
func TestTokensShareOneCacheEntry(t *testing.T) {
	o := newSignedOrigin(t)
	srv := startEdge(t, proxy.Config{Origin: o})
	files := []string{"master.m3u8", "720p/stream.m3u8", "720p/segment-0.ts", "poster.jpg"}
	const viewers = 20
	for i := range viewers {
		token := o.token(t, claimsFor("sig", time.Now().Add(time.Duration(i+1)*time.Minute)))
		for _, file := range files {
			if r := get(t, srv.URL+"/streams/"+token+"/"+file); r.code != 200 {
				t.Fatalf("viewer %d, %s: %d %q", i, file, r.code, r.body)
			}
		}
	}
	if got := o.gets.Load(); got != int64(len(files)) {
		t.Fatalf("%d viewers with their own tokens cost %d origin fetches for %d objects", viewers, got, len(files))
	}
}

// A stream with allowed sites answers CORS to those sites only and
// refuses pages of other sites, by Origin or by Referer.
func TestAllowedSitesApplyToTheMedia(t *testing.T) {
	o := newSignedOrigin(t)
	srv := startEdge(t, proxy.Config{Origin: o})
	url := srv.URL + "/streams/dom/720p/segment-0.ts"
	tests := []struct {
		name   string
		hdr    map[string]string
		code   int
		allow  string
		reason string
	}{
		{"allowed origin", map[string]string{"Origin": "https://course.test"}, 200, "https://course.test", ""},
		{"allowed subdomain", map[string]string{"Origin": "https://a.school.test"}, 200, "https://a.school.test", ""},
		{"other origin", map[string]string{"Origin": "https://pirate.test"}, 403, "", "this video may not be played on this site"},
		{"other referer", map[string]string{"Referer": "https://pirate.test/watch"}, 403, "", "this video may not be played on this site"},
		{"allowed referer", map[string]string{"Referer": "https://course.test/lesson/1"}, 200, "", ""},
		{"edge's own embed page", map[string]string{"Referer": srv.URL + "/embed/dom"}, 200, "", ""},
		{"opaque origin", map[string]string{"Origin": "null"}, 403, "", "this video may not be played on this site"},
		{"no page at all", nil, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodGet, url, tt.hdr)
			if r.code != tt.code || r.header.Get("Access-Control-Allow-Origin") != tt.allow || r.header.Get("Vary") != "Origin" {
				t.Fatalf("%d, allow-origin %q, vary %q", r.code, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Vary"))
			}
			if tt.reason != "" && r.body != tt.reason+"\n" {
				t.Fatalf("body %q", r.body)
			}
		})
	}
	if r := do(t, http.MethodGet, srv.URL+"/streams/pub/master.m3u8", map[string]string{"Origin": "https://pirate.test"}); r.code != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("a stream without a list: %d %q", r.code, r.header.Get("Access-Control-Allow-Origin"))
	}
}

// A rule change reaches the proxy within the playlist TTL, from the
// origin alone; a deleted stream is forgotten from the cache.
func TestRuleChangesApplyWithinTheTTL(t *testing.T) {
	o := newSignedOrigin(t)
	clk := &clock{t: time.Now()} // the fixtures settled an hour ago, so the segment is kept
	srv := startEdge(t, proxy.Config{Origin: o, Now: clk.Now, ManifestTTL: 10 * time.Second})
	seg := srv.URL + "/streams/pub/720p/segment-0.ts"
	if r := get(t, seg); r.code != 200 {
		t.Fatalf("public: %d", r.code)
	}
	if n := metric(t, srv, "edge_disk_cache_objects"); n != 1 {
		t.Fatalf("the public segment was not kept: %d objects on disk", n)
	}
	if r := get(t, srv.URL+"/streams/gone/master.m3u8"); r.code != 404 || r.header.Get("Cache-Status") != "" {
		t.Fatalf("deleted stream: %d %q, Cache-Status %q (the origin is not asked)", r.code, r.body, r.header.Get("Cache-Status"))
	}
	o.doc.Streams["pub"] = playback.Rule{Signed: true}
	o.publish(t)
	clk.Advance(9 * time.Second)
	if r := get(t, seg); r.code != 200 {
		t.Fatalf("within the TTL the old rule holds: %d", r.code)
	}
	clk.Advance(2 * time.Second)
	if r := get(t, seg); r.code != 403 {
		t.Fatalf("after the TTL: %d %q", r.code, r.body)
	}
	o.doc.Streams["pub"] = playback.Rule{Deleted: true}
	o.publish(t)
	clk.Advance(11 * time.Second)
	token := o.token(t, claimsFor("pub", clk.Now().Add(time.Hour)))
	if r := get(t, srv.URL+"/streams/"+token+"/720p/segment-0.ts"); r.code != 404 {
		t.Fatalf("deleted, with a good token: %d %q", r.code, r.body)
	}
	if n := metric(t, srv, "edge_disk_cache_objects"); n != 0 {
		t.Fatalf("the deleted stream's segment is still on disk: %d objects", n)
	}
}

// The document is read once per TTL; when the origin fails the last rules
// read stand in, and with none read yet nothing is served.
func TestRulesWhenTheOriginFails(t *testing.T) {
	o := newSignedOrigin(t)
	o.docsToo = true
	clk := newClock()
	srv := startEdge(t, proxy.Config{Origin: o, Now: clk.Now})
	o.setFail(errors.New("origin down"))
	if r := get(t, srv.URL+"/streams/pub/master.m3u8"); r.code != 502 {
		t.Fatalf("no rules yet, origin down: %d %q", r.code, r.body)
	}
	o.setFail(nil)
	for range 5 {
		get(t, srv.URL+"/streams/pub/master.m3u8")
	}
	before := o.gets.Load()
	clk.Advance(11 * time.Second)
	o.setFail(errors.New("origin down"))
	if r := get(t, srv.URL+"/streams/sig/master.m3u8"); r.code != 403 {
		t.Fatalf("stale rules still refuse: %d %q", r.code, r.body)
	}
	if r := get(t, srv.URL+"/streams/pub/master.m3u8"); r.code != 200 {
		t.Fatalf("stale rules and a stale playlist still serve: %d %q", r.code, r.body)
	}
	if got := o.gets.Load() - before; got != 2 {
		t.Fatalf("%d origin reads while down, want 2 (the document once, the playlist once)", got)
	}
	o.setFail(nil)
	if err := o.Put(context.Background(), playback.DocumentKey, strings.NewReader("{"), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Second)
	if r := get(t, srv.URL+"/streams/sig/master.m3u8"); r.code != 403 {
		t.Fatalf("a broken document keeps the last good rules: %d %q", r.code, r.body)
	}
	clk.Advance(2 * time.Hour)
	if r := get(t, srv.URL+"/streams/pub/master.m3u8"); r.code != 502 {
		t.Fatalf("an hour past a broken document: %d %q", r.code, r.body)
	}
}
