package proxy_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage/storagetest"
)

// midBodyOrigin serves one object through http.ServeContent (byte ranges
// and validators as net/http does them), except its first whole-body
// answer: that one sends the first pause bytes, waits for the test to
// release it, then ends the body, or cuts the connection when cut is set,
// as S3 or a CDN now and then resets a long read. The answers after it
// carry the ETag later, to play an object replaced meanwhile; ignoreRange
// plays an origin without byte ranges.
type midBodyOrigin struct {
	srv      *httptest.Server
	paused   chan struct{}
	released chan struct{}
	once     sync.Once
	mu       sync.Mutex
	ranges   []string // each request's Range header, in order
}

type midBody struct {
	pause       int
	cut         bool
	later       string
	ignoreRange bool
}

func startMidBodyOrigin(t *testing.T, body string, m midBody) *midBodyOrigin {
	o := &midBodyOrigin{paused: make(chan struct{}), released: make(chan struct{})}
	var answered atomic.Bool
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.ranges = append(o.ranges, r.Header.Get("Range"))
		o.mu.Unlock()
		if r.Header.Get("Range") == "" && answered.CompareAndSwap(false, true) {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body[:m.pause])
			w.(http.Flusher).Flush()
			close(o.paused)
			select {
			case <-o.released:
			case <-r.Context().Done():
				return
			}
			if m.cut {
				panic(http.ErrAbortHandler) // the connection is cut, the body left short
			}
			io.WriteString(w, body[m.pause:])
			return
		}
		w.Header().Set("ETag", m.later)
		if m.ignoreRange {
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
	}))
	t.Cleanup(o.srv.Close)
	t.Cleanup(o.release) // before Close, which waits for the paused answer's handler
	return o
}

// release lets the paused answer go on (end or cut).
func (o *midBodyOrigin) release() { o.once.Do(func() { close(o.released) }) }

func (o *midBodyOrigin) asked() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ranges)
}

// TestOriginBreakingOffMidBodyIsTakenUp: when the origin cuts a segment
// half-way, the fill asks it for the rest of the same version by a ranged
// request, and the viewers already streaming it, the first and one who
// joined, get it whole on the same connection. The rest is not taken when
// the object changed meanwhile or the origin answers without the range:
// the viewers are then cut, never given a body made of two, and the next
// viewer gets the object whole from a new fill.
func TestOriginBreakingOffMidBodyIsTakenUp(t *testing.T) {
	body := strings.Repeat("0123456789", 50_000)
	half := len(body) / 2
	for _, tc := range []struct {
		name        string
		later       string
		ignoreRange bool
		whole       bool
		next        string // Cache-Status of the next viewer's answer
	}{
		{"same version", `"v1"`, false, true, "edge; hit"},
		{"replaced meanwhile", `"v2"`, false, false, "edge; fwd=miss; stored"},
		{"origin without ranges", `"v1"`, true, false, "edge; fwd=miss; stored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startMidBodyOrigin(t, body, midBody{pause: half, cut: true, later: tc.later, ignoreRange: tc.ignoreRange})
			srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, o.srv.URL)})
			url := srv.URL + "/streams/s/segment-0.ts"
			var viewers []io.ReadCloser
			for i, want := range []string{"edge; fwd=miss; stored", "edge; fwd=miss; collapsed"} {
				resp, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				got := make([]byte, half)
				if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != body[:half] || resp.Header.Get("Cache-Status") != want {
					t.Fatalf("viewer %d: first half: %v, %q", i, err, resp.Header.Get("Cache-Status"))
				}
				viewers = append(viewers, resp.Body)
			}
			<-o.paused
			o.release()
			for i, b := range viewers {
				rest, err := io.ReadAll(b)
				whole := err == nil && string(rest) == body[half:]
				if whole != tc.whole {
					t.Fatalf("viewer %d: rest: %d bytes, err %v; want whole %v", i, len(rest), err, tc.whole)
				}
			}
			// Asked before the viewers' answers ended, whole or cut.
			if asked, want := o.asked(), []string{"", "bytes=" + strconv.Itoa(half) + "-" + strconv.Itoa(len(body)-1)}; !slices.Equal(asked, want) {
				t.Fatalf("origin asked for ranges %q, want %q", asked, want)
			}
			if n := metric(t, srv, "edge_origin_resumes_total"); n != 1 {
				t.Fatalf("resumes: %d, want 1", n)
			}
			if r := get(t, url); r.code != 200 || r.body != body || r.header.Get("Cache-Status") != tc.next {
				t.Fatalf("next viewer: %d, %d bytes, %q", r.code, len(r.body), r.header.Get("Cache-Status"))
			}
		})
	}
}

// TestS3BodyBreakingOffIsTakenUp: the same through the S3 store from a real
// S3 server (versitygw), whose connection is cut 1 MiB into a 2 MiB
// segment: the viewer gets every byte, and the object is kept.
func TestS3BodyBreakingOffIsTakenUp(t *testing.T) {
	s3srv := storagetest.StartS3(t)
	body := make([]byte, 2<<20)
	rand.NewChaCha8([32]byte{1}).Read(body)
	if err := newS3Store(t, s3srv, s3srv.SecretKey).Put(context.Background(), "streams/s/segment-0.ts", bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	relay := startCuttingRelay(t, strings.TrimPrefix(s3srv.Endpoint, "http://"), 1<<20)
	through := *s3srv
	through.Endpoint = "http://" + relay
	// An hour on, the object has settled: one just written is served, not kept.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	srv := startEdge(t, proxy.Config{Origin: newS3Store(t, &through, s3srv.SecretKey), Now: later})
	r := get(t, srv.URL+"/streams/s/segment-0.ts")
	if r.code != 200 || r.body != string(body) {
		t.Fatalf("viewer: %d, %d bytes of %d, equal %v", r.code, len(r.body), len(body), r.body == string(body))
	}
	if n := metric(t, srv, "edge_origin_resumes_total"); n != 1 {
		t.Fatalf("resumes: %d, want 1 (was the connection cut?)", n)
	}
	if r := get(t, srv.URL+"/streams/s/segment-0.ts"); r.body != string(body) || r.header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("next viewer: %d bytes, %q", len(r.body), r.header.Get("Cache-Status"))
	}
}

// startCuttingRelay forwards TCP connections to target and, once in its
// life, cuts the connection whose answers pass cutAfter bytes.
func startCuttingRelay(t *testing.T, target string, cutAfter int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	var cut atomic.Bool
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			go io.Copy(server, client)
			go func() {
				defer client.Close()
				defer server.Close()
				if n, _ := io.CopyN(client, server, cutAfter); n == cutAfter && !cut.CompareAndSwap(false, true) {
					io.Copy(client, server)
				}
			}()
		}
	}()
	return ln.Addr().String()
}
