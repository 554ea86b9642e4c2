package proxy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The disk tier's policy replayed on the access pattern of bench/viewers
// (the same player model, in virtual time): Zipf popularity over a
// library twice the tier, each viewer reading a stream's segments in
// order, at real pace or as fast as answers come. The policy must never
// cost more origin fetches than a plain LRU, which is what nginx's
// proxy_cache is (its real run made exactly LRU's 910 segment fetches).

type simConfig struct {
	streams, viewers, segments int
	zipf                       float64
	ramp, duration             time.Duration
	paced                      bool
}

type simRequest struct {
	at  time.Duration
	key string
}

// simTrace is every segment request of the run, in time order.
func simTrace(c simConfig) []string {
	var reqs []simRequest
	end := c.ramp + c.duration
	for i := range c.viewers {
		rng := rand.New(rand.NewPCG(1, uint64(i)))
		t := time.Duration(rng.Int64N(int64(c.ramp) + 1))
		zipf := rand.NewZipf(rng, c.zipf, 1, uint64(c.streams-1))
		for t < end {
			stream, start := zipf.Uint64(), t
			for k := range c.segments {
				at := start + time.Duration(max(k-2, 0))*4*time.Second // a burst of 3, then one per 4 s segment
				if !c.paced {                                          // each answer takes 15-25 ms
					at = start + time.Duration(k)*time.Duration(15+rng.IntN(10))*time.Millisecond
				}
				if t = at; at >= end {
					break
				}
				reqs = append(reqs, simRequest{at, fmt.Sprintf("streams/s%03d/720p/segment-%d.ts", stream, k)})
			}
			t += time.Millisecond
		}
	}
	slices.SortStableFunc(reqs, func(a, b simRequest) int { return int(a.at - b.at) })
	keys := make([]string, len(reqs))
	for i, r := range reqs {
		keys[i] = r.key
	}
	return keys
}

const simSegment = 870_000 // a 4 s segment at 1.5 Mb/s with its audio

// tierMisses replays keys through the disk tier's own policy: read-ahead
// and the segmented LRU.
func tierMisses(keys []string, tierBytes int64) int {
	c := newSLRU(tierBytes, func(*diskObject) {})
	misses := 0
	for _, key := range keys {
		c.refresh(successors(key, readAhead))
		if _, ok := c.get(key); !ok {
			misses++
			c.add(key, &diskObject{Key: key, Size: simSegment}, 0)
		}
	}
	return misses
}

func lruMisses(keys []string, tierBytes int64) int {
	lru, _ := simplelru.NewLRU[string, struct{}](int(tierBytes/diskWeight(simSegment)), nil)
	misses := 0
	for _, key := range keys {
		if _, ok := lru.Get(key); !ok {
			misses++
			lru.Add(key, struct{}{})
		}
	}
	return misses
}

// clairvoyantMisses is Belady's bound: evict the object asked for again
// last. No policy does better; it shows what is left to win.
func clairvoyantMisses(keys []string, tierBytes int64) int {
	next := make([]int, len(keys)) // where each request's key is asked for again
	seen := map[string]int{}
	for i := len(keys) - 1; i >= 0; i-- {
		next[i] = len(keys)
		if j, ok := seen[keys[i]]; ok {
			next[i] = j
		}
		seen[keys[i]] = i
	}
	capacity := int(tierBytes / diskWeight(simSegment))
	held := map[string]int{}
	misses := 0
	for i, key := range keys {
		if _, ok := held[key]; !ok {
			misses++
			if len(held) == capacity {
				victim, farthest := "", -1
				for k, n := range held {
					if n > farthest {
						victim, farthest = k, n
					}
				}
				delete(held, victim)
			}
		}
		held[key] = next[i]
	}
	return misses
}

func TestTierPolicyCostsNoMoreThanLRU(t *testing.T) {
	paced := simConfig{streams: 40, viewers: 1000, segments: 15, zipf: 1.1, ramp: 10 * time.Second, duration: time.Minute, paced: true}
	fast := simConfig{streams: 40, viewers: 64, segments: 15, zipf: 1.1, duration: 20 * time.Second}
	for _, tc := range []struct {
		name string
		run  simConfig
		tier int64
	}{
		{"1,000 viewers at real pace, tier 256 MiB", paced, 256 << 20},
		{"the same, tier 128 MiB", paced, 128 << 20},
		{"the same, tier 384 MiB", paced, 384 << 20},
		{"the same, Zipf 1.3", withZipf(paced, 1.3), 256 << 20},
		{"64 clients at full speed, tier 256 MiB", fast, 256 << 20},
		{"the same, tier 128 MiB", fast, 128 << 20},
	} {
		keys := simTrace(tc.run)
		tier, lru, best := tierMisses(keys, tc.tier), lruMisses(keys, tc.tier), clairvoyantMisses(keys, tc.tier)
		t.Logf("%-40s %6d requests: origin fetches %6d, LRU %6d (%.3fx), clairvoyant %6d",
			tc.name, len(keys), tier, lru, float64(tier)/float64(lru), best)
		if tier > lru {
			t.Errorf("%s: the tier's policy made %d origin fetches, LRU %d", tc.name, tier, lru)
		}
	}
}

func withZipf(c simConfig, s float64) simConfig {
	c.zipf = s
	return c
}
