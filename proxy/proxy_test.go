package proxy_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/proxy"
)

var fixtures = map[string]string{
	"streams/s1/master.m3u8":        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/stream.m3u8\n",
	"streams/s1/720p/stream.m3u8":   "#EXTM3U\n#EXTINF:2,\nsegment-0.ts\n",
	"streams/s1/720p/segment-0.ts":  "0123456789abcdefghij",
	"streams/s1/fmp4/init.mp4":      "init",
	"streams/s1/fmp4/segment-1.m4s": "m4s",
	"streams/s1/subs/en.vtt":        "WEBVTT\n",
	"streams/s1/audio/a.aac":        "aac",
	"streams/s1/poster.jpg":         "jpg",
	"streams/s1/secret.json":        "{}",
}

func TestHeadersPerExtension(t *testing.T) {
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, fixtures)})
	for _, tc := range []struct {
		path, contentType, cacheControl string
	}{
		{"master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=10"},
		{"720p/stream.m3u8", "application/vnd.apple.mpegurl", "public, max-age=10"},
		{"720p/segment-0.ts", "video/mp2t", "public, max-age=31536000, immutable"},
		{"fmp4/init.mp4", "video/mp4", "public, max-age=31536000, immutable"},
		{"fmp4/segment-1.m4s", "video/iso.segment", "public, max-age=31536000, immutable"},
		{"subs/en.vtt", "text/vtt", "public, max-age=31536000, immutable"},
		{"audio/a.aac", "audio/aac", "public, max-age=31536000, immutable"},
		{"poster.jpg", "image/jpeg", "public, max-age=31536000, immutable"},
	} {
		// A segment's first GET fills it; the HEAD and the GET after are disk hits.
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodGet} {
			r := do(t, method, srv.URL+"/streams/s1/"+tc.path, nil)
			want := fixtures["streams/s1/"+tc.path]
			if method == http.MethodHead {
				want = ""
			}
			h := r.header
			if r.code != 200 || r.body != want || h.Get("Content-Type") != tc.contentType ||
				h.Get("Cache-Control") != tc.cacheControl || h.Get("Access-Control-Allow-Origin") != "*" ||
				h.Get("Access-Control-Expose-Headers") != "Content-Length, Content-Range, Age" ||
				h.Get("Age") == "" || h.Get("Etag") == "" || !strings.HasPrefix(h.Get("Cache-Status"), "edge;") ||
				h.Get("Content-Length") != fmt.Sprint(len(fixtures["streams/s1/"+tc.path])) {
				t.Errorf("%s %s: %d %q %v", method, tc.path, r.code, r.body, h)
			}
		}
	}
}

func TestCacheStatusAndAge(t *testing.T) {
	clk := newClock()
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, fixtures), Now: clk.Now})
	url := srv.URL + "/streams/s1/master.m3u8"
	steps := []struct {
		advance     time.Duration
		status, age string
	}{
		{0, "edge; fwd=miss; stored", "0"},
		{4 * time.Second, "edge; hit", "4"},
		{7 * time.Second, "edge; fwd=stale; stored", "0"}, // 11 s: past the 10 s TTL
		{3 * time.Second, "edge; hit", "3"},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		r := get(t, url)
		if r.header.Get("Cache-Status") != s.status || r.header.Get("Age") != s.age {
			t.Errorf("step %d: Cache-Status %q Age %q, want %q %q", i, r.header.Get("Cache-Status"), r.header.Get("Age"), s.status, s.age)
		}
	}
}

func TestManifestTTLIsConfigurable(t *testing.T) {
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, fixtures), ManifestTTL: 3 * time.Second})
	if cc := get(t, srv.URL+"/streams/s1/master.m3u8").header.Get("Cache-Control"); cc != "public, max-age=3" {
		t.Fatalf("Cache-Control = %q", cc)
	}
}

