package proxy

import (
	"net"

	"golang.org/x/sys/unix"
)

// setCork sets or clears TCP_CORK; false when the socket refused it.
func setCork(c *net.TCPConn, on bool) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	v := 0
	if on {
		v = 1
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, v) }); err != nil {
		return false
	}
	return serr == nil
}
