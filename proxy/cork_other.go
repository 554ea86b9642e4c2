//go:build !linux

package proxy

import "net"

// setCork is Linux's TCP_CORK; elsewhere bodies go out uncorked.
func setCork(*net.TCPConn, bool) bool { return false }
