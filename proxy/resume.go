package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/edgehls/edge/storage"
)

// maxResumes bounds the ranged requests one fill makes after its origin
// broke off, so an origin that hangs up every time costs a few requests,
// not a loop.
const maxResumes = 2

// newCopier starts a fill's copy of obj's body. Each read waits at most
// the origin timeout (idle cancels ctx); a body that breaks off is taken
// up by a ranged request, under the same bound.
func (p *Proxy) newCopier(ctx context.Context, idle *time.Timer, f *fill, obj *storage.Object) *copier {
	return &copier{
		body:     &idleReader{obj.Body, idle, p.cfg.OriginTimeout},
		buf:      make([]byte, 64<<10),
		limit:    p.cfg.MaxObjectBytes,
		makeRoom: p.disk.writeFailed,
		claim:    p.disk.index.claim,
		resume: func(from int64) (io.ReadCloser, error) {
			idle.Reset(p.cfg.OriginTimeout)
			rest, err := p.resumeBody(ctx, f, from)
			idle.Stop()
			if err != nil {
				return nil, timeoutOr(ctx, err)
			}
			return &idleReader{rest.Body, idle, p.cfg.OriginTimeout}, nil
		},
	}
}

// takeUp replaces a body that broke off (err) with the rest of it from
// the origin, so the viewers streaming the fill get it whole instead of a
// cut connection (S3 and CDNs do reset long reads now and then). It
// returns nil when the copy can go on, else what ends the fill: the
// break, and why its rest could not be had.
func (c *copier) takeUp(f *fill, err error) error {
	if c.resume == nil || c.resumes >= maxResumes || !f.resumable(err) {
		return err
	}
	c.resumes++
	rest, rerr := c.resume(f.written)
	if rerr != nil {
		return fmt.Errorf("%w (the rest: %v)", err, rerr)
	}
	c.body.Close()
	c.body = rest
	return nil
}

// resumable says whether a fill broken by err can ask the origin for the
// rest: the origin broke off (not the disk, the size cap or the origin
// timeout), and it named the version it was sending by a strong ETag and
// a length, so the rest can be asked of that version alone.
func (f *fill) resumable(err error) bool {
	return !errors.Is(err, errCacheFile) && !errors.Is(err, errTooLarge) && !errors.Is(err, context.Canceled) &&
		f.head.versioned() && f.written < f.head.size
}

// versioned says whether the origin named the version it sent, by a
// strong ETag and a length, so a range of that version can be asked for.
func (h objectHead) versioned() bool {
	return h.etag != "" && !strings.HasPrefix(h.etag, "W/") && h.size >= 0
}

// sendRest sends a viewer the rest of a fill the disk tier could not
// take (its volume full, with the files evicted to make room still open
// and freeing nothing yet) straight from the origin, the same version
// only. It reports whether the viewer got the body whole.
func (p *Proxy) sendRest(w viewerWriter, r *http.Request, f *fill, sent int64) bool {
	if !f.head.versioned() {
		return false
	}
	rest, done, err := p.fetchForViewer(r, func(ctx context.Context) (*storage.Object, error) {
		return p.resumeBody(ctx, f, sent)
	})
	if err != nil {
		p.log.Warn("origin: the rest of a segment the disk tier could not take", "key", f.key, "err", err)
		return false
	}
	defer done()
	want := f.head.size - sent
	n, _ := io.Copy(w, io.LimitReader(rest.Body, want))
	return n == want
}

// resumeBody asks the origin for f's object from byte from on, and takes
// the answer only when it is exactly that range of the same version: a
// file never joins the halves of two versions.
func (p *Proxy) resumeBody(ctx context.Context, f *fill, from int64) (*storage.Object, error) {
	p.metrics.originFetches.Add(1)
	p.metrics.resumes.Add(1)
	rest := storage.Range{Start: from, End: f.head.size - 1}
	obj, err := p.cfg.Origin.Get(ctx, f.key, &rest)
	if err != nil {
		return nil, fmt.Errorf("resume %s at byte %d: %w", f.key, from, err)
	}
	want := storage.ContentRange{Start: from, End: f.head.size - 1, Total: f.head.size}
	if obj.ETag != f.head.etag || obj.Partial == nil || *obj.Partial != want {
		obj.Body.Close()
		return nil, fmt.Errorf("resume %s at byte %d: the origin answered %+v of version %s, not %+v of %s",
			f.key, from, obj.Partial, obj.ETag, want, f.head.etag)
	}
	return obj, nil
}
