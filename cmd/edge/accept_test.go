package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
)

// exhaustedListener fails its first accepts as a process out of file
// descriptors does (EMFILE), then accepts for real.
type exhaustedListener struct {
	net.Listener
	failures atomic.Int64
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptErrorsDoNotEndTheProcess: running out of file descriptors for
// a moment makes edge wait and accept again, not exit.
func TestAcceptErrorsDoNotEndTheProcess(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &exhaustedListener{Listener: real}
	ln.failures.Store(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	cfg := Config{ShutdownTimeout: 5e9}
	go func() { done <- listenAndServe(ctx, cfg, h, ln, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	resp, err := http.Get("http://" + real.Addr().String() + "/")
	if err != nil {
		t.Fatalf("after EMFILE: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" || ln.failures.Load() >= 0 {
		t.Fatalf("answer %q, failures left %d", body, ln.failures.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
}
