package proxy

import "strings"

// PurgeStream forgets everything cached of a stream, in both tiers, with
// its remembered 404s; fills under way for it serve their viewers but keep
// nothing, so once it returns no request is answered from a copy made
// before it.
func (p *Proxy) PurgeStream(id string) {
	p.purge(PathPrefix[1:] + id + "/")
}

func (p *Proxy) purge(prefix string) {
	p.purges.Add(1)
	p.fillsMu.Lock()
	for key, f := range p.fills {
		if strings.HasPrefix(key, prefix) {
			f.mu.Lock()
			f.discard = true
			f.mu.Unlock()
			delete(p.fills, key)
		}
	}
	p.fillsMu.Unlock()
	mem := p.cache.removePrefix(prefix)
	disk := p.disk.removePrefix(prefix)
	for _, key := range p.missing.Keys() {
		if strings.HasPrefix(key, prefix) {
			p.missing.Remove(key)
		}
	}
	p.log.Info("purged", "prefix", prefix, "memory_objects", mem, "disk_objects", disk)
}

// rememberMissing keeps an origin 404 for NotFoundTTL, so a missing key
// does not cost an origin request each time it is asked for.
func (p *Proxy) rememberMissing(key string) { p.missing.Add(key, struct{}{}) }

func (p *Proxy) isMissing(key string) bool {
	_, ok := p.missing.Get(key)
	return ok
}
