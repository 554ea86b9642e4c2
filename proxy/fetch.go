package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/edgehls/edge/storage"
)

// cacheStatus is a Cache-Status header value (RFC 9211), shared and never
// mutated, for the ways an answer is produced.
type cacheStatus []string

var (
	statusHit       = cacheStatus{"edge; hit"}
	statusMiss      = cacheStatus{"edge; fwd=miss; stored"}
	statusCollapsed = cacheStatus{"edge; fwd=miss; collapsed"}
	statusRefreshed = cacheStatus{"edge; fwd=stale; stored"}
	statusStale     = cacheStatus{"edge; fwd=stale; detail=stale-if-error"}
	statusTooLarge  = cacheStatus{"edge; fwd=miss; detail=too-large"}
	statusNotStored = cacheStatus{"edge; fwd=miss; detail=cache-unavailable"} // the disk tier could not take it
	statusUnsettled = cacheStatus{"edge; fwd=miss; detail=still-changing"}    // modified moments ago: served, not kept
	statusAsked     = cacheStatus{"edge; fwd=miss"}                           // the origin's own answer, an error
)

// errTooLarge means the object exceeds the per-object cap and is streamed
// through instead of cached.
var errTooLarge = errors.New("object larger than the per-object cache cap")

type fillResult struct {
	e      *entry
	status cacheStatus
}

// lookup returns a cached playlist, fetching it once for all concurrent
// callers when it is missing or expired.
func (p *Proxy) lookup(key string, now time.Time) (*entry, cacheStatus, error) {
	if e := p.cache.get(key); e != nil && e.fresh(now) {
		p.metrics.hits.Add(1)
		if e.servingStale {
			p.metrics.stale.Add(1)
			return e, statusStale, nil
		}
		return e, statusHit, nil
	}
	if err := p.checkMissing(key, now); err != nil {
		return nil, nil, err
	}
	p.metrics.misses.Add(1)
	leader := false
	v, err, shared := p.flight.Do(key, func() (any, error) {
		leader = true
		return p.fill(key)
	})
	if err != nil {
		return nil, nil, err
	}
	r := v.(fillResult)
	if isStale(r.status) {
		p.metrics.stale.Add(1)
	}
	if shared && !leader {
		p.metrics.coalesced.Add(1)
		if !isStale(r.status) {
			return r.e, statusCollapsed, nil
		}
	}
	return r.e, r.status, nil
}

// fill runs once per key at a time (singleflight) and owns the origin
// fetch of a playlist, kept whole in the memory tier.
func (p *Proxy) fill(key string) (fillResult, error) {
	purges := p.purges.Load()
	now := p.cfg.Now()
	old := p.cache.peek(key)
	if old != nil && old.fresh(now) {
		// Filled between our cache miss and joining the flight.
		return fillResult{old, statusHit}, nil
	}
	e, err := p.fetch(key)
	switch {
	case err == nil:
		if p.purges.Load() == purges { // else a purge ran meanwhile: serve, keep nothing
			p.cache.add(key, e)
		}
		if old != nil {
			return fillResult{e, statusRefreshed}, nil
		}
		return fillResult{e, statusMiss}, nil
	case errors.Is(err, storage.ErrNotFound):
		p.cache.remove(key)
		p.rememberMissing(key, purges)
		return fillResult{}, err
	case errors.Is(err, errTooLarge):
		return fillResult{}, err
	}
	p.metrics.originErrors.Add(1)
	p.log.Warn("origin fetch failed", "key", key, "err", err)
	if old == nil || !now.Before(old.staleUntil) {
		return fillResult{}, err
	}
	// Serve the old copy and wait one TTL before asking the origin again,
	// so an outage does not make every viewer wait for a timeout.
	retry := *old
	retry.expires = now.Add(p.cfg.ManifestTTL)
	retry.servingStale = true
	p.cache.add(key, &retry)
	return fillResult{&retry, statusStale}, nil
}

// fetch reads a whole object from the origin, detached from any one
// viewer's request so a viewer who leaves does not fail the others.
func (p *Proxy) fetch(key string) (*entry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.OriginTimeout)
	defer cancel()
	start := time.Now()
	p.metrics.originFetches.Add(1)
	defer func() { p.metrics.latency.Observe(time.Since(start).Seconds()) }()

	obj, err := p.cfg.Origin.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	if obj.Size > p.cfg.MaxObjectBytes {
		return nil, errTooLarge
	}
	body, err := readBody(obj, p.cfg.MaxObjectBytes)
	p.metrics.originBytes.Add(float64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	now := p.cfg.Now()
	e := &entry{body: body, lastModified: obj.LastModified, fetched: now, contentLength: []string{strconv.Itoa(len(body))}}
	e.etag = []string{etagFor(obj.ETag, body)}
	if !obj.LastModified.IsZero() {
		e.lastModifiedHeader = []string{obj.LastModified.UTC().Format(http.TimeFormat)}
	}
	e.expires = now.Add(p.cfg.ManifestTTL)
	e.staleUntil = e.expires.Add(p.cfg.StaleIfError)
	return e, nil
}

// readBody reads at most limit bytes, sized up front when the origin said
// how long the object is.
func readBody(obj *storage.Object, limit int64) ([]byte, error) {
	if obj.Size >= 0 {
		body := make([]byte, obj.Size)
		_, err := io.ReadFull(obj.Body, body)
		return body, err
	}
	body, err := io.ReadAll(io.LimitReader(obj.Body, limit+1))
	if err == nil && int64(len(body)) > limit {
		return nil, errTooLarge
	}
	return body, err
}

// etagFor keeps the origin's validator, or derives a strong one from the
// content when the origin gave none.
func etagFor(origin string, body []byte) string {
	if origin != "" {
		return origin
	}
	sum := sha256.Sum256(body)
	return contentETag(sum[:])
}

// contentETag is a strong validator made from a body's SHA-256.
func contentETag(sum []byte) string {
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func isStale(s cacheStatus) bool { return len(s) == 1 && s[0] == statusStale[0] }
