package proxy

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// entry is one whole object held in memory. Ranged requests are answered
// from it; a partial body is never stored.
type entry struct {
	body               []byte
	etag               []string // shared header values, never mutated
	contentLength      []string
	lastModified       time.Time
	lastModifiedHeader []string
	fetched            time.Time
	expires            time.Time // zero: never expires (segments), evicted by size only
	staleUntil         time.Time // last moment this copy may stand in for a failing origin
	servingStale       bool      // this copy is being served because the origin failed
}

func (e *entry) fresh(now time.Time) bool {
	return e.expires.IsZero() || now.Before(e.expires)
}

// cost approximates the memory an entry holds, so the bound is in bytes.
func (e *entry) cost(key string) int64 {
	return int64(len(e.body) + len(key) + 256)
}

// byteLRU is an LRU bounded by the bytes it holds rather than by entries.
type byteLRU struct {
	mu      sync.Mutex
	lru     *simplelru.LRU[string, *entry]
	bytes   int64
	max     int64
	metrics *metrics
}

func newByteLRU(maxBytes int64, m *metrics) *byteLRU {
	c := &byteLRU{max: maxBytes, metrics: m}
	// Capacity by count is unbounded; the byte bound is enforced in add.
	c.lru, _ = simplelru.NewLRU(math.MaxInt, c.onEvict)
	return c
}

func (c *byteLRU) onEvict(key string, e *entry) {
	c.bytes -= e.cost(key)
}

func (c *byteLRU) get(key string) *entry {
	c.mu.Lock()
	e, _ := c.lru.Get(key)
	c.mu.Unlock()
	return e
}

// peek reads without promoting, for the stale copy kept for errors.
func (c *byteLRU) peek(key string) *entry {
	c.mu.Lock()
	e, _ := c.lru.Peek(key)
	c.mu.Unlock()
	return e
}

func (c *byteLRU) add(key string, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= old.cost(key)
	}
	c.lru.Add(key, e)
	c.bytes += e.cost(key)
	for c.bytes > c.max && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
		c.metrics.evictions.Add(1)
	}
	c.publish()
}

func (c *byteLRU) remove(key string) {
	c.mu.Lock()
	c.lru.Remove(key)
	c.publish()
	c.mu.Unlock()
}

// removeWhere drops every entry whose key matches; it returns how many.
func (c *byteLRU) removeWhere(match func(key string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, key := range c.lru.Keys() {
		if match(key) {
			c.lru.Remove(key)
			n++
		}
	}
	c.publish()
	return n
}

// publish updates the size gauges; the caller holds c.mu.
func (c *byteLRU) publish() {
	c.metrics.cacheBytes.Set(float64(c.bytes))
	c.metrics.cacheObjects.Set(float64(c.lru.Len()))
}
