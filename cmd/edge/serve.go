package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/web"
	"github.com/edgehls/edge/webhooks"
)

// tempDir is where jobs stage sources and outputs and uploads are judged,
// emptied at start of what jobs cut short left behind: of the entries
// jobs name (jobs.TempPrefix) only, as a data folder set to a folder of
// one's own (a project, a home) may hold a tmp/ of its own.
func tempDir(dataDir string) (string, error) {
	tmp := filepath.Join(dataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", fmt.Errorf("EDGE_DATA_DIR: %w", err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return "", fmt.Errorf("EDGE_DATA_DIR: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), jobs.TempPrefix) {
			os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
	return tmp, nil
}

// serve runs until ctx ends, then lets in-flight requests finish. ln may be
// nil, in which case cfg.Addr is listened on.
func serve(ctx context.Context, cfg Config, log *slog.Logger, ln net.Listener) error {
	store, uploads, origin, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	limitMemory(cfg.CacheBytes)
	tmp, err := tempDir(cfg.DataDir)
	if err != nil {
		return err
	}
	transcoder, err := newTranscoder(cfg, store, uploads, tmp, log)
	if err != nil {
		return err
	}
	p, err := proxy.New(proxy.Config{
		Origin: origin, CacheBytes: cfg.CacheBytes, MaxObjectBytes: cfg.CacheObjectMax,
		CacheDir: cfg.CacheDir, DiskBytes: cfg.DiskCacheBytes,
		ManifestTTL: cfg.ManifestTTL, StaleIfError: cfg.StaleIfError, OriginTimeout: cfg.OriginTimeout,
		CORSOrigins: cfg.CORSOrigins, Logger: log, ClientIP: web.ClientIPs(cfg.TrustedProxies, cfg.TrustFly),
	})
	if err != nil {
		return fmt.Errorf("EDGE_CACHE_DIR: %w", err)
	}
	hooks, _ := transcoder.(web.WebhookReceiver)
	manager := &jobs.Manager{DB: d, Store: store, Uploads: uploads, Limits: cfg.Limits, Log: log, Cache: p, TempDir: tmp, DownloadsByDefault: cfg.Downloads,
		Importer: &jobs.Importer{Allow: cfg.ImportAllow, MaxBytes: cfg.MaxUploadBytes}}
	worker, stopWorker := startWorker(ctx, cfg, d, transcoder, manager.FinishPackage, log)
	defer stopWorker()
	manager.Worker = worker // before anything submits: the handlers start below
	if err := manager.PublishPlayback(ctx); errors.Is(err, jobs.ErrOtherOwner) {
		return fmt.Errorf("EDGE_STORAGE: %w", err)
	} else if err != nil {
		// The last document published stays in force; every change publishes again.
		log.Warn("publish the playback document", "err", err)
	}
	dispatcher := &webhooks.Dispatcher{DB: d, Allow: cfg.WebhookAllow, Log: log}
	// Last of the checks that can stop the start: a link printed by a start
	// that then failed would never open.
	setupToken, err := firstRunSetup(ctx, d, cfg.PublicURL, log)
	if err != nil {
		return err
	}
	handler, err := web.New(web.Config{
		Proxy: p, DB: d, Jobs: manager, PublicURL: cfg.PublicURL,
		SetupToken: setupToken, Logger: log, Hooks: hooks, Webhooks: dispatcher,
		UploadStaging: filepath.Join(cfg.DataDir, "uploads-staging"), MaxUploadBytes: cfg.MaxUploadBytes,
		TrustedProxies: cfg.TrustedProxies, TrustFly: cfg.TrustFly, MetricsToken: cfg.MetricsToken,
	})
	if err != nil {
		return fmt.Errorf("EDGE_DATA_DIR: %w", err)
	}
	dispatcher.Payload = handler.StreamPayload
	stopWebhooks := startWebhooks(ctx, dispatcher)
	defer stopWebhooks()
	removeTemporaries(store, uploads, time.Now(), log) // no write is under way yet
	if err := manager.ResumeImports(ctx); err != nil {
		log.Warn("take up imports", "err", err)
	}
	// The periodic work ends before the database closes (the defers run
	// last first), or a sweep cut off mid-way would write to a closed one.
	bctx, stopBackground := context.WithCancel(ctx)
	var background sync.WaitGroup
	defer func() { stopBackground(); background.Wait() }()
	periodically := func(period time.Duration, work func()) { background.Go(func() { every(bctx, period, work) }) }
	periodically(time.Hour, func() { hourly(bctx, handler, d, cfg.UploadExpiry, log, store, uploads) })
	periodically(time.Minute, func() {
		if err := manager.SweepDeleted(bctx); err != nil && bctx.Err() == nil {
			log.Warn("sweep deleted streams", "err", err)
		}
	})
	periodically(handOverUploadsEvery, func() {
		if err := handler.HandOverPendingUploads(bctx); err != nil && bctx.Err() == nil {
			log.Warn("hand over finished uploads", "err", err)
		}
	})
	return listenAndServe(ctx, cfg, handler, ln, log)
}

