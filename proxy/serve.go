package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/storage"
)

// smallBody is what net/http buffers before it would switch to chunked
// encoding; up to that size it writes Content-Length itself.
const smallBody = 2048

var (
	immutableCC   = []string{immutable}
	privateCC     = []string{"private, max-age=31536000, immutable"}
	acceptRanges  = []string{"bytes"}
	noStore       = []string{"no-store"}
	textPlain     = []string{"text/plain; charset=utf-8"}
	allowedMethod = "GET, HEAD, OPTIONS"
)

func (p *Proxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := p.viewerWriter(rw)
	w.startDeadline()
	p.cors.apply(w.Header(), r.Header.Get("Origin"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		p.cors.preflight(w, r)
		return
	default:
		w.Header().Set("Allow", allowedMethod)
		p.fail(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	key, ext, err := parseKey(r.URL.Path)
	if err == nil && r.URL.RawPath != "" {
		err = errBadPath // percent-encoding that matters: never needed by a stream
	}
	if err != nil {
		p.failErr(w, err)
		return
	}
	p.metrics.requests.Add(1)
	pol := policies[ext]
	now := p.cfg.Now() // once per request: the clock is a measurable cost here
	key, rule, err := p.admit(r, key, ext, now)
	corsFor(w.Header(), rule, r)
	if err != nil {
		p.failErr(w, err)
		return
	}
	pol.private = rule.Signed
	if !pol.manifest {
		p.serveSegment(w, r, key, pol, now)
		return
	}
	e, status, err := p.lookup(key, now)
	switch {
	case errors.Is(err, errTooLarge):
		p.passThrough(w, r, key, pol, statusTooLarge)
	case err != nil:
		p.failErr(w, err)
	default:
		p.serveEntry(w, r, e, status, pol, now)
	}
}

func (p *Proxy) cacheControl(pol policy) []string {
	switch {
	case pol.manifest && pol.private:
		return p.privateManifestCC
	case pol.manifest:
		return p.manifestCC
	case pol.private:
		return privateCC
	}
	return immutableCC
}

// objectHeaders are the headers of every cached answer; etag and
// lastModified may be nil (a fill that has not seen the whole body, an
// origin that gave no date).
func (p *Proxy) objectHeaders(h http.Header, pol policy, etag, lastModified []string, age time.Duration, status cacheStatus) {
	h["Content-Type"] = pol.contentType
	h["Cache-Control"] = p.cacheControl(pol)
	if etag != nil {
		h["Etag"] = etag
	}
	if lastModified != nil {
		h["Last-Modified"] = lastModified
	}
	h["Accept-Ranges"] = acceptRanges
	h["Age"] = ageValue(age)
	h["Cache-Status"] = status
}

func (p *Proxy) serveEntry(w viewerWriter, r *http.Request, e *entry, status cacheStatus, pol policy, now time.Time) {
	h := w.Header()
	p.objectHeaders(h, pol, e.etag, e.lastModifiedHeader, now.Sub(e.fetched), status)
	if !needsServeContent(r) {
		// net/http adds Date, and Content-Length for a body it buffers whole,
		// outside this map: keeping the map to one group measured +5% hits/s.
		if len(e.body) > smallBody || r.Method == http.MethodHead {
			h["Content-Length"] = e.contentLength
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(e.body)
		}
		return
	}
	// Range and conditional requests are answered from the cached whole.
	http.ServeContent(w, r, "", e.lastModified, bytes.NewReader(e.body))
}

func needsServeContent(r *http.Request) bool {
	h := r.Header
	return h["Range"] != nil || h["If-None-Match"] != nil || h["If-Modified-Since"] != nil ||
		h["If-Match"] != nil || h["If-Unmodified-Since"] != nil || h["If-Range"] != nil
}

// passThrough streams an object not cached (too large, or the disk tier
// unable to take it: status says which), forwarding one byte range to the
// origin, bounded as fetchForViewer says.
func (p *Proxy) passThrough(w viewerWriter, r *http.Request, key string, pol policy, status cacheStatus) {
	rng := singleRange(r.Header.Get("Range"))
	obj, done, err := p.fetchForViewer(r, func(ctx context.Context) (*storage.Object, error) {
		return p.cfg.Origin.Get(ctx, key, rng)
	})
	if err != nil {
		p.failErr(w, err)
		return
	}
	defer done()
	h := w.Header()
	h["Content-Type"] = pol.contentType
	h["Cache-Control"] = p.cacheControl(pol)
	h["Accept-Ranges"] = acceptRanges
	h["Age"] = ageValues[0]
	h["Cache-Status"] = status
	if obj.ETag != "" {
		h.Set("Etag", obj.ETag)
	}
	code, length := http.StatusOK, obj.Size
	if obj.Partial != nil {
		code, length = http.StatusPartialContent, obj.Partial.End-obj.Partial.Start+1
		h.Set("Content-Range", "bytes "+strconv.FormatInt(obj.Partial.Start, 10)+"-"+
			strconv.FormatInt(obj.Partial.End, 10)+"/"+strconv.FormatInt(obj.Partial.Total, 10))
	}
	if length >= 0 {
		h.Set("Content-Length", strconv.FormatInt(length, 10))
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		body := io.Reader(obj.Body)
		if length >= 0 { // never more than the head declared
			body = io.LimitReader(body, length)
		}
		io.Copy(w, body)
	}
}

// fetchForViewer asks the origin (get) on a viewer's behalf. The fetch
// ends when the viewer goes (the request's context) or when the origin
// keeps it waiting longer than the origin timeout, for the head or for any
// read of the body returned; done releases it.
func (p *Proxy) fetchForViewer(r *http.Request, get func(context.Context) (*storage.Object, error)) (obj *storage.Object, done func(), err error) {
	ctx, cancel := context.WithCancel(r.Context())
	idle := time.AfterFunc(p.cfg.OriginTimeout, cancel)
	obj, err = get(ctx)
	idle.Stop()
	if err != nil {
		err = timeoutOr(ctx, err) // before cancel, which would make every error look like a timeout
		cancel()
		return nil, nil, err
	}
	obj.Body = &idleReader{obj.Body, idle, p.cfg.OriginTimeout}
	return obj, func() { obj.Body.Close(); idle.Stop(); cancel() }, nil
}

// singleRange parses "bytes=a-b" or "bytes=a-"; anything else (suffix or
// multiple ranges) is ignored, which RFC 9110 allows: the whole is sent.
func singleRange(v string) *storage.Range {
	spec, ok := strings.CutPrefix(v, "bytes=")
	from, to, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || strings.Contains(spec, ",") {
		return nil
	}
	start, err := strconv.ParseInt(from, 10, 64)
	if err != nil || start < 0 {
		return nil
	}
	end := int64(-1)
	if to != "" {
		if end, err = strconv.ParseInt(to, 10, 64); err != nil || end < start {
			return nil
		}
	}
	return &storage.Range{Start: start, End: end}
}

// failErr maps every error the proxy meets to one status and a short reason.
func (p *Proxy) failErr(w http.ResponseWriter, err error) {
	var refusal *playback.Refusal
	switch {
	case errors.As(err, &refusal):
		p.metrics.refused.Add(1)
		p.fail(w, http.StatusForbidden, refusal.Reason)
	case errors.Is(err, errBadPath):
		p.fail(w, http.StatusBadRequest, "bad path")
	case errors.Is(err, errNotServed):
		p.fail(w, http.StatusNotFound, "not found")
	case errors.Is(err, errRememberedMissing): // says why a new object 404s for a few seconds more
		w.Header()["Cache-Status"] = statusHit
		p.fail(w, http.StatusNotFound, "not found")
	case errors.Is(err, storage.ErrNotFound):
		w.Header()["Cache-Status"] = statusAsked
		p.fail(w, http.StatusNotFound, "not found")
	case errors.Is(err, storage.ErrRangeNotSatisfiable):
		p.fail(w, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
	case errors.Is(err, context.DeadlineExceeded):
		p.fail(w, http.StatusBadGateway, "origin timed out")
	default:
		p.fail(w, http.StatusBadGateway, "origin error")
	}
}

func (p *Proxy) fail(w http.ResponseWriter, code int, reason string) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(code)
	io.WriteString(w, reason+"\n")
}
