package proxy

import (
	"io"
	"net/http"
	"time"
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
	served interface{ Add(int64) int64 }
}

func (p *Proxy) viewerWriter(w http.ResponseWriter) viewerWriter {
	return viewerWriter{w, http.NewResponseController(w), p.cfg.StallTimeout, &p.metrics.servedBytes}
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
		v.served.Add(int64(k))
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

// ReadFrom copies through Write, so every piece moves the deadline.
func (v viewerWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	return io.CopyBuffer(struct{ io.Writer }{v}, r, buf)
}
