package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/proxy"
)

// TestHitsAreCorkedWhileSent: a segment sent from the disk tier goes out
// on a corked connection (full frames, as nginx's tcp_nopush), and the
// connection is uncorked once the answer is written, so neither its last
// bytes nor the next answer on the connection are held back.
func TestHitsAreCorkedWhileSent(t *testing.T) {
	const size = 24 << 20 // far more than loopback's socket buffers hold: the body is still being sent while the viewer waits
	p := proxytest.New(t, proxy.Config{Origin: bigOrigin(t, size), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	accepted := make(chan *net.TCPConn, 4)
	srv := httptest.NewUnstartedServer(p)
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		accepted <- c.(*net.TCPConn)
		return proxy.ConnContext(ctx, c)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	if r := do(t, http.MethodGet, srv.URL+"/streams/a/big.ts", map[string]string{"Connection": "close"}); len(r.body) != size {
		t.Fatalf("the miss: %d bytes", len(r.body)) // it fills the disk tier
	}
	<-accepted

	c := askFor(t, srv, "/streams/a/big.ts")
	server := <-accepted
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.Header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("the hit: %v %v", err, resp)
	}
	if !corked(t, server) {
		t.Fatal("a hit is being sent on an uncorked connection")
	}
	if n, err := io.Copy(io.Discard, resp.Body); n != size || err != nil {
		t.Fatalf("the hit: %d of %d bytes, %v", n, size, err)
	}
	// The next answer on the connection comes after the first's handler
	// returned, released or not.
	fmt.Fprintf(c, "HEAD /streams/a/big.ts HTTP/1.1\r\nHost: edge\r\n\r\n")
	if resp, err := http.ReadResponse(r, &http.Request{Method: http.MethodHead}); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the next answer: %v %v", err, resp)
	}
	if corked(t, server) {
		t.Fatal("the connection is still corked after its answers: their last bytes wait 200 ms")
	}
}

func corked(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v != 0
}
