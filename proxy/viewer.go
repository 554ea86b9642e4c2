package proxy

import (
	"io"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// writeChunk is how much is written between two moves of the deadline.
const writeChunk = 256 << 10

// viewerWriter writes a body in pieces and moves the connection's write
// deadline before each: a slow viewer that keeps reading keeps its
// connection however long the body takes, and one that stops reading for
// StallTimeout is dropped, as nginx's send_timeout and Caddy do. It also
// counts the body bytes served.
type viewerWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	stall  time.Duration
	served prometheus.Counter
}

func (p *Proxy) viewerWriter(w http.ResponseWriter) viewerWriter {
	return viewerWriter{w, http.NewResponseController(w), p.cfg.StallTimeout, p.metrics.servedBytes}
}

// startDeadline bounds the answer's head and the final flush after the
// handler returns, which no body write covers (net/http clears the
// deadline once the answer is out).
func (v viewerWriter) startDeadline() {
	v.rc.SetWriteDeadline(time.Now().Add(v.stall))
}

func (v viewerWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		v.startDeadline()
		k, err := v.ResponseWriter.Write(b[:min(len(b), writeChunk)])
		n += k
		v.served.Add(float64(k))
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

// ReadFrom sends a piece at a time through net/http's own ReadFrom, moving
// the deadline before each, so a file still goes by sendfile: one
// LimitedReader around it (as io.CopyN and http.ServeContent make) is
// unwrapped, since the kernel path looks through one only, and so is an
// object's bodyFile.
func (v viewerWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := v.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.CopyBuffer(struct{ io.Writer }{v}, r, make([]byte, 32<<10))
	}
	src, remain := r, int64(math.MaxInt64)
	if lr, ok := r.(*io.LimitedReader); ok {
		src, remain = lr.R, lr.N
		defer func() { lr.N = remain }()
	}
	if b, ok := src.(bodyFile); ok { // ServeContent reads no further than the body
		src = b.File
	}
	var total int64
	for remain > 0 {
		v.startDeadline()
		piece := min(remain, writeChunk)
		n, err := rf.ReadFrom(&io.LimitedReader{R: src, N: piece})
		total += n
		remain -= n
		v.served.Add(float64(n))
		if err != nil || n < piece {
			return total, err
		}
	}
	return total, nil
}
