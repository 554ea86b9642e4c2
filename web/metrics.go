package web

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/internal/apperr"
)

// metricsHandler serves the proxy's metrics, behind a bearer token when
// one is configured (EDGE_METRICS_TOKEN): the counters tell a stranger
// how busy edge is and which of its origins fail.
func metricsHandler(h http.Handler, token string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if token != "" {
			got, _ := bearerToken(c.Request().Header)
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="edge metrics"`)
				return apperr.New(apperr.Unauthorized, "send Authorization: Bearer <EDGE_METRICS_TOKEN>")
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
