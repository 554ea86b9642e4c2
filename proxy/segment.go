package proxy

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// serveSegment answers an immutable object: from the disk tier, else a
// remembered 404, else a fill whose bytes flow to the viewer as they
// arrive. Segments are not copied into the memory tier: the kernel's page
// cache already keeps the hot ones in memory and sendfile sends them from
// there, while copies on the Go heap churned it into continuous garbage
// collection under the memory limit, and without the limit took RSS for
// 1,000 viewers to 411 MiB instead of 112.
func (p *Proxy) serveSegment(w viewerWriter, r *http.Request, key string, pol policy, now time.Time) {
	p.disk.expectNext(key) // once per request, whatever answers it
	if o, file := p.disk.open(key); file != nil {
		defer file.Close()
		p.serveStored(w, r, o, file, pol, now)
		return
	}
	if err := p.checkMissing(key, now); err != nil {
		p.failErr(w, err)
		return
	}
	j, err := p.joinFill(key)
	if err == nil {
		err = p.begin(&j)
	}
	if err != nil { // the disk tier cannot take it (errCacheFile); the origin can still serve it
		p.passThrough(w, r, key, pol, statusNotStored)
		return
	}
	defer j.file.Close()
	if j.stored != nil {
		p.serveStored(w, r, j.stored, j.file, pol, now)
		return
	}
	p.metrics.misses.Add(1)
	if !j.leader {
		p.metrics.coalesced.Add(1)
	}
	p.serveFill(w, r, j.fill, j.file, j.leader, pol)
}

// begin starts the fill when the caller leads it, and returns once the
// caller holds its own descriptor on the fill's file.
func (p *Proxy) begin(j *joined) error {
	if j.leader {
		p.startFill(j.fill)
	}
	if j.pending != nil {
		o := <-j.pending
		j.file = o.file
		return o.err
	}
	return nil
}

// serveStored answers a disk tier hit.
func (p *Proxy) serveStored(w viewerWriter, r *http.Request, o *diskObject, file *os.File, pol policy, now time.Time) {
	p.metrics.hits.Add(1)
	p.metrics.diskHits.Add(1)
	p.serveFile(w, r, o, file, statusHit, pol, now)
}

// segmentHeaders are an immutable object's headers; etag may be empty
// while a fill has not yet seen the whole body.
func (p *Proxy) segmentHeaders(w http.ResponseWriter, pol policy, etag string, modified time.Time, age time.Duration, status cacheStatus) {
	var etags, dates []string
	if etag != "" {
		etags = []string{etag}
	}
	if !modified.IsZero() {
		dates = []string{modified.UTC().Format(http.TimeFormat)}
	}
	p.objectHeaders(w.Header(), pol, etags, dates, age, status)
}

// serveFile sends a whole object from its file; the kernel copies it
// (sendfile), ranges and validators included. A plain GET or HEAD, what
// players send, skips http.ServeContent: its checks have nothing to do,
// and its two seeks learn a size the index already holds.
func (p *Proxy) serveFile(w viewerWriter, r *http.Request, o *diskObject, file *os.File, status cacheStatus, pol policy, now time.Time) {
	defer corkWhileSending(r)()
	p.segmentHeaders(w, pol, o.ETag, o.LastModified, now.Sub(o.Fetched), status)
	if needsServeContent(r) {
		http.ServeContent(w, r, "", o.LastModified, bodyFile{file, o.Size})
		return
	}
	w.Header()["Content-Length"] = []string{strconv.FormatInt(o.Size, 10)}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.CopyN(w, file, o.Size)
	}
}

// serveFill streams an object as it fills. A range or a conditional
// request waits for the whole object and is answered from it.
func (p *Proxy) serveFill(w viewerWriter, r *http.Request, f *fill, file *os.File, leader bool, pol policy) {
	<-f.ready
	if f.head.fetched.IsZero() { // the origin gave no body
		switch err := f.failed(); {
		case errors.Is(err, errTooLarge):
			p.passThrough(w, r, f.key, pol, statusTooLarge)
		case errors.Is(err, errCacheFile):
			p.passThrough(w, r, f.key, pol, statusNotStored)
		default:
			p.failErr(w, err)
		}
		return
	}
	status := fillStatus(f, leader)
	if needsServeContent(r) {
		p.serveWhenWhole(w, r, f, file, status, pol)
		return
	}
	p.segmentHeaders(w, pol, f.head.etag, f.head.lastModified, 0, status)
	if f.head.size >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(f.head.size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	var sent int64
	for {
		have, done, err := f.wait(sent)
		if have > sent {
			n, werr := io.CopyN(w, file, have-sent)
			sent += n
			if werr != nil {
				return // the viewer left; the fill goes on for the others
			}
		}
		if err != nil {
			// The fill failed after the head was sent. When only the disk
			// tier did, the rest comes from the origin; else (the origin
			// broke off and could not be asked again) the connection is
			// cut, so no viewer takes a short body for a whole one.
			if errors.Is(err, errCacheFile) && p.sendRest(w, r, f, sent) {
				return
			}
			panic(http.ErrAbortHandler)
		}
		if done && sent == have {
			return
		}
	}
}

// fillStatus says how a viewer of a fill is answered, once its head is in.
func fillStatus(f *fill, leader bool) cacheStatus {
	switch {
	case !leader:
		return statusCollapsed
	case f.head.stillChanging(): // the fill will not keep it (prepareFill)
		return statusUnsettled
	}
	return statusMiss
}

func (p *Proxy) serveWhenWhole(w viewerWriter, r *http.Request, f *fill, file *os.File, status cacheStatus, pol policy) {
	var have int64
	for {
		n, done, err := f.wait(have)
		if errors.Is(err, errCacheFile) { // the disk tier could not take it; the origin can still serve it
			p.passThrough(w, r, f.key, pol, statusNotStored)
			return
		}
		if err != nil {
			p.failErr(w, err)
			return
		}
		if have = n; done {
			break
		}
	}
	etag := f.head.etag
	if etag == "" {
		etag = contentETag(f.hash.Sum(nil))
	}
	p.segmentHeaders(w, pol, etag, f.head.lastModified, 0, status)
	http.ServeContent(w, r, "", f.head.lastModified, io.NewSectionReader(file, 0, have))
}
