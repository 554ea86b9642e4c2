package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"time"

	"github.com/edgehls/edge/storage"
)

// fill is one origin fetch of an immutable object, written to a temporary
// file of the disk tier while every viewer who asked for it reads what has
// arrived so far: the first viewer's bytes flow as the origin sends them,
// and no viewer holds a copy of the body in memory.
type fill struct {
	key   string
	ready chan struct{} // closed once the origin answered: head or err is set
	head  objectHead

	hash hash.Hash // of the body, for an ETag when the origin gave none (else nil); set before ready closes

	created chan struct{} // closed once file or fileErr is set (fillfile.go)
	fileErr error         // the temporary file could not be made
	waiting []chan opened // viewers who joined before the file existed

	mu      sync.Mutex
	grew    *sync.Cond
	file    *os.File // the temporary file the fill writes (its name stays valid when closed)
	written int64
	done    bool
	err     error
	discard bool  // purged while filling: serve the viewers, keep nothing
	purges  int64 // the proxy's purges when it began
	claimed int64 // the disk tier's room held for it; only the fill's own goroutine touches it
}

// objectHead is what an origin said of an object before its body.
type objectHead struct {
	size         int64 // -1 when the origin did not say
	etag         string
	lastModified time.Time
	fetched      time.Time
}

// settleTime is how long after its last change an object is trusted to be
// whole: a segment being copied into a media folder reads short but
// consistent (the size is taken when it is opened), and a cached segment
// is immutable for a year.
const settleTime = 2 * time.Second

func (h objectHead) stillChanging() bool {
	return !h.lastModified.IsZero() && h.fetched.Sub(h.lastModified) < settleTime
}

// errTruncated is an origin body that ended before its declared length.
var errTruncated = errors.New("origin body ended early")

// joined is what a viewer who missed the disk tier found: the fill under
// way (leader when it started it), or the object, stored since it looked;
// file is the viewer's own descriptor on the fill's file or the object's,
// or, while the fill's file is being made, pending delivers it.
type joined struct {
	fill    *fill
	leader  bool
	stored  *diskObject
	file    *os.File
	pending chan opened
}

// joinFill returns the fill under way for key, or the object if a fill
// stored it since the caller looked, or registers a new fill, which the
// caller, its leader, then starts (startFill) while its temporary file is
// made (createFile). The file stays where it is while the fill is
// registered, so every viewer who joins can open it; it moves into the
// disk tier in the step that unregisters it (finishFill), and the tier is
// looked at again here under the same lock, so a viewer finds the fill or
// the object, never neither.
func (p *Proxy) joinFill(key string) (j joined, err error) {
	p.fillsMu.Lock()
	defer p.fillsMu.Unlock()
	f := p.fills[key]
	if f == nil {
		if o, file := p.disk.open(key); file != nil {
			return joined{stored: o, file: file}, nil
		}
		f = &fill{key: key, ready: make(chan struct{}), created: make(chan struct{}), purges: p.purges.Load()}
		f.grew = sync.NewCond(&f.mu)
		p.fills[key] = f
		j.leader = true
		go p.createFile(f)
	}
	j.fill = f
	j.file, j.pending, err = f.reader()
	return j, err
}

// startFill asks the origin for the object and writes its first bytes in
// the leader's own goroutine, then leaves the rest to a goroutine detached
// from any viewer, so one who leaves does not fail the others. The leader's
// first byte so waits for no hand-off between goroutines: the two wake-ups
// it took before (the origin's head, then its first bytes) cost 85 and
// 77 µs at the median on an idle machine, 234 and 247 on average. The
// origin timeout bounds each wait for bytes.
func (p *Proxy) startFill(f *fill) {
	ctx, cancel := context.WithCancel(context.Background())
	idle := time.AfterFunc(p.cfg.OriginTimeout, cancel)
	stop := func() { idle.Stop(); cancel() }
	// fail ends a fill that sent nothing yet: its viewers get an answer,
	// not a cut, and are served from the origin when the disk tier failed
	// (serveFill).
	fail := func(err error) {
		f.head = objectHead{}
		p.metrics.originBytes.Add(float64(f.written))
		p.failFill(f, timeoutOr(ctx, err))
		close(f.ready)
		stop()
		p.endFill(f)
	}
	obj, err := p.fetchHead(ctx, f)
	if err != nil {
		fail(err)
		return
	}
	if <-f.created; f.fileErr != nil {
		obj.Body.Close()
		fail(f.fileErr)
		return
	}
	f.recordHead(obj, p.cfg.Now())
	c := p.newCopier(ctx, idle, f, obj)
	done, err := f.step(c)
	if err != nil {
		c.body.Close()
		fail(err)
		return
	}
	close(f.ready)
	go func() {
		defer p.endFill(f)
		defer stop()
		defer func() { c.body.Close() }() // the body a resume took up, if any
		if !done {
			err = f.copyFrom(c)
		}
		if err != nil {
			err = timeoutOr(ctx, err)
		}
		p.completeFill(f, err)
	}()
}

