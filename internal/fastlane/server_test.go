package fastlane_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/fastlane"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage/storagetest"
)

const playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nsegment-0.ts\n#EXT-X-ENDLIST\n"

var segment = strings.Repeat("0123456789abcdef", 4096) // 64 KiB: above net/http's small-body buffer

// newProxy is a real proxy in front of a folder, with a fixed clock so two
// servers sharing it answer alike.
func newProxy(t *testing.T) *proxy.Proxy {
	store := storagetest.NewFileStore(t, map[string]string{
		"streams/a/720p/stream.m3u8": playlist, "streams/a/720p/segment-0.ts": segment})
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	return proxy.New(proxy.Config{Origin: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
}

// lane runs a fast lane whose slow side marks its answers X-Lane: slow.
type lane struct {
	addr string
	srv  *fastlane.Server
	done chan error
}

func startLane(t *testing.T, fast http.Handler, timeout time.Duration) *lane {
	t.Helper()
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Lane", "slow")
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		fast.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &lane{addr: ln.Addr().String(), done: make(chan error, 1),
		srv: &fastlane.Server{Prefix: "/streams/", Fast: fast, Slow: &http.Server{Handler: slow}, Timeout: timeout}}
	go func() { l.done <- l.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.srv.Shutdown(ctx)
	})
	return l
}

// exchange writes raw on one connection and reads the answers to methods,
// in order.
func exchange(t *testing.T, addr, raw string, methods ...string) []*answer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*answer
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("answer %d of %q: %v", len(out)+1, raw, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("answer %d body: %v", len(out)+1, err)
		}
		out = append(out, &answer{resp, string(body)})
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := br.Peek(1); err == nil {
		t.Fatalf("more bytes after %d answers to %q", len(out), raw)
	}
	return out
}

type answer struct {
	*http.Response
	body string
}

func (a *answer) slow() bool { return a.Header.Get("X-Lane") == "slow" }

func get(path string, extra ...string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: edge\r\n" + strings.Join(extra, "") + "\r\n"
}

// TestSameAnswersAsNetHTTP: for what viewers send, the fast lane answers
// byte for byte as net/http does in front of the same proxy (Date aside).
func TestSameAnswersAsNetHTTP(t *testing.T) {
	p := newProxy(t)
	fast := startLane(t, p, time.Minute)
	reference := httptest.NewServer(p)
	t.Cleanup(reference.Close)
	warm := get("/streams/a/720p/stream.m3u8") + get("/streams/a/720p/segment-0.ts")
	exchange(t, fast.addr, warm, "GET", "GET")

	for _, tc := range []struct{ name, raw, method string }{
		{"playlist", get("/streams/a/720p/stream.m3u8"), "GET"},
		{"segment", get("/streams/a/720p/segment-0.ts"), "GET"},
		{"head", strings.Replace(get("/streams/a/720p/segment-0.ts"), "GET", "HEAD", 1), "HEAD"},
		{"range", get("/streams/a/720p/segment-0.ts", "Range: bytes=10-19\r\n"), "GET"},
		{"range past the end", get("/streams/a/720p/segment-0.ts", "range: bytes=99999999-\r\n"), "GET"},
		{"if-none-match", get("/streams/a/720p/stream.m3u8", "If-None-Match: "+etag(t, fast.addr)+"\r\n"), "GET"},
		{"cors origin", get("/streams/a/720p/stream.m3u8", "Origin: https://player.example\r\n"), "GET"},
		{"missing", get("/streams/a/720p/segment-9.ts"), "GET"},
		{"not served", get("/streams/a/secret.txt"), "GET"},
		{"traversal", get("/streams/a/../../etc/passwd.ts"), "GET"},
		{"http/1.0", "GET /streams/a/720p/stream.m3u8 HTTP/1.0\r\n\r\n", "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, fast.addr, tc.raw, tc.method)[0]
			want := exchange(t, reference.Listener.Addr().String(), tc.raw, tc.method)[0]
			if got.slow() {
				t.Fatal("answered by net/http, not the fast lane")
			}
			for _, r := range []*answer{got, want} {
				r.Header.Del("Date")
			}
			if got.StatusCode != want.StatusCode || got.body != want.body || got.ContentLength != want.ContentLength ||
				!sameHeaders(got.Header, want.Header) {
				t.Fatalf("fast lane:\n%d %v %q\nnet/http:\n%d %v %q", got.StatusCode, got.Header, trim(got.body),
					want.StatusCode, want.Header, trim(want.body))
			}
		})
	}
}

func etag(t *testing.T, addr string) string {
	return exchange(t, addr, get("/streams/a/720p/stream.m3u8"), "GET")[0].Header.Get("Etag")
}

func sameHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func trim(s string) string { return s[:min(len(s), 60)] }

