package fastlane

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// bufferLimit is how much body is held to compute Content-Length when the
// handler declared none; past it the answer is chunked (HTTP/1.1) or ends
// with the connection (HTTP/1.0).
const bufferLimit = 64 << 10

// response is the http.ResponseWriter of a fast request. The head is
// written on the first body byte or at finish, so a small undeclared body
// gets its Content-Length.
type response struct {
	bw      *bufio.Writer
	conn    net.Conn
	timeout time.Duration
	h       http.Header
	req     request
	now     time.Time // when the request was read: the Date sent
	status  int
	started bool
	length  int64 // Content-Length sent in the head, or -1
	written int64
	buf     []byte
	chunked bool
	err     error // the connection cannot carry another request
	// undeadlined counts body bytes written since the write deadline last
	// moved.
	undeadlined int
}

func (w *response) reset(r request, now time.Time) {
	clear(w.h)
	w.req, w.now, w.status, w.started, w.length, w.written = r, now, 0, false, -1, 0
	w.chunked, w.err, w.undeadlined, w.buf = false, nil, 0, w.buf[:0]
}

func (w *response) Header() http.Header { return w.h }

func (w *response) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

func (w *response) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.written += int64(len(p))
	if w.req.head || bodyless(w.status) {
		return len(p), nil
	}
	if !w.started {
		if _, declared := w.h["Content-Length"]; !declared && len(w.buf)+len(p) <= bufferLimit {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.writeHead(-1)
		if len(w.buf) > 0 {
			w.body(w.buf)
		}
	}
	w.body(p)
	return len(p), w.err
}

func (w *response) body(p []byte) {
	if w.chunked {
		w.bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		w.bw.WriteString("\r\n")
		w.write(p)
		_, w.err = w.bw.WriteString("\r\n")
		return
	}
	w.write(p)
}

// progressBytes is how much may be written under one write deadline. A
// large body goes out in slices, each with a fresh deadline, so a slow
// viewer that keeps reading is never cut off, and one that stops is.
const progressBytes = 256 << 10

func (w *response) write(p []byte) {
	for len(p) > 0 && w.err == nil {
		if w.undeadlined >= progressBytes {
			w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
			w.undeadlined = 0
		}
		n := min(len(p), progressBytes-w.undeadlined)
		_, w.err = w.bw.Write(p[:n])
		w.undeadlined += n
		p = p[n:]
	}
}

// finish completes the answer; a body shorter than it declared ends the
// connection, as the client cannot tell where the next answer starts.
func (w *response) finish() {
	w.WriteHeader(http.StatusOK)
	if !w.started {
		n := int64(len(w.buf))
		if w.req.head {
			n = w.written
		}
		w.writeHead(n)
		w.body(w.buf)
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
	}
	if w.length >= 0 && w.written != w.length && !w.req.head && !bodyless(w.status) {
		w.req.close = true
	}
	if w.req.close && w.err == nil {
		w.err = errClose
	}
}

// writeHead writes the status line and headers. n is the body length to
// declare when the handler did not (-1: unknown).
func (w *response) writeHead(n int64) {
	w.started = true
	bw := w.bw
	bw.WriteString(statusLine(w.status))
	bw.Write(dateLine(w.now))
	for k, vs := range w.h {
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(cleanValue(v))
			bw.WriteString("\r\n")
		}
	}
	if v, declared := w.h["Content-Length"]; declared && len(v) == 1 {
		w.length, _ = strconv.ParseInt(v[0], 10, 64)
	} else if !declared && !bodyless(w.status) {
		switch {
		case n >= 0:
			w.length = n
			bw.WriteString("Content-Length: ")
			bw.WriteString(strconv.FormatInt(n, 10))
			bw.WriteString("\r\n")
		case w.req.http10:
			w.req.close = true
		default:
			w.chunked = true
			bw.WriteString("Transfer-Encoding: chunked\r\n")
		}
	}
	switch {
	case w.req.close:
		bw.WriteString("Connection: close\r\n")
	case w.req.http10:
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
}

var errClose = errors.New("connection closes after this answer")

// bodyless statuses never carry a body (RFC 9110 §6.4.1).
func bodyless(code int) bool {
	return code == http.StatusNoContent || code == http.StatusNotModified || (code >= 100 && code < 200)
}

var statusLines [600]string

func init() {
	for code := range statusLines {
		if text := http.StatusText(code); text != "" {
			statusLines[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
		}
	}
}

func statusLine(code int) string {
	if code > 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " status code " + strconv.Itoa(code) + "\r\n"
}

// dateLine is the Date header, formatted once a second.
func dateLine(now time.Time) []byte {
	sec := now.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.line
	}
	line := append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	d := &date{sec, append(line, "\r\n"...)}
	lastDate.Store(d)
	return d.line
}

type date struct {
	sec  int64
	line []byte
}

var lastDate atomic.Pointer[date]

// cleanValue keeps a header value on its line, as net/http does.
func cleanValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	return v
}
