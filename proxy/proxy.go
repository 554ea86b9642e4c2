// Package proxy serves HLS packages from an origin store to viewers, with
// per-extension caching headers, CORS, a byte-bounded in-memory LRU, one
// origin fetch per object however many viewers miss at once, and stale
// copies when the origin fails.
package proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/edgehls/edge/storage"
)

// Config holds the proxy's settings; zero values get the defaults below.
type Config struct {
	Origin         storage.Store
	CacheBytes     int64         // total bound of the cache (default 256 MiB)
	MaxObjectBytes int64         // larger objects are streamed through uncached (default 32 MiB)
	ManifestTTL    time.Duration // freshness of .m3u8 (default 10s)
	StaleIfError   time.Duration // how long past expiry a copy may stand in for a failing origin (default 1h)
	OriginTimeout  time.Duration // one origin fetch, body included (default 20s)
	StallTimeout   time.Duration // a viewer that reads nothing this long is dropped (default 30s)
	CORSOrigins    []string      // "*" or exact origins (default "*")
	Logger         *slog.Logger
	Now            func() time.Time // for tests
}

// Proxy is an http.Handler for /streams/<id>/<path>.
type Proxy struct {
	cfg     Config
	cache   *byteLRU
	flight  singleflight.Group
	cors    cors
	metrics *metrics
	log     *slog.Logger
	// manifestCC is the playlists' Cache-Control, built once from the TTL.
	manifestCC []string
}

// New builds a proxy in front of cfg.Origin.
func New(cfg Config) *Proxy {
	cfg = withDefaults(cfg)
	m := &metrics{}
	return &Proxy{
		cfg:        cfg,
		cache:      newByteLRU(cfg.CacheBytes, m),
		cors:       newCORS(cfg.CORSOrigins),
		metrics:    m,
		log:        cfg.Logger,
		manifestCC: []string{fmt.Sprintf("public, max-age=%d", int(cfg.ManifestTTL.Seconds()))},
	}
}

func withDefaults(c Config) Config {
	if c.CacheBytes <= 0 {
		c.CacheBytes = 256 << 20
	}
	if c.MaxObjectBytes <= 0 {
		c.MaxObjectBytes = 32 << 20
	}
	c.MaxObjectBytes = min(c.MaxObjectBytes, c.CacheBytes)
	if c.ManifestTTL <= 0 {
		c.ManifestTTL = 10 * time.Second
	}
	if c.StaleIfError <= 0 {
		c.StaleIfError = time.Hour
	}
	if c.OriginTimeout <= 0 {
		c.OriginTimeout = 20 * time.Second
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 30 * time.Second
	}
	if len(c.CORSOrigins) == 0 {
		c.CORSOrigins = []string{"*"}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Metrics serves the proxy's counters in the Prometheus text format.
func (p *Proxy) Metrics() http.Handler { return p.metrics }
