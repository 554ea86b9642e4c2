package proxy

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// protectedShare is the part of the disk tier kept for objects asked for
// more than once. Half, not the 80% of the textbook: a new segment's
// second viewer often comes minutes after its first, and with a small
// probation segment it was gone by then. On the viewers bench at equal
// disk (258 MiB each) 0.8 made 1,165 origin fetches to nginx's 1,070 (hit
// ratio 0.955 vs 0.958); 0.5 made 1,084 to 1,069 (0.958 both), and the
// hot set still survives a scan ten times the tier (TestHotSetSurvivesAScan).
const protectedShare = 0.5

// slru is a segmented LRU bounded by bytes, the disk tier's policy. A new
// object enters a probation segment; asked for again, it moves to a
// protected one. Eviction takes the least recent object of probation
// first, so a viewer scrubbing through a long video (each segment asked
// once) churns probation only and cannot flush what viewers come back to;
// the protected segment's own least recent objects drop back to probation
// when it is full. golang-lru's lists do the ordering.
//
// Measured before choosing it, on the viewers bench (1,000 viewers, Zipf
// over 40 streams, a disk budget under the library): W-TinyLFU (otter)
// made 2.45× nginx's origin fetches (hit ratio 0.895 vs 0.957), because a
// new segment's frequency is low just when its cohort of viewers is about
// to ask for it; a replay of that access pattern gave LRU 0.960, SLRU
// 0.959, W-TinyLFU 0.936.
type slru struct {
	mu                   sync.Mutex
	probation, protected *simplelru.LRU[string, *diskObject]
	probBytes, protBytes int64
	claimed              int64 // room held for fills in flight (claim), counted in the bound
	max, protectedMax    int64
	onEvict              func(*diskObject) // called after the lock is released
	evictions            atomic.Int64      // objects dropped to keep the bound (not purges)
}

func newSLRU(maxBytes int64, onEvict func(*diskObject)) *slru {
	c := &slru{onEvict: onEvict}
	// Unbounded by count: the bound is in bytes, kept by add and get.
	c.probation, _ = simplelru.NewLRU[string, *diskObject](math.MaxInt, nil)
	c.protected, _ = simplelru.NewLRU[string, *diskObject](math.MaxInt, nil)
	c.bound(maxBytes)
	return c
}

// block is the unit a file takes on disk (ext4's and xfs's default).
const block = 4096

// diskWeight is what an object of size bytes takes on disk, as du counts
// it: its body's blocks and one for the meta after it (a key is at most
// 1 KiB, maxPathLen).
func diskWeight(size int64) int64 { return (size+block-1)/block*block + block }

func weight(o *diskObject) int64 { return diskWeight(o.Size) }

// get returns an object, moving it to (or up in) the protected segment.
func (c *slru) get(key string) (*diskObject, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.protected.Get(key); ok {
		return o, true
	}
	o, ok := c.probation.Peek(key)
	if !ok {
		return nil, false
	}
	c.probation.Remove(key)
	c.probBytes -= weight(o)
	c.protected.Add(key, o)
	c.protBytes += weight(o)
	c.demoteLocked()
	return o, true
}

// demoteLocked moves the protected segment's least recent objects back
// to probation while it is over its share.
func (c *slru) demoteLocked() {
	for c.protBytes > c.protectedMax && c.protected.Len() > 1 {
		k, old, _ := c.protected.RemoveOldest()
		c.protBytes -= weight(old)
		c.probation.Add(k, old)
		c.probBytes += weight(old)
	}
}

// refresh marks the objects named as recently used, farthest first,
// without promoting them: only a request promotes, so a viewer scrubbing
// through a long video still churns probation alone.
func (c *slru) refresh(keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(keys) - 1; i >= 0; i-- {
		if _, ok := c.protected.Get(keys[i]); !ok {
			c.probation.Get(keys[i])
		}
	}
}

// add puts an object on probation (replacing an older version of it) and
// evicts down to the bound; claimed is the room its fill held, which the
// object now takes.
func (c *slru) add(key string, o *diskObject, claimed int64) {
	c.mu.Lock()
	c.claimed -= claimed
	victims := c.removeLocked(key, nil)
	c.probation.Add(key, o)
	c.probBytes += weight(o)
	victims = c.trimLocked(victims)
	c.mu.Unlock()
	c.evict(victims)
}

// claim holds n bytes of the bound for a fill in flight, evicting to make
// room before its bytes are written: the folder, temporary files
// included, stays within the bound, where counting an object only once
// whole let it run over by what was being fetched (259-268 MiB for a
// 256 MiB bound at full speed). More in flight than the bound empties the
// tier, and the fills still go on.
func (c *slru) claim(n int64) {
	c.mu.Lock()
	c.claimed += n
	victims := c.trimLocked(nil)
	c.mu.Unlock()
	c.evict(victims)
}

// release gives back room a fill held and did not keep.
func (c *slru) release(n int64) {
	c.mu.Lock()
	c.claimed -= n
	c.mu.Unlock()
}

// limit is the byte bound.
func (c *slru) limit() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// bound sets the byte bound and evicts down to it.
func (c *slru) bound(maxBytes int64) {
	c.mu.Lock()
	c.max, c.protectedMax = maxBytes, int64(float64(maxBytes)*protectedShare)
	c.demoteLocked() // else a lowered bound would evict every new object, the protected objects filling it
	victims := c.trimLocked(nil)
	c.mu.Unlock()
	c.evict(victims)
}

// trimLocked evicts least recent objects, probation first, until the
// bound holds.
func (c *slru) trimLocked(victims []*diskObject) []*diskObject {
	for c.probBytes+c.protBytes+c.claimed > c.max {
		lru, bytes := c.probation, &c.probBytes
		if lru.Len() == 0 {
			lru, bytes = c.protected, &c.protBytes
		}
		_, old, ok := lru.RemoveOldest()
		if !ok {
			break
		}
		*bytes -= weight(old)
		victims = append(victims, old)
		c.evictions.Add(1)
	}
	return victims
}

// remove forgets an object; it says whether there was one.
func (c *slru) remove(key string) bool {
	c.mu.Lock()
	victims := c.removeLocked(key, nil)
	c.mu.Unlock()
	c.evict(victims)
	return len(victims) > 0
}

func (c *slru) removeLocked(key string, victims []*diskObject) []*diskObject {
	if o, ok := c.probation.Peek(key); ok {
		c.probation.Remove(key)
		c.probBytes -= weight(o)
		victims = append(victims, o)
	}
	if o, ok := c.protected.Peek(key); ok {
		c.protected.Remove(key)
		c.protBytes -= weight(o)
		victims = append(victims, o)
	}
	return victims
}

func (c *slru) evict(victims []*diskObject) {
	for _, o := range victims {
		c.onEvict(o)
	}
}

// keys lists every key, both segments.
func (c *slru) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(c.probation.Keys(), c.protected.Keys()...)
}

// size is the bytes and objects held.
func (c *slru) size() (bytes, objects int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probBytes + c.protBytes, int64(c.probation.Len() + c.protected.Len())
}