func TestCORS(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	open := startEdge(t, proxy.Config{Origin: origin})
	listed := startEdge(t, proxy.Config{Origin: origin, CORSOrigins: []string{"https://a.example", "https://b.example"}})
	for _, tc := range []struct {
		name, url, origin, wantACAO string
		wantVary                    bool
	}{
		{"any origin", open.URL, "https://x.example", "*", false},
		{"listed origin", listed.URL, "https://b.example", "https://b.example", true},
		{"unlisted origin", listed.URL, "https://evil.example", "", true},
		{"no origin", listed.URL, "", "", true},
	} {
		r := do(t, http.MethodGet, tc.url+"/streams/s1/master.m3u8", map[string]string{"Origin": tc.origin})
		if r.header.Get("Access-Control-Allow-Origin") != tc.wantACAO || (r.header.Get("Vary") == "Origin") != tc.wantVary {
			t.Errorf("%s: ACAO %q Vary %q", tc.name, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Vary"))
		}
	}
	// Errors carry CORS too, so a cross-origin player can read them.
	if r := get(t, open.URL+"/streams/s1/missing.ts"); r.code != 404 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("404 without CORS: %d %v", r.code, r.header)
	}
}

func TestPreflight(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	srv := startEdge(t, proxy.Config{Origin: origin})
	r := do(t, http.MethodOptions, srv.URL+"/streams/s1/720p/segment-0.ts", map[string]string{
		"Origin": "https://site.example", "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "range, x-playback-session-id",
	})
	h := r.header
	if r.code != 204 || h.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS" ||
		h.Get("Access-Control-Allow-Headers") != "Range, range, x-playback-session-id" ||
		h.Get("Access-Control-Max-Age") != "86400" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", r.code, h)
	}
	hostile := do(t, http.MethodOptions, srv.URL+"/streams/s1/master.m3u8", map[string]string{
		"Origin": "https://site.example", "Access-Control-Request-Headers": "x;y=\"z\"",
	})
	if hostile.header.Get("Access-Control-Allow-Headers") != "Range" {
		t.Fatalf("odd requested headers echoed: %v", hostile.header)
	}
	if origin.gets.Load() != 0 {
		t.Fatal("preflight asked the origin")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, fixtures)})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := do(t, m, srv.URL+"/streams/s1/master.m3u8", nil)
		if r.code != 405 || r.header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%s: %d %v", m, r.code, r.header)
		}
	}
}

func TestRangeAndConditional(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	srv := startEdge(t, proxy.Config{Origin: origin})
	url := srv.URL + "/streams/s1/720p/segment-0.ts"

	// A cold ranged request fetches the whole object and answers a part.
	r := do(t, http.MethodGet, url, map[string]string{"Range": "bytes=2-5"})
	if r.code != 206 || r.body != "2345" || r.header.Get("Content-Range") != "bytes 2-5/20" {
		t.Fatalf("range: %d %q %v", r.code, r.body, r.header)
	}
	// The cache holds the whole, not the part.
	if r := get(t, url); r.code != 200 || r.body != fixtures["streams/s1/720p/segment-0.ts"] {
		t.Fatalf("full after range: %d %q", r.code, r.body)
	}
	etag := r.header.Get("Etag")
	lastMod := get(t, url).header.Get("Last-Modified")
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		code     int
		body     string
		hasRange bool
	}{
		{"suffix range", map[string]string{"Range": "bytes=-3"}, 206, "hij", true},
		{"open range", map[string]string{"Range": "bytes=18-"}, 206, "ij", true},
		{"past the end", map[string]string{"Range": "bytes=20-30"}, 416, "", true},
		{"if-none-match", map[string]string{"If-None-Match": etag}, 304, "", false},
		{"if-none-match other", map[string]string{"If-None-Match": `"other"`}, 200, fixtures["streams/s1/720p/segment-0.ts"], false},
		{"if-modified-since", map[string]string{"If-Modified-Since": lastMod}, 304, "", false},
		{"if-range stale", map[string]string{"Range": "bytes=0-1", "If-Range": `"other"`}, 200, fixtures["streams/s1/720p/segment-0.ts"], false},
	} {
		r := do(t, http.MethodGet, url, tc.hdr)
		if r.code != tc.code || (tc.code != 416 && r.body != tc.body) || (r.header.Get("Content-Range") != "") != tc.hasRange {
			t.Errorf("%s: %d %q %v", tc.name, r.code, r.body, r.header)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS", tc.name)
		}
	}
	if n := origin.gets.Load(); n != 1 {
		t.Fatalf("origin fetched %d times, want 1", n)
	}
}

