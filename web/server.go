// Package web is edge's HTTP surface: it mounts the proxy, health and
// metrics today, and the portal, player and API as they arrive.
package web

import (
	"cmp"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/webhooks"
)

// Config is what the server needs from main.
type Config struct {
	Proxy     *proxy.Proxy
	DB        *db.DB
	Jobs      *jobs.Manager
	PublicURL string // where viewers reach edge, without a trailing slash
	// SetupToken opens /setup?token=… while no account exists; main logs
	// the link at start-up. Empty: no setup link.
	SetupToken string
	// UploadStaging is where resumable uploads are assembled before they go
	// to storage; empty disables uploads.
	UploadStaging  string
	MaxUploadBytes int64
	UploadChunk    int64 // bytes per PATCH from the upload page; default 8 MiB
	// Hooks receives Ittybit's webhooks; nil when the transcoder is ffmpeg.
	Hooks WebhookReceiver
	// TrustedProxies may name the client in X-Forwarded-For; TrustFly
	// believes Fly's Fly-Client-IP instead. Neither: the connection's address.
	TrustedProxies []*net.IPNet
	TrustFly       bool
	// MetricsToken, when set, is required as a Bearer token on /metrics.
	MetricsToken string
	// Webhooks sends outgoing webhooks; nil: endpoints cannot be added.
	Webhooks *webhooks.Dispatcher
	Logger   *slog.Logger
}

// Server routes viewers' /streams/ requests straight to the proxy and
// everything else through Echo. The viewer path never passes the portal's
// router or middleware (sessions, CSRF): it stays fast and cannot be
// affected by portal state.
type Server struct {
	echo      *echo.Echo
	proxy     *proxy.Proxy
	uploads   http.Handler
	db        *db.DB
	jobs      *jobs.Manager
	publicURL string
	log       *slog.Logger

	publicOrigin  string // scheme://host of publicURL, for Origin checks
	secureCookies bool
	setupToken    string
	signIns       *signInGuard
	uploadChunk   int64
	uploadStore   uploadStore
	tusStore      tushandler.DataStore // to take up uploads whose hand-over failed
	hooks         WebhookReceiver
	webhooks      *webhooks.Dispatcher
}

// New builds the server.
func New(cfg Config) (*Server, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, proxy: cfg.Proxy, db: cfg.DB, jobs: cfg.Jobs, publicURL: cfg.PublicURL, log: cfg.Logger,
		setupToken: cfg.SetupToken, signIns: &signInGuard{db: cfg.DB, now: time.Now},
		uploadChunk: cmp.Or(cfg.UploadChunk, uploadChunkBytes), hooks: cfg.Hooks, webhooks: cfg.Webhooks}
	if u, err := url.Parse(cfg.PublicURL); err == nil {
		s.publicOrigin = u.Scheme + "://" + u.Host
		s.secureCookies = u.Scheme == "https"
	}
	e.IPExtractor = ClientIPs(cfg.TrustedProxies, cfg.TrustFly)
	e.HTTPErrorHandler = s.handleError
	s.portalRoutes()
	e.GET("/healthz", healthz)
	e.GET("/metrics", metricsHandler(cfg.Proxy.Metrics(), cfg.MetricsToken))
	e.GET(OpenAPIPath, serveOpenAPI)
	api := e.Group("/api/v1", s.requireToken)
	api.GET("/streams", s.apiListStreams)
	api.POST("/streams", s.apiCreateStream)
	api.GET("/streams/:id", s.apiGetStream)
	api.PATCH("/streams/:id", s.apiUpdateStream)
	api.DELETE("/streams/:id", s.apiDeleteStream)
	api.POST("/streams/:id/purge", s.apiPurgeStream)
	api.POST("/streams/:id/tokens", s.apiCreatePlaybackToken)
	api.POST("/streams/:id/poster", s.apiSetPoster)
	api.GET("/streams/:id/captions", s.apiListCaptions)
	api.PUT("/streams/:id/captions/:language", s.apiPutCaptions)
	api.DELETE("/streams/:id/captions/:language", s.apiDeleteCaptions)
	api.GET("/signing-keys", s.apiListSigningKeys)
	api.POST("/signing-keys", s.apiCreateSigningKey, s.requireAdmin)
	api.DELETE("/signing-keys/:id", s.apiRevokeSigningKey, s.requireAdmin)
	api.GET("/users", s.apiListUsers, s.requireAdmin)
	api.POST("/users", s.apiAddUser, s.requireAdmin)
	api.DELETE("/users/:id", s.apiRemoveUser, s.requireAdmin)
	api.POST("/users/:id/password", s.apiResetPassword, s.requireAdmin)
	api.GET("/webhooks", s.apiListWebhooks, s.requireAdmin)
	api.POST("/webhooks", s.apiCreateWebhook, s.requireAdmin)
	api.GET("/webhooks/:id", s.apiGetWebhook, s.requireAdmin)
	api.DELETE("/webhooks/:id", s.apiDeleteWebhook, s.requireAdmin)
	api.GET("/webhooks/:id/deliveries", s.apiListDeliveries, s.requireAdmin)
	api.POST("/webhooks/:id/deliveries/:delivery/redeliver", s.apiRedeliver, s.requireAdmin)
	e.POST(hookRoute, s.ittybitHook)
	if cfg.UploadStaging != "" {
		up, err := s.newUploads(cfg.UploadStaging, cfg.MaxUploadBytes)
		if err != nil {
			return nil, err
		}
		s.uploads = up
	}
	return s, nil
}

// pageWriteTimeout bounds writing one portal page or API answer; viewers'
// media moves its own deadline as it flows (proxy), and uploads have none,
// as their answer follows a body that may take long to arrive.
const pageWriteTimeout = time.Minute

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, proxy.PathPrefix) {
		if first, ok := thumbnailFirst(r.URL.Path); ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.thumbnail(w, r, first)
			return
		}
		s.proxy.ServeHTTP(w, r)
		return
	}
	if s.uploads != nil && strings.HasPrefix(r.URL.Path, uploadsPath) {
		s.uploads.ServeHTTP(w, r)
		return
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(pageWriteTimeout))
	s.echo.ServeHTTP(w, r)
}

// healthz says the process is up and serving; it never touches the origin,
// so an origin outage does not get healthy instances restarted.
func healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Routes lists the registered method and path pairs, for tests and docs.
func (s *Server) Routes() [][2]string {
	var out [][2]string
	for _, r := range s.echo.Routes() {
		out = append(out, [2]string{r.Method, r.Path})
	}
	return out
}
