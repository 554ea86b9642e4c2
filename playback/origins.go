package playback

import (
	"net/url"
	"strings"
)

// SiteAllowed says whether a page at pageURL (an Origin or a Referer) may
// fetch the media of a stream with this rule. ownHost is the host edge was
// reached by, whose embed and watch pages always may. A rule without
// origins allows every site. The match follows CSP host-source matching,
// as the embed rules' frame-ancestors do, so one list means one thing.
func (r Rule) SiteAllowed(pageURL, ownHost string) bool {
	if len(r.Origins) == 0 {
		return true
	}
	u, err := url.Parse(pageURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, ownHost) {
		return true
	}
	for _, src := range r.Origins {
		if sourceMatches(src, u) {
			return true
		}
	}
	return false
}

// sourceMatches is CSP Level 3's "does url match expression in origin"
// for a host-source: [scheme://][*.]host[:port|:*].
func sourceMatches(src string, u *url.URL) bool {
	scheme, rest, hasScheme := strings.Cut(src, "://")
	if !hasScheme {
		scheme, rest = "", src
	}
	if hasScheme && scheme != u.Scheme && !(scheme == "http" && u.Scheme == "https") {
		return false
	}
	host, port, hasPort := strings.Cut(rest, ":")
	h := strings.ToLower(u.Hostname())
	if suffix, wild := strings.CutPrefix(host, "*."); wild {
		if !strings.HasSuffix(h, "."+suffix) {
			return false
		}
	} else if h != host {
		return false
	}
	switch {
	case hasPort && port == "*":
		return true
	case hasPort:
		return effectivePort(u) == port
	default:
		return u.Port() == "" || u.Port() == defaultPort(u.Scheme)
	}
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort(u.Scheme)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