func TestHostilePathsNeverReachOrigin(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	srv := startEdge(t, proxy.Config{Origin: origin})
	for _, tc := range []struct {
		target string
		code   int
	}{
		{"/streams/s1/../s1/master.m3u8", 400},
		{"/streams/s1/%2e%2e/s1/master.m3u8", 400},
		{"/streams/s1/%2E%2E%2Fs1/master.m3u8", 400},
		{"/streams/s1/..%2fsecret.ts", 400},
		{"/streams/s1/%252e%252e/master.m3u8", 400},
		{"/streams/s1/..%5c..%5csecret.ts", 400},
		{"/streams/s1/%00.ts", 400},
		{"/streams/s1/seg%20ment.ts", 400},
		{"/streams/s1/%6daster.m3u8", 400},
		{"/streams/s1//master.m3u8", 400},
		{"/streams/s1/.hidden.ts", 400},
		{"/streams/s1/%c0%ae%c0%ae/master.m3u8", 400},
		{"/streams/s1/" + strings.Repeat("a/", 600) + "x.ts", 400},
		{"/streams/s1/secret.json", 404},
		{"/streams/s1/master.m3u8.bak", 404},
		{"/streams/master.m3u8", 404},
		{"/streams/s1/a/b/c/d/e/f/g/h.ts", 404},
	} {
		if code := rawGet(t, srv, tc.target); code != tc.code {
			t.Errorf("GET %q = %d, want %d", tc.target, code, tc.code)
		}
	}
	if n := origin.gets.Load(); n != 0 {
		t.Fatalf("hostile paths reached the origin %d times", n)
	}
}

func TestConcurrentMissesCostOneOriginFetch(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	origin.gate = make(chan struct{})
	srv := startEdge(t, proxy.Config{Origin: origin})
	const viewers = 100
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = viewers
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	for range viewers {
		wg.Go(func() {
			r, err := http.Get(srv.URL + "/streams/s1/720p/segment-0.ts")
			if err != nil {
				errs <- err
				return
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", r.StatusCode)
			}
		})
	}
	// Hold the origin until every viewer has joined the one fetch.
	waitfor.True(t, "every viewer to join the fetch", func() bool {
		return metric(t, srv, "edge_cache_coalesced_total") == viewers-1
	})
	close(origin.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := origin.gets.Load(); n != 1 {
		t.Fatalf("%d concurrent cold requests cost %d origin fetches, want 1", viewers, n)
	}
	if c := metric(t, srv, "edge_cache_coalesced_total"); c != viewers-1 {
		t.Fatalf("coalesced = %d, want %d", c, viewers-1)
	}
}

func TestOriginOutage(t *testing.T) {
	clk := newClock()
	origin := fileOrigin(t, fixtures)
	srv := startEdge(t, proxy.Config{Origin: origin, Now: clk.Now, StaleIfError: time.Minute})
	url := srv.URL + "/streams/s1/master.m3u8"
	if r := get(t, url); r.code != 200 {
		t.Fatalf("warm-up: %d", r.code)
	}
	origin.setFail(errors.New("connection refused"))

	clk.Advance(11 * time.Second) // past the TTL: the cached playlist is stale
	r := get(t, url)
	if r.code != 200 || r.body != fixtures["streams/s1/master.m3u8"] || r.header.Get("Cache-Status") != "edge; fwd=stale; detail=stale-if-error" || r.header.Get("Age") != "11" {
		t.Fatalf("stale: %d %q %v", r.code, r.body, r.header)
	}
	fetches := origin.gets.Load()
	clk.Advance(2 * time.Second) // within one TTL of the failure: no new origin attempt
	if r := get(t, url); r.code != 200 || origin.gets.Load() != fetches {
		t.Fatalf("stale retry: %d, origin asked again", r.code)
	}
	if r := get(t, srv.URL+"/streams/s1/720p/segment-0.ts"); r.code != 502 || r.body != "origin error\n" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("uncached during outage: %d %q", r.code, r.body)
	}
	clk.Advance(2 * time.Minute) // past stale-if-error: no more stale copies
	if r := get(t, url); r.code != 502 {
		t.Fatalf("past stale bound: %d %q", r.code, r.body)
	}
	origin.setFail(nil)
	if r := get(t, url); r.code != 200 || r.header.Get("Cache-Status") != "edge; fwd=stale; stored" {
		t.Fatalf("recovery: %d %v", r.code, r.header)
	}
	if metric(t, srv, "edge_cache_stale_served_total") != 2 || metric(t, srv, "edge_origin_errors_total") != 3 {
		t.Fatal("stale / origin error metrics are off")
	}
}

