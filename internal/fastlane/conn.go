package fastlane

import (
	"bufio"
	"bytes"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"
)

// maxHeaderBytes bounds a fast request's head; a larger one goes to
// net/http, which has its own limit and answers 431.
const maxHeaderBytes = 8 << 10

type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	idle atomic.Bool // waiting for a request: Shutdown may close it

	// Reused for every request on the connection: the handler must not
	// keep them (the proxy does not).
	req  http.Request
	url  url.URL
	resp response
}

func (s *Server) serveConn(c *conn) {
	defer s.untrack(c)
	defer s.recoverPanic(c)
	c.req.URL, c.req.Header, c.resp.h = &c.url, http.Header{}, http.Header{}
	c.req.RemoteAddr = c.nc.RemoteAddr().String()
	c.resp.bw, c.resp.conn, c.resp.timeout = c.bw, c.nc, s.Timeout
	deadlineSet := time.Now()
	c.nc.SetDeadline(deadlineSet.Add(s.Timeout))
	for {
		head, ok := c.readHead()
		c.idle.Store(false)
		if !ok {
			c.nc.Close()
			return
		}
		// One clock read a request: the answer's Date, and the deadline for
		// the answer and the wait for the next request. Moving the deadline
		// is a timer update; once a second is plenty.
		now := time.Now()
		if now.Sub(deadlineSet) > time.Second {
			c.nc.SetDeadline(now.Add(s.Timeout))
			deadlineSet = now
		}
		r, fast := parse(head, &c.req, &c.url, s.Prefix)
		if !fast {
			c.bw.Flush()
			c.nc.SetDeadline(time.Time{}) // net/http sets its own
			s.handoff.give(c.nc, c.br)    // the request is still in c.br
			return
		}
		c.br.Discard(len(head))
		c.resp.reset(r, now)
		s.Fast.ServeHTTP(&c.resp, &c.req)
		c.resp.finish()
		if c.br.Buffered() == 0 { // a pipelined request is answered in the same write
			if c.bw.Flush() != nil {
				c.nc.Close()
				return
			}
		}
		if c.resp.err != nil || s.closing.Load() {
			c.bw.Flush()
			c.nc.Close()
			return
		}
		c.idle.Store(true)
	}
}

// recoverPanic does what net/http does for a handler that panics: log it,
// drop that connection, keep serving the others.
func (s *Server) recoverPanic(c *conn) {
	v := recover()
	if v == nil {
		return
	}
	c.nc.Close()
	if v == http.ErrAbortHandler {
		return
	}
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	msg := fmt.Sprintf("fastlane: panic serving %s: %v\n%s", c.nc.RemoteAddr(), v, buf)
	if s.Slow.ErrorLog != nil {
		s.Slow.ErrorLog.Print(msg)
	} else {
		log.Print(msg)
	}
}

// readHead returns the request head (through its blank line) without
// consuming it, so it can still be handed to net/http. A head that fills
// the buffer without ending comes back as it is; parse refuses it.
func (c *conn) readHead() ([]byte, bool) {
	for n := 1; ; {
		if _, err := c.br.Peek(n); err != nil {
			return nil, false
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		if end := headEnd(buf); end > 0 {
			return buf[:end], true
		}
		if len(buf) >= maxHeaderBytes {
			return buf, true
		}
		n = len(buf) + 1
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// headEnd finds the blank line that ends a head, with CRLF or (as net/http
// also accepts) bare LF line ends, and returns the length through it.
func headEnd(buf []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		switch {
		case i < len(buf) && buf[i] == '\n':
			return i + 1
		case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
			return i + 2
		}
	}
}
