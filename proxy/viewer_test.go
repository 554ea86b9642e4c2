package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/proxy"
)

// bigOrigin holds one segment of size bytes at streams/a/big.ts.
func bigOrigin(t *testing.T, size int) *countingStore {
	return fileOrigin(t, map[string]string{"streams/a/big.ts": strings.Repeat("b", size)})
}

// startWatchedEdge serves the proxy on 127.0.0.1 and reports on done each
// time a request's handler returns.
func startWatchedEdge(t *testing.T, cfg proxy.Config) (*httptest.Server, <-chan struct{}) {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	p := proxytest.New(t, cfg)
	done := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return srv, done
}

func askFor(t *testing.T, srv *httptest.Server, path string) net.Conn {
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: edge\r\n\r\n", path)
	return c
}

// Both ways a body leaves edge: from the cache, and passed through when it
// is over the per-object cap.
var bodyPaths = []struct {
	name      string
	objectMax int64
}{{"cached", 0}, {"passed through", 1 << 20}}

// TestSlowViewerKeepsGoing: a viewer that keeps reading, slowly, a body far
// larger than the socket buffers for longer than the stall timeout gets all
// of it: the timeout is for a viewer that stops, not a slow one.
func TestSlowViewerKeepsGoing(t *testing.T) {
	const size, stall = 24 << 20, time.Second
	for _, bp := range bodyPaths {
		t.Run(bp.name, func(t *testing.T) {
			srv, _ := startWatchedEdge(t, proxy.Config{Origin: bigOrigin(t, size), MaxObjectBytes: bp.objectMax, StallTimeout: stall})
			c := askFor(t, srv, "/streams/a/big.ts")
			start := time.Now()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, buf := 0, make([]byte, 512<<10)
			for {
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				k, err := resp.Body.Read(buf)
				n += k
				if err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond) // pace: at most 10 MiB/s
			}
			if took := time.Since(start); took < stall {
				t.Fatalf("the body took %v, less than the stall timeout: nothing was tested", took)
			}
			if n != size {
				t.Fatalf("read %d of %d bytes before edge gave up", n, size)
			}
		})
	}
}

// TestStalledViewerIsDropped: a viewer that stops reading is cut off after
// the stall timeout instead of holding its connection and goroutine for
// ever. The handler returning is the proof; the viewer then finds the body
// cut short.
func TestStalledViewerIsDropped(t *testing.T) {
	const size = 24 << 20 // far more than loopback's socket buffers hold
	for _, bp := range bodyPaths {
		t.Run(bp.name, func(t *testing.T) {
			srv, done := startWatchedEdge(t, proxy.Config{Origin: bigOrigin(t, size), MaxObjectBytes: bp.objectMax, StallTimeout: 200 * time.Millisecond})
			c := askFor(t, srv, "/streams/a/big.ts")
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("edge still writing to a stalled viewer after a minute")
			}
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			if n, _ := io.Copy(io.Discard, c); n >= size {
				t.Fatalf("a stalled viewer still got all %d bytes", n)
			}
		})
	}
}

// TestKeepAliveAfterALongAnswer: the deadline one answer moved does not
// cut the next answer on the same connection, however long it waited
// (net/http clears it between answers; this keeps that so).
func TestKeepAliveAfterALongAnswer(t *testing.T) {
	srv, done := startWatchedEdge(t, proxy.Config{Origin: bigOrigin(t, 1<<20), StallTimeout: 100 * time.Millisecond})
	c := askFor(t, srv, "/streams/a/big.ts")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	<-done
	time.Sleep(300 * time.Millisecond) // idle past the first answer's last deadline: what is tested
	// A HEAD has no body to move the deadline: only its own start does.
	fmt.Fprintf(c, "HEAD /streams/a/big.ts HTTP/1.1\r\nHost: edge\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err = http.ReadResponse(r, &http.Request{Method: http.MethodHead})
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("second answer on the connection: %v %v", err, resp)
	}
}

// TestPassThroughEnds: a body too large to cache is fetched for one
// viewer; an origin that stalls mid-body past the origin timeout ends it,
// and a viewer who leaves ends the origin's request too.
func TestPassThroughEnds(t *testing.T) {
	body := strings.Repeat("p", 2<<20)
	t.Run("origin stalls", func(t *testing.T) {
		g := startGatedOrigin(t, body) // sends half, then waits for ever
		srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, g.srv.URL), MaxObjectBytes: 1 << 20, OriginTimeout: 300 * time.Millisecond})
		resp, err := http.Get(srv.URL + "/streams/a/big.ts")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body) // returns once edge gives up on the origin
		resp.Body.Close()
		if err == nil || len(got) >= len(body) || resp.Header.Get("Cache-Status") != "edge; fwd=miss; detail=too-large" {
			t.Fatalf("stalled origin: %d bytes, err %v, %v", len(got), err, resp.Header)
		}
	})
	t.Run("viewer leaves", func(t *testing.T) {
		left := make(chan struct{})
		var requests atomic.Int64
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The first request is the cache's, which learns the size and
			// hangs up; the second streams to the viewer.
			streaming := requests.Add(1) == 2
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			io.WriteString(w, body[:len(body)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // edge hung up on the origin
			if streaming {
				close(left)
			}
		}))
		t.Cleanup(origin.Close)
		srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, origin.URL), MaxObjectBytes: 1 << 20, OriginTimeout: time.Minute})
		c := askFor(t, srv, "/streams/a/big.ts")
		r := bufio.NewReader(c)
		if _, err := http.ReadResponse(r, nil); err != nil {
			t.Fatal(err)
		}
		c.Close()
		select {
		case <-left:
		case <-time.After(30 * time.Second):
			t.Fatal("the origin request went on after the viewer left")
		}
	})
}
