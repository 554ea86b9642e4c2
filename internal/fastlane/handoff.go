package fastlane

import (
	"bufio"
	"net"
	"sync"
)

// handoffListener is the net/http server's listener: it yields the
// connections the fast lane gives up on.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// give passes a connection on; br holds what was read of it and not yet
// consumed, starting with the request net/http must answer.
func (l *handoffListener) give(nc net.Conn, br *bufio.Reader) {
	select {
	case l.conns <- &handedConn{nc, br}:
	case <-l.closed:
		nc.Close()
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// handedConn reads through the fast lane's buffer first.
type handedConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *handedConn) Read(p []byte) (int, error) { return c.br.Read(p) }
