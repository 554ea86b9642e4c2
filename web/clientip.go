package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// ClientIPs says who a request comes from, for sign-in limits, logs and
// playback tokens bound to a viewer.
// Behind a proxy every request arrives from the proxy's address, and a
// forwarded header is a claim anyone can make, so it is believed only
// from the proxies the operator names: X-Forwarded-For, read right to
// left past those proxies by Echo's own extractor, or Fly's Fly-Client-IP
// on Fly, whose proxy sets it on every request.
func ClientIPs(trusted []*net.IPNet, fly bool) echo.IPExtractor {
	switch {
	case fly:
		return flyClientIP
	case len(trusted) > 0:
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range trusted {
			opts = append(opts, echo.TrustIPRange(n))
		}
		return echo.ExtractIPFromXFFHeader(opts...)
	}
	return echo.ExtractIPDirect()
}

func flyClientIP(r *http.Request) string {
	if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("Fly-Client-IP"))); ip != nil {
		return ip.String()
	}
	return echo.ExtractIPDirect()(r)
}