// TestHardCasesGoToNetHTTP: anything the fast lane does not fully
// understand is answered by net/http, on the same connection, and that
// connection stays with net/http.
func TestHardCasesGoToNetHTTP(t *testing.T) {
	l := startLane(t, newProxy(t), time.Minute)
	for _, tc := range []struct {
		name, raw string
		code      int
	}{
		{"another path", get("/healthz"), 200},
		{"a query", get("/streams/a/720p/stream.m3u8?v=1"), 200},
		{"percent-encoding", get("/streams/a/720p/stream%2Em3u8"), 400},
		{"a body", "GET /streams/a/720p/stream.m3u8 HTTP/1.1\r\nHost: edge\r\nContent-Length: 3\r\n\r\nabc", 200},
		{"chunked body", "GET /streams/a/720p/stream.m3u8 HTTP/1.1\r\nHost: edge\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200},
		{"options", "OPTIONS /streams/a/720p/stream.m3u8 HTTP/1.1\r\nHost: edge\r\nOrigin: https://p.example\r\nAccess-Control-Request-Method: GET\r\n\r\n", 204},
		{"post", "POST /streams/a/720p/stream.m3u8 HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\n\r\n", 405},
		{"no host", "GET /streams/a/720p/stream.m3u8 HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET /streams/a/720p/stream.m3u8 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"folded header", get("/streams/a/720p/stream.m3u8", "X-A: 1\r\n  2\r\n"), 200},
		{"bare LF line ends", "GET /streams/a/720p/stream.m3u8 HTTP/1.1\nHost: edge\n\n", 200},
		{"bad request line", "GET /streams/a/720p/stream.m3u8\r\nHost: edge\r\n\r\n", 400},
		{"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 405},
		{"huge header", get("/streams/a/720p/stream.m3u8", "X-Big: "+strings.Repeat("b", 9000)+"\r\n"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := strings.Fields(tc.raw)[0]
			// The same request twice on one connection: both slow.
			raw := tc.raw
			n := 1
			if tc.code < 400 {
				raw, n = tc.raw+tc.raw, 2
			}
			for i, a := range exchange(t, l.addr, raw, slices.Repeat([]string{method}, n)...) {
				// net/http answers a malformed request itself, before any handler.
				byNetHTTP := a.slow() || strings.HasPrefix(a.body, "400 Bad Request")
				if a.StatusCode != tc.code || !byNetHTTP {
					t.Fatalf("answer %d: %d %q (slow lane %v), want %d from net/http", i+1, a.StatusCode, trim(a.body), a.slow(), tc.code)
				}
			}
		})
	}
}

// TestOneConnectionBothLanes: fast, then slow; after the hand-over the
// connection's later stream requests are net/http's.
func TestOneConnectionBothLanes(t *testing.T) {
	l := startLane(t, newProxy(t), time.Minute)
	raw := get("/streams/a/720p/stream.m3u8") + get("/healthz") + get("/streams/a/720p/stream.m3u8")
	got := exchange(t, l.addr, raw, "GET", "GET", "GET")
	if got[0].slow() || !got[1].slow() || !got[2].slow() {
		t.Fatalf("lanes: %v %v %v", got[0].slow(), got[1].slow(), got[2].slow())
	}
	if got[0].body != playlist || got[1].body != "ok\n" || got[2].body != playlist {
		t.Fatalf("bodies: %q %q %q", trim(got[0].body), got[1].body, trim(got[2].body))
	}
}

// TestPipelinedAndClosing: pipelined requests are answered in order;
// Connection: close and HTTP/1.0 without keep-alive end the connection
// after their answer, HTTP/1.0 with keep-alive keeps it.
func TestPipelinedAndClosing(t *testing.T) {
	l := startLane(t, newProxy(t), time.Minute)
	seg := get("/streams/a/720p/segment-0.ts")
	got := exchange(t, l.addr, get("/streams/a/720p/stream.m3u8")+seg+get("/streams/a/720p/stream.m3u8"), "GET", "GET", "GET")
	if got[0].body != playlist || got[1].body != segment || got[2].body != playlist {
		t.Fatal("pipelined answers out of order")
	}
	for _, tc := range []struct {
		name, raw string
		closes    bool
	}{
		{"connection: close", get("/streams/a/720p/stream.m3u8", "Connection: close\r\n"), true},
		{"http/1.0", "GET /streams/a/720p/stream.m3u8 HTTP/1.0\r\n\r\n", true},
		{"http/1.0 keep-alive", "GET /streams/a/720p/stream.m3u8 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false},
		{"http/1.1", get("/streams/a/720p/stream.m3u8"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if closed := closesAfter(t, l.addr, tc.raw); closed != tc.closes {
				t.Fatalf("closed after the answer: %v, want %v", closed, tc.closes)
			}
		})
	}
}

// closesAfter sends raw, reads one answer and says whether the server
// then closed the connection (EOF) rather than waiting for more.
func closesAfter(t *testing.T, addr, raw string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF)
}

// TestUndeclaredBodies: a handler that declares no length gets one when
// its body is small, chunked encoding when it is large (HTTP/1.1), and an
// answer ended by closing (HTTP/1.0).
func TestUndeclaredBodies(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := "small"
		if strings.HasSuffix(r.URL.Path, "big") {
			body = big
		}
		for i := 0; i < len(body); i += 10 << 10 {
			io.WriteString(w, body[i:min(len(body), i+10<<10)])
		}
	})
	l := startLane(t, h, time.Minute)
	got := exchange(t, l.addr, get("/streams/small")+get("/streams/big"), "GET", "GET")
	if got[0].ContentLength != 5 || got[0].body != "small" {
		t.Fatalf("small: length %d body %q", got[0].ContentLength, got[0].body)
	}
	if !slices.Equal(got[1].TransferEncoding, []string{"chunked"}) || got[1].body != big {
		t.Fatalf("big: %v, %d bytes", got[1].TransferEncoding, len(got[1].body))
	}
	if !closesAfter(t, l.addr, "GET /streams/big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") {
		t.Fatal("an HTTP/1.0 answer of unknown length did not end with the connection")
	}
}

// TestShutdown: a request in flight finishes; idle connections are
// closed; Serve returns http.ErrServerClosed.
func TestShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/streams/slow" {
			started <- struct{}{}
			<-release
		}
		io.WriteString(w, "done")
	})
	l := startLane(t, h, time.Minute)
	idle, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	exchangeOn(t, idle, get("/streams/quick"))

	inflight := make(chan string, 1)
	go func() { inflight <- exchange(t, l.addr, get("/streams/slow"), "GET")[0].body }()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- l.srv.Shutdown(context.Background()) }()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection during shutdown: %v, want it closed", err)
	}
	close(release)
	if body := <-inflight; body != "done" {
		t.Fatalf("in-flight answer %q", body)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-l.done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}