func TestOriginNotFoundDropsStaleCopy(t *testing.T) {
	clk := newClock()
	origin := fileOrigin(t, fixtures)
	srv := startEdge(t, proxy.Config{Origin: origin, Now: clk.Now})
	url := srv.URL + "/streams/s1/master.m3u8"
	get(t, url)
	origin.Store.Delete(t.Context(), "streams/s1/master.m3u8")
	clk.Advance(11 * time.Second)
	if r := get(t, url); r.code != 404 {
		t.Fatalf("deleted stream still served: %d", r.code)
	}
}

func TestOriginTimeout(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	origin.gate = make(chan struct{})
	t.Cleanup(func() { close(origin.gate) })
	srv := startEdge(t, proxy.Config{Origin: &hangingStore{origin}, OriginTimeout: 100 * time.Millisecond})
	if r := get(t, srv.URL+"/streams/s1/master.m3u8"); r.code != 502 || r.body != "origin timed out\n" {
		t.Fatalf("hanging origin: %d %q", r.code, r.body)
	}
}

func TestObjectsOverTheCapStreamThrough(t *testing.T) {
	big := strings.Repeat("0123456789", 10_000)
	origin := fileOrigin(t, map[string]string{"streams/v/whole.mp4": big})
	srv := startEdge(t, proxy.Config{Origin: origin, MaxObjectBytes: 50_000})
	url := srv.URL + "/streams/v/whole.mp4"
	r := get(t, url)
	if r.code != 200 || r.body != big || r.header.Get("Cache-Status") != "edge; fwd=miss; detail=too-large" || r.header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("too large: %d len %d %v", r.code, len(r.body), r.header)
	}
	r = do(t, http.MethodGet, url, map[string]string{"Range": "bytes=10-19"})
	if r.code != 206 || r.body != "0123456789" || r.header.Get("Content-Range") != "bytes 10-19/100000" {
		t.Fatalf("too large, ranged: %d %q %v", r.code, r.body, r.header)
	}
	if metric(t, srv, "edge_cache_bytes") != 0 {
		t.Fatal("an object over the cap was cached")
	}
}

func TestMetricsExposition(t *testing.T) {
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, fixtures)})
	get(t, srv.URL+"/streams/s1/master.m3u8")
	get(t, srv.URL+"/streams/s1/master.m3u8")
	for name, want := range map[string]int64{
		// Two origin fetches: the playlist, and the playback document.
		"edge_cache_hits_total": 1, "edge_cache_misses_total": 1, "edge_origin_fetches_total": 2,
		"edge_origin_errors_total": 0, "edge_served_bytes_total": int64(2 * len(fixtures["streams/s1/master.m3u8"])),
	} {
		if got := metric(t, srv, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	families := scrape(t, srv)
	h := families["edge_origin_latency_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || len(h.GetBucket()) != 12 { // 11 bounds, then +Inf
		t.Errorf("origin latency histogram: %d samples in %d buckets, want 1 in 12", h.GetSampleCount(), len(h.GetBucket()))
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := families[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
