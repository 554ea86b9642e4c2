package web

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
)

// WebhookReceiver is the Ittybit transcoder's side of its webhooks.
type WebhookReceiver interface {
	Hook(streamID, token string) bool
}

// ittybitHook answers Ittybit's completion calls. The body is not read for
// meaning: a call with the job's token only makes the job re-fetch itself
// from the API, so a forged or replayed call cannot change a stream.
func (s *Server) ittybitHook(c echo.Context) error {
	io.Copy(io.Discard, io.LimitReader(c.Request().Body, 64<<10))
	if s.hooks == nil || !s.hooks.Hook(c.Param("stream"), c.Param("token")) {
		return apperr.New(apperr.NotFound, "no such webhook")
	}
	return c.NoContent(http.StatusNoContent)
}

// hookRoute is the webhook URL pattern jobs.Ittybit hands out.
const hookRoute = jobs.HookPath + ":stream/:token"
