package proxy

import (
	"errors"
	"path"
	"strings"

	"github.com/edgehls/edge/playback"
)

const (
	maxPathLen    = 1024
	maxSegments   = 8
	maxSegmentLen = 255
	maxTokenLen   = 900 // a playback token in place of the stream id
)

// PathPrefix is where the proxy answers: /streams/<id>/<path> maps to the
// key streams/<id>/<path> under the origin.
const PathPrefix = "/streams/"

// Path errors. errBadPath answers 400, errNotServed 404; neither reaches the origin.
var (
	errBadPath   = errors.New("bad path")
	errNotServed = errors.New("not served")
)

// parseKey maps a decoded URL path /streams/<id>/<file…> to the object key
// streams/<id>/<file…>; a signed URL has a token in place of the id, which
// the caller swaps for the stream it opens. Only plain names are accepted: letters, digits, '.',
// '_' and '-', never starting with '.', so no spelling of ".." or a hidden
// file gets through, whatever the encoding was.
func parseKey(urlPath string) (key, ext string, err error) {
	if len(urlPath) > maxPathLen {
		return "", "", errBadPath
	}
	rest, ok := strings.CutPrefix(urlPath, PathPrefix)
	if !ok {
		return "", "", errNotServed
	}
	// Walk the segments without splitting: this runs on every request.
	n, last := 0, ""
	for seg, more := rest, true; more; n++ {
		var s string
		s, seg, more = strings.Cut(seg, "/")
		limit := maxSegmentLen
		if n == 0 && playback.LooksLikeToken(s) {
			limit = maxTokenLen
		}
		if !plainName(s, limit) {
			return "", "", errBadPath
		}
		last = s
	}
	if n < 2 || n > maxSegments {
		return "", "", errNotServed
	}
	ext = path.Ext(last)
	if _, ok := policies[ext]; !ok {
		return "", "", errNotServed
	}
	return urlPath[1:], ext, nil
}

// ValidStreamID tells whether id can name a stream in a URL path: a plain
// name, not a token. Calls that take an id edge may not know (a purge for a
// stream made through another edge) check it so a typo is told, not ignored.
func ValidStreamID(id string) bool {
	return plainName(id, maxSegmentLen) && !playback.LooksLikeToken(id)
}

// splitKey parts streams/<first>/<file…> into its stream (or token) and file.
func splitKey(key string) (first, file string) {
	first, file, _ = strings.Cut(key[len(PathPrefix)-1:], "/")
	return first, file
}

func plainName(s string, limit int) bool {
	if s == "" || len(s) > limit || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
