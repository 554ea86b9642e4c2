package proxy

import (
	"net/http"
	"slices"
	"strings"
)

// cors answers cross-origin players: hls.js on another site fetches
// playlists and segments with XHR/fetch and needs these on every answer.
type cors struct {
	any     bool
	allowed []string
}

var (
	exposeHeaders = []string{"Content-Length, Content-Range, Age"}
	allowMethods  = []string{"GET, HEAD, OPTIONS"}
	maxAge        = []string{"86400"}
	star          = []string{"*"}
	varyOrigin    = []string{"Origin"}
)

func newCORS(origins []string) cors {
	return cors{any: slices.Contains(origins, "*"), allowed: origins}
}

// apply sets the headers every answer carries.
func (c cors) apply(h http.Header, origin string) {
	h["Access-Control-Expose-Headers"] = exposeHeaders
	if c.any {
		h["Access-Control-Allow-Origin"] = star
		return
	}
	h["Vary"] = varyOrigin
	if origin != "" && slices.Contains(c.allowed, origin) {
		h["Access-Control-Allow-Origin"] = []string{origin}
	}
}

// preflight answers OPTIONS. Range is always allowed; other requested
// headers are echoed when they are plain header names.
func (c cors) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Access-Control-Allow-Methods"] = allowMethods
	h["Access-Control-Max-Age"] = maxAge
	allow := "Range"
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && headerList(req) {
		allow += ", " + req
	}
	h.Set("Access-Control-Allow-Headers", allow)
	w.WriteHeader(http.StatusNoContent)
}

func headerList(s string) bool {
	if len(s) > 512 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r == ',' || r == ' ' || r == '-' || r == '_' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) < 0
}
