package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/static"
)

// portalRoutes registers the signed-in portal and its sign-in pages.
func (s *Server) portalRoutes() {
	e := s.echo
	public := []echo.MiddlewareFunc{securityHeaders, s.loadSession}
	signedIn := slices.Concat(public, []echo.MiddlewareFunc{s.requireSession, s.checkCSRF})

	e.GET("/signin", s.signInPage, public...)
	e.POST("/signin", s.signIn, slices.Concat(public, []echo.MiddlewareFunc{s.checkLoginCSRF})...)
	e.GET("/setup/:token", s.setupPage, public...)
	e.POST("/setup/:token", s.setup, slices.Concat(public, []echo.MiddlewareFunc{s.checkLoginCSRF})...)
	e.POST("/signout", s.signOut, signedIn...)

	e.GET("/", s.videoList, signedIn...)
	e.GET("/videos/status", s.videoStatus, signedIn...)
	e.GET("/upload", s.uploadPage, signedIn...)
	e.POST("/videos/new", s.newUploadStream, signedIn...)
	e.POST("/videos/import", s.importVideo, signedIn...)
	e.GET("/videos/:id", s.videoPage, signedIn...)
	e.POST("/videos/:id/rename", s.renameVideo, signedIn...)
	e.POST("/videos/:id/embed-domains", s.setEmbedDomains, signedIn...)
	e.POST("/videos/:id/playback", s.setPlayback, signedIn...)
	e.POST("/videos/:id/poster", s.setPoster, signedIn...)
	e.POST("/videos/:id/downloads", s.setDownloads, signedIn...)
	// The form is parsed by the CSRF check already: its size is bounded first.
	e.POST("/videos/:id/captions", s.addCaptions, slices.Concat([]echo.MiddlewareFunc{limitBody(captionForm)}, signedIn)...)
	e.POST("/videos/:id/captions/:language/remove", s.removeCaptions, signedIn...)
	e.GET("/videos/:id/delete", s.confirmDelete, signedIn...)
	e.POST("/videos/:id/delete", s.deleteVideo, signedIn...)

	e.GET("/account", s.accountPage, signedIn...)
	e.POST("/account/password", s.changePassword, signedIn...)
	e.GET("/tokens", s.tokensPage, signedIn...)
	e.POST("/tokens", s.createToken, signedIn...)
	e.POST("/tokens/:id/revoke", s.revokeToken, signedIn...)

	admin := slices.Concat(signedIn, []echo.MiddlewareFunc{s.requireAdmin})
	e.GET("/users", s.usersPage, admin...)
	e.POST("/users", s.addUser, admin...)
	e.POST("/users/:id/remove", s.removeUser, admin...)
	e.POST("/users/:id/password", s.resetPassword, admin...)
	e.GET("/keys", s.keysPage, admin...)
	e.POST("/keys", s.createKey, admin...)
	e.POST("/keys/:id/revoke", s.revokeKey, admin...)
	e.GET("/webhooks", s.webhooksPage, admin...)
	e.POST("/webhooks", s.addWebhook, admin...)
	e.GET("/webhooks/:id", s.webhookPage, admin...)
	e.POST("/webhooks/:id/remove", s.removeWebhook, admin...)
	e.POST("/webhooks/:id/deliveries/:delivery/redeliver", s.redeliverWebhook, admin...)

	// Viewers' pages: public, framable where each stream allows.
	e.GET("/embed/:id", s.embedPage)
	e.GET("/watch/:id", s.watchPage)
	e.GET("/oembed", s.oembed)

	e.GET(static.Prefix+"*", echo.WrapHandler(http.StripPrefix(static.Prefix, immutable(http.FileServerFS(static.FS)))))
}

// limitBody bounds a request's body (http.MaxBytesReader), for routes whose
// form a middleware parses before the handler could.
func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, n)
			return next(c)
		}
	}
}

// immutable marks content-hashed assets as cacheable for a year.
func immutable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		h.ServeHTTP(w, r)
	})
}
