// Package safehttp makes outgoing HTTP requests to URLs a user gave, which
// are hostile: every connection edge dials for them (the first and each
// redirect's) is checked against the address actually dialled, so DNS
// rebinding gains nothing. The checks are code.dny.dev/ssrf's, which keeps
// IANA's special-purpose ranges (loopback, private, link-local, the cloud
// metadata address, carrier-grade NAT, …) out; a maintained list beats one
// of our own.
package safehttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"code.dny.dev/ssrf"

	"github.com/edgehls/edge/internal/apperr"
)

// Guard refuses special-purpose addresses except those it was told to allow
// (an intranet server the operator trusts).
type Guard struct {
	ssrf      *ssrf.Guardian
	transport *http.Transport
}

// New makes a guard that lets the prefixes in allow through after all.
func New(allow []netip.Prefix) *Guard {
	var v4, v6 []netip.Prefix
	for _, p := range allow {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	g := ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
	dialer := &net.Dialer{Timeout: 30 * time.Second, Control: g.Safe}
	return &Guard{ssrf: g, transport: &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConnsPerHost:   2,
	}}
}

// Transport dials only addresses the guard admits.
func (g *Guard) Transport() http.RoundTripper { return g.transport }

// Refused reports whether err is the guard refusing an address.
func Refused(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedNetwork)
}

// Refuse is a refusal of the URL field, in words for the user.
func Refuse(format string, args ...any) error {
	return apperr.Errorf(apperr.Invalid, "url: "+format, args...)
}

// CheckURL is the up-front check of a URL: http(s), no credentials, and a
// host whose addresses (all of them) may be dialled. example is what a good
// URL looks like, for the message.
func (g *Guard) CheckURL(ctx context.Context, raw, example string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Scheme == "" || u.Host == "" && (u.Scheme == "http" || u.Scheme == "https"):
		return nil, Refuse("not a URL edge can reach: want %s", example)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, Refuse("scheme %q is not supported: edge speaks http and https", u.Scheme)
	case u.User != nil:
		return nil, Refuse("credentials in the URL are not supported: use a presigned or tokenised URL")
	case len(u.String()) > 4096:
		return nil, Refuse("longer than 4096 characters")
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return nil, Refuse("%s cannot be resolved", u.Hostname())
	}
	for _, a := range addrs {
		if err := g.ssrf.SafeAddr(a.Unmap()); err != nil {
			return nil, Refuse("%s is a private, local or reserved address (%s): edge does not connect to it", u.Hostname(), a)
		}
	}
	return u, nil
}
