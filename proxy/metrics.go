package proxy

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// metrics are plain atomics rendered in the Prometheus text format, so the
// hot path pays one atomic add per counter.
type metrics struct {
	requests, hits, misses, stale, coalesced atomic.Int64
	servedBytes, originFetches, originErrors atomic.Int64
	originBytes, evictions, cacheBytes       atomic.Int64
	cacheObjects, diskHits, notFoundHits     atomic.Int64
	latency                                  histogram
	disk                                     *diskTier
}

var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts [12]atomic.Int64 // one per bucket, then +Inf
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(latencyBuckets) && d.Seconds() > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	m.write(w)
}

func (m *metrics) write(w io.Writer) {
	counter := func(name, help string, v *atomic.Int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v.Load())
	}
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter("edge_proxy_requests_total", "Requests for stream objects.", &m.requests)
	counter("edge_cache_hits_total", "Requests answered from a fresh cached copy.", &m.hits)
	counter("edge_cache_misses_total", "Requests that found no fresh cached copy.", &m.misses)
	counter("edge_cache_stale_served_total", "Stale copies served because the origin failed.", &m.stale)
	counter("edge_cache_coalesced_total", "Misses that waited on another request's origin fetch.", &m.coalesced)
	counter("edge_cache_evictions_total", "Objects evicted to keep the cache within its byte bound.", &m.evictions)
	gauge("edge_cache_bytes", "Bytes held by the memory tier.", m.cacheBytes.Load())
	gauge("edge_cache_objects", "Objects held by the memory tier.", m.cacheObjects.Load())
	counter("edge_cache_disk_hits_total", "Hits answered from the disk tier.", &m.diskHits)
	counter("edge_cache_not_found_hits_total", "Requests answered 404 from a remembered origin 404.", &m.notFoundHits)
	diskBytes, diskObjects := m.disk.index.size()
	gauge("edge_disk_cache_bytes", "Bytes held by the disk tier.", diskBytes)
	gauge("edge_disk_cache_objects", "Objects held by the disk tier.", diskObjects)
	counter("edge_served_bytes_total", "Body bytes sent to viewers.", &m.servedBytes)
	counter("edge_origin_fetches_total", "Requests made to the origin.", &m.originFetches)
	counter("edge_origin_errors_total", "Origin requests that failed (not counting not-found).", &m.originErrors)
	counter("edge_origin_bytes_total", "Body bytes read from the origin.", &m.originBytes)
	m.latency.write(w, "edge_origin_latency_seconds", "Time to fetch an object from the origin.")
}

func (h *histogram) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum int64
	for i, le := range latencyBuckets {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, le, cum)
	}
	cum += h.counts[len(latencyBuckets)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n",
		name, cum, name, time.Duration(h.sumNs.Load()).Seconds(), name, cum)
}
