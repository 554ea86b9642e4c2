// Package fastlane serves viewers' GET and HEAD requests for one path
// prefix (/streams/) on a lean HTTP/1.1 loop, and hands every other
// connection to a net/http server.
//
// Why: on a playlist hit edge's own handler is about a tenth of the CPU;
// net/http's per-request machinery (a goroutine for background reads, a
// context, the header map, response bookkeeping) is most of the rest, and
// kept edge below nginx. Viewers' requests are simple and alike, so they
// get a loop that parses only what the proxy reads. Anything unusual (a
// body, Transfer-Encoding, Expect, Upgrade, a query, percent-encoding,
// another path or method, a malformed or huge header) goes to net/http with
// the bytes already read, and that connection stays with net/http: the
// fast loop never has to be right about the hard cases.
package fastlane

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the listener's owner.
type Server struct {
	Prefix string       // paths served here, e.g. "/streams/"
	Fast   http.Handler // handles Prefix requests; it must not keep r or w
	Slow   *http.Server // everything else; its Handler sees all paths
	// Timeout bounds a fast connection's waits for a request, and each
	// answer's writes between moves of the write deadline (default 2
	// minutes): an idle or stalled client is dropped after it.
	Timeout time.Duration

	handoff  *handoffListener
	mu       sync.Mutex
	conns    map[*conn]struct{}
	wg       sync.WaitGroup
	closing  atomic.Bool
	listener net.Listener
}

// Serve accepts connections until Shutdown; it returns http.ErrServerClosed
// then, like net/http.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.listener, s.conns = ln, map[*conn]struct{}{}
	s.handoff = newHandoffListener(ln.Addr())
	s.mu.Unlock()
	if s.Timeout <= 0 {
		s.Timeout = 2 * time.Minute
	}
	slowDone := make(chan error, 1)
	go func() { slowDone <- s.Slow.Serve(s.handoff) }()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				<-slowDone
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.handoff.Close()
			<-slowDone
			return err
		}
		c := s.track(nc)
		if c == nil {
			nc.Close()
			continue
		}
		go s.serveConn(c)
	}
}

func (s *Server) track(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, maxHeaderBytes), bw: bufio.NewWriterSize(nc, 4096)}
	c.idle.Store(true)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, closes idle connections, lets requests in
// flight finish (on both lanes), and returns when all are done or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	ln := s.listener
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	slowErr := make(chan error, 1)
	go func() { slowErr <- s.Slow.Shutdown(ctx) }()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			return <-slowErr
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() {
			c.nc.Close()
		}
	}
}
