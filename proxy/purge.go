package proxy

import (
	"fmt"
	"strings"
	"time"

	"github.com/edgehls/edge/storage"
)

// errRememberedMissing answers a key whose origin 404 is remembered: a
// 404 the cache gives itself.
var errRememberedMissing = fmt.Errorf("%w (remembered)", storage.ErrNotFound)

// PurgeStream forgets everything cached of a stream, in both tiers, with
// its remembered 404s; fills under way for it serve their viewers but keep
// nothing, so once it returns no request is answered from a copy made
// before it.
func (p *Proxy) PurgeStream(id string) {
	prefix := PathPrefix[1:] + id + "/"
	p.purgeWhere(prefix, func(key string) bool { return strings.HasPrefix(key, prefix) })
}

// PurgeObject forgets one object: a master rewritten in place (captions
// added), a download switched off.
func (p *Proxy) PurgeObject(key string) {
	p.purgeWhere(key, func(k string) bool { return k == key })
}

// purgeWhere forgets every object whose key matches, in both tiers.
func (p *Proxy) purgeWhere(what string, match func(key string) bool) {
	p.missingMu.Lock()
	p.purges.Add(1) // from here a 404 fetched before is not remembered; one remembered already is cleared below
	p.missingMu.Unlock()
	p.fillsMu.Lock()
	for key, f := range p.fills {
		if match(key) {
			f.mu.Lock()
			f.discard = true
			f.mu.Unlock()
			delete(p.fills, key)
		}
	}
	p.fillsMu.Unlock()
	mem := p.cache.removeWhere(match)
	disk := p.disk.removeWhere(match)
	for _, key := range p.missing.Keys() {
		if match(key) {
			p.missing.Remove(key)
		}
	}
	p.log.Info("purged", "what", what, "memory_objects", mem, "disk_objects", disk)
}

// rememberMissing keeps an origin 404 for NotFoundTTL, so a missing key
// does not cost an origin request each time it is asked for; not when a
// purge ran since the fetch began (purges was then): the object may have
// been written since, and the purge must leave no stale answer.
func (p *Proxy) rememberMissing(key string, purges int64) {
	p.missingMu.Lock()
	defer p.missingMu.Unlock()
	if p.purges.Load() == purges {
		p.missing.Add(key, p.cfg.Now().Add(p.cfg.NotFoundTTL))
	}
}

// checkMissing answers errRememberedMissing, and counts it, while key's
// origin 404 is remembered; nil otherwise. An expired one is left to be
// replaced by the next 404 or pushed out by newer ones: removing it here
// could remove one remembered meanwhile.
func (p *Proxy) checkMissing(key string, now time.Time) error {
	if until, ok := p.missing.Get(key); !ok || !now.Before(until) {
		return nil
	}
	p.metrics.notFoundHits.Add(1)
	return errRememberedMissing
}
