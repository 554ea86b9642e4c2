package fastlane

import (
	"bytes"
	"net/http"
	"net/url"
)

// request is what the loop needs to know of a request it serves.
type request struct {
	head   bool // HEAD: headers only
	http10 bool
	close  bool // answer, then close the connection
}

var crlf = []byte("\r\n")

// readHeaders are the request headers the proxy and http.ServeContent
// read; the fast lane keeps these and drops the rest unread.
var readHeaders = []string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Origin"}

// parse fills req from a request head if the fast lane may serve it, and
// says no for anything it does not fully understand.
func parse(head []byte, req *http.Request, u *url.URL, prefix string) (request, bool) {
	var r request
	if !bytes.HasSuffix(head, crlfcrlf) || !cleanHead(head) {
		return r, false
	}
	line, rest, _ := bytes.Cut(head[:len(head)-2], crlf)
	method, rest1, ok1 := bytes.Cut(line, []byte{' '})
	target, proto, ok2 := bytes.Cut(rest1, []byte{' '})
	if !ok1 || !ok2 || !plainPath(target, prefix) {
		return r, false
	}
	switch string(method) {
	case http.MethodGet:
		req.Method = http.MethodGet
	case http.MethodHead:
		req.Method, r.head = http.MethodHead, true
	default:
		return r, false
	}
	switch string(proto) {
	case "HTTP/1.1":
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	case "HTTP/1.0":
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
		r.http10 = true
	default:
		return r, false
	}
	clear(req.Header)
	if !parseHeaders(rest, req.Header, &r) {
		return r, false
	}
	u.Path = string(target)
	req.RequestURI = u.Path
	return r, true
}

// cleanHead: lines end in CRLF, and no other control characters but tabs.
// net/http reads bare LFs as line ends; handing such heads over keeps the
// two lanes from reading one request two ways.
func cleanHead(head []byte) bool {
	for i, b := range head {
		switch {
		case b == '\r':
			if i+1 >= len(head) || head[i+1] != '\n' {
				return false
			}
		case b == '\n':
			if i == 0 || head[i-1] != '\r' {
				return false
			}
		case b < ' ' && b != '\t', b == 0x7f:
			return false
		}
	}
	return true
}

// plainPath: under prefix, no query, fragment or percent-encoding (which a
// stream never needs), no control characters or spaces.
func plainPath(target []byte, prefix string) bool {
	if !bytes.HasPrefix(target, []byte(prefix)) {
		return false
	}
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '?' || b == '#' || b == '%' {
			return false
		}
	}
	return true
}

// parseHeaders reads the header lines, each ending in CRLF.
func parseHeaders(block []byte, h http.Header, r *request) bool {
	hosts, keepAlive := 0, false
	for len(block) > 0 {
		line, rest, ok := bytes.Cut(block, crlf)
		if !ok || len(line) == 0 || line[0] == ' ' || line[0] == '\t' { // obs-fold
			return false
		}
		block = rest
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			return false
		}
		value = bytes.Trim(value, " \t")
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			hosts++
		case bytes.EqualFold(name, []byte("Connection")):
			for _, tok := range bytes.Split(value, []byte{','}) {
				tok = bytes.Trim(tok, " \t")
				switch {
				case bytes.EqualFold(tok, []byte("close")):
					r.close = true
				case bytes.EqualFold(tok, []byte("keep-alive")):
					keepAlive = true
				case bytes.EqualFold(tok, []byte("upgrade")):
					return false
				}
			}
		case bytes.EqualFold(name, []byte("Content-Length")):
			if string(value) != "0" {
				return false
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")), bytes.EqualFold(name, []byte("Expect")),
			bytes.EqualFold(name, []byte("Upgrade")):
			return false
		default:
			keep(h, name, value)
		}
	}
	if hosts > 1 || (hosts == 0 && !r.http10) { // net/http answers 400
		return false
	}
	if r.http10 && !keepAlive {
		r.close = true
	}
	return true
}

func keep(h http.Header, name, value []byte) {
	for _, k := range readHeaders {
		if bytes.EqualFold(name, []byte(k)) {
			h[k] = append(h[k], string(value))
			return
		}
	}
}