func exchangeOn(t *testing.T, c net.Conn, raw string) {
	t.Helper()
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
}

// TestIdleTimeout: a connection that sends nothing is dropped.
func TestIdleTimeout(t *testing.T) {
	l := startLane(t, newProxy(t), 300*time.Millisecond)
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want it closed by the server", err)
	}
}

// TestSlowViewerKeepsGoing: a viewer that keeps reading a body far larger
// than the socket buffers, for longer than Timeout, gets all of it; the
// timeout is for a stalled client, not a slow one.
func TestSlowViewerKeepsGoing(t *testing.T) {
	big := 32 << 20
	c := askForBigBody(t, big)
	start := time.Now()
	n, buf := 0, make([]byte, 1<<20)
	for n < big+100 {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := c.Read(buf)
		n += k
		if err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // at most 1 MiB every 50 ms: 1.6 s or more in all
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("the body took %v, not longer than the timeout: nothing was tested", took)
	}
	if n < big {
		t.Fatalf("read %d of %d bytes before the server gave up", n, big)
	}
}

// TestStalledViewerIsDropped: a viewer that stops reading is cut off after
// Timeout instead of holding its connection and goroutine for ever.
func TestStalledViewerIsDropped(t *testing.T) {
	big := 64 << 20
	c := askForBigBody(t, big)
	time.Sleep(2 * time.Second) // stalled, well past the timeout
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := io.Copy(io.Discard, c)
	if n >= int64(big) {
		t.Fatalf("a stalled viewer still got all %d bytes", n)
	}
}

// askForBigBody starts a lane with a 300 ms timeout whose handler answers
// size bytes, and returns a connection that has asked for them.
func askForBigBody(t *testing.T, size int) net.Conn {
	t.Helper()
	body := strings.Repeat("b", size)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	})
	l := startLane(t, h, 300*time.Millisecond)
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, get("/streams/big.mp4"))
	return c
}

// TestHandlerPanic: a panicking handler costs its own connection only.
func TestHandlerPanic(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/streams/boom" {
			panic("boom")
		}
		io.WriteString(w, "fine")
	})
	l := startLane(t, h, time.Minute)
	l.srv.Slow.ErrorLog = log.New(io.Discard, "", 0)
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, get("/streams/boom"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := io.Copy(io.Discard, c); n != 0 {
		t.Fatalf("a panicking handler's connection got %d bytes, want it closed", n)
	}
	if got := exchange(t, l.addr, get("/streams/ok"), "GET")[0].body; got != "fine" {
		t.Fatalf("after the panic: %q", got)
	}
}
