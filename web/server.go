// Package web is edge's HTTP surface: it mounts the proxy, health and
// metrics today, and the portal, player and API as they arrive.
package web

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/proxy"
)

// Config is what the server needs from main.
type Config struct {
	Proxy  *proxy.Proxy
	Logger *slog.Logger
}

// New builds the router.
func New(cfg Config) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", healthz)
	e.GET("/metrics", echo.WrapHandler(cfg.Proxy.Metrics()))
	// The proxy answers every method itself (405 with Allow, CORS on all).
	e.Any("/streams/*", echo.WrapHandler(cfg.Proxy))
	return e
}

// healthz says the process is up and serving; it never touches the origin,
// so an origin outage does not get healthy instances restarted.
func healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
