package proxy

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are Prometheus client_golang collectors in a registry of the
// proxy's own, so two proxies in one process (tests, benchmarks) never
// share or collide on counters. client_golang rather than hand-written
// exposition: it owns escaping, content negotiation and the histogram
// rules, and adds the Go runtime and process collectors operators expect.
type metrics struct {
	requests, hits, misses, stale, coalesced prometheus.Counter
	servedBytes, originFetches, originErrors prometheus.Counter
	originBytes, evictions, resumes          prometheus.Counter
	diskHits, notFoundHits, refused          prometheus.Counter
	cacheBytes, cacheObjects                 prometheus.Gauge
	latency                                  prometheus.Histogram
	registry                                 *prometheus.Registry
}

var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newMetrics(disk *diskTier) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &metrics{
		requests:      counter("edge_proxy_requests_total", "Requests for stream objects."),
		hits:          counter("edge_cache_hits_total", "Requests answered from a fresh cached copy."),
		misses:        counter("edge_cache_misses_total", "Requests that found no fresh cached copy."),
		stale:         counter("edge_cache_stale_served_total", "Stale copies served because the origin failed."),
		coalesced:     counter("edge_cache_coalesced_total", "Misses that waited on another request's origin fetch."),
		evictions:     counter("edge_cache_evictions_total", "Objects evicted to keep the cache within its byte bound."),
		diskHits:      counter("edge_cache_disk_hits_total", "Hits answered from the disk tier."),
		notFoundHits:  counter("edge_cache_not_found_hits_total", "Requests answered 404 from a remembered origin 404."),
		refused:       counter("edge_proxy_refused_total", "Requests refused 403 by a stream's playback rule (token, allowed sites)."),
		servedBytes:   counter("edge_served_bytes_total", "Body bytes sent to viewers."),
		originFetches: counter("edge_origin_fetches_total", "Requests made to the origin."),
		originErrors:  counter("edge_origin_errors_total", "Origin requests that failed (not counting not-found)."),
		originBytes:   counter("edge_origin_bytes_total", "Body bytes read from the origin."),
		resumes:       counter("edge_origin_resumes_total", "Ranged origin requests for the rest of a body that broke off mid-way."),
		cacheBytes:    gauge("edge_cache_bytes", "Bytes held by the memory tier."),
		cacheObjects:  gauge("edge_cache_objects", "Objects held by the memory tier."),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edge_origin_latency_seconds", Help: "Time to fetch an object from the origin.", Buckets: latencyBuckets,
		}),
		registry: prometheus.NewRegistry(),
	}
	m.registry.MustRegister(m.requests, m.hits, m.misses, m.stale, m.coalesced, m.evictions,
		m.diskHits, m.notFoundHits, m.refused, m.servedBytes, m.originFetches, m.originErrors, m.originBytes, m.resumes,
		m.cacheBytes, m.cacheObjects, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_disk_cache_bytes", Help: "Bytes held by the disk tier."},
			func() float64 { b, _ := disk.index.size(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_disk_cache_objects", Help: "Objects held by the disk tier."},
			func() float64 { _, n := disk.index.size(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "edge_disk_cache_evictions_total", Help: "Objects evicted to keep the disk tier within its byte bound."},
			func() float64 { return float64(disk.index.evictions.Load()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the registry; no-store so no cache in front keeps a copy.
func (m *metrics) handler() http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