// listenAndServe serves until ctx ends, then lets in-flight requests
// finish. net/http alone reads every request: its parser is the one in
// front of every connection. Write deadlines are per response and move
// while bytes flow (web and proxy set them), so there is no WriteTimeout,
// which would cut off a slow viewer of a long body. An accept error such
// as EMFILE is temporary to net/http, which waits and accepts again.
func listenAndServe(ctx context.Context, cfg Config, handler http.Handler, ln net.Listener, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext:       proxy.ConnContext, // hits sent from files cork their connection
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("EDGE_ADDR: %w", err)
		}
	}
	log.Info("edge serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "data_dir", cfg.DataDir,
		"storage", redact(cfg.Storage), "uploads", redact(cfg.Uploads), "origin", redact(cfg.Origin), "cache_bytes", cfg.CacheBytes, "version", buildVersion())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// openStores opens the storage, the upload storage and the origin; the
// last two reuse the storage when they name the same place.
func openStores(ctx context.Context, cfg Config) (store, uploads, origin storage.Store, err error) {
	if store, err = storage.Open(ctx, cfg.Storage, cfg.S3PathStyle); err != nil {
		return nil, nil, nil, fmt.Errorf("EDGE_STORAGE: %w", err)
	}
	if uploads, err = openAlso(ctx, cfg, store, cfg.Uploads); err != nil {
		return nil, nil, nil, fmt.Errorf("EDGE_UPLOADS: %w", err)
	}
	if origin, err = openAlso(ctx, cfg, store, cfg.Origin); err != nil {
		return nil, nil, nil, fmt.Errorf("EDGE_ORIGIN: %w", err)
	}
	return store, uploads, origin, nil
}

// openAlso opens a second location, or reuses storage when it is the same.
func openAlso(ctx context.Context, cfg Config, store storage.Store, rawURL string) (storage.Store, error) {
	if rawURL == cfg.Storage {
		return store, nil
	}
	return storage.Open(ctx, rawURL, cfg.S3PathStyle)
}

// newTranscoder picks the backend. Ittybit reads and writes the buckets
// itself, so it needs S3 storage and a connection to it.
func newTranscoder(cfg Config, store, uploads storage.Store, tmp string, log *slog.Logger) (jobs.Transcoder, error) {
	if cfg.Transcoder == "ittybit" {
		s3, ok := store.(*storage.S3Store)
		s3Uploads, uploadsOK := uploads.(*storage.S3Store)
		switch {
		case !ok:
			return nil, errors.New("EDGE_TRANSCODER=ittybit needs s3:// storage (EDGE_STORAGE): Ittybit cannot reach a local folder")
		case !uploadsOK:
			return nil, errors.New("EDGE_TRANSCODER=ittybit needs s3:// upload storage (EDGE_UPLOADS): Ittybit cannot reach a local folder")
		case cfg.IttybitKey == "":
			return nil, errors.New("EDGE_TRANSCODER=ittybit needs ITTYBIT_API_KEY")
		case cfg.IttybitConnID == "":
			return nil, errors.New("EDGE_TRANSCODER=ittybit needs ITTYBIT_CONNECTION_ID (the Ittybit connection to your bucket)")
		}
		hooks := cfg.PublicURL
		if cfg.IttybitWebhooks == "off" || (cfg.IttybitWebhooks == "auto" && !jobs.WebhookReachable(cfg.PublicURL)) {
			log.Info("Ittybit jobs are followed by polling: EDGE_PUBLIC_URL is not a public https URL Ittybit could call", "public_url", cfg.PublicURL)
			hooks = ""
		}
		return &jobs.Ittybit{APIKey: cfg.IttybitKey, BaseURL: cfg.IttybitURL, ConnectionID: cfg.IttybitConnID, Quality: cfg.Quality, Store: s3, Uploads: s3Uploads, WebhookBase: hooks, Log: log}, nil
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		log.Warn("ffmpeg not found in PATH: queued videos will fail until it is installed (apt-get install ffmpeg)")
	}
	return &jobs.FFmpeg{Store: store, Sources: uploads, TempDir: tmp, Quality: cfg.Quality, Packaging: cfg.Packaging, Limits: cfg.Limits, Log: log}, nil
}

