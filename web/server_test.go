package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	srv := newEnv(t, map[string]string{"streams/a/master.m3u8": "#EXTM3U\n"}).srv

	for _, tc := range []struct {
		method, path string
		code         int
		bodyHas      string
		header       [2]string
	}{
		{"GET", "/healthz", 200, `{"status":"ok"}`, [2]string{"Cache-Control", "no-store"}},
		{"GET", "/metrics", 200, "edge_cache_hits_total", [2]string{"Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"}},
		{"GET", "/streams/a/master.m3u8", 200, "#EXTM3U", [2]string{"Content-Type", "application/vnd.apple.mpegurl"}},
		// The proxy, not the portal router, answers every method under /streams/.
		{"POST", "/streams/a/master.m3u8", 405, "method not allowed", [2]string{"Allow", "GET, HEAD, OPTIONS"}},
		{"OPTIONS", "/streams/a/master.m3u8", 204, "", [2]string{"Access-Control-Max-Age", "86400"}},
		{"GET", "/streams/a/missing.ts", 404, "not found", [2]string{"Access-Control-Allow-Origin", "*"}},
		{"GET", "/nowhere", 404, "Not Found", [2]string{}},
		{"POST", "/healthz", 405, "", [2]string{}},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.bodyHas) ||
			(tc.header[0] != "" && resp.Header.Get(tc.header[0]) != tc.header[1]) {
			t.Errorf("%s %s: %d %q %v", tc.method, tc.path, resp.StatusCode, body, resp.Header)
		}
	}
}