// fetchHead asks the origin for the object; a missing one is remembered
// before any viewer hears of it, so the next one finds it remembered.
func (p *Proxy) fetchHead(ctx context.Context, f *fill) (*storage.Object, error) {
	start := time.Now()
	p.metrics.originFetches.Add(1)
	obj, err := p.cfg.Origin.Get(ctx, f.key, nil)
	p.metrics.latency.Observe(time.Since(start).Seconds())
	if err == nil && obj.Size > p.cfg.MaxObjectBytes {
		obj.Body.Close()
		err = errTooLarge
	}
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			p.rememberMissing(f.key, f.purges)
		}
		return nil, err
	}
	return obj, nil
}

// recordHead keeps what the origin said of the object, before ready
// closes: viewers take a head that is set for a body that will follow.
func (f *fill) recordHead(obj *storage.Object, now time.Time) {
	f.head = objectHead{size: obj.Size, etag: obj.ETag, lastModified: obj.LastModified, fetched: now}
	if f.head.etag == "" { // hashing every body took 8% of edge's CPU with 1,000 viewers
		f.hash = sha256.New()
	}
}

// completeFill commits a fill whose body ended, or fails it. The meta is
// written after the body before the file is closed, whose error can be
// the last write's.
func (p *Proxy) completeFill(f *fill, err error) {
	var o *diskObject
	if err == nil {
		o = p.prepareFill(f)
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	p.metrics.originBytes.Add(float64(f.written))
	if err != nil {
		p.failFill(f, err)
		return
	}
	p.finishFill(f, o)
}

// copier carries a fill's copy of the origin body across goroutines.
type copier struct {
	body     io.ReadCloser
	buf      []byte
	limit    int64
	makeRoom func(error) bool                        // the disk tier's answer to a failed write (writeFailed)
	claim    func(n int64)                           // holds room in the disk tier's bound (slru.claim)
	resume   func(from int64) (io.ReadCloser, error) // the rest of the body after a break (resume.go)
	resumes  int
}

// copyFrom writes the rest of the origin body to the file, taking it up
// again where the origin broke off when it can.
func (f *fill) copyFrom(c *copier) error {
	for {
		done, err := f.step(c)
		if err != nil {
			err = c.takeUp(f, err)
		}
		if done || err != nil {
			return err
		}
	}
}

// step writes what one read of the origin body gave, telling readers the
// file grew; done is the body's whole end.
func (f *fill) step(c *copier) (done bool, err error) {
	n, err := c.body.Read(c.buf)
	if n > 0 {
		if werr := f.write(c, c.buf[:n]); werr != nil {
			return false, werr
		}
		if f.hash != nil {
			f.hash.Write(c.buf[:n])
		}
		f.mu.Lock()
		f.written += int64(n)
		over := f.written > c.limit
		f.grew.Broadcast()
		f.mu.Unlock()
		if over {
			return false, errTooLarge
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		if f.head.size >= 0 && f.written != f.head.size {
			return false, errTruncated
		}
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}

// write appends b to the file. When the volume is full the tier makes
// room and the rest is written once more, so the viewers already
// streaming the object are not cut off: they read it from the file.
func (f *fill) write(c *copier, b []byte) error {
	f.claimRoom(c, f.written+int64(len(b)))
	n, err := f.file.Write(b)
	if err != nil && c.makeRoom(err) {
		_, err = f.file.Write(b[n:])
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errCacheFile, err)
	}
	return nil
}

// claimStep is how much more room a fill whose size the origin did not
// say claims each time it outgrows what it holds.
const claimStep = 1 << 20

// claimRoom holds the disk tier's room for the body's first upTo bytes
// before they are written: all of a size the origin declared at once, so
// the tier evicts once per fill.
func (f *fill) claimRoom(c *copier, upTo int64) {
	if upTo <= f.claimed-block {
		return
	}
	size := f.head.size
	if size < 0 {
		size = f.claimed - block + claimStep
	}
	w := diskWeight(max(upTo, size))
	c.claim(w - f.claimed)
	f.claimed = w
}

// finishFill commits a whole object (nil: not kept) to the disk tier,
// unless it was purged while it filled, and wakes the readers. Moving it
// into the tier and unregistering the fill are one step under fillsMu
// (taken before f.mu, as purge does), so a viewer asking meanwhile finds
// the fill or the stored object, never neither: that gap cost a second
// origin fetch of busy segments. Its meta is written before
// (completeFill), so the lock covers a rename and no data write a loaded
// disk could hold up.
func (p *Proxy) finishFill(f *fill, o *diskObject) {
	p.fillsMu.Lock()
	defer p.fillsMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if o != nil && !f.discard { // else not kept, or purged since it was prepared: endFill cleans up
		if err := p.disk.place(f.file.Name(), o, f.claimed); err != nil {
			p.log.Warn("disk cache: commit", "key", f.key, "err", err)
			f.discard = true
		} else {
			f.claimed = 0 // the object holds it now
		}
	}
	if p.fills[f.key] == f {
		delete(p.fills, f.key)
	}
	f.done = true
	f.grew.Broadcast()
}

// prepareFill readies a fill's object for the disk tier (nil: not kept).
func (p *Proxy) prepareFill(f *fill) *diskObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.head.stillChanging() {
		f.discard = true // served as read, kept only once it has settled
	}
	if f.discard {
		return nil
	}
	etag := f.head.etag
	if etag == "" {
		etag = contentETag(f.hash.Sum(nil))
	}
	o := &diskObject{Key: f.key, Size: f.written, ETag: etag, LastModified: f.head.lastModified, Fetched: f.head.fetched}
	if err := p.disk.prepare(f.file, o); err != nil {
		p.log.Warn("disk cache: commit", "key", f.key, "err", err)
		f.discard = true
		return nil
	}
	return o
}

// failFill unregisters a fill before any viewer can learn it failed, so a
// viewer who retries at once starts a new fill instead of joining the
// failed one.
func (p *Proxy) failFill(f *fill, err error) {
	p.unregister(f)
	f.mu.Lock()
	f.err = err
	f.grew.Broadcast()
	f.mu.Unlock()
}

// unregister lets the next viewer start afresh.
func (p *Proxy) unregister(f *fill) {
	p.fillsMu.Lock()
	if p.fills[f.key] == f {
		delete(p.fills, f.key)
	}
	p.fillsMu.Unlock()
}

// endFill drops what was not kept and the room it claimed (finishFill
// and failFill have already unregistered the fill); readers keep their
// open descriptors.
func (p *Proxy) endFill(f *fill) {
	<-f.created
	p.disk.index.release(f.claimed)
	f.claimed = 0
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.file != nil {
		f.file.Close()
		if f.err != nil || f.discard {
			os.Remove(f.file.Name())
		}
	}
	switch err := f.err; {
	case err == nil, errors.Is(err, storage.ErrNotFound), errors.Is(err, errTooLarge):
	case errors.Is(err, errCacheFile):
		p.log.Error("disk cache: serving from the origin without it", "key", f.key, "err", err)
	default:
		p.metrics.originErrors.Add(1)
		p.log.Warn("origin fetch failed", "key", f.key, "err", err)
	}
}

// failed is the error of a fill that failed before its body, once ready.
func (f *fill) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// wait blocks until the file holds more than have bytes, or the fill
// ended; it returns how many bytes are there and whether that is all.
func (f *fill) wait(have int64) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.written <= have && !f.done && f.err == nil {
		f.grew.Wait()
	}
	return f.written, f.done, f.err
}

// idleReader cancels the fetch when one read waits longer than the origin
// timeout, however long the whole body takes.
type idleReader struct {
	r       io.ReadCloser
	timer   *time.Timer
	timeout time.Duration
}

func (r *idleReader) Close() error { return r.r.Close() }

func (r *idleReader) Read(b []byte) (int, error) {
	r.timer.Reset(r.timeout)
	n, err := r.r.Read(b)
	r.timer.Stop()
	return n, err
}

// timeoutOr reports a cancelled fetch as the timeout it was.
func timeoutOr(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return err
}