// startWorker runs the transcode queue; stop waits for it, and a job cut
// short by the stop is queued again for the next start.
func startWorker(ctx context.Context, cfg Config, d *db.DB, t jobs.Transcoder, beforeReady func(context.Context, string) error, log *slog.Logger) (*jobs.Worker, func()) {
	// An Ittybit job only waits here, for hours maybe: EDGE_JOBS, sized for
	// this machine's ffmpeg, would make one long job hold up the rest.
	concurrency := cfg.Jobs
	if t.Name() == "ittybit" {
		concurrency = cfg.IttybitJobs
	}
	w := &jobs.Worker{DB: d, Log: log, Concurrency: concurrency, Transcoder: t, JobTimeout: cfg.JobTimeout, BeforeReady: beforeReady}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(wctx); err != nil {
			log.Error("transcode worker stopped", "err", err)
		}
	}()
	return w, func() { cancel(); <-done }
}

// startWebhooks sends outgoing webhooks; stop waits for the attempts in
// flight to finish, so a graceful restart sends nothing twice.
func startWebhooks(ctx context.Context, d *webhooks.Dispatcher) (stop func()) {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(wctx) }()
	return func() { cancel(); <-done }
}

// handOverUploadsEvery is how soon an upload whose hand-over failed is
// tried again.
const handOverUploadsEvery = 30 * time.Second

// every runs work at once and then each period, until ctx ends.
func every(ctx context.Context, period time.Duration, work func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		work()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// removeTemporaries deletes what writes into local folders left when they
// were cut short, last modified before before.
func removeTemporaries(store, uploads storage.Store, before time.Time, log *slog.Logger) {
	for _, st := range []storage.Store{store, uploads} {
		if fs, ok := st.(*storage.FileStore); ok {
			if n, err := fs.RemoveTemporaries(before); err != nil {
				log.Warn("remove unfinished writes", "err", err)
			} else if n > 0 {
				log.Info("removed unfinished writes", "files", n)
			}
		}
	}
}

// hourly cleans abandoned uploads, unfinished writes an hour old, expired
// sessions and day-old failed sign-ins.
func hourly(ctx context.Context, s *web.Server, d *db.DB, maxAge time.Duration, log *slog.Logger, store, uploads storage.Store) {
	if err := s.ExpireUploads(ctx, time.Now().Add(-maxAge)); err != nil && ctx.Err() == nil {
		log.Warn("expire abandoned uploads", "err", err)
	}
	removeTemporaries(store, uploads, time.Now().Add(-time.Hour), log)
	if err := d.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
		log.Warn("delete expired sessions", "err", err)
	}
	if err := d.DeleteOldSignInFailures(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
		log.Warn("delete old sign-in failures", "err", err)
	}
}

// firstRunSetup makes a one-time setup link while no account exists, so a
// newcomer can sign in; it stops working once the first admin exists.
func firstRunSetup(ctx context.Context, d *db.DB, publicURL string, log *slog.Logger) (string, error) {
	n, err := d.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	token := rand.Text()
	log.Warn("no accounts yet: open the one-time setup link to create the first admin (or run `edge user add`)",
		"setup_url", publicURL+"/setup/"+token)
	return token, nil
}

// limitMemory caps Go's memory near the cache bound so RSS stays within
// cache + 64 MiB. The cap leaves 32 MiB of that for what Go does not
// count (the binary's code the process touches: about 21 MiB idle, 23
// with 1,000 viewers, whose RSS was 126-128 MiB with a 64 MiB memory tier
// and a cap of tier + 40 MiB, at the bound) and for headroom. Under
// that cap the GC can run less often: with a small live heap, GOGC=100
// collects dozens of times a second under load, and 400 gave about 10%
// more playlist hits/s in interleaved wrk runs. Operators' own GOMEMLIMIT /
// GOGC win.
func limitMemory(cacheBytes int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cacheBytes + 32<<20)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redact hides credentials a user may have put in a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
