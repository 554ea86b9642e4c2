package fastlane

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzParse: whatever arrives, parse does not panic, and what it accepts
// is a GET or HEAD of a plain path under the prefix, with a complete head.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"GET /streams/a/master.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /streams/a/s.ts HTTP/1.0\r\nRange: bytes=0-1\r\nConnection: keep-alive\r\n\r\n",
		"GET /streams/a/s.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nOrigin: https://o\r\n\r\n",
		"GET /streams/../x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /streams/a%2e HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		req := http.Request{Header: http.Header{}}
		var u url.URL
		r, ok := parse(head, &req, &u, "/streams/")
		if !ok {
			return
		}
		if !bytes.HasSuffix(head, crlfcrlf) || bytes.Count(head, []byte("\n")) != bytes.Count(head, crlf) || (req.Method != "GET" && req.Method != "HEAD") || r.head != (req.Method == "HEAD") {
			t.Fatalf("accepted %q as %s", head, req.Method)
		}
		if !strings.HasPrefix(u.Path, "/streams/") || strings.ContainsAny(u.Path, "?#% \r\n\t") {
			t.Fatalf("accepted path %q", u.Path)
		}
		for k := range req.Header {
			if !strings.Contains(strings.Join(readHeaders, ","), k) {
				t.Fatalf("kept header %q", k)
			}
		}
	})
}
