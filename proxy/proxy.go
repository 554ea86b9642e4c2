// Package proxy serves HLS packages from an origin store to viewers, with
// per-extension caching headers, CORS, two cache tiers (a byte-bounded
// in-memory LRU for playlists, a disk tier for segments sent by sendfile), one origin fetch per object however many viewers miss at
// once, bytes that flow to viewers while an object fills, remembered 404s,
// purge, and stale playlists when the origin fails.
package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/edgehls/edge/storage"
)

// Config holds the proxy's settings; zero values get the defaults below.
type Config struct {
	Origin         storage.Store
	CacheBytes     int64         // bound of the memory tier, playlists (default 256 MiB)
	CacheDir       string        // the disk tier's folder (required)
	DiskBytes      int64         // bound of the disk tier (0: half the room its volume has, at most 10 GiB)
	NotFoundTTL    time.Duration // how long an origin 404 is remembered (default 5s)
	MaxObjectBytes int64         // larger objects are streamed through uncached (default 32 MiB)
	ManifestTTL    time.Duration // freshness of .m3u8 (default 10s)
	StaleIfError   time.Duration // how long past expiry a copy may stand in for a failing origin (default 1h)
	OriginTimeout  time.Duration // one origin fetch, body included (default 20s)
	StallTimeout   time.Duration // a viewer that reads nothing this long is dropped (default 30s)
	CORSOrigins    []string      // "*" or exact origins (default "*"); a stream's allowed origins narrow it
	// ClientIP says who a request comes from, for tokens bound to a viewer
	// (default: the connection's address; behind a proxy, wire the trusted
	// extractor the portal uses).
	ClientIP func(*http.Request) string
	Logger   *slog.Logger
	Now      func() time.Time // for tests
}

// Proxy is an http.Handler for /streams/<id>/<path>.
type Proxy struct {
	cfg     Config
	cache   *byteLRU
	disk    *diskTier
	flight  singleflight.Group
	fillsMu sync.Mutex
	fills   map[string]*fill
	missing *lru.Cache[string, time.Time] // a remembered 404 and when it expires
	// purges counts purges so far: an object fetched across one is not
	// kept, nor its 404 remembered (missingMu orders the two).
	purges    atomic.Int64
	missingMu sync.Mutex
	cors      cors
	access    access
	metrics   *metrics
	log       *slog.Logger
	// manifestCC is the playlists' Cache-Control, built once from the TTL.
	manifestCC, privateManifestCC []string
}

// missingMax bounds how many 404s are remembered, so requests for random
// names cannot grow memory.
const missingMax = 4096

// New builds a proxy in front of cfg.Origin, re-indexing the disk tier.
func New(cfg Config) (*Proxy, error) {
	cfg = withDefaults(cfg)
	if cfg.CacheDir == "" {
		return nil, errors.New("proxy: the disk cache needs a folder")
	}
	disk, err := openDiskTier(cfg.CacheDir, cfg.DiskBytes, cfg.Logger)
	if err != nil {
		return nil, err
	}
	disk.now = cfg.Now
	// A plain LRU with each 404's expiry, read against the request's clock:
	// golang-lru's expirable LRU sweeps on a ticker of its own, every
	// TTL/100 (50 ms), idle or not, in a goroutine it never stops.
	missing, err := lru.New[string, time.Time](missingMax)
	if err != nil {
		return nil, err
	}
	cfg.DiskBytes = disk.bound() // sized to the volume when it was 0
	cfg.MaxObjectBytes = min(cfg.MaxObjectBytes, cfg.DiskBytes)
	m := newMetrics(disk)
	return &Proxy{
		cfg:               cfg,
		cache:             newByteLRU(cfg.CacheBytes, m),
		disk:              disk,
		fills:             map[string]*fill{},
		missing:           missing,
		cors:              newCORS(cfg.CORSOrigins),
		metrics:           m,
		log:               cfg.Logger,
		manifestCC:        []string{fmt.Sprintf("public, max-age=%d", int(cfg.ManifestTTL.Seconds()))},
		privateManifestCC: []string{fmt.Sprintf("private, max-age=%d", int(cfg.ManifestTTL.Seconds()))},
	}, nil
}

func withDefaults(c Config) Config {
	if c.CacheBytes <= 0 {
		c.CacheBytes = 256 << 20
	}
	if c.NotFoundTTL <= 0 {
		c.NotFoundTTL = 5 * time.Second
	}
	if c.MaxObjectBytes <= 0 {
		c.MaxObjectBytes = 32 << 20
	}
	c.MaxObjectBytes = min(c.MaxObjectBytes, c.CacheBytes, math.MaxUint32-512) // and the disk tier's bound, once known
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
func (p *Proxy) Metrics() http.Handler { return p.metrics.handler() }
